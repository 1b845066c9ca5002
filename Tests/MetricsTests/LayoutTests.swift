import Foundation
import Imaging
import Metrics
import Neural
import Synth
import XCTest

/// `count` synthetic butterflies (one centred, mirror-symmetric subject on a mottled ground), as `synth
/// butterfly --n count --size size --seed seed` draws them.
func butterflies(count: Int, size: Int, seed: UInt64) -> PictureSet {
    PictureSet(records: Synth.images(kind: .butterfly, seed: seed, indices: 0..<count, size: size).map(\.pixels),
               height: size, width: size)
}

/// Each picture cut into `tile` × `tile` squares, put back in a random order (seeded, one order per
/// picture): the same pixels, so the same colours and the same texture, in a layout of no one picture.
func tilesShuffled(_ pictures: PictureSet, tile: Int, seed: UInt64) -> PictureSet {
    precondition(pictures.height % tile == 0 && pictures.width % tile == 0)
    let (rows, columns, plane) = (pictures.height / tile, pictures.width / tile, pictures.height * pictures.width)
    var random = RNG(seed: seed)
    var values = pictures.values
    for picture in 0..<pictures.count {
        var order = Array(0..<(rows * columns))
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, random.integer(below: i + 1)) }
        for (target, source) in order.enumerated() {
            for c in 0..<3 {
                let base = (picture * 3 + c) * plane
                for y in 0..<tile {
                    for x in 0..<tile {
                        let from = ((source / columns) * tile + y) * pictures.width + (source % columns) * tile + x
                        let to = ((target / columns) * tile + y) * pictures.width + (target % columns) * tile + x
                        values[base + to] = pictures.values[base + from]
                    }
                }
            }
        }
    }
    return PictureSet(count: pictures.count, height: pictures.height, width: pictures.width, values: values)
}

final class ThumbnailTests: XCTestCase {
    func testEachThumbnailPixelIsTheMeanOfTheAreaUnderIt() {
        // 3 pixels into 2: the first box is pixel 0 and half of pixel 1, over 1.5 pixels of width.
        let row = PictureSet(count: 1, height: 3, width: 3, values: (0..<3).flatMap { _ in (0..<3).flatMap { _ in [0.3, 0.6, 0.9] as [Float] } })
        let thumbnail = Thumbnails.of(row, side: 2)
        XCTAssertEqual(thumbnail.length, 12)
        XCTAssertEqual(thumbnail.values[0], (0.3 + 0.5 * 0.6) / 1.5, accuracy: 1e-6)
        XCTAssertEqual(thumbnail.values[1], (0.5 * 0.6 + 0.9) / 1.5, accuracy: 1e-6)
        XCTAssertEqual(thumbnail.values[2], thumbnail.values[0], accuracy: 1e-6, "the same down the columns")

        // Any size to any side keeps each channel's mean, and a flat picture flat.
        let pictures = scenes(count: 2, size: 20, seed: 1)
        for side in [8, 16, 20] {
            let small = Thumbnails.of(pictures, side: side)
            XCTAssertEqual(small.count, 2)
            for plane in 0..<6 {
                let mean = pictures.values[(plane * 400)..<((plane + 1) * 400)].reduce(0, +) / 400
                let thumbnailMean = small.values[(plane * side * side)..<((plane + 1) * side * side)].reduce(0, +) / Float(side * side)
                XCTAssertEqual(thumbnailMean, mean, accuracy: 1e-5, "side \(side), plane \(plane)")
            }
        }
        XCTAssertEqual(Thumbnails.of(pictures, side: 20).values, pictures.values, "a thumbnail of the picture's own size")
        let grey = PictureSet(count: 1, height: 40, width: 40, values: [Float](repeating: 0.4, count: 3 * 1600))
        for value in Thumbnails.of(grey, side: 16).values { XCTAssertEqual(value, 0.4, accuracy: 1e-6) }
    }
}

final class LayoutScoreTests: XCTestCase {
    let training = butterflies(count: 60, size: 32, seed: 1)

    func testTheRightLayoutRanksAboveTheSameTexturesShuffled() throws {
        // At 64 pixels, as the issue measured: tiles of 8 pixels, one pixel of the 8 x 8 thumbnail each.
        let training = butterflies(count: 60, size: 64, seed: 1), fresh = butterflies(count: 60, size: 64, seed: 2)
        let shuffled = tilesShuffled(fresh, tile: 8, seed: 3)
        // The same values, so the same colour statistics, in another layout.
        XCTAssertEqual(shuffled.values.sorted(), fresh.values.sorted())
        XCTAssertNotEqual(shuffled.values, fresh.values)

        let (right, wrong) = (try LayoutScore(training: training, samples: fresh, seed: 0),
                              try LayoutScore(training: training, samples: shuffled, seed: 0))
        XCTAssertEqual(right.levels.map(\.side), [8, 16])
        for (level, shuffledLevel) in zip(right.levels, wrong.levels) {
            let side = "\(level.side)x\(level.side)"
            // Measured: 0.88 / 0.93 against 0.38 / 0.43 at 8 x 8, 0.80 / 0.85 against 0.33 / 0.48 at 16 x 16.
            XCTAssertGreaterThan(level.precision, shuffledLevel.precision + 0.25, side)
            XCTAssertGreaterThan(level.recall, shuffledLevel.recall + 0.25, side)
            // Measured: 1.03 against 1.20 and 1.13.
            let (ratio, shuffledRatio) = (try XCTUnwrap(level.nearestNeighbourRatio), try XCTUnwrap(shuffledLevel.nearestNeighbourRatio))
            XCTAssertGreaterThan(shuffledRatio, 1.08 * ratio, side)
            // More pictures of the set come near the set's own figures (one half against the other).
            XCTAssertEqual(level.recall, try XCTUnwrap(level.trainingRecall), accuracy: 0.2, side)
            XCTAssertEqual(level.precision, try XCTUnwrap(level.trainingPrecision), accuracy: 0.2, side)
            XCTAssertEqual(ratio, 1, accuracy: 0.2, side)
            XCTAssertEqual(try XCTUnwrap(level.trainingNearestNeighbourRatio), 1, accuracy: 0.2, side)
        }
    }

