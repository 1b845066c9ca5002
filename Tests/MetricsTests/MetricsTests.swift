import Metrics
import Neural
import XCTest

/// Pictures to measure: a vertical colour gradient with three discs of random colour, place and size.
/// Two calls with different seeds draw different pictures of the same kind.
func scenes(count: Int, size: Int = 64, seed: UInt64) -> PictureSet {
    var random = RNG(seed: seed)
    var values: [Float] = []
    for _ in 0..<count {
        let top = (0..<3).map { _ in random.uniform() }, bottom = (0..<3).map { _ in random.uniform() }
        let discs = (0..<3).map { _ in
            (x: random.uniform() * Float(size), y: random.uniform() * Float(size),
             radius: Float(size) * (0.1 + 0.25 * random.uniform()), colour: (0..<3).map { _ in random.uniform() })
        }
        for c in 0..<3 {
            for y in 0..<size {
                for x in 0..<size {
                    let t = Float(y) / Float(size - 1)
                    var value = top[c] * (1 - t) + bottom[c] * t
                    for disc in discs where (Float(x) - disc.x) * (Float(x) - disc.x) + (Float(y) - disc.y) * (Float(y) - disc.y) < disc.radius * disc.radius {
                        value = disc.colour[c]
                    }
                    values.append(value)
                }
            }
        }
    }
    return PictureSet(count: count, height: size, width: size, values: values)
}

/// `pictures` with each value changed by `change(index, value)`.
func altered(_ pictures: PictureSet, _ change: (Int, Float) -> Float) -> PictureSet {
    PictureSet(count: pictures.count, height: pictures.height, width: pictures.width,
               values: pictures.values.enumerated().map { change($0.offset, $0.element) })
}

/// `pictures` with Gaussian noise of deviation `sigma` added (seeded).
func noised(_ pictures: PictureSet, sigma: Float, seed: UInt64 = 99) -> PictureSet {
    var random = RNG(seed: seed)
    return altered(pictures) { _, value in value + sigma * random.normal() }
}

/// The pictures `indices` of `pictures`, in that order.
func picking(_ indices: [Int], from pictures: PictureSet) -> PictureSet {
    let size = pictures.pictureSize
    return PictureSet(count: indices.count, height: pictures.height, width: pictures.width,
                      values: indices.flatMap { pictures.values[($0 * size)..<(($0 + 1) * size)] })
}

func joined(_ a: PictureSet, _ b: PictureSet) -> PictureSet {
    PictureSet(count: a.count + b.count, height: a.height, width: a.width, values: a.values + b.values)
}

final class PyramidTests: XCTestCase {
    func testLaplacianLevelsRebuildThePictures() {
        let pictures = scenes(count: 3, size: 64, seed: 1)
        let levels = Pyramid.laplacian(pictures)
        XCTAssertEqual(levels.map(\.height), [64, 32, 16])
        XCTAssertEqual(levels.map(\.width), [64, 32, 16])
        // Collapsing the pyramid (coarsest up, plus each level's detail) gives the pictures back.
        var rebuilt = levels.last!
        for level in levels.dropLast().reversed() {
            let up = Pyramid.up(rebuilt, height: level.height, width: level.width)
            rebuilt = PictureSet(count: level.count, height: level.height, width: level.width,
                                 values: zip(up.values, level.values).map { $0 + $1 })
        }
        let worst = zip(rebuilt.values, pictures.values).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(worst, 1e-5)
        // The detail levels carry something: these pictures have edges.
        XCTAssertGreaterThan(levels[0].values.map(abs).max()!, 0.05)
    }

    func testAFlatPictureHasNoDetailAndKeepsItsValue() {
        let flat = PictureSet(count: 1, height: 40, width: 40, values: [Float](repeating: 0.3, count: 3 * 40 * 40))
        let levels = Pyramid.laplacian(flat)
        XCTAssertEqual(levels.map(\.height), [40, 20])
        XCTAssertLessThan(levels[0].values.map(abs).max()!, 1e-6)
        XCTAssertEqual(levels[1].values.min()!, 0.3, accuracy: 1e-6)
        XCTAssertEqual(levels[1].values.max()!, 0.3, accuracy: 1e-6)
    }

