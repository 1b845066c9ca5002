import Imaging
import Synth
import XCTest

final class SynthTests: XCTestCase {
    func testSamePictureForSameKindSeedAndIndex() {
        for kind in SynthKind.allCases {
            let first = Synth.image(kind: kind, seed: 7, index: 3, size: 24)
            let again = Synth.image(kind: kind, seed: 7, index: 3, size: 24)
            XCTAssertEqual(first, again, "\(kind) is not deterministic")
        }
    }

    func testParallelSetMatchesPictureByPicture() {
        let set = Synth.images(kind: .butterfly, seed: 2, indices: 5..<13, size: 20)
        XCTAssertEqual(set.count, 8)
        for (offset, picture) in set.enumerated() {
            XCTAssertEqual(picture, Synth.image(kind: .butterfly, seed: 2, index: 5 + offset, size: 20))
        }
    }

    func testSeedAndIndexBothChangeThePicture() {
        for kind in SynthKind.allCases {
            let base = Synth.image(kind: kind, seed: 1, index: 0, size: 24)
            XCTAssertGreaterThan(meanAbsoluteDifference(base, Synth.image(kind: kind, seed: 2, index: 0, size: 24)), 5,
                                 "\(kind): another seed gives nearly the same picture")
            XCTAssertGreaterThan(meanAbsoluteDifference(base, Synth.image(kind: kind, seed: 1, index: 1, size: 24)), 5,
                                 "\(kind): another index gives nearly the same picture")
        }
    }

    func testRendersAtTheRequestedSize() {
        for size in [8, 17, 64] {
            let picture = Synth.image(kind: .planet, seed: 1, index: 0, size: size)
            XCTAssertEqual(picture.width, size)
            XCTAssertEqual(picture.height, size)
            XCTAssertEqual(picture.channels, 3)
            XCTAssertEqual(picture.pixels.count, size * size * 3)
        }
    }

    /// Supersampling is a real average: 3×3 samples per pixel at 16 px equal a 48 px single-sample
    /// render averaged in 3×3 blocks (up to rounding of the 48 px render to bytes).
    func testSupersamplingAveragesSubPixels() {
        let small = Synth.image(kind: .architecture, seed: 4, index: 2, size: 16, supersample: 3)
        let large = Synth.image(kind: .architecture, seed: 4, index: 2, size: 48, supersample: 1)
        var worst = 0.0
        for y in 0..<16 {
            for x in 0..<16 {
                for c in 0..<3 {
                    var sum = 0.0
                    for dy in 0..<3 { for dx in 0..<3 { sum += Double(large[x * 3 + dx, y * 3 + dy, c]) } }
                    worst = max(worst, abs(sum / 9 - Double(small[x, y, c])))
                }
            }
        }
        XCTAssertLessThanOrEqual(worst, 1.0)
        // And the antialiased picture has edge pixels the single-sample one lacks.
        let aliased = Synth.image(kind: .architecture, seed: 4, index: 2, size: 16, supersample: 1)
        XCTAssertNotEqual(small, aliased)
    }

    /// Pictures of one set differ in colour and layout, so a GAN has a distribution to learn.
    func testPicturesOfASetVary() {
        for kind in SynthKind.allCases {
            let set = Synth.images(kind: kind, seed: 1, indices: 0..<12, size: 32)
            var differences: [Double] = []
            for i in 0..<set.count { for j in (i + 1)..<set.count { differences.append(meanAbsoluteDifference(set[i], set[j])) } }
            let smallest = differences.min()!, average = differences.reduce(0, +) / Double(differences.count)
            XCTAssertGreaterThan(smallest, 3, "\(kind): two pictures of the set are nearly identical")
            XCTAssertGreaterThan(average, 15, "\(kind): the set varies too little")
            // Not flat: each picture has structure.
            for picture in set { XCTAssertGreaterThan(standardDeviation(picture), 8, "\(kind): a flat picture") }
        }
    }

    /// Each kind has its own palette: colour histograms of the sets differ pairwise (L1 distance, 0...2;
    /// universe and planet, both starry space, are the closest pair at about 0.65).
    func testKindsHaveDistinctColourStatistics() {
        let histograms = SynthKind.allCases.map { kind in
            colourHistogram(Synth.images(kind: kind, seed: 3, indices: 0..<16, size: 32))
        }
        for i in 0..<histograms.count {
            for j in (i + 1)..<histograms.count {
                let distance = zip(histograms[i], histograms[j]).reduce(0) { $0 + abs($1.0 - $1.1) }
                XCTAssertGreaterThan(distance, 0.4,
                                     "\(SynthKind.allCases[i]) and \(SynthKind.allCases[j]) have similar colours")
            }
        }
    }

    /// The two portrait sets of the Plato → David piece differ in character: pale grey stone against warm bronze.
    func testPlatoIsPaleStoneAndDavidIsWarmMetal() {
        func subjectWarmth(_ kind: SynthKind) -> Double {
            let set = Synth.images(kind: kind, seed: 5, indices: 0..<16, size: 32)
            var warmth = 0.0, count = 0.0
            for picture in set {
                // The subject fills the middle of the frame.
                for y in 12..<20 { for x in 12..<20 {
                    warmth += Double(picture[x, y, 0]) - Double(picture[x, y, 2])
                    count += 1
                } }
            }
            return warmth / count
        }
        let plato = subjectWarmth(.plato), david = subjectWarmth(.david)
        XCTAssertLessThan(abs(plato), 25, "marble should be nearly neutral")
        XCTAssertGreaterThan(david, plato + 40, "bronze should be much warmer than marble")
    }

    func testEveryKindHasASummary() {
        XCTAssertEqual(SynthKind.allCases.count, 8)
        for kind in SynthKind.allCases { XCTAssertFalse(kind.summary.isEmpty) }
        XCTAssertEqual(Set(SynthKind.allCases.map(\.rawValue)),
                       ["universe", "tectonics", "ocean", "planet", "architecture", "butterfly", "plato", "david"])
    }

    // MARK: - Measures

    private func meanAbsoluteDifference(_ a: Image, _ b: Image) -> Double {
        zip(a.pixels, b.pixels).reduce(0.0) { $0 + abs(Double($1.0) - Double($1.1)) } / Double(a.pixels.count)
    }

    private func standardDeviation(_ picture: Image) -> Double {
        let values = picture.pixels.map(Double.init)
        let mean = values.reduce(0, +) / Double(values.count)
        return (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)).squareRoot()
    }

    /// A normalised 8×8×8 RGB histogram over all pixels of a set.
    private func colourHistogram(_ set: [Image]) -> [Double] {
        var bins = [Double](repeating: 0, count: 512)
        var total = 0.0
        for picture in set {
            for i in stride(from: 0, to: picture.pixels.count, by: 3) {
                let r = Int(picture.pixels[i]) / 32, g = Int(picture.pixels[i + 1]) / 32, b = Int(picture.pixels[i + 2]) / 32
                bins[r * 64 + g * 8 + b] += 1
                total += 1
            }
        }
        return bins.map { $0 / total }
    }
}
