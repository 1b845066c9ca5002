import Foundation

/// A point of the unit square, x to the right and y downwards (the picture's orientation).
struct Point: Sendable {
    var x: Float, y: Float

    init(_ x: Float, _ y: Float) {
        self.x = x
        self.y = y
    }

    static func + (a: Point, b: Point) -> Point { Point(a.x + b.x, a.y + b.y) }
    static func - (a: Point, b: Point) -> Point { Point(a.x - b.x, a.y - b.y) }
    static func * (a: Point, k: Float) -> Point { Point(a.x * k, a.y * k) }
    var length: Float { (x * x + y * y).squareRoot() }

    /// This point turned by `angle` radians about the origin.
    func rotated(_ angle: Float) -> Point {
        let c = cos(angle), s = sin(angle)
        return Point(c * x - s * y, s * x + c * y)
    }
}

/// A hash of integer lattice coordinates to [0, 1): the randomness of every noise field, with no tables.
@inline(__always) func latticeHash(_ x: Int32, _ y: Int32, _ z: Int32, _ seed: UInt32) -> Float {
    var h = UInt32(bitPattern: x) &* 0x8DA6_B343
    h ^= UInt32(bitPattern: y) &* 0xD816_3841
    h ^= UInt32(bitPattern: z) &* 0xCB1A_B31F
    h ^= seed &* 0x2C1B_3C6D
    h = (h ^ (h >> 15)) &* 0x297A_2D39
    h = (h ^ (h >> 12)) &* 0x85EB_CA6B
    h ^= h >> 16
    return Float(h >> 8) * (1 / 16_777_216)
}

@inline(__always) private func fade(_ t: Float) -> Float { t * t * (3 - 2 * t) }

@inline(__always) private func cell(_ v: Float) -> (Int32, Float) {
    let f = v.rounded(.down)
    return (Int32(truncatingIfNeeded: Int(f)), v - f)
}

/// Smooth value noise and its sums (fractal Brownian motion), seeded; all values in [0, 1].
struct Noise: Sendable {
    let seed: UInt32

    /// Value noise in 2-D.
    func value(_ x: Float, _ y: Float) -> Float {
        let (ix, fx) = cell(x), (iy, fy) = cell(y)
        let u = fade(fx), v = fade(fy)
        let a = latticeHash(ix, iy, 0, seed), b = latticeHash(ix &+ 1, iy, 0, seed)
        let c = latticeHash(ix, iy &+ 1, 0, seed), d = latticeHash(ix &+ 1, iy &+ 1, 0, seed)
        return mix(mix(a, b, u), mix(c, d, u), v)
    }

    /// Value noise in 3-D (for the surfaces of spheres).
    func value(_ x: Float, _ y: Float, _ z: Float) -> Float {
        let (ix, fx) = cell(x), (iy, fy) = cell(y), (iz, fz) = cell(z)
        let u = fade(fx), v = fade(fy), w = fade(fz)
        func layer(_ k: Int32) -> Float {
            let a = latticeHash(ix, iy, k, seed), b = latticeHash(ix &+ 1, iy, k, seed)
            let c = latticeHash(ix, iy &+ 1, k, seed), d = latticeHash(ix &+ 1, iy &+ 1, k, seed)
            return mix(mix(a, b, u), mix(c, d, u), v)
        }
        return mix(layer(iz), layer(iz &+ 1), w)
    }

    /// Fractal sum of `octaves` layers of 2-D noise, each twice as fine and half as strong.
    func fbm(_ x: Float, _ y: Float, octaves: Int = 5) -> Float {
        var sum: Float = 0, amplitude: Float = 0.5, norm: Float = 0, px = x, py = y
        for _ in 0..<octaves {
            sum += amplitude * value(px, py)
            norm += amplitude
            // Rotate a little between octaves so the lattice does not show.
            (px, py) = (px * 1.6 - py * 1.2 + 17.1, px * 1.2 + py * 1.6 - 5.3)
            amplitude *= 0.5
        }
        return sum / norm
    }

    func fbm(_ p: Point, octaves: Int = 5) -> Float { fbm(p.x, p.y, octaves: octaves) }

    /// Fractal sum of 3-D noise.
    func fbm(_ x: Float, _ y: Float, _ z: Float, octaves: Int = 5) -> Float {
        var sum: Float = 0, amplitude: Float = 0.5, norm: Float = 0
        var px = x, py = y, pz = z
        for _ in 0..<octaves {
            sum += amplitude * value(px, py, pz)
            norm += amplitude
            (px, py, pz) = (px * 2.03 + 3.1, py * 2.01 - 1.7, pz * 1.97 + 7.3)
            amplitude *= 0.5
        }
        return sum / norm
    }

    /// Ridged noise: bright thin crests where the noise crosses its middle (cracks, veins, wave crests).
    func ridged(_ x: Float, _ y: Float, octaves: Int = 4) -> Float {
        let n = fbm(x, y, octaves: octaves)
        let r = 1 - abs(2 * n - 1)
        return r * r
    }
}

/// Point sprites on a jittered grid: stars, plankton, bubbles. Each cell of a `cellsPerSide` grid may
/// hold one dot, so a sample looks at its 3×3 neighbourhood only, whatever the density.
struct DotField: Sendable {
    let seed: UInt32
    let cellsPerSide: Float
    /// Probability that a cell holds a dot.
    let density: Float
    /// Dot radius (Gaussian sigma) as a fraction of the picture.
    let radius: Float

    /// Sum of dot intensities at `p`, with each dot's own random brightness; `hueOut` is the
    /// random value (0..1) of the brightest contributing dot, for colouring.
    func intensity(at p: Point, hue hueOut: inout Float) -> Float {
        let gx = p.x * cellsPerSide, gy = p.y * cellsPerSide
        let cx = Int32(gx.rounded(.down)), cy = Int32(gy.rounded(.down))
        var total: Float = 0, best: Float = 0
        for dy: Int32 in -1...1 {
            for dx: Int32 in -1...1 {
                let x = cx &+ dx, y = cy &+ dy
                guard latticeHash(x, y, 1, seed) < density else { continue }
                let ox = Float(x) + latticeHash(x, y, 2, seed), oy = Float(y) + latticeHash(x, y, 3, seed)
                let brightness = latticeHash(x, y, 4, seed)
                let ddx = (gx - ox) / cellsPerSide, ddy = (gy - oy) / cellsPerSide
                let sigma = radius * (0.5 + brightness)
                let i = brightness * brightness * exp(-(ddx * ddx + ddy * ddy) / (2 * sigma * sigma))
                total += i
                if i > best {
                    best = i
                    hueOut = latticeHash(x, y, 5, seed)
                }
            }
        }
        return total
    }
}
