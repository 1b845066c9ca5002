import Foundation
import Metrics
import Neural
import Perception
import XCTest

/// `count` vectors of `length` values, each `centre` plus Gaussian noise of deviation `spread` (seeded).
func gaussianVectors(_ count: Int, length: Int, centre: Float = 0, spread: Float = 1, seed: UInt64) -> FeatureVectors {
    var random = RNG(seed: seed)
    return FeatureVectors(count: count, length: length, values: (0..<(count * length)).map { _ in centre + spread * random.normal() })
}

/// Vectors from rows of values.
func vectors(_ rows: [[Double]]) -> FeatureVectors {
    FeatureVectors(count: rows.count, length: rows[0].count, values: rows.flatMap { $0.map(Float.init) })
}

final class FrechetDistanceTests: XCTestCase {
    /// The points `mean ± a eᵢ` for the first `axes` axes of `length`: their sample mean is `mean` and
    /// their unbiased covariance diagonal, 2a² / (2 axes − 1) on those axes and 0 on the others.
    func cross(axes: Int, length: Int, a: Double, mean: [Double]) -> FeatureVectors {
        vectors((0..<axes).flatMap { axis in
            [a, -a].map { sign in (0..<length).map { mean[$0] + ($0 == axis ? sign : 0) } }
        })
    }

    func testDiagonalGaussiansGiveTheClosedForm() {
        // |μ₁ − μ₂|² + Σᵢ (σ₁ᵢ − σ₂ᵢ)² for diagonal covariances, with fewer points than dimensions (5 axes
        // of 40: 10 points) and with more (8 axes of 8: 16 points).
        for (axes, length) in [(5, 40), (8, 8)] {
            let (meanA, meanB) = ((0..<length).map { Double($0) * 0.1 }, (0..<length).map { 1 - Double($0) * 0.05 })
            let (a, b) = (0.7, 1.9)
            let variance = { (scale: Double) in 2 * scale * scale / Double(2 * axes - 1) }
            let expected = zip(meanA, meanB).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
                + Double(axes) * pow(variance(a).squareRoot() - variance(b).squareRoot(), 2)
            let distance = FrechetDistance.between(cross(axes: axes, length: length, a: a, mean: meanA),
                                                   cross(axes: axes, length: length, a: b, mean: meanB))
            XCTAssertEqual(distance, expected, accuracy: 1e-5 * expected, "\(axes) axes of \(length)")
        }
    }

    func testCorrelatedGaussiansInAPlaneAnyWhereInSpace() {
        // Two point clouds in a plane with unequal, non-commuting covariances. In two dimensions
        // tr (Σ₁^½ Σ₂ Σ₁^½)^½ = √(tr Σ₁Σ₂ + 2 √(det Σ₁ det Σ₂)), and the distance does not change when the
        // plane is turned and moved into a larger space.
        var random = RNG(seed: 3)
        func cloud(_ count: Int, _ shear: Double, _ shift: Double) -> [[Double]] {
            (0..<count).map { _ in
                let (u, v) = (Double(random.normal()), Double(random.normal()))
                return [2 * u + shift, shear * u + 0.5 * v - shift]
            }
        }
        func moments(_ points: [[Double]]) -> (mean: [Double], covariance: [Double]) {
            let n = Double(points.count)
            let mean = [points.map { $0[0] }.reduce(0, +) / n, points.map { $0[1] }.reduce(0, +) / n]
            var c = [0.0, 0.0, 0.0]  // xx, xy, yy
            for p in points {
                let (x, y) = (p[0] - mean[0], p[1] - mean[1])
                c[0] += x * x; c[1] += x * y; c[2] += y * y
            }
            return (mean, c.map { $0 / (n - 1) })
        }
        func closedForm(_ a: [[Double]], _ b: [[Double]]) -> Double {
            let (first, second) = (moments(a), moments(b))
            let (p, q) = (first.covariance, second.covariance)
            let traceOfProduct = p[0] * q[0] + 2 * p[1] * q[1] + p[2] * q[2]
            let determinants = (p[0] * p[2] - p[1] * p[1]) * (q[0] * q[2] - q[1] * q[1])
            let root = (traceOfProduct + 2 * determinants.squareRoot()).squareRoot()
            let means = pow(first.mean[0] - second.mean[0], 2) + pow(first.mean[1] - second.mean[1], 2)
            return means + p[0] + p[2] + q[0] + q[2] - 2 * root
        }
        /// The points in `length` dimensions: the plane spanned by two random orthonormal directions, moved.
        func embedded(_ points: [[Double]], length: Int, seed: UInt64) -> FeatureVectors {
            var random = RNG(seed: seed)
            var first = (0..<length).map { _ in Double(random.normal()) }
            var second = (0..<length).map { _ in Double(random.normal()) }
            let offset = (0..<length).map { _ in Double(random.normal()) }
            func normalised(_ v: [Double]) -> [Double] {
                let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
                return v.map { $0 / norm }
            }
            first = normalised(first)
            let along = zip(first, second).reduce(0) { $0 + $1.0 * $1.1 }
            second = normalised(zip(second, first).map { $0 - along * $1 })
            return vectors(points.map { p in (0..<length).map { offset[$0] + p[0] * first[$0] + p[1] * second[$0] } })
        }
        // Fewer points than dimensions (the sets' own factors) and more (the covariances' eigenvectors).
        for (count, length) in [(12, 64), (300, 6)] {
            let (a, b) = (cloud(count, 1.5, 0), cloud(count + 7, -0.8, 0.6))
            let expected = closedForm(a, b)
            XCTAssertGreaterThan(expected, 1)
            let distance = FrechetDistance.between(embedded(a, length: length, seed: 9), embedded(b, length: length, seed: 9))
            XCTAssertEqual(distance, expected, accuracy: 1e-4 * expected, "\(count) points in \(length) dimensions")
        }
    }

