import Foundation

/// A planet on starry space: a lit sphere with continents and clouds (or gas bands), an atmosphere
/// glowing at the rim, and sometimes a ring system in front of and behind it.
struct PlanetScene: Scene {
    enum Surface: CaseIterable { case earthlike, desert, ice, gasGiant, lava }

    let surface: Surface
    let center: Point, radius: Float
    let spin: Float, tilt: Float, light: (Float, Float, Float)
    let terrain: Noise, clouds: Noise, space: Noise
    let seaLevel: Float, cloudCover: Float, detailScale: Float
    let low: RGB, high: RGB, sea: RGB, atmosphere: RGB, nebula: RGB
    let stars: DotField
    let ring: Ring?

    struct Ring: Sendable {
        let angle: Float, flatten: Float, inner: Float, outer: Float
        let color: RGB
        let bands: Noise
    }

    init(random: inout SplitMix64) {
        surface = Surface.allCases[random.int(0...(Surface.allCases.count - 1))]
        center = Point(random.uniform(0.3, 0.7), random.uniform(0.3, 0.7))
        radius = random.uniform(0.17, 0.33)
        spin = random.uniform(0, 6.3)
        tilt = random.uniform(-0.5, 0.5)
        let lx = random.uniform(-1, 1), ly = random.uniform(-0.8, 0.4), lz = random.uniform(0.2, 0.9)
        let norm = (lx * lx + ly * ly + lz * lz).squareRoot()
        light = (lx / norm, ly / norm, lz / norm)
        terrain = Noise(seed: random.noiseSeed())
        clouds = Noise(seed: random.noiseSeed())
        space = Noise(seed: random.noiseSeed())
        seaLevel = random.uniform(0.42, 0.56)
        cloudCover = random.uniform(0.5, 0.75)
        detailScale = random.uniform(1.5, 3)
        let hueShift = random.uniform(-0.05, 0.05)
        switch surface {
        case .earthlike:
            low = RGB(hue: 0.28 + hueShift, saturation: 0.5, value: 0.45)
            high = RGB(0.55, 0.45, 0.3)
            sea = RGB(hue: 0.6 + hueShift, saturation: 0.8, value: 0.5)
            atmosphere = RGB(0.4, 0.65, 1)
        case .desert:
            low = RGB(hue: 0.05 + hueShift, saturation: 0.7, value: 0.6)
            high = RGB(hue: 0.09 + hueShift, saturation: 0.45, value: 0.85)
            sea = RGB(hue: 0.02 + hueShift, saturation: 0.7, value: 0.35)
            atmosphere = RGB(1, 0.6, 0.4)
        case .ice:
            low = RGB(0.75, 0.85, 0.92)
            high = RGB(0.95, 0.97, 1)
            sea = RGB(hue: 0.55 + hueShift, saturation: 0.5, value: 0.55)
            atmosphere = RGB(0.7, 0.85, 1)
        case .gasGiant:
            low = RGB(hue: random.uniform(0, 0.15), saturation: 0.55, value: 0.8)
            high = RGB(hue: random.uniform(0.05, 0.6), saturation: 0.35, value: 0.95)
            sea = RGB(hue: random.uniform(0, 1), saturation: 0.5, value: 0.55)
            atmosphere = RGB(1, 0.9, 0.75)
        case .lava:
            low = RGB(0.12, 0.1, 0.1)
            high = RGB(0.3, 0.26, 0.24)
            sea = RGB(1, 0.35 + hueShift, 0.05)
            atmosphere = RGB(1, 0.45, 0.2)
        }
        nebula = RGB(hue: random.unit(), saturation: 0.7, value: random.uniform(0.03, 0.12))
        stars = DotField(seed: random.noiseSeed(), cellsPerSide: random.uniform(18, 30),
                         density: random.uniform(0.3, 0.7), radius: random.uniform(0.0025, 0.004))
        if random.chance(surface == .gasGiant ? 0.7 : 0.3) {
            let inner = random.uniform(1.25, 1.5)
            ring = Ring(angle: random.uniform(-0.6, 0.6), flatten: random.uniform(0.12, 0.4), inner: inner,
                        outer: inner + random.uniform(0.4, 0.9),
                        color: RGB(hue: random.uniform(0.05, 0.15), saturation: random.uniform(0.1, 0.4), value: 0.9),
                        bands: Noise(seed: random.noiseSeed()))
        } else {
            ring = nil
        }
    }

