import Foundation
import GradientChecking
import Metrics
import Neural
import XCTest

/// The feature and layout measures against numpy, from their textbook definitions in float64: the matrix
/// square root of Σ₁ from numpy's own eigendecomposition, KID's kernel sums written out, the k-th neighbour
/// by sorting every distance, thumbnails as block means of the pictures blown up `side` times. Skipped
/// where python3 with numpy is missing.
final class NumpyMeasureReferenceTests: XCTestCase {
    private static let script = #"""
import json, sys
import numpy as np

def frechet(a, b):
    m1, m2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    w, v = np.linalg.eigh(s1)
    root = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    inner = np.linalg.eigvalsh(root @ s2 @ root)
    return float(((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(np.clip(inner, 0, None)).sum())

def kid(a, b):
    d = a.shape[1]
    k = lambda x, y: (x @ y.T / d + 1) ** 3
    kxx, kyy, kxy = k(a, a), k(b, b), k(a, b)
    m, n = len(a), len(b)
    return 1000 * float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
                        - 2 * kxy.mean())

def coverage(points, manifold, k):
    within = np.linalg.norm(manifold[:, None, :] - manifold[None, :, :], axis=2)
    radii = np.sort(within, axis=1)[:, k]
    to = np.linalg.norm(points[:, None, :] - manifold[None, :, :], axis=2)
    return float((to <= radii[None, :]).any(axis=1).mean())

def thumbnails(pictures, side):
    # Each pixel repeated side times along each axis: boxes of height x width pixels are then exactly
    # the thumbnail's pixels, and their means the areas' means, whatever the size.
    n, c, h, w = pictures.shape
    fine = pictures.repeat(side, axis=2).repeat(side, axis=3)
    return fine.reshape(n, c, side, h, side, w).mean(axis=(3, 5)).reshape(n, -1)

def nearest_ratio(points, reference):
    to = np.linalg.norm(points[:, None, :] - reference[None, :, :], axis=2)
    within = np.linalg.norm(reference[:, None, :] - reference[None, :, :], axis=2)
    np.fill_diagonal(within, np.inf)
    return float(np.median(to.min(axis=1)) / np.median(within.min(axis=1)))

out = []
for c in json.load(sys.stdin):
    if "length" in c:
        a = np.array(c["a"], dtype=np.float64).reshape(-1, c["length"])
        b = np.array(c["b"], dtype=np.float64).reshape(-1, c["length"])
        out.append([frechet(a, b), kid(a, b), coverage(b, a, 3), coverage(a, b, 3)])
        continue
    shape = (-1, 3, c["height"], c["width"])
    training, samples = (np.array(c[k], dtype=np.float64).reshape(shape) for k in ("training", "samples"))
    row, sample_thumbnails = [], []
    for side in (8, 16):
        t, s = thumbnails(training, side), thumbnails(samples, side)
        row += [coverage(s, t, 3), coverage(t, s, 3), nearest_ratio(s, t)]
        sample_thumbnails += list(s.ravel())
    out.append(row + sample_thumbnails)
print(json.dumps(out))
"""#

    private struct Case: Encodable {
        var length: Int
        var a: [Float]
        var b: [Float]
    }

    private struct LayoutCase: Encodable {
        var height: Int
        var width: Int
        var training: [Float]
        var samples: [Float]
    }

    private func reference(_ cases: [some Encodable]) throws -> [[Double]] {
        try numpyReference(script: Self.script, cases: cases)
    }

    /// `count` vectors of correlated values: Gaussian noise through a random `length` × `length` mixing,
    /// moved by `shift`.
    private func mixed(_ count: Int, length: Int, shift: Float, seed: UInt64) -> FeatureVectors {
        var random = RNG(seed: seed)
        let mixing = random.normals(length * length)
        let noise = random.normals(count * length)
        var values = [Float](repeating: shift, count: count * length)
        for i in 0..<count {
            for j in 0..<length {
                for k in 0..<length { values[i * length + j] += noise[i * length + k] * mixing[k * length + j] / 2 }
            }
        }
        return FeatureVectors(count: count, length: length, values: values)
    }

    func testTheFeatureMeasuresMatchNumpy() throws {
        // Fewer vectors than dimensions (as few-shot sets in 1280 features), and more.
        let sets = [(12, 15, 20), (40, 55, 6)].enumerated().map { index, sizes in
            (mixed(sizes.0, length: sizes.2, shift: 0, seed: UInt64(10 + index)),
             mixed(sizes.1, length: sizes.2, shift: 0.4, seed: UInt64(20 + index)))
        }
        let expected = try reference(sets.map { Case(length: $0.0.length, a: $0.0.values, b: $0.1.values) })
        XCTAssertEqual(expected.count, sets.count)
        for ((training, samples), numbers) in zip(sets, expected) {
            let label = "\(training.count) and \(samples.count) vectors of \(training.length)"
            XCTAssertEqual(FrechetDistance.between(training, samples), numbers[0], accuracy: 1e-6 * numbers[0], label)
            XCTAssertEqual(KernelInceptionDistance.estimate(training, samples), numbers[1],
                           accuracy: 1e-5 * abs(numbers[1]) + 1e-6, label)
            let score = try FeatureScore(training: training, samples: samples, seed: 0)
            XCTAssertEqual(score.precision, numbers[2], label)
            XCTAssertEqual(score.recall, numbers[3], label)
            XCTAssertGreaterThan(numbers[2], 0, label)
            XCTAssertLessThan(numbers[2], 1, label)
        }
    }

    func testTheLayoutMeasuresMatchNumpy() throws {
        // Sides that 8 and 16 do not divide, and pictures taller than wide: samples of the set mixed with
        // shuffled ones, so that precision and recall fall between 0 and 1.
        func leftColumns(_ pictures: PictureSet, _ width: Int) -> PictureSet {
            let rows = pictures.values.count / pictures.width
            return PictureSet(count: pictures.count, height: pictures.height, width: width,
                              values: (0..<rows).flatMap { pictures.values[($0 * pictures.width)..<($0 * pictures.width + width)] })
        }
        let sets = [24, 40].map { size in
            let fresh = butterflies(count: 14, size: size, seed: 2)
            return (butterflies(count: 20, size: size, seed: 1),
                    joined(fresh, tilesShuffled(picking(Array(0..<6), from: fresh), tile: 8, seed: 3)))
        } + [(leftColumns(butterflies(count: 20, size: 40, seed: 1), 28), leftColumns(butterflies(count: 16, size: 40, seed: 2), 28))]
        let expected = try reference(sets.map {
            LayoutCase(height: $0.0.height, width: $0.0.width, training: $0.0.values, samples: $0.1.values)
        })
        XCTAssertEqual(expected.count, sets.count)
        for ((training, samples), numbers) in zip(sets, expected) {
            let label = "\(training.count) and \(samples.count) pictures of \(training.sizeDescription)"
            let score = try LayoutScore(training: training, samples: samples, seed: 0)
            var thumbnailValues = numbers.dropFirst(6)
            for (level, figures) in zip(score.levels, [numbers[0..<3], numbers[3..<6]]) {
                let side = "\(label), \(level.side)x\(level.side)"
                XCTAssertEqual(level.precision, figures.first!, side)
                XCTAssertEqual(level.recall, figures.dropFirst().first!, side)
                XCTAssertEqual(try XCTUnwrap(level.nearestNeighbourRatio), figures.last!, accuracy: 1e-5, side)
                let thumbnails = Thumbnails.of(samples, side: level.side).values
                let worst = zip(thumbnails, thumbnailValues.prefix(thumbnails.count)).map { abs(Double($0) - $1) }.max()!
                XCTAssertLessThan(worst, 1e-5, side)
                thumbnailValues = thumbnailValues.dropFirst(thumbnails.count)
            }
            XCTAssertTrue(thumbnailValues.isEmpty, label)
        }
        // Not all or nothing: the mixed samples are partly inside the pictures' manifold.
        XCTAssertTrue(expected.contains { $0[0] > 0 && $0[0] < 1 && $0[1] > 0 && $0[1] < 1 })
    }
}