    func testASetAgainstItselfIsZeroAndTheFigureIsSymmetric() {
        let a = gaussianVectors(30, length: 50, seed: 1)
        let b = gaussianVectors(45, length: 50, centre: 0.3, spread: 1.2, seed: 2)
        XCTAssertEqual(FrechetDistance.between(a, a), 0, accuracy: 1e-6)
        XCTAssertEqual(FrechetDistance.between(a, b), FrechetDistance.between(b, a), accuracy: 1e-9 * FrechetDistance.between(a, b))
        XCTAssertGreaterThan(FrechetDistance.between(a, b), FrechetDistance.between(a, gaussianVectors(45, length: 50, seed: 3)))
    }
}

final class KernelInceptionDistanceTests: XCTestCase {
    func testTheEstimateMatchesTheKernelsExplicitFeatures() {
        // In two dimensions (xᵀy/2 + 1)³ = φ(x)ᵀφ(y) with φ's ten monomials, so the unbiased MMD² is
        // |Σφ(x)|² − Σ|φ(x)|² over m(m − 1), the same for y, less 2 Σφ(x)ᵀΣφ(y) / (mn).
        func features(_ point: [Double]) -> [Double] {
            var result: [Double] = []
            for b in 0...3 {
                for c in 0...(3 - b) {
                    let a = 3 - b - c
                    let factorials = [1.0, 1, 2, 6]
                    let coefficient = (6 / (factorials[a] * factorials[b] * factorials[c])).squareRoot()
                    result.append(coefficient * pow(point[0] / 2.0.squareRoot(), Double(b)) * pow(point[1] / 2.0.squareRoot(), Double(c)))
                }
            }
            return result
        }
        let x = [[0.5, -1.0], [1.5, 0.2], [-0.3, 0.8], [0.0, 0.0]]
        let y = [[1.0, 1.0], [2.0, -0.5], [0.4, 0.4]]
        func sum(_ points: [[Double]]) -> [Double] {
            points.map(features).reduce([Double](repeating: 0, count: 10)) { zip($0, $1).map(+) }
        }
        func dot(_ u: [Double], _ v: [Double]) -> Double { zip(u, v).reduce(0) { $0 + $1.0 * $1.1 } }
        func within(_ points: [[Double]]) -> Double {
            let total = sum(points)
            let diagonal = points.map(features).reduce(0) { $0 + dot($1, $1) }
            return (dot(total, total) - diagonal) / Double(points.count * (points.count - 1))
        }
        let expected = within(x) + within(y) - 2 * dot(sum(x), sum(y)) / Double(x.count * y.count)
        XCTAssertEqual(KernelInceptionDistance.estimate(vectors(x), vectors(y)), 1000 * expected, accuracy: 1e-6 * 1000)
    }

