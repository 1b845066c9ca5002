import Foundation
import Neural
import PythonReference
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

    /// `RNG(seed:)`, `uniform()` and `normal()` against the documented algorithm written again in Python
    /// (the latents of every `--seeds k` picture depend on them, so they must never drift).
    func testSeedingUniformsAndNormalsMatchAnIndependentImplementation() throws {
        let script = #"""
        import math
        M, MASK = 6364136223846793005, (1 << 64) - 1
        class PCG:
            def __init__(self, seed):
                self.state, self.inc = 0, (((seed ^ 0xDA3E39CB94B95BDB) << 1) | 1) & MASK
                self.next32(); self.state = (self.state + seed) & MASK; self.next32()
            def next32(self):
                old = self.state
                self.state = (old * M + self.inc) & MASK
                x, r = (((old >> 18) ^ old) >> 27) & 0xFFFFFFFF, old >> 59
                return ((x >> r) | (x << ((-r) & 31))) & 0xFFFFFFFF
        for seed in (0, 7, 42, 2**63 + 5):
            g = PCG(seed)
            words = [g.next32() for _ in range(3)]
            uniform = (g.next32() >> 8) / 16777216
            u1, u2 = 1 - (g.next32() >> 8) / 16777216, (g.next32() >> 8) / 16777216
            normal = math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)
            print(*words, repr(uniform), repr(normal))
        """#
        let printed = try runPython(["-c", script]).output
        let lines = printed.split(separator: "\n")
        XCTAssertEqual(lines.count, 4)
        for (seed, line) in zip([0, 7, 42, 1 << 63 + 5] as [UInt64], lines) {
            let fields = line.split(separator: " ")
            var rng = RNG(seed: seed)
            XCTAssertEqual((0..<3).map { _ in String(rng.next32()) }, fields[0..<3].map(String.init), "seed \(seed)")
            XCTAssertEqual(Double(rng.uniform()), Double(fields[3])!, "seed \(seed)")
            XCTAssertEqual(Double(rng.normal()), Double(fields[4])!, accuracy: 1e-6, "seed \(seed)")
        }
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
