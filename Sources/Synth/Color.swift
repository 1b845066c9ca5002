/// A linear-ish RGB colour with components nominally in [0, 1] (values above 1 are allowed for
/// glows and clip when the picture is written).
struct RGB: Sendable {
    var r: Float, g: Float, b: Float

    init(_ r: Float, _ g: Float, _ b: Float) {
        self.r = r
        self.g = g
        self.b = b
    }

    init(gray: Float) { self.init(gray, gray, gray) }

    static let black = RGB(0, 0, 0)
    static let white = RGB(1, 1, 1)

    /// Hue in turns (0..1), saturation and value in [0, 1].
    init(hue: Float, saturation: Float, value: Float) {
        let h = (hue - hue.rounded(.down)) * 6
        let sector = Int(h) % 6
        let f = h - Float(Int(h))
        let p = value * (1 - saturation)
        let q = value * (1 - saturation * f)
        let t = value * (1 - saturation * (1 - f))
        switch sector {
        case 0: self.init(value, t, p)
        case 1: self.init(q, value, p)
        case 2: self.init(p, value, t)
        case 3: self.init(p, q, value)
        case 4: self.init(t, p, value)
        default: self.init(value, p, q)
        }
    }

    static func + (a: RGB, b: RGB) -> RGB { RGB(a.r + b.r, a.g + b.g, a.b + b.b) }
    static func - (a: RGB, b: RGB) -> RGB { RGB(a.r - b.r, a.g - b.g, a.b - b.b) }
    static func * (a: RGB, k: Float) -> RGB { RGB(a.r * k, a.g * k, a.b * k) }
    static func * (k: Float, a: RGB) -> RGB { a * k }
    static func * (a: RGB, b: RGB) -> RGB { RGB(a.r * b.r, a.g * b.g, a.b * b.b) }
    static func += (a: inout RGB, b: RGB) { a = a + b }

    /// Brightness as the eye weighs it.
    var luma: Float { 0.299 * r + 0.587 * g + 0.114 * b }
}

/// Linear interpolation between two colours.
@inline(__always) func mix(_ a: RGB, _ b: RGB, _ t: Float) -> RGB { a + (b - a) * t }

/// Linear interpolation between two numbers.
@inline(__always) func mix(_ a: Float, _ b: Float, _ t: Float) -> Float { a + (b - a) * t }

@inline(__always) func clamp01(_ x: Float) -> Float { min(max(x, 0), 1) }

/// Hermite step from 0 at `edge0` to 1 at `edge1`.
@inline(__always) func smoothstep(_ edge0: Float, _ edge1: Float, _ x: Float) -> Float {
    let t = clamp01((x - edge0) / (edge1 - edge0))
    return t * t * (3 - 2 * t)
}
