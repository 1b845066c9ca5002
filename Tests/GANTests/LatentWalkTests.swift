import Foundation
import GAN
import XCTest

final class LatentWalkTests: XCTestCase {
    private func norm(_ v: [Float]) -> Double { v.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot() }
    private func angle(_ a: [Float], _ b: [Float]) -> Double {
        let dot = zip(a, b).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        return acos(max(-1, min(1, dot / (norm(a) * norm(b)))))
    }

    func testSlerpEndpointsAndConstantAngularSpeed() {
        let a: [Float] = [1, 0, 0], b: [Float] = [0, 2, 0]
        XCTAssertEqual(slerp(a, b, 0), a)
        let end = slerp(a, b, 1)
        for (x, y) in zip(end, b) { XCTAssertEqual(x, y, accuracy: 1e-6) }
        // Between vectors of equal norm, equal steps in u are equal steps in angle at constant norm.
        let c: [Float] = [0, 0.6, 0.8]
        for step in 1...3 {
            let u = Double(step) / 4
            XCTAssertEqual(angle(a, slerp(a, c, u)), u * .pi / 2, accuracy: 1e-6)
            XCTAssertEqual(norm(slerp(a, c, u)), 1, accuracy: 1e-6)
        }
        // Orthogonal vectors: the midpoint is sin(pi/4)/sin(pi/2) * (a + b), of norm sqrt(0.5) * sqrt(5).
        XCTAssertEqual(norm(slerp(a, b, 0.5)), (0.5 * 5).squareRoot(), accuracy: 1e-6)
    }

    func testSlerpKeepsGaussianNormsWhereLerpShrinksThem() {
        var generator = SplitMix(seed: 3)
        let a = (0..<512).map { _ in generator.normal() }, b = (0..<512).map { _ in generator.normal() }
        let mid = slerp(a, b, 0.5), straight = lerp(a, b, 0.5)
        // Independent Gaussian vectors are nearly orthogonal: lerp's midpoint has ~1/sqrt(2) of the norm.
        XCTAssertEqual(norm(mid) / norm(a), 1, accuracy: 0.1)
        XCTAssertEqual(norm(straight) / norm(a), 0.5.squareRoot(), accuracy: 0.1)
    }

    func testSlerpOfParallelAndZeroVectorsFallsBackToLerp() {
        XCTAssertEqual(slerp([1, 1], [2, 2], 0.5), [1.5, 1.5])
        XCTAssertEqual(slerp([0, 0], [2, 4], 0.25), [0.5, 1])
    }

    func testEaseInOut() {
        XCTAssertEqual(easeInOut(0), 0, accuracy: 1e-12)
        XCTAssertEqual(easeInOut(1), 1, accuracy: 1e-12)
        XCTAssertEqual(easeInOut(0.5), 0.5, accuracy: 1e-12)
        // Slow at both ends, fast in the middle, monotonic.
        XCTAssertLessThan(easeInOut(0.1), 0.1)
        XCTAssertGreaterThan(easeInOut(0.9), 0.9)
        var last = -1.0
        for i in 0...100 { let v = easeInOut(Double(i) / 100); XCTAssertGreaterThanOrEqual(v, last); last = v }
    }

    func testOpenWalkStartsAndEndsOnKeysAndPassesThroughEach() throws {
        let keys: [[Float]] = [[1, 0], [0, 1], [-1, 0]]
        let walk = try LatentWalk(keys: keys, frames: 9, interpolation: .lerp)
        XCTAssertEqual(walk.latent(ofFrame: 0), keys[0])
        XCTAssertEqual(walk.latent(ofFrame: 4), keys[1])
        XCTAssertEqual(walk.latent(ofFrame: 8), keys[2])
        XCTAssertEqual(walk.latent(ofFrame: 2), [0.5, 0.5])
    }

    func testLoopEndsOneStepBeforeTheFirstKey() throws {
        let keys: [[Float]] = [[0, 0], [4, 0]]
        let walk = try LatentWalk(keys: keys, frames: 8, interpolation: .lerp, loop: true)
        let xs = (0..<8).map { walk.latent(ofFrame: $0)[0] }
        XCTAssertEqual(xs, [0, 1, 2, 3, 4, 3, 2, 1])
        // The step from the last frame back to frame 0 equals every other step: seamless.
        let steps = (0..<8).map { abs(xs[($0 + 1) % 8] - xs[$0]) }
        XCTAssertEqual(Set(steps), [1])
    }