    func testReducedStopsAtTheComparedSide() {
        XCTAssertEqual(Pyramid.reduced(scenes(count: 1, size: 128, seed: 2), toAtMost: 32).height, 32)
        XCTAssertEqual(Pyramid.reduced(scenes(count: 1, size: 24, seed: 2), toAtMost: 32).height, 24)
    }
}

final class RadixSortTests: XCTestCase {
    func testSortsLikeTheStandardLibrary() {
        var random = RNG(seed: 5)
        var sorter = RadixSort()
        for count in [0, 1, 2, 37, 5000] {
            var values = (0..<count).map { _ in random.normal() * (random.uniform() < 0.5 ? 1e-3 : 1e4) }
            if count > 2 { values[0] = 0; values[1] = .infinity; values[2] = -.leastNonzeroMagnitude }
            let expected = values.sorted()
            values.withUnsafeMutableBufferPointer { sorter.sort($0) }
            XCTAssertEqual(values, expected, "\(count) values")
        }
    }
}

final class SlicedWassersteinTests: XCTestCase {
    let training = scenes(count: 24, seed: 1)

    func average(_ levels: [SlicedWasserstein.Level]) -> Double {
        levels.map(\.distance).reduce(0, +) / Double(levels.count)
    }

    func testWasserstein1OfSortedSamples() {
        func distance(_ a: [Float], _ b: [Float]) -> Double {
            a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { SlicedWasserstein.wasserstein1(sorted: a, $0) } }
        }
        // Equal sizes: the mean absolute difference of the sorted values.
        XCTAssertEqual(distance([0, 1, 5], [1, 1, 2]), (1 + 0 + 3) / 3, accuracy: 1e-12)
        // Different sizes: the area between the quantile functions (0 | 1 against 0 | 0.5 | 1).
        XCTAssertEqual(distance([0, 1], [0, 0.5, 1]), 1.0 / 6, accuracy: 1e-12)
        // A sample repeated is the same distribution.
        XCTAssertEqual(distance([2, 3], [2, 2, 3, 3]), 0, accuracy: 1e-12)
        XCTAssertEqual(distance([0], [4, 4, 4]), 4, accuracy: 1e-12)
    }

    func testASetAgainstItselfIsZeroAtEveryLevel() {
        let levels = SlicedWasserstein().levels(training, training, seed: 3)
        XCTAssertEqual(levels.map(\.height), [64, 32, 16])
        for level in levels { XCTAssertEqual(level.distance, 0, accuracy: 1e-9) }
    }

    func testNoiseRaisesTheDistanceMoreTheStrongerItIs() {
        let measure = SlicedWasserstein()
        let other = scenes(count: 24, seed: 2)  // more pictures of the same kind
        let baseline = average(measure.levels(training, other, seed: 3))
        let noisy = [0.03, 0.1, 0.3].map { average(measure.levels(training, noised(other, sigma: Float($0)), seed: 3)) }
        XCTAssertLessThan(baseline, noisy[0])
        XCTAssertLessThan(noisy[0], noisy[1])
        XCTAssertLessThan(noisy[1], noisy[2])
        // Noise is fine detail: it shows most at the finest level.
        let levels = measure.levels(training, noised(other, sigma: 0.1), seed: 3)
        XCTAssertGreaterThan(levels[0].distance, levels[2].distance)
    }

    func testBlurShowsAtTheFineLevelAndAColourShiftAtTheCoarse() {
        let measure = SlicedWasserstein()
        let blurred = Pyramid.up(Pyramid.down(training), height: 64, width: 64)
        let blurLevels = measure.levels(training, blurred, seed: 3)
        XCTAssertGreaterThan(blurLevels[0].distance, 10 * blurLevels[2].distance)
        // A shift of brightness leaves the detail levels as they were and moves the coarsest one.
        let shiftLevels = measure.levels(training, altered(training) { _, value in value + 0.2 }, seed: 3)
        XCTAssertLessThan(shiftLevels[0].distance, 1e-2)
        XCTAssertGreaterThan(shiftLevels[2].distance, 50)
    }

    func testTheSameSeedGivesTheSameFigures() {
        let other = scenes(count: 10, seed: 5)
        let measure = SlicedWasserstein()
        let first = measure.levels(training, other, seed: 11)
        XCTAssertEqual(first, measure.levels(training, other, seed: 11))
        XCTAssertNotEqual(first, measure.levels(training, other, seed: 12))
    }
}