    func testCopiesHaveEveryLayoutAndARatioOfZero() throws {
        let copies = try LayoutScore(training: training, samples: training, seed: 0)
        for level in copies.levels {
            XCTAssertEqual(level.precision, 1)
            XCTAssertEqual(level.recall, 1)
            XCTAssertEqual(try XCTUnwrap(level.nearestNeighbourRatio), 0, accuracy: 1e-3)
        }
        // The training pictures' own figures do not depend on the samples.
        let other = try LayoutScore(training: training, samples: butterflies(count: 10, size: 32, seed: 4), seed: 0)
        XCTAssertEqual(other.levels.map(\.trainingRecall), copies.levels.map(\.trainingRecall))
        XCTAssertEqual(other.levels.map(\.trainingNearestNeighbourRatio), copies.levels.map(\.trainingNearestNeighbourRatio))
        XCTAssertEqual(copies.halvings, 100)
        XCTAssertEqual(copies.neighbours, 3)
    }

    func testTheSameSeedDrawsTheSameHalvings() throws {
        let samples = butterflies(count: 12, size: 32, seed: 5)
        let first = try LayoutScore(training: training, samples: samples, seed: 1)
        XCTAssertEqual(try LayoutScore(training: training, samples: samples, seed: 1), first)
        let other = try LayoutScore(training: training, samples: samples, seed: 2)
        XCTAssertNotEqual(other.levels.map(\.trainingRecall), first.levels.map(\.trainingRecall))
        // Only the training pictures' own figures are drawn at random.
        XCTAssertEqual(other.levels.map(\.recall), first.levels.map(\.recall))
        XCTAssertEqual(other.levels.map(\.nearestNeighbourRatio), first.levels.map(\.nearestNeighbourRatio))
    }

    func testDuplicatedTrainingPicturesLeaveNoRatio() throws {
        // Every picture twice: each one's nearest other picture is its twin, at distance 0.
        let twins = picking((0..<8).flatMap { [$0, $0] }, from: training)
        let score = try LayoutScore(training: twins, samples: picking(Array(0..<8), from: training), seed: 0)
        for level in score.levels {
            XCTAssertNil(level.nearestNeighbourRatio)
            XCTAssertEqual(level.precision, 1)
            XCTAssertEqual(level.recall, 1)
        }
    }

    func testTheScoreCarriesTheLayoutWithoutAFeatureNetwork() throws {
        let score = try Score(training: training, samples: butterflies(count: 20, size: 32, seed: 6), seed: 0)
        XCTAssertNil(score.features)
        XCTAssertEqual(score.layout, try LayoutScore(training: training, samples: butterflies(count: 20, size: 32, seed: 6), seed: 0))
        let table = score.table(samplesName: "s.tns", trainingName: "t.tns")
        let header = "layout on thumbnails (k = 3)".padding(toLength: 36, withPad: " ", startingAt: 0)
            + "samples       training pictures among themselves"
        XCTAssertTrue(table.contains("\n\n\(header)\n"), table)
        for level in score.layout.levels {
            let side = "\(level.side)x\(level.side)"
            for (row, figures) in [("precision", [level.precision, level.trainingPrecision]), ("recall", [level.recall, level.trainingRecall]),
                                   ("nearest-neighbour ratio", [level.nearestNeighbourRatio, level.trainingNearestNeighbourRatio])] {
                let cells = try figures.map { String(format: "%.2f", try XCTUnwrap($0)) }
                let line = "  \(side) \(row)".padding(toLength: 36, withPad: " ", startingAt: 0)
                    + cells[0].padding(toLength: 14, withPad: " ", startingAt: 0) + cells[1]
                XCTAssertTrue(table.contains("\n\(line)\n"), "no \(line) in\n\(table)")
            }
        }
        let json = try score.json()
        for key in ["\"layout\"", "\"levels\"", "\"side\" : 16", "\"nearestNeighbourRatio\"", "\"trainingRecall\""] {
            XCTAssertTrue(json.contains(key), "no \(key) in \(json)")
        }
    }

    func testTooFewPicturesAreRefused() {
        XCTAssertThrowsError(try LayoutScore(training: training, samples: picking([1, 2, 3], from: training), seed: 0)) {
            XCTAssertEqual($0 as? ScoreError, .tooFew(.samples, count: 3, needed: 4))
        }
        XCTAssertThrowsError(try LayoutScore(training: picking([1, 2, 3, 4, 5], from: training), samples: training, seed: 0,
                                             neighbours: 5)) {
            XCTAssertEqual($0 as? ScoreError, .tooFew(.training, count: 5, needed: 6))
        }
    }
}
