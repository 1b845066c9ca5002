import Neural

/// Distances between whole pictures, for memorisation and diversity: the root mean square difference of
/// their values in [0, 1] (0: the same picture; about 0.3 between unrelated photographs), compared at
/// no more than 32 pixels a side, so that a copy with a model's own fine texture still counts as a copy.
public enum PictureDistances {
    /// The side the pictures are reduced to (through the Gaussian pyramid) before comparing.
    public static let comparedSide = 32

    /// `pictures` as compared: reduced to at most `comparedSide` pixels a side.
    public static func compared(_ pictures: PictureSet) -> PictureSet {
        Pyramid.reduced(pictures, toAtMost: comparedSide)
    }

    /// The distance from every picture of `a` to every picture of `b` (`a.count` × `b.count`, row-major),
    /// from dot products: |x − y|² = |x|² + |y|² − 2 x·y.
    public static func between(_ a: PictureSet, _ b: PictureSet) -> [Float] {
        precondition(a.pictureSize == b.pictureSize, "distances between pictures of different sizes")
        let length = a.pictureSize
        func squaredNorms(_ set: PictureSet) -> [Float] {
            (0..<set.count).map { i in
                var sum: Float = 0
                for v in set.values[(i * length)..<((i + 1) * length)] { sum += v * v }
                return sum
            }
        }
        let (normsA, normsB) = (squaredNorms(a), squaredNorms(b))
        var products = [Float](repeating: 0, count: a.count * b.count)
        a.values.withUnsafeBufferPointer { x in
            b.values.withUnsafeBufferPointer { y in
                products.withUnsafeMutableBufferPointer { out in
                    rowDotProducts(x.baseAddress!, rows: a.count, y.baseAddress!, rows: b.count, length: length,
                                   into: out.baseAddress!)
                }
            }
        }
        for i in 0..<a.count {
            for j in 0..<b.count {
                let squared = normsA[i] + normsB[j] - 2 * products[i * b.count + j]
                // Rounding can take a copy's squared distance a hair below zero.
                products[i * b.count + j] = (max(0, squared) / Float(length)).squareRoot()
            }
        }
        return products
    }

    /// The distances between distinct pictures of one set (each pair once) from its `between` matrix.
    static func pairs(_ matrix: [Float], count: Int) -> [Float] {
        var result: [Float] = []
        result.reserveCapacity(count * (count - 1) / 2)
        for i in 0..<count { for j in (i + 1)..<count { result.append(matrix[i * count + j]) } }
        return result
    }
}

/// How much of what a model draws is a near-copy of a picture it was trained on. A sample is a near-copy
/// of its nearest training picture when it is closer to it than half the median distance between two
/// distinct training pictures, and closer than half the distance from that picture to its own nearest
/// other training picture: it gives back that one picture, not a blend of several. (By the first rule
/// alone, the mean of four random training pictures counted as a near-copy for 29 to 80 % of the
/// gallery's synthetic sets, and the whole set's mean picture for six of its seven: a soft model was
/// called a copier.)
public struct Memorisation: Codable, Sendable, Equatable {
    /// A sample and the training picture it nearly copies (both counted from 0, in stream order).
    public struct Copy: Codable, Sendable, Equatable {
        public var sample: Int
        public var training: Int
        /// Their distance over the median training distance (below 0.5).
        public var ratio: Double
    }

    public var samples: Int
    public var nearCopies: [Copy]
    /// `nearCopies.count / samples`.
    public var nearCopyShare: Double
    /// The median over samples of (distance to the nearest training picture) / (median training distance).
    public var medianRatio: Double
    /// The same ratio for each training picture against the other training pictures: what the data set
    /// itself gives (low when it holds near-duplicates, such as frames of one video, or pictures of one
    /// subject in one pose).
    public var trainingMedianRatio: Double
    /// The share of training pictures that are near-copies of another training picture, by the same rule
    /// with the picture left out of the set (a pair of near-duplicates counts; a crowd of them does not,
    /// since a copy of one is no nearer to it than to the others).
    public var trainingNearCopyShare: Double
    /// The median distance between two distinct training pictures (root mean square difference: of values
    /// in [0, 1] for pictures, of feature values for features).
    public var medianTrainingDistance: Double