final class ScoreTests: XCTestCase {
    let training = scenes(count: 30, seed: 1)

    func testCopiesOfTrainingPicturesAreCountedAsNearCopies() throws {
        let copied = [4, 17, 4, 29, 0]
        // The copies carry a little noise, as a model's own texture would.
        let samples = joined(scenes(count: 35, seed: 2), noised(picking(copied, from: training), sigma: 0.02))
        let score = try Score(training: training, samples: samples, seed: 0)
        XCTAssertEqual(score.memorisation.nearCopies.map(\.sample), Array(35..<40))
        XCTAssertEqual(score.memorisation.nearCopies.map(\.training), copied)
        XCTAssertEqual(score.memorisation.nearCopyShare, 5.0 / 40, accuracy: 1e-12)
        XCTAssertEqual(score.memorisation.trainingNearCopyShare, 0)
        for copy in score.memorisation.nearCopies { XCTAssertLessThan(copy.ratio, 0.2) }
        // Most samples are new pictures: about as far from the training set as its pictures are from each other.
        XCTAssertGreaterThan(score.memorisation.medianRatio, 0.5)
        XCTAssertEqual(score.memorisation.medianRatio, score.memorisation.trainingMedianRatio, accuracy: 0.25)
    }

    func testAModelThatOnlyCopiesHasEverySampleANearCopy() throws {
        let score = try Score(training: training, samples: training, seed: 0)
        XCTAssertEqual(score.memorisation.nearCopies.count, 30)
        XCTAssertEqual(score.memorisation.nearCopies.map(\.training), Array(0..<30))
        XCTAssertEqual(score.memorisation.medianRatio, 0, accuracy: 1e-3)
        XCTAssertEqual(score.diversity.ratio, 1, accuracy: 1e-6)
        XCTAssertEqual(score.slicedWassersteinAverage, 0, accuracy: 1e-9)
    }

    /// Blends of training pictures sit close to each of them, closer than half the typical distance
    /// between two pictures of a set this alike, but they copy none of them.
    func testBlendsOfTrainingPicturesAreNotNearCopies() throws {
        let set = butterflies(count: 40, size: 32, seed: 1)
        func blend(_ indices: [Int]) -> [Float] {
            let size = set.pictureSize
            return (0..<size).map { k in indices.reduce(Float(0)) { $0 + set.values[$1 * size + k] } / Float(indices.count) }
        }
        var random = RNG(seed: 3)
        let fours = (0..<30).map { _ in (0..<4).map { _ in random.integer(below: 40) } }
        let blends = PictureSet(count: 31, height: 32, width: 32, values: fours.flatMap(blend) + blend(Array(0..<40)))
        let score = try Score(training: set, samples: joined(blends, noised(picking([5, 9], from: set), sigma: 0.02)), seed: 0)
        XCTAssertEqual(score.memorisation.nearCopies.map(\.sample), [31, 32], "only the two noisy copies")
        XCTAssertEqual(score.memorisation.nearCopies.map(\.training), [5, 9])
        // The rule of half the median distance alone called about a third of them copies (9 of 31).
        let median = score.memorisation.medianTrainingDistance
        let compared = PictureDistances.compared(blends), training = PictureDistances.compared(set)
        let distances = PictureDistances.between(compared, training)
        let nearest = (0..<31).map { distances[($0 * 40)..<(($0 + 1) * 40)].min()! }
        XCTAssertGreaterThan(nearest.filter { Double($0) / median < 0.5 }.count, 5)
    }

    /// A training picture counts against the set's own share when it nearly copies another one: a pair of
    /// near-duplicates counts twice; a crowd of three does not (a copy of one is as near the others).
    func testTheSetsOwnNearCopiesArePairsOfNearDuplicates() throws {
        let distinct = scenes(count: 30, seed: 6)
        let pair = noised(picking([2], from: distinct), sigma: 0.01, seed: 5)
        let crowd = joined(noised(picking([7], from: distinct), sigma: 0.01, seed: 6), noised(picking([7], from: distinct), sigma: 0.01, seed: 7))
        let training = joined(joined(distinct, pair), crowd)
        let score = try Score(training: training, samples: scenes(count: 10, seed: 8), seed: 0)
        XCTAssertEqual(score.memorisation.trainingNearCopyShare, 2.0 / 33, accuracy: 1e-12)
        XCTAssertEqual(score.memorisation.nearCopies.count, 0)
    }

