import Foundation

/// A 64-bit DCT perceptual hash (pHash): the picture shrunk to 32x32 luma, its lowest 8x8 cosine
/// frequencies, one bit per frequency set when that coefficient is above their median. Resizing,
/// recompression and small edits move few bits; different pictures differ in about half of them.
public struct PerceptualHash: Hashable, Sendable, CustomStringConvertible {
    public var bits: UInt64

    public init(bits: UInt64) { self.bits = bits }

    public init(of image: Image) {
        let side = 32, kept = 8
        let small = image.flattened().resized(width: side, height: side)
        var luma = [Double](repeating: 0, count: side * side)
        for i in 0..<side * side {
            let r = Double(small.pixels[3 * i]), g = Double(small.pixels[3 * i + 1]), b = Double(small.pixels[3 * i + 2])
            luma[i] = 0.299 * r + 0.587 * g + 0.114 * b
        }
        let basis = PerceptualHash.cosineBasis
        // Separable DCT-II, keeping only the first `kept` frequencies in each direction.
        var rowsDone = [Double](repeating: 0, count: side * kept)
        for y in 0..<side {
            for u in 0..<kept {
                var sum = 0.0
                for x in 0..<side { sum += luma[y * side + x] * basis[u * side + x] }
                rowsDone[y * kept + u] = sum
            }
        }
        var coefficients = [Double](repeating: 0, count: kept * kept)
        for v in 0..<kept {
            for u in 0..<kept {
                var sum = 0.0
                for y in 0..<side { sum += rowsDone[y * kept + u] * basis[v * side + y] }
                coefficients[v * kept + u] = sum
            }
        }
        // The median leaves out the DC term, which only says how bright the picture is.
        let median = coefficients.dropFirst().sorted()[(kept * kept - 1) / 2]
        var bits: UInt64 = 0
        for (index, value) in coefficients.enumerated() where value > median {
            bits |= 1 << UInt64(index)
        }
        self.bits = bits
    }

    /// How many of the 64 bits differ: 0 for the same picture, about 32 for unrelated ones.
    public func distance(to other: PerceptualHash) -> Int {
        (bits ^ other.bits).nonzeroBitCount
    }

    public var description: String {
        let hex = String(bits, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// cos(pi * (2x + 1) * u / 64) for u in 0..<8, x in 0..<32.
    private static let cosineBasis: [Double] = (0..<8).flatMap { u in
        (0..<32).map { x in cos(Double.pi * Double(2 * x + 1) * Double(u) / 64) }
    }
}
