import Foundation
import GradientChecking
import Neural
import XCTest

/// Finite-difference checks of every layer's backward, at small and odd shapes
/// (batch 1, non-square images, channel counts that are not multiples of 8).
final class LayerGradientTests: XCTestCase {
    private func initialise(_ layer: Layer, seed: UInt64) {
        var rng = RNG(seed: seed)
        for (_, parameter) in layer.parameters { rng.fillNormal(parameter.value.buffer, mean: 0, std: 0.5) }
    }

    func testConv2dStrideTwoPaddedOddSizes() {
        let conv = Conv2d(3, 5, kernel: 3, stride: 2, padding: 1)
        initialise(conv, seed: 1)
        checkGradients(conv, input: randomTensor([2, 3, 7, 5], seed: 2))
    }

    func testConv2dBatchOneNoBiasKernelFour() {
        let conv = Conv2d(4, 3, kernel: 4, stride: 2, padding: 1, bias: false)
        initialise(conv, seed: 3)
        checkGradients(conv, input: randomTensor([1, 4, 6, 8], seed: 4))
        XCTAssertEqual(conv.parameters.map(\.name), ["weight"])
    }

    func testConv2dToSingleLogit() {
        let conv = Conv2d(6, 1, kernel: 4, stride: 1, padding: 0)
        initialise(conv, seed: 5)
        checkGradients(conv, input: randomTensor([3, 6, 4, 4], seed: 6))
    }

    func testConvTransposeFromLatent() {
        let conv = ConvTranspose2d(7, 5, kernel: 4, stride: 1, padding: 0, bias: false)
        initialise(conv, seed: 7)
        checkGradients(conv, input: randomTensor([3, 7, 1, 1], seed: 8))
    }

    func testConvTransposeStrideTwoNonSquare() {
        let conv = ConvTranspose2d(5, 3, kernel: 4, stride: 2, padding: 1)
        initialise(conv, seed: 9)
        checkGradients(conv, input: randomTensor([2, 5, 3, 4], seed: 10))
    }

    func testConvTransposeOddKernelBatchOne() {
        let conv = ConvTranspose2d(2, 3, kernel: 3, stride: 2, padding: 1)
        initialise(conv, seed: 11)
        checkGradients(conv, input: randomTensor([1, 2, 5, 3], seed: 12))
    }

    /// With a tiny column budget every sample is its own GEMM chunk (weight gradients accumulate over
    /// chunks, Conv2d rebuilds its columns in backward): same results as one chunk, and correct gradients.
    func testConvolutionsSplitIntoBatchChunks() {
        let saved = ConvolutionTuning.columnBudget
        defer { ConvolutionTuning.columnBudget = saved }
        let conv = Conv2d(3, 4, kernel: 4, stride: 2, padding: 1)
        let transposed = ConvTranspose2d(4, 3, kernel: 4, stride: 2, padding: 1)
        initialise(conv, seed: 40)
        initialise(transposed, seed: 41)
        let (x, z) = (randomTensor([3, 3, 6, 8], seed: 42), randomTensor([3, 4, 3, 2], seed: 43))
        func results() -> [[Float]] {
            conv.zeroGradients()
            transposed.zeroGradients()
            let y = conv.forward(x, training: true).scalars
            let dx = conv.backward(randomTensor([3, 4, 3, 4], seed: 44)).scalars
            let t = transposed.forward(z, training: true).scalars
            let dz = transposed.backward(randomTensor([3, 3, 6, 4], seed: 45)).scalars
            return [y, dx, conv.weight.gradient.scalars, t, dz, transposed.weight.gradient.scalars]
        }
        let whole = results()
        ConvolutionTuning.columnBudget = 1
        let chunked = results()
        for (a, b) in zip(whole, chunked) {
            XCTAssertEqual(a.count, b.count)
            for (u, v) in zip(a, b) { XCTAssertEqual(u, v, accuracy: 1e-5 * max(1, abs(u))) }
        }
        checkGradients(conv, input: x)
        checkGradients(transposed, input: z)
    }

