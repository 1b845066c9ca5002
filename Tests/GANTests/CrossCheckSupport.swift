import Foundation
import Neural
import XCTest

/// What the PyTorch cross-checks share: inputs every language rebuilds exactly, the numbers recorded of
/// a tensor, and the comparison with the reference.
enum CrossCheck {
    /// Uniform in [offset − scale, offset + scale) from a multiplicative hash of (index, key).
    static func hashed(_ count: Int, scale: Double, offset: Double = 0, key: UInt64) -> [Float] {
        (0..<UInt64(count)).map { i in
            let h = (i &* 2654435761 &+ key &* 40503) & 0xFFFF_FFFF
            return Float((Double(h) / 4294967296 * 2 - 1) * scale + offset)
        }
    }

    /// The same numbers the reference scripts record: 24 entries at a stride of 97.
    static func strided(_ t: Tensor) -> [Double] { (0..<24).map { Double(t[($0 * 97) % t.count]) } }

    /// A cosine-weighted sum, the sum of magnitudes and two entries, so any wrong element shows.
    static func summary(_ t: Tensor) -> [Double] {
        var projection = 0.0, magnitude = 0.0
        for i in 0..<t.count { projection += Double(t[i]) * cos(0.5 * Double(i)); magnitude += Double(abs(t[i])) }
        return [projection, magnitude, Double(t[t.count / 3]), Double(t[2 * t.count / 3])]
    }

    /// Runs `body` with every convolution cutting its batch into one-sample GEMM chunks (the path a large
    /// batch takes).
    static func inOneSampleChunks(_ body: () throws -> Void) rethrows {
        let saved = ConvolutionTuning.columnBudget
        defer { ConvolutionTuning.columnBudget = saved }
        ConvolutionTuning.columnBudget = 1
        try body()
    }

    /// float32 against float64: every number within 2e-5 of its quantity's `scale`.
    static func assertMatches(_ ours: [String: [Double]], _ reference: [String: [Double]], _ label: String,
                              scale: (String, [Double]) -> Double, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(Set(ours.keys), Set(reference.keys), label, file: file, line: line)
        for (name, expected) in reference {
            guard let got = ours[name], got.count == expected.count else {
                XCTFail("\(label) \(name): missing or misshapen", file: file, line: line)
                continue
            }
            let tolerance = 2e-5 * scale(name, expected) + 1e-9
            for (i, (a, b)) in zip(got, expected).enumerated() {
                XCTAssertEqual(a, b, accuracy: tolerance, "\(label) \(name)[\(i)]", file: file, line: line)
            }
        }
    }
}