    func testOneDistributionAveragesZeroAndAShiftIsClearlyAbove() throws {
        let training = gaussianVectors(60, length: 32, seed: 1)
        let same = try FeatureScore(training: training, samples: gaussianVectors(80, length: 32, seed: 2), seed: 5)
        let shifted = try FeatureScore(training: training, samples: gaussianVectors(80, length: 32, centre: 0.5, seed: 2), seed: 5)
        let (kid, farKID) = (same.kernelInceptionDistance, shifted.kernelInceptionDistance)
        XCTAssertEqual(kid.subsetSize, 30)
        XCTAssertEqual(kid.subsets, 100)
        XCTAssertGreaterThan(kid.deviation, 0)
        XCTAssertLessThan(abs(kid.mean), kid.deviation)
        XCTAssertGreaterThan(farKID.mean, 5 * farKID.deviation)
        XCTAssertGreaterThan(farKID.mean, 20 * abs(kid.mean))
        // The training pictures against themselves: about zero, and as noisy as a sample of their kind.
        let own = same.trainingKernelInceptionDistance
        XCTAssertLessThan(abs(own.mean), own.deviation)
        XCTAssertEqual(own.deviation, kid.deviation, accuracy: own.deviation)
    }
}

final class PrecisionRecallTests: XCTestCase {
    func testIdenticalSetsHaveBothAndDisjointSetsNeither() throws {
        let training = gaussianVectors(40, length: 16, seed: 1)
        let copies = try FeatureScore(training: training, samples: training, seed: 0)
        XCTAssertEqual(copies.precision, 1)
        XCTAssertEqual(copies.recall, 1)
        let far = try FeatureScore(training: training, samples: gaussianVectors(40, length: 16, centre: 10, seed: 2), seed: 0)
        XCTAssertEqual(far.precision, 0)
        XCTAssertEqual(far.recall, 0)
        XCTAssertEqual(far.neighbours, 3)
    }

    func testDroppedModesLowerRecallAndInventedOnesPrecision() throws {
        // Training pictures of two kinds; a model that draws only one kind, and one that draws both plus a third.
        let kindA = gaussianVectors(50, length: 8, seed: 1), kindB = gaussianVectors(50, length: 8, centre: 8, seed: 2)
        let training = FeatureVectors(count: 100, length: 8, values: kindA.values + kindB.values)
        let oneKind = try FeatureScore(training: training, samples: gaussianVectors(100, length: 8, seed: 3), seed: 0)
        XCTAssertGreaterThan(oneKind.precision, 0.85)
        XCTAssertEqual(oneKind.recall, 0.5, accuracy: 0.1)
        // Drawing both kinds, then a third as well: the third's samples are outside the training
        // pictures' manifold, and too far from the others to change their balls.
        let bothKinds = FeatureVectors(count: 100, length: 8, values: gaussianVectors(50, length: 8, seed: 5).values
                                       + gaussianVectors(50, length: 8, centre: 8, seed: 6).values)
        let third = gaussianVectors(50, length: 8, centre: -8, seed: 4)
        let faithful = try FeatureScore(training: training, samples: bothKinds, seed: 0)
        let inventing = try FeatureScore(training: training, samples: FeatureVectors(count: 150, length: 8,
                                                                                     values: bothKinds.values + third.values), seed: 0)
        XCTAssertGreaterThan(faithful.recall, 0.7)
        XCTAssertGreaterThan(faithful.recall, oneKind.recall + 0.2)
        XCTAssertEqual(inventing.precision, faithful.precision * 2 / 3, accuracy: 1e-12)
        XCTAssertEqual(inventing.recall, faithful.recall)
        // Half the training pictures against the other half cover each other about as a fresh sample does.
        XCTAssertGreaterThan(try XCTUnwrap(oneKind.trainingPrecision), 0.7)
        XCTAssertGreaterThan(try XCTUnwrap(oneKind.trainingRecall), 0.7)
    }
}