    func testLinear() {
        let linear = Linear(5, 3)
        initialise(linear, seed: 13)
        checkGradients(linear, input: randomTensor([4, 5], seed: 14))
        let noBias = Linear(6, 2, bias: false)
        initialise(noBias, seed: 31)
        checkGradients(noBias, input: randomTensor([1, 6], seed: 32))
    }

    func testBatchNormTrainingAndEval() {
        let norm = BatchNorm2d(3)
        initialise(norm, seed: 15)
        checkGradients(norm, input: randomTensor([2, 3, 3, 2], seed: 16), training: true)
        norm.runningMean.assign(randomTensor([3], seed: 17, scale: 0.3))
        norm.runningVar.assign(Tensor(shape: [3], scalars: [0.5, 1.5, 2]))
        checkGradients(norm, input: randomTensor([1, 3, 2, 5], seed: 18), training: false)
    }

    func testActivations() {
        // Inputs kept at least 0.05 from the kinks (ε is 0.01).
        checkGradients(ReLU(), input: randomTensor([2, 3, 4, 3], seed: 19, awayFromZero: 0.05))
        checkGradients(LeakyReLU(0.2), input: randomTensor([1, 5, 3, 3], seed: 20, awayFromZero: 0.05))
        checkGradients(Tanh(), input: randomTensor([2, 3, 2, 5], seed: 21))
    }

    func testUpsampleAndReshape() {
        checkGradients(Upsample(scale: 2), input: randomTensor([2, 3, 3, 2], seed: 22))
        checkGradients(Reshape([6, 1, 1]), input: randomTensor([3, 6], seed: 23))
    }

    func testSpectralNormOfConvTransposedConvAndLinear() {
        var rng = RNG(seed: 24)
        let conv = Conv2d(3, 4, kernel: 3, stride: 1, padding: 1)
        initialise(conv, seed: 25)
        let wrapped = SpectralNorm(conv, rng: &rng)
        _ = wrapped.forward(randomTensor([1, 3, 4, 4], seed: 26), training: true)   // one power iteration
        // Eval keeps u, v fixed between the finite-difference evaluations, as the gradient assumes.
        checkGradients(wrapped, input: randomTensor([2, 3, 5, 4], seed: 27), training: false)
        XCTAssertEqual(wrapped.parameters.map(\.name), ["weight_orig", "bias"])
        XCTAssertEqual(wrapped.buffers.map(\.name), ["weight_u", "weight_v"])

        let transposed = ConvTranspose2d(3, 2, kernel: 4, stride: 2, padding: 1, bias: false)
        initialise(transposed, seed: 28)
        let wrappedTransposed = SpectralNorm(transposed, rng: &rng)
        XCTAssertEqual(wrappedTransposed.u.shape, [2])   // rows are the output channels, as in PyTorch
        _ = wrappedTransposed.forward(randomTensor([1, 3, 2, 2], seed: 29), training: true)
        checkGradients(wrappedTransposed, input: randomTensor([2, 3, 3, 2], seed: 30), training: false)

        let linear = Linear(5, 4)
        initialise(linear, seed: 33)
        let wrappedLinear = SpectralNorm(linear, rng: &rng)
        _ = wrappedLinear.forward(randomTensor([1, 5], seed: 34), training: true)
        checkGradients(wrappedLinear, input: randomTensor([3, 5], seed: 35), training: false)
    }

    /// FastGAN's down block: a strided path and an average-pool path, averaged (smooth activations, so
    /// the finite differences cross no kink).
    func testParallelPathsSumTheirGradientsAndNameTheirPaths() {
        let block = ParallelPaths([("main", Sequential([Conv2d(4, 6, kernel: 4, stride: 2, padding: 1), Tanh()])),
                                   ("direct", Sequential([AvgPool2d(kernel: 2), Conv2d(4, 6, kernel: 1), Tanh()]))], scale: 0.5)
        initialise(block, seed: 60)
        checkGradients(block, input: randomTensor([2, 4, 8, 6], seed: 61))
        XCTAssertEqual(block.parameters.map(\.name), ["main.0.weight", "main.0.bias", "direct.1.weight", "direct.1.bias"])
    }

