import Foundation

/// A classical marble bust seen from the front, in the manner of portraits of Plato: a bearded head with
/// curled hair, blank eyes in shadowed sockets, on a neck and truncated chest and a plinth; pale veined
/// stone under a studio light on a dark museum wall.
struct PlatoScene: Scene {
    let center: Point, scale: Float, tilt: Float, turn: Float
    let head: Volume, beard: Volume, chest: Volume
    let hairline: Float, beardLength: Float
    let marble: RGB, veinColor: RGB, grime: Float
    let light: StudioLight
    let backdrop: Backdrop
    let stone: Noise, curls: Noise

    init(random: inout SplitMix64) {
        center = Point(random.uniform(0.4, 0.6), random.uniform(0.45, 0.55))
        scale = random.uniform(0.85, 1.15)
        tilt = random.uniform(-0.12, 0.12)
        turn = random.uniform(-1, 1)
        let headWidth = random.uniform(0.15, 0.175)
        head = Volume(center: Point(0, -0.13), radii: Point(headWidth, random.uniform(0.19, 0.215)))
        beardLength = random.uniform(0.1, 0.17)
        beard = Volume(center: Point(0, -0.01), radii: Point(headWidth * random.uniform(0.85, 1), beardLength))
        chest = Volume(center: Point(0, 0.4), radii: Point(random.uniform(0.26, 0.33), random.uniform(0.2, 0.25)))
        hairline = random.uniform(-0.25, -0.2)
        marble = RGB(hue: random.uniform(0.05, 0.6), saturation: random.uniform(0.02, 0.08), value: random.uniform(0.82, 0.95))
        veinColor = RGB(gray: random.uniform(0.45, 0.65))
        grime = random.uniform(0, 0.35)
        light = StudioLight(random: &random, from: random.chance(0.5) ? 1 : -1)
        let wallHue = [0.0, 0.33, 0.6, 0.08][random.int(0...3)] as Float
        let wall = RGB(hue: wallHue, saturation: random.uniform(0.1, 0.5), value: random.uniform(0.12, 0.3))
        backdrop = Backdrop(top: wall * 1.2, bottom: wall * 0.6, spot: center + Point(0, -0.15))
        stone = Noise(seed: random.noiseSeed())
        curls = Noise(seed: random.noiseSeed())
    }

    func color(at p: Point) -> RGB {
        let q = (p - center).rotated(-tilt) * (1 / scale)
        guard let (normal, roughness, shadow) = surface(q) else { return backdrop.color(at: p) }
        let (diffuse, specular) = light.shade(normal, shininess: 12)
        // Marble: pale, faintly veined, yellowed in the hollows of older pieces.
        let vein = stone.ridged(q.x * 4 + 3, q.y * 4, octaves: 5)
        var c = mix(marble, veinColor, smoothstep(0.9, 0.99, vein) * 0.35)
        c = mix(c, RGB(0.6, 0.52, 0.38), grime * stone.fbm(q.x * 10, q.y * 10, octaves: 3) * (1 - normal.z))
        let texture = 1 - roughness * 0.35
        return c * (diffuse * shadow * texture) + RGB(gray: specular * 0.15)
    }

    /// Surface normal, texture roughness (0 smooth, 1 rough) and cast shadow at `q`, or nil off the bust.
    private func surface(_ q: Point) -> (Normal, Float, Float)? {
        let shift = turn * 0.035
        if let n = head.normal(at: q) {
            if q.y < hairline + 0.04 * sin(q.x * 30) + 0.02 {
                // Curls: a bumpy crown.
                let bump = curls.ridged(q.x * 40, q.y * 40, octaves: 2)
                return (Normal(n.x + 0.3 * bump, n.y - 0.3 * bump, n.z), bump, 1)
            }
            if q.y > -0.02, let b = beard.normal(at: q) { return beardSurface(q, b) }
            // The nose: a ridge whose sides face left and right.
            let noseX = q.x - shift * 1.4
            if q.y > -0.12 && q.y < -0.03 && abs(noseX) < 0.022 {
                return (Normal(n.x + noseX / 0.022 * 0.8, n.y + 0.1, n.z), 0, face(q, shift: shift))
            }
            return (n, 0, face(q, shift: shift))
        }
        if q.y > -0.06, let b = beard.normal(at: q) { return beardSurface(q, b) }
        // Neck, then chest cut off flat, then the plinth.
        if abs(q.x) < 0.075 && q.y > 0 && q.y < 0.32 {
            let across = q.x / 0.075
            return (Normal(across, 0.1, (1 - across * across).squareRoot()), 0, q.y < beard.center.y + beardLength + 0.04 ? 0.55 : 1)
        }
        if q.y < 0.52, let n = chest.normal(at: q) { return (n, 0, 1) }
        if q.y >= 0.52 && q.y < 0.56 && abs(q.x) < 0.16 { return (Normal(0, -1, 0.3), 0, 1) }
        if q.y >= 0.56 && abs(q.x) < 0.13 { return (Normal(0, 0, 1), 0.2, 1) }
        return nil
    }

    private func beardSurface(_ q: Point, _ n: Normal) -> (Normal, Float, Float) {
        // Wavy strands falling from the chin.
        let strands = sin(q.x * 90 + curls.fbm(q.x * 8, q.y * 8, octaves: 3) * 12)
        return (Normal(n.x + 0.25 * strands, n.y + 0.2, n.z), 0.3 + 0.3 * abs(strands), 1)
    }

    /// Shadows of the face's features on the smooth stone (1 is fully lit).
    private func face(_ q: Point, shift: Float) -> Float {
        let socket = min(Point((q.x - shift - 0.058) / 0.036, (q.y + 0.115) / 0.022).length,
                         Point((q.x - shift + 0.058) / 0.036, (q.y + 0.115) / 0.022).length)
        var shade: Float = socket < 1 ? 0.35 + 0.45 * socket * socket : 1
        // The nose casts a shadow to the side away from the light.
        let noseX = q.x - shift * 1.4
        if q.y > -0.11 && q.y < -0.04 && noseX * light.direction.x < 0 && abs(noseX) < 0.035 { shade *= 0.7 }
        if q.y > -0.04 && q.y < -0.025 && abs(noseX) < 0.025 { shade *= 0.6 }
        return shade
    }
}