    func testACollapsedSetHasNoDiversity() throws {
        let fresh = scenes(count: 40, seed: 3)
        let collapsed = picking([Int](repeating: 7, count: 40), from: fresh)
        let collapsedScore = try Score(training: training, samples: collapsed, seed: 0)
        XCTAssertEqual(collapsedScore.diversity.ratio, 0, accuracy: 1e-3)
        let freshScore = try Score(training: training, samples: fresh, seed: 0)
        XCTAssertEqual(freshScore.diversity.ratio, 1, accuracy: 0.2)
        // A set with a few variations sits in between.
        let few = picking((0..<40).map { $0 % 3 }, from: fresh)
        let fewRatio = try Score(training: training, samples: few, seed: 0).diversity.ratio
        XCTAssertGreaterThan(fewRatio, collapsedScore.diversity.ratio)
        XCTAssertLessThan(fewRatio, freshScore.diversity.ratio)
        XCTAssertGreaterThan(collapsedScore.slicedWassersteinAverage, freshScore.slicedWassersteinAverage)
    }

    func testDistancesAreTheRootMeanSquareDifference() {
        let pictures = scenes(count: 2, size: 16, seed: 4)
        let brighter = altered(pictures) { _, value in value + 0.1 }
        let distances = PictureDistances.between(pictures, brighter)
        XCTAssertEqual(distances[0], 0.1, accuracy: 1e-3)
        XCTAssertEqual(distances[3], 0.1, accuracy: 1e-3)
        let squares = zip(pictures.values.prefix(768), pictures.values.suffix(768)).map { Double(($0 - $1) * ($0 - $1)) }
        XCTAssertEqual(Double(PictureDistances.between(pictures, pictures)[1]),
                       (squares.reduce(0, +) / 768).squareRoot(), accuracy: 1e-4)
    }

    func testTheSameSeedGivesTheSameScoreAndJSON() throws {
        let samples = scenes(count: 12, seed: 6)
        let first = try Score(training: training, samples: samples, seed: 8)
        let second = try Score(training: training, samples: samples, seed: 8)
        XCTAssertEqual(first, second)
        XCTAssertEqual(try first.json(), try second.json())
        let decoded = try JSONDecoder().decode(Score.self, from: Data(try first.json().utf8))
        XCTAssertEqual(decoded.slicedWasserstein.count, 3)
        XCTAssertEqual(decoded.sampleCount, 12)
        let table = first.table(samplesName: "s.tns", trainingName: "t.tns")
        XCTAssertTrue(table.contains("12 samples (s.tns) against 30 training pictures (t.tns), 64x64"))
        XCTAssertTrue(table.contains(String(format: "%.2f", first.slicedWassersteinAverage)))
    }

    func testUnscorableSetsAreRefusedWithAReason() {
        XCTAssertThrowsError(try Score(training: training, samples: scenes(count: 4, size: 32, seed: 2), seed: 0)) {
            XCTAssertEqual($0 as? ScoreError, .sizesDiffer(training: "64x64", samples: "32x32"))
        }
        XCTAssertThrowsError(try Score(training: picking([0], from: training), samples: training, seed: 0)) {
            XCTAssertEqual($0 as? ScoreError, .tooFew(.training, count: 1, needed: 4))
        }
        // The layout's manifolds need four pictures in each set.
        XCTAssertThrowsError(try Score(training: training, samples: picking([0, 1, 2], from: training), seed: 0)) {
            XCTAssertEqual($0 as? ScoreError, .tooFew(.samples, count: 3, needed: 4))
        }
        let alike = picking([3, 3, 3, 3, 5], from: training)
        XCTAssertThrowsError(try Score(training: alike, samples: training, seed: 0)) {
            XCTAssertEqual($0 as? ScoreError, .trainingAlike)
        }
        let tiny = scenes(count: 3, size: 12, seed: 2)
        XCTAssertThrowsError(try Score(training: tiny, samples: tiny, seed: 0)) {
            XCTAssertEqual($0 as? ScoreError, .tooSmall(size: "12x12", smallest: 16))
        }
    }
}