final class FeatureScoreTests: XCTestCase {
    func testNearCopiesInFeaturesFollowThePixelRule() throws {
        let training = gaussianVectors(30, length: 24, seed: 1)
        var random = RNG(seed: 7)
        let copied = [3, 11, 3]
        let copies = copied.flatMap { index in
            training.values[(index * 24)..<((index + 1) * 24)].map { $0 + 0.05 * random.normal() }
        }
        let samples = FeatureVectors(count: 23, length: 24, values: gaussianVectors(20, length: 24, seed: 2).values + copies)
        let score = try FeatureScore(training: training, samples: samples, seed: 0)
        XCTAssertEqual(score.memorisation.nearCopies.map(\.sample), [20, 21, 22])
        XCTAssertEqual(score.memorisation.nearCopies.map(\.training), copied)
        XCTAssertEqual(score.memorisation.trainingNearCopyShare, 0)
        XCTAssertGreaterThan(score.memorisation.medianRatio, 0.5)
    }

    func testTooFewVectorsAreRefused() {
        let training = gaussianVectors(10, length: 4, seed: 1)
        XCTAssertThrowsError(try FeatureScore(training: training, samples: gaussianVectors(3, length: 4, seed: 2), seed: 0)) {
            XCTAssertEqual($0 as? ScoreError, .tooFew(.samples, count: 3, needed: 4))
        }
        XCTAssertThrowsError(try FeatureScore(training: gaussianVectors(5, length: 4, seed: 2), samples: training, seed: 0,
                                              neighbours: 5)) {
            XCTAssertEqual($0 as? ScoreError, .tooFew(.training, count: 5, needed: 6))
        }
        // A network that sees every training picture alike leaves nothing to measure a copy against.
        let alike = FeatureVectors(count: 6, length: 4, values: [Float](repeating: 0.5, count: 24))
        XCTAssertThrowsError(try FeatureScore(training: alike, samples: training, seed: 0)) {
            XCTAssertEqual($0 as? ScoreError, .featuresAlike)
        }
    }
}

/// A small stand-in for a feature network: a fixed random 3 × 3 convolution to 12 channels, ReLU, and
/// the global average as its pooled features. It records the batch sizes it is given.
final class RandomConvolutionFeatures: FeaturePyramid {
    private let convolution = Conv2d(3, 12, kernel: 3, stride: 2, padding: 1, bias: false)
    private let layers: Sequential
    private let pool = AdaptiveAvgPool2d(1)
    private let pooled = Tensor(shape: [0, 12])
    private(set) var batchSizes: [Int] = []

    init(seed: UInt64) {
        layers = Sequential([convolution, ReLU()])
        var random = RNG(seed: seed)
        convolution.initializeOwnParameters(.kaiming(slope: 0), rng: &random)
    }

    var featureChannels: [Int] { [12] }
    var featureStrides: [Int] { [2] }
    var pooledChannels: Int { 12 }

    func features(_ pictures: Tensor) -> [Tensor] { [layers.forward(pictures, training: false)] }

    func inputGradient(_ featureGradients: [Tensor]) -> Tensor {
        layers.backward(featureGradients[0], needsInputGradient: true, needsParameterGradients: false)!
    }

    func pooledFeatures(_ pictures: Tensor) -> Tensor {
        batchSizes.append(pictures.shape[0])
        let averages = pool.forward(features(pictures)[0], training: false)
        pooled.resize(to: [pictures.shape[0], 12])
        pooled.data.update(from: averages.data, count: pooled.count)
        return pooled
    }
}

final class FeatureWiringTests: XCTestCase {
    let training = scenes(count: 30, seed: 1)

    func testPicturesGoThroughTheNetworkInBatchesWithoutAllocatingPerPicture() {
        let network = RandomConvolutionFeatures(seed: 1)
        let pictures = scenes(count: 40, size: 32, seed: 2)
        let batched = FeatureVectors(pictures, through: network)
        XCTAssertEqual(network.batchSizes, [16, 16, 8])
        XCTAssertEqual(batched.count, 40)
        XCTAssertEqual(batched.length, 12)
        // Batching changes nothing: picture 37 alone gives its row.
        let alone = FeatureVectors(picking([37], from: pictures), through: network, batchSize: 1)
        for (a, b) in zip(alone.values, batched.values[(37 * 12)..<(38 * 12)]) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        XCTAssertGreaterThan(batched.values.max()!, 0)
        // The network sees the generator's range: mid-grey is 0, which a convolution without bias keeps at 0.
        let grey = PictureSet(count: 2, height: 16, width: 16, values: [Float](repeating: 0.5, count: 2 * 3 * 16 * 16))
        XCTAssertEqual(FeatureVectors(grey, through: network).values, [Float](repeating: 0, count: 24))

        // Three times the pictures, the same tensor allocations (the input and the network's buffers).
        func allocations(_ count: Int) -> Int {
            let network = RandomConvolutionFeatures(seed: 1)
            let set = scenes(count: count, size: 32, seed: 3)
            _ = FeatureVectors(picking([0], from: set), through: network)  // the network's own first allocations
            let before = Tensor.storageAllocations
            _ = FeatureVectors(set, through: network)
            return Tensor.storageAllocations - before
        }
        XCTAssertEqual(allocations(48), allocations(16))
    }

