import Foundation
import Neural
import XCTest

/// Random tensor with normal entries from a fixed seed; `awayFromZero` pushes every entry to
/// |x| ≥ that value so piecewise-linear layers have no kink within the finite-difference step.
public func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1, awayFromZero: Float = 0) -> Tensor {
    var rng = RNG(seed: seed)
    let t = Tensor(shape: shape)
    for i in 0..<t.count {
        let v = rng.normal() * scale
        t[i] = v >= 0 ? v + awayFromZero : v - awayFromZero
    }
    return t
}

/// Checks `layer`'s backward (input and every parameter gradient but those named in `skipped`) against
/// central differences of L = Σ y ⊙ r for a fixed random r.
///
/// Tolerance: the engine computes in float32 (OpenBLAS sgemm has no float64 path), so the difference
/// quotient (L(x+ε) − L(x−ε)) / 2ε carries a rounding error of about 1e-7 · Σ|y ⊙ r| / ε: with ε = 1e-2
/// and the small shapes used here that is ~1e-4 of the gradient scale. Smooth layers add O(ε²)
/// truncation error. We accept |analytic − numeric| ≤ 1e-2 · max(|analytic|, |numeric|) + 2e-3 · scale,
/// with scale the largest analytic gradient entry of that tensor — two orders above the noise, far below
/// any real mistake (a wrong index or a missing term is off by O(scale)). A whole network of piecewise-linear
/// layers may pass a larger `relativeTolerance`: every step then crosses a few kinks.
public func checkGradients(_ layer: Layer, input: Tensor, training: Bool = true, epsilon: Float = 1e-2, samples: Int = 40,
                           skipping skipped: Set<String> = [], relativeTolerance: Float = 1e-2,
                           file: StaticString = #filePath, line: UInt = #line) {
    let output = layer.forward(input, training: training).copy()
    let weights = randomTensor(output.shape, seed: 99)
    func loss() -> Double {
        let y = layer.forward(input, training: training)
        var total: Double = 0
        for i in 0..<y.count { total += Double(y[i]) * Double(weights[i]) }
        return total
    }
    _ = layer.forward(input, training: training)
    layer.zeroGradients()
    let inputGradient = layer.backward(weights).copy()
    let parameterGradients = layer.parameters.map { ($0.name, $0.parameter.value, $0.parameter.gradient.copy()) }
    XCTAssertEqual(inputGradient.shape, input.shape, "input gradient shape", file: file, line: line)

    func compare(_ name: String, _ values: Tensor, _ analytic: Tensor) {
        XCTAssertEqual(values.shape, analytic.shape, "\(name) gradient shape", file: file, line: line)
        let scale = analytic.scalars.map(abs).max() ?? 0
        XCTAssertGreaterThan(scale, 0, "\(name): gradient is all zero", file: file, line: line)
        var rng = RNG(seed: UInt64(values.count))
        let indices = values.count <= samples ? Array(0..<values.count) : (0..<samples).map { _ in rng.integer(below: values.count) }
        for i in indices {
            let numeric = Float(centralDifference(values, i, epsilon: epsilon, loss))
            let tolerance = relativeTolerance * max(abs(numeric), abs(analytic[i])) + 2e-3 * scale
            XCTAssertEqual(analytic[i], numeric, accuracy: tolerance, "\(name)[\(i)]", file: file, line: line)
        }
    }
    compare("input", input, inputGradient)
    for (name, value, gradient) in parameterGradients where !skipped.contains(name) { compare(name, value, gradient) }
}

/// (L(v + ε) − L(v − ε)) / 2ε for entry `index` of `values` (restored afterwards).
public func centralDifference(_ values: Tensor, _ index: Int, epsilon: Float, _ loss: () -> Double) -> Double {
    let saved = values[index]
    values[index] = saved + epsilon
    let plus = loss()
    values[index] = saved - epsilon
    let minus = loss()
    values[index] = saved
    return (plus - minus) / Double(2 * epsilon)
}
