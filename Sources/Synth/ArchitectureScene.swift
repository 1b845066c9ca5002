import Foundation

/// A building facade seen straight on, in one of four styles: a classical temple front (pediment,
/// fluted columns, steps), a Roman arcade (floors of round arches), a gothic front (pointed stained-glass
/// windows, a rose window, a gable) or a modern glass curtain wall.
struct ArchitectureScene: Scene {
    enum Style: CaseIterable { case classical, arcade, gothic, modern }

    let style: Style
    let left: Float, right: Float, top: Float, ground: Float
    let bays: Int, floors: Int
    let skyTop: RGB, skyBottom: RGB, wall: RGB, accent: RGB, pavement: RGB
    let lightSide: Float
    let texture: Noise
    let litWindows: Float

    init(random: inout SplitMix64) {
        style = Style.allCases[random.int(0...(Style.allCases.count - 1))]
        let width = random.uniform(0.65, 1.1), middle = random.uniform(0.4, 0.6)
        left = middle - width / 2
        right = middle + width / 2
        top = random.uniform(0.14, 0.34)
        ground = random.uniform(0.86, 0.96)
        bays = random.int(style == .gothic ? 3...5 : 4...8)
        floors = random.int(style == .modern ? 7...16 : 2...3)
        let dusk = random.unit()
        skyTop = mix(RGB(hue: random.uniform(0.55, 0.62), saturation: 0.6, value: 0.85), RGB(0.2, 0.2, 0.4), dusk)
        skyBottom = mix(RGB(0.8, 0.88, 0.95), RGB(0.95, 0.6, 0.45), dusk)
        switch style {
        case .classical:
            wall = RGB(hue: random.uniform(0.08, 0.13), saturation: random.uniform(0.05, 0.3), value: random.uniform(0.75, 0.95))
        case .arcade:
            wall = RGB(hue: random.uniform(0.02, 0.1), saturation: random.uniform(0.35, 0.65), value: random.uniform(0.55, 0.85))
        case .gothic:
            wall = RGB(hue: random.uniform(0.05, 0.15), saturation: random.uniform(0.05, 0.25), value: random.uniform(0.3, 0.5))
        case .modern:
            wall = RGB(hue: random.uniform(0.5, 0.62), saturation: random.uniform(0.2, 0.6), value: random.uniform(0.35, 0.6))
        }
        accent = RGB(hue: random.unit(), saturation: random.uniform(0.6, 0.9), value: random.uniform(0.5, 0.9))
        pavement = RGB(gray: random.uniform(0.3, 0.55))
        lightSide = random.chance(0.5) ? 1 : -1
        texture = Noise(seed: random.noiseSeed())
        litWindows = dusk * random.uniform(0.1, 0.5)
    }

    func color(at p: Point) -> RGB {
        if p.y > ground { return pavement * (0.8 + 0.3 * texture.fbm(p.x * 30, p.y * 60, octaves: 3)) }
        let sky = mix(skyTop, skyBottom, p.y) + RGB(gray: 0.15 * smoothstep(0.55, 0.8, texture.fbm(p.x * 4, p.y * 10, octaves: 4)))
        let width = right - left
        let u = (p.x - left) / width, v = (p.y - top) / (ground - top)
        let grain = 0.88 + 0.24 * texture.fbm(p.x * 40, p.y * 40, octaves: 3)
        switch style {
        case .classical: return classical(p, u: u, v: v, sky: sky, grain: grain)
        case .arcade: return arcade(u: u, v: v, sky: sky, grain: grain)
        case .gothic: return gothic(p, u: u, v: v, sky: sky, grain: grain)
        case .modern: return modern(u: u, v: v, sky: sky)
        }
    }

    /// Position within a bay: its index and the offset across it in [0, 1).
    private func bay(_ u: Float, count: Int) -> (Int, Float) {
        let x = u * Float(count)
        let index = Int(x.rounded(.down))
        return (index, x - Float(index))
    }

    private func classical(_ p: Point, u: Float, v: Float, sky: RGB, grain: Float) -> RGB {
        let pedimentHeight: Float = 0.22 * (ground - top) * 0.6
        if v < 0 {
            // The pediment: a low triangle whose sloping edge shades its tympanum.
            let rise = (top - p.y) / pedimentHeight
            guard u > 0, u < 1, rise < 1 - abs(u - 0.5) * 2 else { return sky }
            let border = (1 - abs(u - 0.5) * 2) - rise
            return wall * (border < 0.08 ? 1.05 : 0.82) * grain
        }
        guard u > 0, u < 1 else { return sky }
        if v < 0.12 { return wall * (v > 0.1 ? 0.7 : (v < 0.03 ? 1.05 : 0.95)) * grain }
        if v > 0.88 {
            // Steps: bright treads, shaded risers.
            let step = (v - 0.88) / 0.12 * 4
            return wall * (step - step.rounded(.down) < 0.35 ? 0.7 : 1.0) * grain
        }
        let (_, offset) = bay(u, count: bays)
        let across = (offset - 0.5) / 0.22
        let capital = v < 0.16 && abs(across) < 1.35
        let base = v > 0.84 && abs(across) < 1.3
        if abs(across) < 1 || capital || base {
            // A fluted cylinder lit from one side.
            let round = (1 - min(1, across * across)).squareRoot()
            let flutes: Float = capital || base ? 1 : 0.9 + 0.1 * cos(across * .pi * 4)
            return wall * ((0.55 + 0.5 * round + 0.25 * lightSide * across) * flutes) * grain
        }
        // The shadowed portico behind the columns.
        return wall * (0.3 + 0.1 * v) * grain
    }