    func testEasedWalkRestsOnKeys() throws {
        let walk = try LatentWalk(keys: [[0], [10]], frames: 11, interpolation: .lerp, ease: true)
        let xs = (0...10).map { walk.latent(ofFrame: $0)[0] }
        XCTAssertLessThan(xs[1] - xs[0], xs[6] - xs[5], "slow near the key, fast in the middle")
        XCTAssertEqual(xs[5], 5, accuracy: 1e-5)
        XCTAssertEqual(xs[10], 10)
    }

    func testPsiPullsTowardTheMean() throws {
        let walk = try LatentWalk(keys: [[2, -4]], frames: 1, psi: 0.5)
        XCTAssertEqual(walk.latent(ofFrame: 0), [1, -2])
        let centred = try LatentWalk(keys: [[2, -4]], frames: 1, psi: 0.5, mean: [2, 0])
        XCTAssertEqual(centred.latent(ofFrame: 0), [2, -2])
    }

    func testBatchesAreTheFramesBackToBack() throws {
        let walk = try LatentWalk(keys: [[1, 2, 3], [3, 2, 1], [0, 1, 0]], frames: 10, loop: true)
        let all = walk.latents(frames: 0..<10)
        XCTAssertEqual(all.count, 30)
        XCTAssertEqual(Array(all[12..<15]), walk.latent(ofFrame: 4))
        XCTAssertEqual(walk.latents(frames: 3..<7), Array(all[9..<21]))
    }

    func testHoldRestsOnEveryKeyForThatManyFrames() throws {
        let walk = try LatentWalk(keys: [[0], [10], [20]], frames: 14, interpolation: .lerp, hold: 3)
        let xs = (0..<14).map { walk.latent(ofFrame: $0)[0] }
        // 13 intervals: 2 in each hold, 7 for the 2 segments; key 1 arrives at round(5.5) = 6.
        XCTAssertEqual(xs[0..<3], [0, 0, 0])
        XCTAssertEqual(xs[6..<9], [10, 10, 10])
        XCTAssertEqual(xs[11..<14], [20, 20, 20])
        XCTAssertEqual(xs[3], 2.5, accuracy: 1e-5)
        XCTAssertEqual(xs[9], 40.0 / 3, accuracy: 1e-4)
        XCTAssertEqual(xs, xs.sorted(), "the walk only moves forward")
        // A hold of 1 is the walk without holds.
        XCTAssertEqual(try LatentWalk(keys: [[0], [10], [20]], frames: 9, interpolation: .lerp, hold: 1).latent(ofFrame: 2), [5])
        // Each segment needs a frame of its own besides the holds.
        XCTAssertThrowsError(try LatentWalk(keys: [[0], [10], [20]], frames: 8, hold: 3))
        XCTAssertNoThrow(try LatentWalk(keys: [[0], [10], [20]], frames: 9, hold: 3))
        XCTAssertThrowsError(try LatentWalk(keys: [[0], [10]], frames: 5, hold: 0))
        // Issue 18, item 5: a hold whose frame count overflows is refused, not trapped.
        for hold in [Int.max, 1 << 62, Int.max / 2 + 2] {
            XCTAssertThrowsError(try LatentWalk(keys: [[0], [10], [20], [30]], frames: 300, hold: hold)) { error in
                XCTAssertEqual(error as? LatentWalkError,
                               .tooFewFramesToHold(frames: 300, keys: 4, hold: hold, needed: Int.max))
            }
        }
    }

    func testPickChoosesAStableSubsetInStreamOrder() {
        let picked = Latents.pick(4, of: 10, seed: 7)
        XCTAssertEqual(picked.count, 4)
        XCTAssertEqual(picked, picked.sorted())
        XCTAssertEqual(Set(picked).count, 4)
        XCTAssertTrue(picked.allSatisfy { (0..<10).contains($0) })
        XCTAssertEqual(Latents.pick(4, of: 10, seed: 7), picked)
        XCTAssertNotEqual((1...5).map { Latents.pick(4, of: 10, seed: $0) }.count(where: { $0 == picked }), 5,
                          "other seeds pick other pictures")
        XCTAssertEqual(Latents.pick(12, of: 10, seed: 7), Array(0..<10))
    }

    func testRejectsBadWalks() {
        XCTAssertThrowsError(try LatentWalk(keys: [], frames: 3))
        XCTAssertThrowsError(try LatentWalk(keys: [[1], [1, 2]], frames: 3))
        XCTAssertThrowsError(try LatentWalk(keys: [[1]], frames: 0))
        XCTAssertThrowsError(try LatentWalk(keys: [[1]], frames: 2, psi: .nan))
    }
}

/// A tiny local generator for test vectors, independent of the engine under test.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func normal() -> Float {
        Float((-2 * log(1 - uniform())).squareRoot() * cos(2 * .pi * uniform()))
    }
}