    /// From the distances of every sample to every training picture (`samples` × `training`, row-major)
    /// and between the training pictures (`training` × `training`); nil when the median training distance
    /// is zero (most training pictures identical: nothing to measure a copy against).
    init?(toTraining: [Float], trainingDistances: [Float], samples: Int, training: Int) {
        let median = Double(Statistics.median(PictureDistances.pairs(trainingDistances, count: training)))
        guard median > 0 else { return nil }
        // Each training picture's two nearest other pictures: the nearest, and the one that stands in for
        // it when the nearest is left out.
        let neighbours = (0..<training).map { i in
            Nearest(among: (0..<training).lazy.filter { $0 != i }.map { ($0, trainingDistances[i * training + $0]) })
        }
        func isCopy(distance: Float, of picture: Int, leavingOut left: Int? = nil) -> Bool {
            let own = neighbours[picture].first.index == left ? neighbours[picture].second.distance : neighbours[picture].first.distance
            return Double(distance) / median < 0.5 && distance < 0.5 * own
        }
        let nearest = (0..<samples).map { s in
            Nearest(among: (0..<training).lazy.map { ($0, toTraining[s * training + $0]) }).first
        }
        nearCopies = nearest.enumerated().compactMap { sample, match in
            isCopy(distance: match.distance, of: match.index)
                ? Copy(sample: sample, training: match.index, ratio: Double(match.distance) / median) : nil
        }
        self.samples = samples
        nearCopyShare = Double(nearCopies.count) / Double(samples)
        medianRatio = Double(Statistics.median(nearest.map(\.distance))) / median
        trainingMedianRatio = Double(Statistics.median(neighbours.map(\.first.distance))) / median
        let trainingCopies = (0..<training).filter { i in
            isCopy(distance: neighbours[i].first.distance, of: neighbours[i].first.index, leavingOut: i)
        }
        trainingNearCopyShare = Double(trainingCopies.count) / Double(training)
        medianTrainingDistance = median
    }

    /// The nearest and second-nearest of (index, distance) pairs (the second is infinitely far when there is
    /// only one).
    private struct Nearest {
        var first = (index: -1, distance: Float.infinity)
        var second = (index: -1, distance: Float.infinity)

        init<Pairs: Sequence>(among pairs: Pairs) where Pairs.Element == (Int, Float) {
            for (index, distance) in pairs {
                if distance < first.distance { (second, first) = (first, (index, distance)) }
                else if distance < second.distance { second = (index, distance) }
            }
        }
    }
}

/// How varied the samples are next to the training pictures: the mean distance between two samples over
/// the mean distance between two training pictures. About 1: as varied; well below 1: the model draws
/// few different pictures (mode collapse); 0: one picture over and over.
public struct Diversity: Codable, Sendable, Equatable {
    public var ratio: Double
    public var meanSampleDistance: Double
    public var meanTrainingDistance: Double

    /// From each set's own distance matrix (`PictureDistances.between(set, set)`); nil when the training
    /// pictures are all the same.
    init?(sampleDistances: [Float], samples: Int, trainingDistances: [Float], training: Int) {
        meanSampleDistance = Statistics.mean(PictureDistances.pairs(sampleDistances, count: samples))
        meanTrainingDistance = Statistics.mean(PictureDistances.pairs(trainingDistances, count: training))
        guard meanTrainingDistance > 0 else { return nil }
        ratio = meanSampleDistance / meanTrainingDistance
    }
}

enum Statistics {
    /// The middle value (the mean of the two middle ones for an even count); `values` must not be empty.
    static func median<Value: BinaryFloatingPoint>(_ values: [Value]) -> Value {
        precondition(!values.isEmpty, "median of nothing")
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    static func mean(_ values: [Float]) -> Double {
        values.reduce(0) { $0 + Double($1) } / Double(values.count)
    }
}
