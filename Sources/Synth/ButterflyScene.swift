import Foundation

/// A butterfly from above, mirror-symmetric about its body: fore and hind wings of varied proportions
/// (sometimes with swallowtails), a base colour gradient, dark veins, a spotted margin, eyespots or stripes,
/// on a soft out-of-focus background.
struct ButterflyScene: Scene {
    struct Ellipse: Sendable {
        let center: Point, radii: Point, angle: Float

        /// Squared normalised distance from the centre: below 1 is inside.
        func level(_ q: Point) -> Float {
            let l = (q - center).rotated(-angle)
            return (l.x / radii.x) * (l.x / radii.x) + (l.y / radii.y) * (l.y / radii.y)
        }
    }

    let center: Point, scale: Float, rotation: Float
    let fore: Ellipse, hind: Ellipse, tail: Ellipse?
    let scallops: Float
    let inner: RGB, outer: RGB, margin: RGB, spot: RGB, eyeRing: RGB
    let marginStart: Float, veins: Float, veinWidth: Float, spotCount: Float
    let eye: Point?, eyeRadius: Float, stripes: Float?
    let backgroundA: RGB, backgroundB: RGB
    let blur: Noise, grain: Noise

    init(random: inout SplitMix64) {
        center = Point(random.uniform(0.42, 0.58), random.uniform(0.42, 0.6))
        scale = random.uniform(0.85, 1.25)
        rotation = random.uniform(-0.3, 0.3)
        fore = Ellipse(center: Point(random.uniform(0.17, 0.23), random.uniform(-0.14, -0.08)),
                       radii: Point(random.uniform(0.2, 0.27), random.uniform(0.11, 0.16)), angle: random.uniform(-0.7, -0.3))
        hind = Ellipse(center: Point(random.uniform(0.12, 0.17), random.uniform(0.07, 0.12)),
                       radii: Point(random.uniform(0.13, 0.18), random.uniform(0.11, 0.16)), angle: random.uniform(0.4, 0.9))
        tail = random.chance(0.3)
            ? Ellipse(center: Point(0.17, 0.25), radii: Point(0.022, 0.07), angle: random.uniform(0.1, 0.4)) : nil
        scallops = random.chance(0.5) ? random.uniform(0.02, 0.06) : 0
        let hue = random.unit()
        inner = RGB(hue: hue, saturation: random.uniform(0.5, 1), value: random.uniform(0.6, 1))
        outer = RGB(hue: hue + random.uniform(-0.12, 0.12), saturation: random.uniform(0.5, 1), value: random.uniform(0.4, 0.95))
        margin = random.chance(0.7) ? RGB(gray: random.uniform(0.03, 0.12)) : RGB(hue: hue + 0.5, saturation: 0.7, value: 0.5)
        spot = random.chance(0.6) ? RGB(gray: 0.95) : RGB(hue: hue + random.uniform(0.1, 0.3), saturation: 0.7, value: 1)
        eyeRing = RGB(hue: random.unit(), saturation: 0.8, value: 0.9)
        marginStart = random.uniform(0.55, 0.85)
        veins = Float(random.int(5...9))
        veinWidth = random.uniform(0.02, 0.09)
        spotCount = Float(random.int(6...14))
        eye = random.chance(0.45) ? Point(random.uniform(-0.3, 0.3), random.uniform(-0.3, 0.3)) : nil
        eyeRadius = random.uniform(0.025, 0.045)
        stripes = random.chance(0.3) ? random.uniform(12, 24) : nil
        let backgroundHue = [0.28, 0.35, 0.92, 0.58, 0.12][random.int(0...4)] as Float
        backgroundA = RGB(hue: backgroundHue, saturation: random.uniform(0.3, 0.7), value: random.uniform(0.3, 0.6))
        backgroundB = RGB(hue: backgroundHue + random.uniform(-0.08, 0.08), saturation: random.uniform(0.2, 0.6), value: random.uniform(0.6, 0.9))
        blur = Noise(seed: random.noiseSeed())
        grain = Noise(seed: random.noiseSeed())
    }

