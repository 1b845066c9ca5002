import Foundation

/// The ocean, half the time from above the surface (sky, sun, waves in perspective, glitter, foam)
/// and half the time from below (a blue gradient into the deep, light shafts, caustics, drifting specks).
struct OceanScene: Scene {
    let underwater: Bool
    let noise: Noise, detail: Noise
    let horizon: Float, sun: Point, sunRadius: Float
    let zenith: RGB, skyHorizon: RGB, sunColor: RGB, water: RGB, deep: RGB
    let waves: [Wave]
    let foam: Float, glitter: Float
    let specks: DotField
    let rayFrequency: Float, rayStrength: Float, seabed: Float?

    struct Wave: Sendable {
        let dx: Float, dy: Float, frequency: Float, amplitude: Float, phase: Float
    }

    init(random: inout SplitMix64) {
        underwater = random.chance(0.5)
        noise = Noise(seed: random.noiseSeed())
        detail = Noise(seed: random.noiseSeed())
        horizon = random.uniform(0.28, 0.55)
        sunRadius = random.uniform(0.025, 0.06)
        sun = Point(random.uniform(0.15, 0.85), underwater ? -0.4 : horizon - random.uniform(0.04, 0.3))
        // Low suns are warm, high suns white; the sky follows.
        let sunset = random.unit()
        sunColor = mix(RGB(1, 0.97, 0.9), RGB(1, 0.55, 0.25), sunset)
        zenith = mix(RGB(hue: random.uniform(0.55, 0.64), saturation: 0.7, value: random.uniform(0.45, 0.8)),
                     RGB(hue: random.uniform(0.7, 0.8), saturation: 0.5, value: 0.3), sunset)
        skyHorizon = mix(RGB(0.75, 0.85, 0.95), RGB(1, 0.6, 0.4), sunset)
        let seaHue = random.uniform(0.45, 0.62)
        water = RGB(hue: seaHue, saturation: random.uniform(0.5, 0.9), value: random.uniform(0.35, 0.7))
        deep = RGB(hue: seaHue + random.uniform(0, 0.06), saturation: 0.9, value: random.uniform(0.04, 0.15))
        waves = (0..<5).map { i in
            let angle = random.uniform(-0.7, 0.7)
            return Wave(dx: sin(angle), dy: cos(angle), frequency: random.uniform(2, 5) * Float(i + 1),
                        amplitude: random.uniform(0.5, 1) / Float(i + 1), phase: random.uniform(0, 6.3))
        }
        foam = random.uniform(0.75, 1.0)
        glitter = random.uniform(0.4, 1.2)
        specks = DotField(seed: random.noiseSeed(), cellsPerSide: random.uniform(14, 26),
                          density: random.uniform(0.2, 0.6), radius: random.uniform(0.002, 0.004))
        rayFrequency = random.uniform(6, 16)
        rayStrength = random.uniform(0.3, 0.9)
        seabed = random.chance(0.6) ? random.uniform(0.72, 0.9) : nil
    }

    func color(at p: Point) -> RGB { underwater ? below(p) : above(p) }

    private func above(_ p: Point) -> RGB {
        if p.y < horizon {
            let t = p.y / horizon
            var sky = mix(zenith, skyHorizon, pow(t, 1.6))
            let streaks = smoothstep(0.5, 0.8, noise.fbm(p.x * 3, p.y * 14, octaves: 4))
            sky = mix(sky, mix(skyHorizon, .white, 0.4), streaks * 0.5)
            let d = (p - sun).length
            sky += sunColor * (smoothstep(sunRadius, sunRadius * 0.85, d) * 1.5 + exp(-d * 9) * 0.5)
            return sky
        }
        // Perspective: rows near the horizon are far away, so waves there are small and dense.
        let t = p.y - horizon
        let distance = 1 / (t + 0.015)
        let u = (p.x - 0.5) * distance, v = distance
        var height: Float = 0, slope: Float = 0
        for wave in waves {
            let phase = wave.frequency * (wave.dx * u + wave.dy * v) + wave.phase
            let fade = exp(-wave.frequency * distance * 0.004)
            height += wave.amplitude * sin(phase) * fade
            slope += wave.amplitude * wave.frequency * wave.dx * cos(phase) * fade
        }
        let total = waves.reduce(Float(0)) { $0 + $1.amplitude }
        let crest = height / total * 0.5 + 0.5
        let near = clamp01(t / (1 - horizon))
        let fresnel = clamp01(0.85 - 0.75 * pow(near, 0.5) + 0.02 * slope)
        var c = mix(mix(deep, water, 0.5 + 0.5 * near), skyHorizon, fresnel)
        c = c * (0.8 + 0.4 * crest)
        // The sun's path on the water: a column of glints on the crests.
        let path = exp(-pow((p.x - sun.x + 0.004 * slope) / (0.04 + 0.25 * near), 2))
        c += sunColor * (path * smoothstep(0.55, 0.9, crest) * glitter * (1.2 - near))
        let froth = detail.fbm(u * 3, v * 3, octaves: 3)
        c = mix(c, RGB(0.9, 0.95, 1), smoothstep(foam, foam + 0.15, crest * 0.7 + froth * 0.5) * near * 0.7)
        return c
    }

    private func below(_ p: Point) -> RGB {
        var c = mix(mix(water, .white, 0.15), deep, pow(p.y, 0.8))
        // Light shafts fan out from the sun above the surface.
        let angle = atan2(p.x - sun.x, p.y - sun.y)
        let shaft = pow(noise.value(angle * rayFrequency, 3.7), 3) + 0.5 * pow(noise.value(angle * rayFrequency * 2.3, 9.1), 4)
        c += RGB(0.8, 0.95, 1) * (shaft * rayStrength * (1 - p.y) * (1 - p.y))
        // Caustics ripple just under the surface.
        let caustic = detail.ridged(p.x * 9, p.y * 18 + 3, octaves: 3)
        c += RGB(0.7, 0.9, 1) * (smoothstep(0.6, 1, caustic) * 0.5 * (1 - smoothstep(0, 0.25, p.y)))
        var unused: Float = 0
        c += RGB(0.75, 0.85, 0.85) * (specks.intensity(at: p, hue: &unused) * 0.8 * (1 - 0.5 * p.y))
        if let seabed {
            let floor = seabed + 0.12 * (detail.fbm(p.x * 3, 1.5, octaves: 4) - 0.5)
            if p.y > floor {
                let sand = mix(RGB(0.35, 0.33, 0.25), deep, 0.55) * (0.6 + 0.6 * detail.fbm(p.x * 25, p.y * 25, octaves: 3))
                c = mix(c, sand, smoothstep(floor, floor + 0.02, p.y))
            }
        }
        return c
    }
}