    func color(at p: Point) -> RGB {
        let d = (p - center) * (1 / radius)
        let r2 = d.x * d.x + d.y * d.y
        var c: RGB
        if r2 < 1 {
            c = sphere(d, nz: (1 - r2).squareRoot())
        } else {
            c = background(p)
            // Atmosphere glow beyond the limb, stronger on the lit side.
            let lit = clamp01(0.4 + (d.x * light.0 + d.y * light.1) / r2.squareRoot())
            c += atmosphere * (exp(-(r2.squareRoot() - 1) * 14) * 0.6 * lit)
        }
        if let ring {
            let local = d.rotated(-ring.angle)
            let rr = Point(local.x, local.y / ring.flatten).length
            // The near half of the ring (below the centre line) passes in front of the planet.
            if rr > ring.inner && rr < ring.outer && (r2 >= 1 || local.y > 0) {
                let band = ring.bands.value(rr * 9, 0.5) * 0.7 + 0.3
                let edges = smoothstep(ring.inner, ring.inner + 0.05, rr) * smoothstep(ring.outer, ring.outer - 0.05, rr)
                let alpha = edges * band * 0.85
                c = mix(c, ring.color * (0.5 + 0.5 * band), alpha)
            }
        }
        return c
    }

    private func background(_ p: Point) -> RGB {
        var c = nebula * (0.3 + 1.4 * space.fbm(p.x * 2.5, p.y * 2.5, octaves: 4))
        var hue: Float = 0
        c += mix(RGB(0.75, 0.85, 1), RGB(1, 0.85, 0.65), hue) * (stars.intensity(at: p, hue: &hue) * 3)
        return c
    }

    private func sphere(_ d: Point, nz: Float) -> RGB {
        // Turn the sphere: tilt about the view axis, spin about its own axis.
        let t = d.rotated(tilt)
        let sx = t.x * cos(spin) + nz * sin(spin), sz = -t.x * sin(spin) + nz * cos(spin), sy = t.y
        let s = detailScale
        var c: RGB
        var emission = RGB.black
        if surface == .gasGiant {
            let swirl = terrain.fbm(sx * s * 2, sy * s * 6, sz * s * 2, octaves: 4)
            let band = 0.5 + 0.5 * sin(sy * 14 * s + swirl * 5)
            c = mix(mix(low, high, band), sea, smoothstep(0.6, 0.8, swirl) * 0.6)
        } else {
            let h = terrain.fbm(sx * s + 10, sy * s, sz * s)
            if surface == .lava {
                // Molten cracks along the contour lines glow on the night side too.
                let vein = smoothstep(0.04, 0, abs(h - seaLevel))
                c = mix(mix(low, high, smoothstep(seaLevel, 0.8, h)), sea * 1.4, vein)
                emission = sea * (vein * 0.8)
            } else if h < seaLevel {
                c = sea * (0.7 + 0.6 * h)
            } else {
                c = mix(low, high, smoothstep(seaLevel, seaLevel + 0.25, h))
            }
            if surface != .lava {
                // Polar caps and clouds.
                c = mix(c, .white, smoothstep(0.75, 0.85, abs(sy) + 0.2 * h) * 0.9)
                let cloud = clouds.fbm(sx * s * 1.5, sy * s * 3, sz * s * 1.5, octaves: 4)
                c = mix(c, RGB(0.97, 0.97, 1), smoothstep(cloudCover, cloudCover + 0.15, cloud) * 0.85)
            }
        }
        let lambert = max(0, d.x * light.0 + d.y * light.1 + nz * light.2)
        c = c * (0.04 + 1.05 * lambert) + emission
        c += atmosphere * (pow(1 - nz, 3) * 0.7 * (0.2 + lambert))
        return c
    }
}