    /// Position in the butterfly's frame, folded so the right wing mirrors the left.
    private func local(_ p: Point) -> Point {
        let q = (p - center).rotated(-rotation) * (1 / scale)
        return Point(abs(q.x), q.y)
    }

    /// How far inside a wing `q` lies (below 1 is inside), and whether it is the fore wing.
    private func wingLevel(_ q: Point) -> (Float, Bool) {
        let wave = 1 - scallops * abs(sin(atan2(q.y, q.x) * 9))
        let f = fore.level(q) / wave, h = hind.level(q) / wave
        var level = min(f, h)
        if let tail { level = min(level, tail.level(q)) }
        return (level, f <= h)
    }

    func color(at p: Point) -> RGB {
        let q = local(p)
        if isBody(q) {
            return RGB(0.09, 0.07, 0.06) * (abs(q.x) < 0.022 ? 0.8 + 0.2 * sin(q.y * 120) : 1)
        }
        let (level, isFore) = wingLevel(q)
        if level >= 1 { return background(p) }
        let attach = Point(0.02, 0)
        let d = q - attach
        let angle = atan2(d.y, d.x)
        let reach = d.length / 0.4
        var c = mix(inner, outer, smoothstep(0.1, 0.9, reach))
        if let stripes, abs(sin((q.x + 0.4 * q.y) * stripes)) > 0.75 { c = margin }
        if let eye {
            let wing = isFore ? fore : hind
            let eyeCenter = wing.center + Point(eye.x * wing.radii.x, eye.y * wing.radii.y)
            let r = (q - eyeCenter).length / eyeRadius
            if r < 1 { c = r < 0.35 ? RGB(0.9, 0.95, 1) : (r < 0.7 ? RGB(gray: 0.05) : eyeRing) }
        }
        let rim = level.squareRoot()
        if rim > marginStart {
            c = margin
            // A row of spots along the margin.
            let along = angle * spotCount / .pi
            let middle = (marginStart + 1) / 2
            let spotDistance = Point((along - along.rounded()) * 0.6, (rim - middle) / (1 - marginStart) * 1.6).length
            if spotDistance < 0.35 { c = spot }
        }
        // Veins radiate from where the wing joins the body, thinning outwards.
        if abs(sin(angle * veins)) < veinWidth * (1.2 - reach) + 0.01 || rim > 0.97 { c = c * 0.2 }
        return c * (0.9 + 0.2 * grain.fbm(q.x * 60, q.y * 60, octaves: 2)) * (isFore ? 1 : 0.92)
    }

    private func background(_ p: Point) -> RGB {
        var c = mix(backgroundA, backgroundB, blur.fbm(p.x * 2, p.y * 2, octaves: 3))
        c = c * (0.85 + 0.3 * smoothstep(0.55, 0.75, blur.fbm(p.x * 5 + 3, p.y * 5, octaves: 2)))
        // A soft shadow of the wings on the leaf or flower below.
        let shadow = local(p - Point(0.025, 0.035))
        if wingLevel(shadow).0 < 1 { c = c * 0.6 }
        return c
    }

    /// The body, head and clubbed antennae, drawn over the wings.
    private func isBody(_ q: Point) -> Bool {
        let body = (q.x / 0.022) * (q.x / 0.022) + ((q.y - 0.03) / 0.17) * ((q.y - 0.03) / 0.17) < 1
        let head = Point(q.x, q.y + 0.16).length < 0.033
        let antenna = distanceToSegment(q, Point(0.01, -0.17), Point(0.09, -0.33)) < 0.005
        let club = Point(q.x - 0.09, q.y + 0.33).length < 0.014
        return body || head || antenna || club
    }

    private func distanceToSegment(_ q: Point, _ a: Point, _ b: Point) -> Float {
        let ab = b - a, aq = q - a
        let t = clamp01((aq.x * ab.x + aq.y * ab.y) / (ab.x * ab.x + ab.y * ab.y))
        return (q - (a + ab * t)).length
    }
}
