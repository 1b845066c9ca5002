import COpenBLAS
import Neural

/// The dot products between every two vectors of the training set and the samples together (training
/// rows first), in double precision: the distances and kernel values the feature and layout measures
/// read, from one product.
struct VectorProducts {
    let training: Int
    let samples: Int
    let length: Int
    private let products: [Double]

    init(training: FeatureVectors, samples: FeatureVectors) {
        precondition(training.length == samples.length, "features of \(training.length) and \(samples.length) values")
        let rows = (training.values + samples.values).map(Double.init)
        let (total, length) = (training.count + samples.count, training.length)
        var upper = [Double](repeating: 0, count: total * total)
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, Int32(total), Int32(length), 1, rows, Int32(length),
                    0, &upper, Int32(total))
        for i in 0..<total { for j in 0..<i { upper[i * total + j] = upper[j * total + i] } }
        (self.training, self.samples, self.length, products) = (training.count, samples.count, length, upper)
    }

    /// Indices of the training vectors and of the samples in the products.
    var trainingRows: Range<Int> { 0..<training }
    var sampleRows: Range<Int> { training..<(training + samples) }

    /// The root mean square difference between vectors `i` and `j`.
    func distance(_ i: Int, _ j: Int) -> Double {
        let total = training + samples
        let squared = products[i * total + i] + products[j * total + j] - 2 * products[i * total + j]
        return (max(0, squared) / Double(length)).squareRoot()  // rounding can take a copy's a hair below 0
    }

    /// KID's kernel, the cubic polynomial k(x, y) = (xᵀy / length + 1)³.
    func kernel(_ i: Int, _ j: Int) -> Double {
        let base = products[i * (training + samples) + j] / Double(length) + 1
        return base * base * base
    }

    /// `distance` from every row of `from` to every row of `to`, row-major.
    func distances(from: Range<Int>, to: Range<Int>) -> [Float] {
        from.flatMap { i in to.map { Float(distance(i, $0)) } }
    }
}

/// KID, the kernel distance of Bińkowski et al. 2018 (named after the Inception features it was first
/// measured in): the squared maximum mean discrepancy between two sets under the kernel
/// (xᵀy / d + 1)³, estimated without bias, so that two samples of one distribution average 0 however
/// few pictures there are; the estimate of small sets is noisy (it can go below 0), hence the deviation.
/// It is averaged over random subsets of equal size from each set, times 1000.
public struct KernelInceptionDistance: Codable, Sendable, Equatable {
    /// The mean over subsets, times 1000; 0: the same distribution.
    public var mean: Double
    /// The standard deviation over subsets, times 1000.
    public var deviation: Double
    public var subsets: Int
    public var subsetSize: Int

    /// The unbiased estimate of MMD² between `x` and `y` as wholes, times 1000 (no subsets).
    public static func estimate(_ x: FeatureVectors, _ y: FeatureVectors) -> Double {
        let products = VectorProducts(training: x, samples: y)
        return 1000 * unbiasedMMD2(Array(products.trainingRows), Array(products.sampleRows), products)
    }

    /// Over `subsets` draws of `subsetSize` rows of each set; `draw` picks the two sets of rows of one draw.
    init(subsets: Int, subsetSize: Int, products: VectorProducts, draw: () -> (first: [Int], second: [Int])) {
        let estimates = (0..<subsets).map { _ in
            let (x, y) = draw()
            return 1000 * Self.unbiasedMMD2(x, y, products)
        }
        let mean = estimates.reduce(0, +) / Double(subsets)
        deviation = (estimates.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(subsets)).squareRoot()
        self.mean = mean
        (self.subsets, self.subsetSize) = (subsets, subsetSize)
    }