    func testSequentialChainsGradientsAndNames() {
        let model = Sequential([Conv2d(3, 4, kernel: 3, stride: 2, padding: 1, bias: false), BatchNorm2d(4), LeakyReLU(0.2),
                                ConvTranspose2d(4, 2, kernel: 4, stride: 2, padding: 1), Tanh()])
        initialise(model, seed: 31)
        // ε 1e-3: a weight of layer 0 moves every BN output, and a step of 1e-2 pushes some of them across
        // LeakyReLU's kink (the finite difference then mixes both slopes); 1e-3 stays within one piece.
        checkGradients(model, input: randomTensor([2, 3, 6, 6], seed: 32), epsilon: 1e-3)
        XCTAssertEqual(model.namedTensors().map(\.0),
                       ["0.weight", "1.weight", "1.bias", "3.weight", "3.bias", "1.running_mean", "1.running_var"])
    }

    /// A stack with taps: L = Σ y ⊙ r + Σⱼ mapⱼ ⊙ rⱼ against finite differences, with the input (map 0), a
    /// middle map and the output tapped; each tapped map's gradient must reach the layers below it and the
    /// input (smooth activations, so the finite differences cross no kink).
    func testTappedSequentialAddsEveryTapsGradient() {
        let stack = Sequential([Conv2d(3, 4, kernel: 3, stride: 2, padding: 1), Tanh(), AvgPool2d(kernel: 2),
                                Conv2d(4, 5, kernel: 1), SiLU()], taps: [0, 2, 5])
        initialise(stack, seed: 70)
        let input = randomTensor([2, 3, 8, 6], seed: 71)
        _ = stack.forward(input, training: false)
        XCTAssertEqual(stack.tappedMaps.map(\.shape), [[2, 3, 8, 6], [2, 4, 4, 3], [2, 5, 2, 1]])
        XCTAssertTrue(stack.tappedMaps[0] === input)
        checkGradients(OutputAndTaps(stack), input: input, training: false)
        XCTAssertEqual(stack.parameters.map(\.name), ["0.weight", "0.bias", "3.weight", "3.bias"])
    }

    /// With no gradient for the output, backward starts at the highest tap that has one: the layers above it
    /// get no parameter gradient, and the input gradient is that of the tapped prefix alone.
    func testTappedSequentialWithoutOutputGradientSkipsTheLayersAboveItsTaps() {
        let stack = Sequential([Conv2d(3, 4, kernel: 3, padding: 1), Tanh(), Conv2d(4, 2, kernel: 1)], taps: [2])
        initialise(stack, seed: 72)
        let input = randomTensor([2, 3, 5, 5], seed: 73)
        let tapGradient = randomTensor([2, 4, 5, 5], seed: 74)
        _ = stack.forward(input, training: false)
        stack.zeroGradients()
        let gradient = stack.backward(nil, tapGradients: [tapGradient], needsInputGradient: true, needsParameterGradients: true)!.copy()
        XCTAssertTrue(stack.layers[2].parameters.allSatisfy { $0.parameter.gradient.scalars.allSatisfy { $0 == 0 } })
        XCTAssertTrue(stack.layers[0].parameters.allSatisfy { $0.parameter.gradient.scalars.contains { $0 != 0 } })

        let prefix = Sequential(Array(stack.layers[0..<2]))
        _ = prefix.forward(input, training: false)
        XCTAssertEqual(gradient.scalars, prefix.backward(tapGradient, needsInputGradient: true, needsParameterGradients: false)!.scalars)
    }
}

/// A stack's output and tapped maps as one output, N × (the per-sample sizes of all of them), so
/// `checkGradients` weighs every tap with its own random r; backward splits the gradient per map.
private final class OutputAndTaps: Layer {
    let stack: Sequential
    private let output = Tensor(shape: [0])
    private var parts: [Tensor] = []

    init(_ stack: Sequential) { self.stack = stack }

    var sublayers: [(name: String, module: Module)] { [("stack", stack)] }

