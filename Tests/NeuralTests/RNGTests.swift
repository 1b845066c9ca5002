import Neural
import XCTest

final class RNGTests: XCTestCase {
    func testGeneratorMatchesPCG32Reference() {
        // The PCG reference demo (pcg32_srandom_r(42, 54)) prints these first outputs; rebuild its
        // state after seeding: inc = 54·2 + 1, state = (0·a + inc + 42)·a + inc.
        let a: UInt64 = 6364136223846793005, increment: UInt64 = 109
        var rng = RNG(state: [(increment &+ 42) &* a &+ increment, increment])!
        XCTAssertEqual((0..<6).map { _ in rng.next32() },
                       [0xa15c02b7, 0x7b47f409, 0xba1d3330, 0x83d2f293, 0xbfa4784b, 0xcbed606e])
        var same = RNG(seed: 42), other = RNG(seed: 43)
        XCTAssertNotEqual((0..<4).map { _ in same.next32() }, (0..<4).map { _ in other.next32() })
    }

    func testStateRoundTripContinuesExactly() {
        var rng = RNG(seed: 7)
        _ = rng.normals(5)
        var copy = RNG(state: rng.state)!
        XCTAssertEqual(rng.normals(10), copy.normals(10))
        XCTAssertNil(RNG(state: [1, 2]))   // increment must be odd
        XCTAssertNil(RNG(state: [1]))
    }

    func testNormalMomentsAndUniformRange() {
        var rng = RNG(seed: 1)
        let values = rng.normals(100_000)
        let mean = values.reduce(0, +) / Float(values.count)
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(values.count)
        XCTAssertEqual(mean, 0, accuracy: 0.02)
        XCTAssertEqual(variance, 1, accuracy: 0.02)
        for _ in 0..<10_000 {
            let u = rng.uniform()
            XCTAssertTrue(u >= 0 && u < 1)
            let k = rng.integer(below: 7)
            XCTAssertTrue(k >= 0 && k < 7)
        }
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: 6)
        defer { buffer.deallocate() }
        var a = RNG(seed: 3), b = RNG(seed: 3)
        a.fillNormal(buffer)
        XCTAssertEqual(Array(buffer), b.normals(6))
    }
}