    /// The unbiased estimate of MMD² between the rows `x` and the rows `y`: the mean kernel value between
    /// distinct rows within each set, less twice the mean between the sets.
    static func unbiasedMMD2(_ x: [Int], _ y: [Int], _ products: VectorProducts) -> Double {
        func within(_ rows: [Int]) -> Double {
            var sum = 0.0
            for a in 0..<rows.count { for b in (a + 1)..<rows.count { sum += products.kernel(rows[a], rows[b]) } }
            return 2 * sum / Double(rows.count * (rows.count - 1))
        }
        var between = 0.0
        for a in x { for b in y { between += products.kernel(a, b) } }
        return within(x) + within(y) - 2 * between / Double(x.count * y.count)
    }
}

/// Precision and recall by k-nearest-neighbour manifolds (Kynkäänniemi et al. 2019). A set's manifold
/// is the union of balls around its vectors, each as wide as the distance to the vector's k-th nearest
/// neighbour in the set. Precision: the share of samples inside the training pictures' manifold (are
/// they like the pictures?); recall: the share of training pictures inside the samples' manifold (is
/// every kind of picture drawn?). The training pictures' own figures measure one half of them against
/// the other, averaged over random halvings: what another handful of such pictures would reach.
struct PrecisionRecall {
    var precision: Double
    var recall: Double
    /// Nil when a half has no more than `neighbours` pictures (no manifold to measure against).
    var trainingPrecision: Double?
    var trainingRecall: Double?

    /// The samples against all the training pictures, and the training halves (rows of `products`)
    /// against each other.
    init(_ products: VectorProducts, neighbours: Int, halvings: [Halving]) {
        let (trainingRows, sampleRows) = (Array(products.trainingRows), Array(products.sampleRows))
        precision = Self.coverage(of: sampleRows, by: trainingRows, neighbours: neighbours, products)
        recall = Self.coverage(of: trainingRows, by: sampleRows, neighbours: neighbours, products)
        guard let smallest = halvings.map(\.first.count).min(), smallest > neighbours else { return }
        trainingPrecision = Halving.mean(halvings) { Self.coverage(of: $0.second, by: $0.first, neighbours: neighbours, products) }
        trainingRecall = Halving.mean(halvings) { Self.coverage(of: $0.first, by: $0.second, neighbours: neighbours, products) }
    }

    /// The vectors each set needs: more than `neighbours` for a manifold, and four for the training
    /// pictures' own figures (two halves of two).
    static func fewestVectors(neighbours: Int) -> Int { max(neighbours + 1, 4) }

    /// The share of `points` inside the manifold of `set` (at least `neighbours` + 1 rows).
    static func coverage(of points: [Int], by set: [Int], neighbours: Int, _ products: VectorProducts) -> Double {
        precondition(set.count > neighbours, "a manifold of \(neighbours) neighbours needs more than \(set.count) vectors")
        let radii = set.map { centre in
            // The row's own distance, 0, sorts first: index `neighbours` is the k-th other vector.
            set.map { products.distance(centre, $0) }.sorted()[neighbours]
        }
        let inside = points.filter { point in
            zip(set, radii).contains { centre, radius in products.distance(point, centre) <= radius }
        }
        return Double(inside.count) / Double(points.count)
    }
}

/// Two disjoint halves of equal size of the training pictures (rows of the products, training rows first),
/// for the training pictures' own figures.
struct Halving {
    let first: [Int]
    let second: [Int]

    /// `size` random training rows and `size` others (at most half of `training` each).
    init(training: Int, size: Int, _ random: inout RNG) {
        precondition(2 * size <= training, "two halves of \(size) from \(training) pictures")
        let order = shuffled(training, &random)
        (first, second) = (Array(order[..<size]), Array(order[size..<(2 * size)]))
    }

    /// The mean of `figure` over `halvings`.
    static func mean(_ halvings: [Halving], _ figure: (Halving) -> Double) -> Double {
        halvings.reduce(0) { $0 + figure($1) } / Double(halvings.count)
    }
}

/// A random order of `0..<count` from `random` (Fisher–Yates).
func shuffled(_ count: Int, _ random: inout RNG) -> [Int] {
    var order = Array(0..<count)
    for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, random.integer(below: i + 1)) }
    return order
}
