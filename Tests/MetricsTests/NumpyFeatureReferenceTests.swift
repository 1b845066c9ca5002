import Foundation
import GradientChecking
import Metrics
import Neural
import XCTest

/// The feature measures against numpy, from their textbook definitions in float64: the matrix square
/// root of Σ₁ from numpy's own eigendecomposition, KID's kernel sums written out, the k-th neighbour
/// by sorting every distance. Skipped where python3 with numpy is missing.
final class NumpyFeatureReferenceTests: XCTestCase {
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

out = []
for c in json.load(sys.stdin):
    a = np.array(c["a"], dtype=np.float64).reshape(-1, c["length"])
    b = np.array(c["b"], dtype=np.float64).reshape(-1, c["length"])
    out.append([frechet(a, b), kid(a, b), coverage(b, a, 3), coverage(a, b, 3)])
print(json.dumps(out))
"""#

    private struct Case: Encodable {
        var length: Int
        var a: [Float]
        var b: [Float]
    }

    private func reference(_ cases: [Case]) throws -> [[Double]] {
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
}
