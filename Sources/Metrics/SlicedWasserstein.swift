import Foundation
import Neural

/// The sliced Wasserstein distance between two picture sets on Laplacian-pyramid patches, the measure
/// of Karras et al. 2018 ("Progressive Growing of GANs", appendix D): at each pyramid level, small
/// neighbourhoods (7 × 7 × 3) are cut at random places from every picture; each neighbourhood is a point
/// in 147 dimensions; the two clouds of points are projected on many random unit directions and each
/// projection's two distributions compared (the 1-D Wasserstein distance: sort, mean absolute
/// difference). A level tells how alike the two sets are at that scale: the finest level is texture and
/// fine detail, the coarsest the layout of colours and shapes.
///
/// Two choices differ from the paper's code: the neighbourhoods are normalised by the per-channel mean
/// and deviation of both sets together (each set by its own would hide a shift of colour or contrast),
/// and sets of different sizes are compared through their quantile functions, which for equal sizes is
/// exactly the mean absolute difference of the sorted projections.
public struct SlicedWasserstein: Sendable {
    /// Neighbourhoods cut from each picture at each level.
    public var descriptorsPerPicture = 128
    /// Side of a neighbourhood.
    public var neighbourhood = 7
    /// Random directions: `repeats` draws of `directionsPerRepeat` (512 in all, as in the paper).
    public var repeats = 4
    public var directionsPerRepeat = 128
    /// The pyramid stops at the first level whose halving would go below this side.
    public var smallestSide = 16

    public init() {}

    /// The distance at one pyramid level, times 1000 (the paper's scale).
    public struct Level: Codable, Sendable, Equatable {
        public var height: Int
        public var width: Int
        public var distance: Double
    }

    /// The distance at every pyramid level of `a` and `b` (pictures of one size, at least
    /// `neighbourhood` on a side), finest first. The same `seed` picks the same places and directions.
    public func levels(_ a: PictureSet, _ b: PictureSet, seed: UInt64) -> [Level] {
        precondition(a.height == b.height && a.width == b.width, "sliced Wasserstein: sets of different sizes")
        precondition(a.count > 0 && b.count > 0 && min(a.height, a.width) >= neighbourhood)
        var random = RNG(seed: seed)
        return zip(Pyramid.laplacian(a, smallestSide: smallestSide), Pyramid.laplacian(b, smallestSide: smallestSide))
            .map { levelA, levelB in
                var descriptors = descriptorMatrix(levelA, levelB, random: &random)
                normalise(&descriptors, rows: (levelA.count + levelB.count) * descriptorsPerPicture)
                let distance = projectedDistance(descriptors, rowsA: levelA.count * descriptorsPerPicture,
                                                 rowsB: levelB.count * descriptorsPerPicture, random: &random)
                return Level(height: levelA.height, width: levelA.width, distance: distance * 1000)
            }
    }

    /// Values in one descriptor: the channels' neighbourhoods one after the other.
    var descriptorLength: Int { 3 * neighbourhood * neighbourhood }

    /// The neighbourhoods of `a`'s pictures then `b`'s, one row each. Picture i of either set is cut
    /// at the same places, so a set compared with itself gives exactly zero.
    func descriptorMatrix(_ a: PictureSet, _ b: PictureSet, random: inout RNG) -> [Float] {
        let (height, width, side) = (a.height, a.width, neighbourhood)
        let places = (0..<(max(a.count, b.count) * descriptorsPerPicture)).map { _ in
            (y: random.integer(below: height - side + 1), x: random.integer(below: width - side + 1))
        }
        let length = descriptorLength
        var matrix = [Float](repeating: 0, count: (a.count + b.count) * descriptorsPerPicture * length)
        var row = 0
        for set in [a, b] {
            for picture in 0..<set.count {
                for place in places[(picture * descriptorsPerPicture)..<((picture + 1) * descriptorsPerPicture)] {
                    for c in 0..<3 {
                        let plane = (picture * 3 + c) * height * width
                        for dy in 0..<side {
                            let source = plane + (place.y + dy) * width + place.x
                            let target = row * length + (c * side + dy) * side
                            for dx in 0..<side { matrix[target + dx] = set.values[source + dx] }
                        }
                    }
                    row += 1
                }
            }
        }
        return matrix
    }