    private func arcade(u: Float, v: Float, sky: RGB, grain: Float) -> RGB {
        guard u > 0, u < 1, v > -0.03 else { return sky }
        if v < 0 { return wall * 1.1 * grain }
        let (_, across) = bay(u, count: bays)
        let floorIndex = min(floors - 1, Int(v * Float(floors)))
        let up = v * Float(floors) - Float(floorIndex)
        if up > 0.9 { return wall * (up < 0.93 ? 0.65 : 1.05) * grain }
        // Arch opening: straight jambs below the springing line, a semicircle above.
        let aspect = (right - left) / Float(bays) / ((ground - top) / Float(floors))
        let halfOpening: Float = 0.32
        let spring: Float = 0.42
        let dx = (across - 0.5) * aspect, dy = up - spring
        let inOpening = (abs(across - 0.5) < halfOpening && up > spring)
            || (dx * dx + dy * dy < (halfOpening * aspect) * (halfOpening * aspect) && up <= spring)
        if inOpening {
            let depth = 0.12 + 0.15 * up
            let lit = Float(floorIndex > 0 && latticeHash(Int32(across * 100), Int32(floorIndex), 7, texture.seed) < litWindows ? 1 : 0)
            return mix(wall * depth, RGB(1, 0.8, 0.45), lit * 0.8)
        }
        let edge = abs(across - 0.5) - halfOpening
        return wall * (edge < 0.03 && edge > 0 ? 0.85 + lightSide * 0.1 : 1) * grain
    }

    private func gothic(_ p: Point, u: Float, v: Float, sky: RGB, grain: Float) -> RGB {
        if v < 0 {
            // Gable and two spires against the sky.
            let rise = (top - p.y) / (0.6 * top)
            let gable = u > 0.1 && u < 0.9 && rise < 1 - abs(u - 0.5) / 0.4
            let spire = (abs(u - 0.05) < 0.06 * (1 - rise * 0.9) || abs(u - 0.95) < 0.06 * (1 - rise * 0.9)) && rise < 1.6
            return gable || spire ? wall * 0.85 * grain : sky
        }
        guard u > 0, u < 1 else { return sky }
        // Courses of stone blocks.
        let row = v * 22
        let rowIndex = Int(row.rounded(.down))
        let block = u * 14 + (rowIndex % 2 == 0 ? 0 : 0.5)
        let joint = (row - row.rounded(.down) < 0.08) || (block - block.rounded(.down) < 0.04)
        var stone = wall * (joint ? 0.7 : 1) * grain
        let rose = Point((u - 0.5) * (right - left), (v - 0.3) * (ground - top))
        let roseRadius = 0.14 * (right - left)
        if rose.length < roseRadius {
            let r = rose.length / roseRadius
            let spokes = abs(sin(atan2(rose.y, rose.x) * 6))
            if r > 0.92 || r < 0.15 || spokes < 0.12 { return wall * 1.1 * grain }
            return glass(Point(u * 40, v * 40), glow: 1 - r * 0.4)
        }
        // Tall lancet windows: equilateral pointed arches, in the lower two thirds.
        let (_, across) = bay(u, count: bays)
        let windowWidth: Float = 0.42
        let bayWidth = (right - left) / Float(bays), height = ground - top
        let x = (across - 0.5) * bayWidth, y = (v - 0.55) * height
        let halfWidth = windowWidth * 0.5 * bayWidth
        let inShaft = abs(x) < halfWidth && y > 0 && v < 0.92
        let l = Point(x + halfWidth, y), r = Point(x - halfWidth, y)
        let inArch = y <= 0 && l.length < 2 * halfWidth && r.length < 2 * halfWidth
        if (inShaft || inArch) && abs(0.3 - v) * height > roseRadius * 1.05 {
            return abs(x) < halfWidth * 0.08 ? wall * 0.9 : glass(Point(u * 60, v * 60), glow: 0.8)
        }
        stone = stone * (1 - 0.25 * smoothstep(0.9, 1, v))
        return stone
    }

    /// Stained glass: small panes of random jewel colours in dark leading.
    private func glass(_ q: Point, glow: Float) -> RGB {
        let cx = Int32(q.x.rounded(.down)), cy = Int32(q.y.rounded(.down))
        let fx = q.x - q.x.rounded(.down), fy = q.y - q.y.rounded(.down)
        if fx < 0.12 || fy < 0.12 { return RGB(gray: 0.05) }
        let hue = latticeHash(cx, cy, 11, texture.seed)
        let pane = RGB(hue: hue < 0.5 ? 0.62 : (hue < 0.8 ? 0.0 : 0.13), saturation: 0.85, value: 0.35 + 0.4 * latticeHash(cx, cy, 12, texture.seed))
        return mix(pane, accent, 0.2) * glow
    }

    private func modern(u: Float, v: Float, sky: RGB) -> RGB {
        guard u > 0, u < 1, v > 0 else { return sky }
        let columns = bays * 2
        let (column, across) = bay(u, count: columns)
        let rowPosition = v * Float(floors)
        let row = Int(rowPosition.rounded(.down))
        let up = rowPosition - Float(row)
        if up < 0.1 { return RGB(gray: 0.15) }
        if across < 0.06 { return RGB(gray: 0.55) }
        // Each pane reflects the sky, a little tilted, with its own tint; a few are lit from inside.
        let jitter = latticeHash(Int32(column), Int32(row), 3, texture.seed)
        let reflection = mix(skyBottom, skyTop, clamp01(1 - v + 0.3 * (jitter - 0.5) + 0.2 * up))
        var pane = mix(wall, reflection, 0.55) * (0.8 + 0.35 * jitter)
        if latticeHash(Int32(column), Int32(row), 4, texture.seed) < litWindows {
            pane = mix(pane, RGB(1, 0.85, 0.55), 0.7)
        }
        return pane
    }
}
