import Foundation

/// A heroic bronze head in profile, in the manner of David: a youthful straight-nosed face, a strong neck
/// and shoulders, a crown of tight curls, polished warm metal with bright highlights and sometimes green
/// patina, against a sky or a warm wall. A different character from the pale frontal busts of `plato`.
struct DavidScene: Scene {
    let center: Point, scale: Float, facing: Float, lift: Float
    let skull: Volume, chest: Volume
    let noseLength: Float, chinDepth: Float, neckLean: Float
    let bronze: RGB, highlight: RGB, patina: Float
    let light: StudioLight
    let backdrop: Backdrop
    let metal: Noise
    let curlSize: Float

    init(random: inout SplitMix64) {
        center = Point(random.uniform(0.4, 0.6), random.uniform(0.45, 0.55))
        scale = random.uniform(0.85, 1.15)
        facing = random.chance(0.5) ? 1 : -1
        lift = random.uniform(-0.15, 0.1)
        skull = Volume(center: Point(-0.05, -0.13), radii: Point(0.16, random.uniform(0.15, 0.17)))
        chest = Volume(center: Point(-0.06, 0.46), radii: Point(random.uniform(0.3, 0.38), random.uniform(0.18, 0.24)))
        noseLength = random.uniform(0.035, 0.06)
        chinDepth = random.uniform(0.9, 1.6)
        neckLean = random.uniform(0.1, 0.35)
        bronze = RGB(hue: random.uniform(0.06, 0.1), saturation: random.uniform(0.55, 0.8), value: random.uniform(0.35, 0.6))
        highlight = RGB(1, random.uniform(0.8, 0.92), random.uniform(0.55, 0.7))
        patina = random.chance(0.45) ? random.uniform(0.3, 0.8) : 0
        // The light comes from in front of the face, sometimes from behind for a rim-lit silhouette.
        light = StudioLight(random: &random, from: facing * (random.chance(0.75) ? 1 : -1))
        let outdoor = random.chance(0.5)
        let sky = RGB(hue: random.uniform(0.55, 0.62), saturation: random.uniform(0.3, 0.6), value: random.uniform(0.6, 0.9))
        let wall = RGB(hue: random.uniform(0.03, 0.12), saturation: random.uniform(0.35, 0.6), value: random.uniform(0.45, 0.75))
        backdrop = outdoor ? Backdrop(top: sky * 0.8, bottom: mix(sky, .white, 0.4), spot: center)
                           : Backdrop(top: wall, bottom: wall * 0.7, spot: center + Point(0, -0.1))
        metal = Noise(seed: random.noiseSeed())
        curlSize = random.uniform(0.03, 0.045)
    }

    func color(at p: Point) -> RGB {
        // Face towards +x in the local frame whichever way the head looks.
        var q = (p - center).rotated(-lift * facing) * (1 / scale)
        q.x *= facing
        guard let normal = surface(q) else { return backdrop.color(at: p) }
        let lit = light.shade(Normal(normal.x * facing, normal.y, normal.z), shininess: 28)
        var c = bronze * lit.diffuse
        let corrosion = smoothstep(0.55, 0.7, metal.fbm(q.x * 9, q.y * 9, octaves: 4)) * patina
        c = mix(c, RGB(0.28, 0.5, 0.42) * (0.6 + 0.5 * lit.diffuse), corrosion)
        return c + highlight * (lit.specular * 1.2 * (1 - corrosion))
    }

    /// Outline of the face's front edge: brow, straight nose, lips, chin.
    private func profileFront(_ y: Float) -> Float {
        let nose = noseLength * exp(-pow((y + 0.06) / 0.03, 2)) * (y < -0.03 ? 1 : 0.6)
        let lips = 0.012 * exp(-pow((y - 0.0) / 0.012, 2)) + 0.008 * exp(-pow((y - 0.028) / 0.012, 2))
        let chin = y > 0.05 ? -(y - 0.05) * chinDepth * 2 : 0
        let brow = y < -0.15 ? -(y + 0.15) * (y + 0.15) * 6 : 0.012 * exp(-pow((y + 0.12) / 0.015, 2))
        return 0.11 + nose + lips + chin + brow
    }

    private func surface(_ q: Point) -> Normal? {
        let front = profileFront(q.y)
        // The face: a rounded front, darker in the eye, under the nose and along the lips.
        if q.y > -0.2 && q.y < 0.1 && q.x > -0.02 && q.x < front {
            let t = clamp01(1 - (front - q.x) / 0.14)
            var ny: Float = q.y < -0.14 ? -0.3 : 0.05
            let eye = Point((q.x - front + 0.045) / 0.018, (q.y + 0.095) / 0.008).length < 1
            let underNose = q.y > -0.035 && q.y < -0.025 && q.x > front - 0.03
            let mouth = abs(q.y - 0.014) < 0.003 && q.x > front - 0.035
            if eye || mouth || underNose { ny = 0.9 }
            return Normal(t * 1.2, ny, (1 - min(t * t, 0.95)).squareRoot())
        }
        // The cranium: tight curls over the crown and back, the ear in front of them.
        if let n = skull.normal(at: q) {
            let ear = Point((q.x + 0.04) / 0.026, (q.y + 0.06) / 0.045).length
            if ear < 1 { return Normal(n.x - 0.6 * (1 - ear), n.y, n.z) }
            let hairline = q.x < -0.02 - 0.3 * max(0, q.y + 0.1) || q.y < -0.21 + 0.3 * max(0, -q.x)
            return hairline ? curl(q, base: n) : n
        }
        // The jaw back to the neck, the neck leaning forward, then the shoulders.
        if q.y >= 0.0 && q.y < 0.1 && q.x > -0.12 && q.x < front {
            return Normal(0.3, q.y > 0.07 ? 0.8 : 0.2, 0.8)
        }
        let neckCenter = -0.05 - (q.y - 0.1) * neckLean
        let across = (q.x - neckCenter) / 0.125
        if q.y > 0 && q.y < 0.38 && abs(across) < 1 { return Normal(across, 0, (1 - across * across).squareRoot()) }
        if q.y < 0.64, let n = chest.normal(at: q) { return n }
        return nil
    }

    /// A curl: a round bump around the nearest of a jittered grid of centres (cells packed like
    /// cobbles), tilting the skull's normal with a twist.
    private func curl(_ q: Point, base: Normal) -> Normal {
        let gx = q.x / curlSize, gy = q.y / curlSize
        let cx = Int32(gx.rounded(.down)), cy = Int32(gy.rounded(.down))
        var best = Point(0, 0), bestDistance = Float.greatestFiniteMagnitude
        for oy: Int32 in -1...1 {
            for ox: Int32 in -1...1 {
                let x = cx &+ ox, y = cy &+ oy
                let site = Point(Float(x) + latticeHash(x, y, 1, metal.seed), Float(y) + latticeHash(x, y, 2, metal.seed))
                let d = Point(gx, gy) - site
                if d.length < bestDistance { (best, bestDistance) = (d, d.length) }
            }
        }
        let r = min(1, bestDistance)
        let twist = sin(atan2(best.y, best.x) * 2 + r * 8) * 0.2
        return Normal(base.x + best.x * 0.9 + twist, base.y + best.y * 0.9, base.z * (1.1 - r))
    }
}
