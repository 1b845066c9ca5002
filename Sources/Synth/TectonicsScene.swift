import Foundation

/// Tectonic plates from above: warped Voronoi cells of cracked rock; some boundaries are rifts with
/// glowing lava, others pressure ridges.
struct TectonicsScene: Scene {
    let sites: [Point]
    let plateColors: [RGB]
    let warp: Noise, rock: Noise, boundaryNoise: Noise
    let warpStrength: Float, rockScale: Float, rockOffset: Point
    let riftWidth: Float, lavaHeat: Float, riftChance: Float
    let lavaDeep: RGB, lavaHot: RGB
    let light: Point

    init(random: inout SplitMix64) {
        let count = random.int(6...12)
        sites = (0..<count).map { _ in Point(random.uniform(-0.1, 1.1), random.uniform(-0.1, 1.1)) }
        let palette: [RGB] = [RGB(0.22, 0.2, 0.19), RGB(0.35, 0.27, 0.2), RGB(0.45, 0.38, 0.3),
                              RGB(0.18, 0.2, 0.24), RGB(0.5, 0.33, 0.22), RGB(0.3, 0.3, 0.28)]
        let base = palette[random.int(0...(palette.count - 1))]
        plateColors = (0..<count).map { _ in
            base * random.uniform(0.6, 1.4) + RGB(random.uniform(-0.05, 0.05), random.uniform(-0.04, 0.04), 0)
        }
        warp = Noise(seed: random.noiseSeed())
        rock = Noise(seed: random.noiseSeed())
        boundaryNoise = Noise(seed: random.noiseSeed())
        warpStrength = random.uniform(0.04, 0.14)
        rockScale = random.uniform(5, 12)
        rockOffset = Point(random.uniform(0, 50), random.uniform(0, 50))
        riftWidth = random.uniform(0.008, 0.03)
        lavaHeat = random.uniform(0.5, 1.6)
        riftChance = random.uniform(0.3, 0.9)
        lavaDeep = RGB(random.uniform(0.5, 0.8), random.uniform(0.03, 0.12), 0.02)
        lavaHot = RGB(1, random.uniform(0.55, 0.85), random.uniform(0.1, 0.35))
        light = Point(random.uniform(-1, 1), random.uniform(-1, 1))
    }

    func color(at p: Point) -> RGB {
        let w = Point(warp.fbm(p.x * 3, p.y * 3, octaves: 3), warp.fbm(p.x * 3 + 7, p.y * 3 + 3, octaves: 3))
        let q = p + (w - Point(0.5, 0.5)) * (2 * warpStrength)
        var nearest = 0, second = 0
        var d1 = Float.greatestFiniteMagnitude, d2 = Float.greatestFiniteMagnitude
        for (i, site) in sites.enumerated() {
            let d = (q - site).length
            if d < d1 {
                (d2, second) = (d1, nearest)
                (d1, nearest) = (d, i)
            } else if d < d2 {
                (d2, second) = (d, i)
            }
        }
        let edge = (d2 - d1) * 0.5
        // Each pair of neighbouring plates is either pulling apart (rift) or pushing together (ridge).
        let pair = Int32(min(nearest, second) * 64 + max(nearest, second))
        let isRift = latticeHash(pair, 0, 0, boundaryNoise.seed) < riftChance

        let r = p * rockScale + rockOffset
        let texture = rock.fbm(r)
        let cracks = rock.ridged(r.x * 2.3, r.y * 2.3)
        // Light the rock as a height field: brighter where it faces the light.
        let slope = rock.fbm(r.x + light.x * 0.05, r.y + light.y * 0.05) - texture
        var c = plateColors[nearest] * (0.55 + 0.8 * texture + 6 * slope)
        c = c * (1 - 0.5 * smoothstep(0.75, 0.95, cracks))
        if isRift {
            let flicker = 0.7 + 0.6 * boundaryNoise.fbm(q.x * 20, q.y * 20, octaves: 3)
            let heat = exp(-edge / riftWidth) * lavaHeat * flicker
            let lava = mix(lavaDeep, lavaHot, smoothstep(0.5, 1.2, heat))
            c = mix(c * (1 - 0.6 * smoothstep(0, 1, heat)), lava, smoothstep(0.25, 0.9, heat))
            c += lava * (0.35 * exp(-edge / (riftWidth * 4)) * lavaHeat)
        } else {
            let crest = exp(-edge / (riftWidth * 1.5))
            c = c * (1 + 0.9 * crest) + RGB(gray: 0.12 * crest)
        }
        return c
    }
}
