import Foundation

/// A surface direction (unit vector; z points at the viewer).
struct Normal: Sendable {
    var x: Float, y: Float, z: Float

    init(_ x: Float, _ y: Float, _ z: Float) {
        let length = max((x * x + y * y + z * z).squareRoot(), 1e-6)
        self.x = x / length
        self.y = y / length
        self.z = z / length
    }

    func dot(_ other: Normal) -> Float { x * other.x + y * other.y + z * other.z }
}

/// An ellipsoid seen along its depth axis: a sculpted volume (head, chest) whose outline is an ellipse.
struct Volume: Sendable {
    let center: Point, radii: Point

    /// The surface normal at `q`, or nil outside the outline.
    func normal(at q: Point) -> Normal? {
        let dx = (q.x - center.x) / radii.x, dy = (q.y - center.y) / radii.y
        let r2 = dx * dx + dy * dy
        guard r2 < 1 else { return nil }
        return Normal(dx, dy, (1 - r2).squareRoot())
    }
}

/// Directional studio light: soft diffuse fill plus a specular highlight that tells stone from metal.
struct StudioLight: Sendable {
    let direction: Normal
    let ambient: Float

    init(random: inout SplitMix64, from side: Float) {
        direction = Normal(side * random.uniform(0.3, 0.8), random.uniform(-0.8, -0.2), random.uniform(0.4, 0.9))
        ambient = random.uniform(0.12, 0.3)
    }

    /// Diffuse and specular (Blinn-Phong, viewer along z) terms for a surface normal.
    func shade(_ n: Normal, shininess: Float) -> (diffuse: Float, specular: Float) {
        let diffuse = max(0, n.dot(direction))
        let half = Normal(direction.x, direction.y, direction.z + 1)
        let specular = diffuse > 0 ? pow(max(0, n.dot(half)), shininess) : 0
        return (ambient + (1 - ambient) * diffuse, specular)
    }
}

/// A plain backdrop darkening towards the corners, with a pool of light behind the subject.
struct Backdrop: Sendable {
    let top: RGB, bottom: RGB
    let spot: Point

    func color(at p: Point) -> RGB {
        let vignette = 1 - 0.6 * min(1, ((p.x - 0.5) * (p.x - 0.5) + (p.y - 0.5) * (p.y - 0.5)) * 2.2)
        let pool = 1 + 0.5 * exp(-((p - spot).length * 4))
        return mix(top, bottom, p.y) * (vignette * pool)
    }
}
