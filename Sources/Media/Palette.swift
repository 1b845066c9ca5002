import Imaging

/// A colour histogram over many RGB images at 6 bits per channel, keeping each bin's exact colour sums
/// so the palette colours are true means, not bin centres.
struct ColorHistogram {
    static let bits = 6
    private(set) var counts = [Int](repeating: 0, count: 1 << (3 * bits))
    private var sums = [Int](repeating: 0, count: 3 << (3 * bits))

    @inline(__always) static func bin(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> Int {
        let drop = 8 - bits
        return Int(r >> drop) << (2 * bits) | Int(g >> drop) << bits | Int(b >> drop)
    }

    mutating func add(_ image: Image) {
        precondition(image.channels == 3)
        image.pixels.withUnsafeBufferPointer { p in
            for i in stride(from: 0, to: p.count, by: 3) {
                let bin = Self.bin(p[i], p[i + 1], p[i + 2])
                counts[bin] += 1
                sums[3 * bin] += Int(p[i])
                sums[3 * bin + 1] += Int(p[i + 1])
                sums[3 * bin + 2] += Int(p[i + 2])
            }
        }
    }

    /// The occupied bins: their weight and their mean colour.
    fileprivate func occupiedBins() -> [WeightedColor] {
        counts.indices.compactMap { bin in
            let n = counts[bin]
            guard n > 0 else { return nil }
            return WeightedColor(count: n, rgb: (0..<3).map { Double(sums[3 * bin + $0]) / Double(n) })
        }
    }

    /// A palette of at most `maxColors` colours by median cut: repeatedly split the box of colours with the
    /// largest weighted spread along its longest axis at the weighted median, then take each box's mean.
    func medianCutPalette(maxColors: Int) -> [RGB] {
        let colors = occupiedBins()
        var boxes = [ColorBox(colors)].filter { !$0.colors.isEmpty }
        while boxes.count < maxColors {
            guard let worst = boxes.indices.max(by: { boxes[$0].spread < boxes[$1].spread }),
                  boxes[worst].spread > 0 else { break }
            let (low, high) = boxes[worst].split()
            boxes[worst] = low
            boxes.append(high)
        }
        return boxes.map { $0.mean }
    }
}

struct RGB: Equatable {
    var r: UInt8, g: UInt8, b: UInt8
}

fileprivate struct WeightedColor {
    var count: Int
    var rgb: [Double]
}

/// A set of colours, with the axis along which it spreads most and how much (weighted variance x weight).
fileprivate struct ColorBox {
    var colors: [WeightedColor]
    let axis: Int
    let spread: Double

    init(_ colors: [WeightedColor]) {
        self.colors = colors
        let total = Double(colors.reduce(0) { $0 + $1.count })
        var bestAxis = 0, bestSpread = 0.0
        if colors.count > 1 {
            for axis in 0..<3 {
                let mean = colors.reduce(0.0) { $0 + Double($1.count) * $1.rgb[axis] } / total
                let spread = colors.reduce(0.0) { $0 + Double($1.count) * ($1.rgb[axis] - mean) * ($1.rgb[axis] - mean) }
                if spread > bestSpread { bestAxis = axis; bestSpread = spread }
            }
        }
        axis = bestAxis
        spread = bestSpread
    }

    /// Two boxes, split at the weighted median along `axis`; both non-empty.
    func split() -> (ColorBox, ColorBox) {
        let sorted = colors.sorted { $0.rgb[axis] < $1.rgb[axis] }
        let half = sorted.reduce(0) { $0 + $1.count } / 2
        var running = 0, cut = 1
        for (i, color) in sorted.enumerated() {
            running += color.count
            if running >= half { cut = i + 1; break }
        }
        cut = min(max(cut, 1), sorted.count - 1)
        return (ColorBox(Array(sorted[..<cut])), ColorBox(Array(sorted[cut...])))
    }

    var mean: RGB {
        let total = Double(colors.reduce(0) { $0 + $1.count })
        let channel = { (axis: Int) -> UInt8 in
            UInt8((self.colors.reduce(0.0) { $0 + Double($1.count) * $1.rgb[axis] } / total).rounded())
        }
        return RGB(r: channel(0), g: channel(1), b: channel(2))
    }
}

/// Maps RGB pixels to the nearest palette entry, caching the answer per 6-bit histogram bin.
struct PaletteMapper {
    let palette: [RGB]
    private var nearest = [Int16](repeating: -1, count: 1 << (3 * ColorHistogram.bits))

    init(palette: [RGB]) {
        precondition(!palette.isEmpty && palette.count <= 256)
        self.palette = palette
    }

    /// One palette index per pixel, rows packed.
    mutating func indices(of image: Image) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: image.width * image.height)
        image.pixels.withUnsafeBufferPointer { p in
            for i in 0..<out.count {
                let r = p[3 * i], g = p[3 * i + 1], b = p[3 * i + 2]
                let bin = ColorHistogram.bin(r, g, b)
                if nearest[bin] < 0 { nearest[bin] = Int16(closest(to: bin)) }
                out[i] = UInt8(nearest[bin])
            }
        }
        return out
    }

    /// The palette entry nearest (squared RGB distance) to the centre of a histogram bin.
    private func closest(to bin: Int) -> Int {
        let bits = ColorHistogram.bits, mask = (1 << bits) - 1, drop = 8 - bits
        let centre = [(bin >> (2 * bits)) & mask, (bin >> bits) & mask, bin & mask].map { ($0 << drop) + (1 << drop) / 2 }
        var best = 0, bestDistance = Int.max
        for (i, c) in palette.enumerated() {
            let dr = Int(c.r) - centre[0], dg = Int(c.g) - centre[1], db = Int(c.b) - centre[2]
            let distance = dr * dr + dg * dg + db * db
            if distance < bestDistance { best = i; bestDistance = distance }
        }
        return best
    }
}