    /// Subtracts each channel's mean over all rows and divides by its deviation (left as is when the
    /// channel is constant, as a flat level is).
    func normalise(_ matrix: inout [Float], rows: Int) {
        let perChannel = neighbourhood * neighbourhood
        for c in 0..<3 {
            var sum = 0.0, squares = 0.0
            for row in 0..<rows {
                let start = row * descriptorLength + c * perChannel
                for i in start..<(start + perChannel) {
                    let value = Double(matrix[i])
                    sum += value
                    squares += value * value
                }
            }
            let n = Double(rows * perChannel)
            let mean = sum / n
            let deviation = max(0, squares / n - mean * mean).squareRoot()
            let scale = deviation > 1e-12 ? Float(1 / deviation) : 1
            for row in 0..<rows {
                let start = row * descriptorLength + c * perChannel
                for i in start..<(start + perChannel) { matrix[i] = (matrix[i] - Float(mean)) * scale }
            }
        }
    }

    /// The mean over random unit directions of the 1-D Wasserstein distance between the projections of
    /// the first `rowsA` rows and the next `rowsB`.
    func projectedDistance(_ matrix: [Float], rowsA: Int, rowsB: Int, random: inout RNG) -> Double {
        let (length, count) = (descriptorLength, directionsPerRepeat)
        let rows = rowsA + rowsB
        var projections = [Float](repeating: 0, count: count * rows)
        var perDirection = [Double](repeating: 0, count: count)
        var total = 0.0
        for _ in 0..<repeats {
            var directions = random.normals(count * length)
            for d in 0..<count {
                let norm = directions[(d * length)..<((d + 1) * length)].reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
                for i in (d * length)..<((d + 1) * length) { directions[i] = Float(Double(directions[i]) / norm) }
            }
            matrix.withUnsafeBufferPointer { descriptors in
                directions.withUnsafeBufferPointer { directions in
                    projections.withUnsafeMutableBufferPointer { out in
                        rowDotProducts(directions.baseAddress!, rows: count, descriptors.baseAddress!, rows: rows,
                                       length: length, into: out.baseAddress!)
                    }
                }
            }
            projections.withUnsafeMutableBufferPointer { all in
                perDirection.withUnsafeMutableBufferPointer { results in
                    let (all, results) = (all.baseAddress!, results.baseAddress!)
                    Parallel.chunks(count, cost: rows * 64) { range in
                        var sorter = RadixSort()
                        for d in range {
                            let a = UnsafeMutableBufferPointer(start: all + d * rows, count: rowsA)
                            let b = UnsafeMutableBufferPointer(start: all + d * rows + rowsA, count: rowsB)
                            sorter.sort(a)
                            sorter.sort(b)
                            results[d] = Self.wasserstein1(sorted: UnsafeBufferPointer(a), UnsafeBufferPointer(b))
                        }
                    }
                }
            }
            total += perDirection.reduce(0, +)
        }
        return total / Double(repeats * count)
    }

    /// The 1-D Wasserstein distance between two sorted samples: the area between their quantile
    /// functions (for equal sizes, the mean absolute difference of the sorted values).
    public static func wasserstein1(sorted a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>) -> Double {
        let (n, m) = (a.count, b.count)
        var (i, j) = (0, 0)
        var at = 0  // the current quantile, in units of 1 / (n m)
        var area = 0.0
        while i < n && j < m {
            // Where a's and b's next steps fall, compared exactly in integers.
            let (nextA, nextB) = ((i + 1) * m, (j + 1) * n)
            let next = min(nextA, nextB)
            area += Double(next - at) * Double(abs(a[i] - b[j]))
            at = next
            if nextA == next { i += 1 }
            if nextB == next { j += 1 }
        }
        return area / Double(n * m)
    }
}