    func forward(_ input: Tensor, training: Bool) -> Tensor {
        let maps = [stack.forward(input, training: training)] + stack.tappedMaps
        let n = input.shape[0]
        let sizes = maps.map { $0.count / n }
        output.resize(to: [n, sizes.reduce(0, +)])
        var offset = 0
        for (map, size) in zip(maps, sizes) {
            for sample in 0..<n {
                for i in 0..<size { output[sample * output.shape[1] + offset + i] = map[sample * size + i] }
            }
            offset += size
        }
        parts = maps.map { Tensor(shape: $0.shape) }
        return output
    }

    func backward(_ outputGradient: Tensor, needsInputGradient: Bool, needsParameterGradients: Bool) -> Tensor? {
        let n = outputGradient.shape[0]
        var offset = 0
        for part in parts {
            let size = part.count / n
            for sample in 0..<n {
                for i in 0..<size { part[sample * size + i] = outputGradient[sample * outputGradient.shape[1] + offset + i] }
            }
            offset += size
        }
        return stack.backward(parts[0], tapGradients: Array(parts.dropFirst()), needsInputGradient: needsInputGradient,
                              needsParameterGradients: needsParameterGradients)
    }
}

/// Parameter gradients add up over passes (D sees real and fake pictures in two passes of one step):
/// two forward/backward pairs leave the sum of the gradients each leaves alone, and `zeroGradients`
/// clears them.
final class GradientAccumulationTests: XCTestCase {
    func testTwoPassesAccumulateTheirGradients() {
        var rng = RNG(seed: 50)
        let model = Sequential([SpectralNorm(Conv2d(3, 4, kernel: 3, stride: 1, padding: 1), rng: &rng), BatchNorm2d(4),
                                LeakyReLU(0.2), ConvTranspose2d(4, 2, kernel: 4, stride: 2, padding: 1), Reshape([2 * 8 * 8]),
                                Linear(2 * 8 * 8, 3)])
        Initialization.kaiming(slope: 0.2).apply(to: model, rng: &rng)
        let (x1, x2) = (randomTensor([2, 3, 4, 4], seed: 51), randomTensor([3, 3, 4, 4], seed: 52))
        let (g1, g2) = (randomTensor([2, 3], seed: 53), randomTensor([3, 3], seed: 54))
        func gradients(after passes: [(Tensor, Tensor)]) -> [[Float]] {
            model.zeroGradients()
            for (x, g) in passes {
                _ = model.forward(x, training: false)   // eval: the same u, v and statistics in every pass
                model.backward(g)
            }
            return model.parameters.map(\.parameter.gradient.scalars)
        }
        let (first, second) = (gradients(after: [(x1, g1)]), gradients(after: [(x2, g2)]))
        let both = gradients(after: [(x1, g1), (x2, g2)])
        XCTAssertEqual(both.count, 8)
        for (index, sum) in both.enumerated() {
            XCTAssertTrue(first[index].contains { $0 != 0 }, "parameter \(index) got no gradient")
            for i in sum.indices {
                XCTAssertEqual(sum[i], first[index][i] + second[index][i], accuracy: 1e-4 * max(1, abs(sum[i])))
            }
        }
        model.zeroGradients()
        XCTAssertTrue(model.parameters.allSatisfy { $0.parameter.gradient.scalars.allSatisfy { $0 == 0 } })
    }
}

final class TanhAccuracyTests: XCTestCase {
    /// The rational approximation against Foundation's tanh over a dense range, saturating in [−1, 1].
    func testTanhMatchesLibm() {
        let x = Tensor(shape: [40_001])
        for i in 0..<x.count { x[i] = Float(i - 20_000) / 2_000 }   // −10 … 10
        let y = Tanh().forward(x, training: false)
        for i in 0..<x.count {
            XCTAssertEqual(Double(y[i]), tanh(Double(x[i])), accuracy: 1e-6, "tanh(\(x[i]))")
            XCTAssertLessThanOrEqual(abs(y[i]), 1)
        }
    }
}