    func testTheScoreCarriesTheFeatureFiguresWithANetworkAndSaysSoWithout() throws {
        let network = RandomConvolutionFeatures(seed: 4)
        let fresh = scenes(count: 24, seed: 2)
        let score = try Score(training: training, samples: fresh, seed: 3, featureNetwork: network)
        let features = try XCTUnwrap(score.features)
        XCTAssertEqual(features.length, 12)
        XCTAssertEqual(features.memorisation.samples, 24)
        // Pictures of the same kind sit inside the training pictures' manifold; noise takes them out of it.
        let noisy = try XCTUnwrap(try Score(training: training, samples: noised(fresh, sigma: 0.3), seed: 3,
                                            featureNetwork: network).features)
        XCTAssertGreaterThan(features.precision, noisy.precision)
        XCTAssertLessThan(features.frechetDistance, noisy.frechetDistance)
        XCTAssertLessThan(features.kernelInceptionDistance.mean, noisy.kernelInceptionDistance.mean)

        // The same seed, the same figures and bytes.
        let again = try Score(training: training, samples: fresh, seed: 3, featureNetwork: RandomConvolutionFeatures(seed: 4))
        XCTAssertEqual(again, score)
        XCTAssertEqual(try again.json(), try score.json())
        let other = try XCTUnwrap(try Score(training: training, samples: fresh, seed: 4, featureNetwork: network).features)
        XCTAssertNotEqual(other.kernelInceptionDistance, features.kernelInceptionDistance)
        XCTAssertEqual(other.frechetDistance, features.frechetDistance)

        let table = score.table(samplesName: "s.tns", trainingName: "t.tns")
        for row in ["in features (12 per picture)", "  Fréchet distance", "  KID x1000", "  precision (k = 3)",
                    "  recall (k = 3)"] {
            XCTAssertTrue(table.contains(row), "no \(row) in\n\(table)")
        }
        XCTAssertTrue(table.contains(String(format: "%.2f ± %.2f", features.kernelInceptionDistance.mean,
                                            features.kernelInceptionDistance.deviation)), table)
        XCTAssertEqual(table.components(separatedBy: "  near-copies ").count, 3, "pixel and feature near-copies")
        XCTAssertTrue(try score.json().contains("\"frechetDistance\""))
        // The Fréchet distance has the training pictures' own figure beside it, as every feature row does.
        let own = try XCTUnwrap(features.trainingFrechetDistance)
        XCTAssertGreaterThan(own, 0)
        let figure = { (value: Double) in String(format: "%.2f", value) }
        let samplesCell = figure(features.frechetDistance)
        XCTAssertTrue(table.contains("  Fréchet distance".padding(toLength: 36, withPad: " ", startingAt: 0)
                                     + samplesCell.padding(toLength: max(14, samplesCell.count + 2), withPad: " ", startingAt: 0)
                                     + figure(own) + "\n"), table)
        XCTAssertTrue(try score.json().contains("\"trainingFrechetDistance\""))

        let without = try Score(training: training, samples: fresh, seed: 3)
        XCTAssertNil(without.features)
        let plain = without.table(samplesName: "s.tns", trainingName: "t.tns")
        XCTAssertTrue(plain.hasSuffix("\nfeature measures (Fréchet distance, KID, precision, recall, near-copies in "
                                      + "features) need the feature network: run scripts/setup\n"), plain)
        XCTAssertFalse(try without.json().contains("features"))
    }
}
