import GradientChecking
import Neural
import XCTest

/// `infer`, the eval forward for drawing only, against the eval forward layer by layer: a stack fuses
/// [Upsample] → convolution → BatchNorm / noise runs into one call on every convolution path, and gives the
/// same pictures within float rounding; the layers' training forward and backward are untouched by it.
final class InferenceTests: XCTestCase {
    /// Random weights, and BatchNorm running statistics away from their initial 0 and 1.
    private func randomise(_ stack: Layer, seed: UInt64) {
        var rng = RNG(seed: seed)
        for (_, parameter) in stack.parameters { rng.fillNormal(parameter.value.buffer, mean: 0, std: 0.3) }
        for module in stack.allModules {
            guard let norm = module as? BatchNorm2d else { continue }
            rng.fillNormal(norm.runningMean.buffer, mean: 0, std: 0.5)
            for c in 0..<norm.channels { norm.runningVar[c] = 0.2 + rng.uniform() }
            rng.fillNormal(norm.weight.value.buffer, mean: 1, std: 0.3)
        }
    }

    private func assertInferMatchesEval(_ stack: Sequential, inputShape: [Int], batches: [Int] = [1, 3, 5], _ name: String = "",
                                        file: StaticString = #filePath, line: UInt = #line) {
        for n in batches {
            let x = randomTensor([n] + inputShape, seed: UInt64(n))
            let expected = stack.forward(x, training: false).copy()
            let actual = stack.infer(x)
            XCTAssertEqual(actual.shape, expected.shape, "\(name) batch \(n)", file: file, line: line)
            var worst: Float = 0
            for i in 0..<expected.count { worst = max(worst, abs(actual[i] - expected[i]) / max(1, abs(expected[i]))) }
            XCTAssertLessThan(worst, 2e-5, "\(name) batch \(n): largest relative difference", file: file, line: line)
        }
    }

    private func stacks() -> [(String, () -> Sequential, [Int])] {
        var rng = RNG(seed: 9)
        let noise = RandomSource(seed: 4)
        return [
            ("fastgan block, direct 3x3 up-sampling while padding", {
                Sequential([Upsample(scale: 2), SpectralNorm(Conv2d(8, 16, kernel: 3, padding: 1, bias: false), rng: &rng),
                            NoiseInjection(source: noise), BatchNorm2d(16), GLU()]) }, [8, 4, 4]),
            ("3x3 with bias off the direct kernels' widths", {
                Sequential([Upsample(scale: 2), Conv2d(4, 8, kernel: 3, padding: 1), BatchNorm2d(8), ReLU()]) }, [4, 3, 3]),
            ("pointwise", { Sequential([Conv2d(6, 4, kernel: 1), BatchNorm2d(4), ReLU()]) }, [6, 5, 5]),
            ("4x4 stride 2 direct", { Sequential([Conv2d(8, 8, kernel: 4, stride: 2, padding: 1), BatchNorm2d(8)]) }, [8, 16, 16]),
            ("depthwise after up-sampling", {
                Sequential([Upsample(scale: 2), Conv2d(8, 8, kernel: 3, padding: 1, groups: 8), BatchNorm2d(8)]) }, [8, 4, 4]),
            ("grouped im2col", { Sequential([Conv2d(4, 6, kernel: 3, padding: 1, groups: 2), BatchNorm2d(6)]) }, [4, 5, 5]),
            ("transposed", {
                Sequential([ConvTranspose2d(5, 8, kernel: 4, stride: 2, padding: 1), BatchNorm2d(8), ReLU()]) }, [5, 3, 3]),
            ("spectral transposed, dcgan's first", {
                Sequential([SpectralNorm(ConvTranspose2d(5, 8, kernel: 4, bias: false), rng: &rng), BatchNorm2d(8), GLU()]) }, [5, 1, 1]),
            ("two BatchNorms and noise after one convolution", {
                Sequential([Conv2d(3, 8, kernel: 3, padding: 1), NoiseInjection(source: noise), BatchNorm2d(8), BatchNorm2d(8)]) }, [3, 8, 8]),
        ]
    }

    func testFusedRunsMatchTheEvalForwardOnEveryPath() {
        for (index, (name, make, shape)) in stacks().enumerated() {
            let stack = make()
            randomise(stack, seed: UInt64(index))
            for direct in [true, false] {
                (ConvolutionTuning.direct3x3, ConvolutionTuning.direct4x4Stride2) = (direct, direct)
                defer { (ConvolutionTuning.direct3x3, ConvolutionTuning.direct4x4Stride2) = (true, true) }
                assertInferMatchesEval(stack, inputShape: shape, "\(name), direct kernels \(direct)")
            }
        }
    }

    /// A tapped map inside what would be a fused run keeps the run apart, and the tap holds the eval map.
    func testTappedMapsAreNotFusedAway() {
        var rng = RNG(seed: 2)
        let stack = Sequential([Upsample(scale: 2), SpectralNorm(Conv2d(8, 8, kernel: 3, padding: 1), rng: &rng), BatchNorm2d(8), GLU()],
                               taps: [2, 3])
        randomise(stack, seed: 5)
        let x = randomTensor([2, 8, 4, 4], seed: 6)
        _ = stack.forward(x, training: false)
        let expected = stack.tappedMaps.map { $0.copy() }
        _ = stack.infer(x)
        for (tap, map) in zip(expected, stack.tappedMaps) { XCTAssertEqual(map.scalars, tap.scalars) }
        assertInferMatchesEval(stack, inputShape: [8, 4, 4])
    }

    /// `infer` between training passes changes neither their outputs nor their gradients.
    func testInferLeavesTrainingPassesAsTheyWere() {
        var rng = RNG(seed: 3)
        let stack = Sequential([Upsample(scale: 2), SpectralNorm(Conv2d(8, 16, kernel: 3, padding: 1, bias: false), rng: &rng),
                                BatchNorm2d(16), GLU()])
        randomise(stack, seed: 7)
        let x = randomTensor([3, 8, 4, 4], seed: 8)
        let gradient = randomTensor([3, 8, 8, 8], seed: 9)
        func trainingPass() -> ([Float], [Float], [[Float]]) {
            stack.zeroGradients()
            let y = stack.forward(x, training: false).scalars
            let dx = stack.backward(gradient).scalars
            return (y, dx, stack.parameters.map { $0.parameter.gradient.scalars })
        }
        let before = trainingPass()
        _ = stack.infer(randomTensor([5, 8, 4, 4], seed: 10))
        let after = trainingPass()
        XCTAssertEqual(before.0, after.0)
        XCTAssertEqual(before.1, after.1)
        XCTAssertEqual(before.2, after.2)
    }
}
