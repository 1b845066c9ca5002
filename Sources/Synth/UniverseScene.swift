import Foundation

/// Deep space: domain-warped nebula clouds in two or three hues, a star field, and often a spiral galaxy.
struct UniverseScene: Scene {
    let cloud: Noise, warp: Noise, tint: Noise
    let stars: DotField
    let background: RGB
    let nebulaA: RGB, nebulaB: RGB, nebulaCore: RGB
    let scale: Float, warpStrength: Float, threshold: Float, glow: Float
    let offset: Point
    let galaxy: Galaxy?

    /// A logarithmic spiral seen at an angle.
    struct Galaxy: Sendable {
        let center: Point
        let radius: Float, tilt: Float, flatten: Float, twist: Float
        let arms: Float
        let armColor: RGB, coreColor: RGB

        func light(at p: Point) -> RGB {
            var d = (p - center).rotated(-tilt)
            d.y /= flatten
            let r = d.length / radius
            guard r < 2.2 else { return .black }
            let theta = atan2(d.y, d.x)
            let spiral = 0.5 + 0.5 * cos(arms * (theta - twist * log(max(r, 0.02))))
            let armLight = pow(spiral, 4) * exp(-r * 2.2) * smoothstep(0, 0.15, r)
            let core = exp(-r * r * 28)
            return armColor * (armLight * 1.4) + coreColor * (core * 1.6) + armColor * (exp(-r * 3) * 0.25)
        }
    }

    init(random: inout SplitMix64) {
        cloud = Noise(seed: random.noiseSeed())
        warp = Noise(seed: random.noiseSeed())
        tint = Noise(seed: random.noiseSeed())
        stars = DotField(seed: random.noiseSeed(), cellsPerSide: random.uniform(18, 34),
                         density: random.uniform(0.35, 0.8), radius: random.uniform(0.0025, 0.0045))
        let baseHue = random.unit()
        background = RGB(hue: baseHue + 0.5, saturation: 0.6, value: random.uniform(0.01, 0.06))
        nebulaA = RGB(hue: baseHue, saturation: random.uniform(0.55, 0.95), value: random.uniform(0.5, 0.9))
        nebulaB = RGB(hue: baseHue + random.uniform(0.12, 0.45), saturation: random.uniform(0.5, 0.9),
                      value: random.uniform(0.4, 0.85))
        nebulaCore = mix(RGB(hue: baseHue + random.uniform(-0.1, 0.1), saturation: 0.3, value: 1), .white, 0.3)
        scale = random.uniform(1.8, 4)
        warpStrength = random.uniform(0.2, 0.9)
        threshold = random.uniform(0.3, 0.55)
        glow = random.uniform(0.6, 1.4)
        offset = Point(random.uniform(0, 100), random.uniform(0, 100))
        if random.chance(0.55) {
            let warm = random.chance(0.5)
            galaxy = Galaxy(
                center: Point(random.uniform(0.25, 0.75), random.uniform(0.25, 0.75)),
                radius: random.uniform(0.12, 0.3), tilt: random.uniform(0, .pi),
                flatten: random.uniform(0.3, 1), twist: random.uniform(1.5, 3.5) * (random.chance(0.5) ? 1 : -1),
                arms: Float(random.int(2...3)),
                armColor: warm ? RGB(0.9, 0.75, 0.95) : RGB(0.6, 0.75, 1.0),
                coreColor: RGB(1.0, 0.9, 0.7))
        } else {
            galaxy = nil
        }
    }

    func color(at p: Point) -> RGB {
        let q = p * scale + offset
        let w = Point(warp.fbm(q, octaves: 3), warp.fbm(q.x + 5.2, q.y + 1.3, octaves: 3))
        let n = cloud.fbm(q + (w - Point(0.5, 0.5)) * (warpStrength * scale))
        let density = smoothstep(threshold, threshold + 0.35, n)
        let hue = tint.fbm(q * 0.6, octaves: 3)
        var c = background + mix(nebulaA, nebulaB, smoothstep(0.35, 0.65, hue)) * (density * glow)
        c += nebulaCore * (pow(density, 4) * 0.6 * glow)
        // Dark dust lanes cut across the glow.
        let dust = smoothstep(0.55, 0.75, warp.fbm(q.x * 1.7 + 9, q.y * 1.7, octaves: 4))
        c = c * (1 - 0.6 * dust * density)
        if let galaxy { c += galaxy.light(at: p) }
        var starHue: Float = 0
        let s = stars.intensity(at: p, hue: &starHue)
        c += mix(RGB(0.7, 0.8, 1), RGB(1, 0.85, 0.6), starHue) * (s * 3)
        return c
    }
}
