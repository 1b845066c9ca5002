import GradientChecking
import Neural
import XCTest

/// The direct kernels (3 × 3 at stride 1 and 4 × 4 at stride 2, padding 1, output widths a multiple of 8)
/// against the im2col + GEMM reference path, and their gradients against finite differences.
final class DirectConvolutionTests: XCTestCase {
    private let bestKernels = ConvolutionTuning.directKernels

    private let gemmWeightGradientChannels = ConvolutionTuning.direct3x3GEMMWeightGradientChannels

    override func tearDown() {
        (ConvolutionTuning.direct3x3, ConvolutionTuning.direct4x4Stride2) = (true, true)
        ConvolutionTuning.direct3x3GEMMWeightGradientChannels = gemmWeightGradientChannels
        ConvolutionTuning.directKernels = bestKernels
        super.tearDown()
    }

    private func initialise(_ layer: Layer, seed: UInt64) {
        var rng = RNG(seed: seed)
        for (_, parameter) in layer.parameters { rng.fillNormal(parameter.value.buffer, mean: 0, std: 0.5) }
    }

    /// Output, input gradient and the parameter gradients of two passes (they accumulate), on one path.
    private func run(_ conv: Conv2d, _ x: Tensor, direct: Bool) -> [[Float]] {
        (ConvolutionTuning.direct3x3, ConvolutionTuning.direct4x4Stride2) = (direct, direct)
        let y = conv.forward(x, training: true).scalars
        conv.zeroGradients()
        let gradient = randomTensor(conv.forward(x, training: true).shape, seed: 7)
        _ = conv.backward(gradient)
        _ = conv.forward(x, training: true)
        let dx = conv.backward(gradient).scalars
        return [y, dx, conv.weight.gradient.scalars, conv.bias?.gradient.scalars ?? []]
    }

    /// Channel counts off the kernels' block of 8 (and below it), widths 8, 16 and 24, odd heights, batch
    /// 1 and 3, with and without bias: the same numbers as im2col + GEMM up to float rounding, for every
    /// copy of the kernels this CPU runs, with the weight gradient from the direct kernel and from GEMM.
    func testDirectKernelsEqualIm2colPath() {
        XCTAssertEqual(ConvolutionTuning.supportedDirectKernels.first, .baseline)
        XCTAssertEqual(ConvolutionTuning.supportedDirectKernels.last, bestKernels)
        for kernels in ConvolutionTuning.supportedDirectKernels {
            ConvolutionTuning.directKernels = kernels
            XCTAssertEqual(ConvolutionTuning.directKernels, kernels)
            compareWithIm2colPath("\(kernels)")
        }
        ConvolutionTuning.direct3x3GEMMWeightGradientChannels = 0
        compareWithIm2colPath("weight gradient by GEMM")
    }

    private func compareWithIm2colPath(_ label: String) {
        // (in, out, batch, height, width, bias, kernel): 3 × 3 at stride 1 or 4 × 4 at stride 2
        let cases = [(3, 5, 1, 5, 8, true, 3), (11, 3, 3, 7, 16, false, 3), (16, 9, 2, 3, 24, true, 3), (8, 16, 3, 8, 8, false, 3),
                     (1, 1, 2, 1, 8, true, 3), (8, 5, 2, 6, 16, true, 4), (9, 11, 1, 4, 32, false, 4), (12, 16, 3, 16, 16, true, 4)]
        for (index, (inChannels, outChannels, batch, height, width, bias, kernel)) in cases.enumerated() {
            let stride = kernel == 3 ? 1 : 2
            let conv = Conv2d(inChannels, outChannels, kernel: kernel, stride: stride, padding: 1, bias: bias)
            initialise(conv, seed: 100 + UInt64(index))
            let x = randomTensor([batch, inChannels, height, width], seed: 200 + UInt64(index))
            let direct = run(conv, x, direct: true)
            let reference = run(conv, x, direct: false)
            for (part, (a, b)) in zip(["y", "dx", "dw", "db"], zip(direct, reference)) {
                XCTAssertEqual(a.count, b.count, part)
                let scale = b.map(abs).max() ?? 0
                for (u, v) in zip(a, b) {
                    XCTAssertEqual(u, v, accuracy: 1e-5 * max(1, scale), "\(part), case \(index), \(label)")
                }
            }
            let grid = (height / stride) * (width / stride)
            XCTAssertEqual(conv.lastForwardMultiplyAdds, batch * outChannels * grid * inChannels * kernel * kernel)
        }
    }

    /// Shapes the kernels do not take (an output width off 8, 3 × 3 at stride 2, 4 × 4 at stride 1, groups,
    /// 4 × 4 / 2 on fewer than 8 input channels)
    /// run the reference path: the same bits with the knobs on and off.
    func testOtherShapesKeepTheReferencePath() {
        for (index, conv) in [Conv2d(4, 6, kernel: 3, stride: 1, padding: 1), Conv2d(4, 6, kernel: 3, stride: 2, padding: 1),
                              Conv2d(4, 6, kernel: 3, stride: 1, padding: 1, groups: 2), Conv2d(4, 6, kernel: 4, stride: 1, padding: 1),
                              Conv2d(4, 6, kernel: 4, stride: 2, padding: 1), Conv2d(4, 6, kernel: 4, stride: 2, padding: 1)].enumerated() {
            initialise(conv, seed: 300 + UInt64(index))
            // Widths: 12 (off 8), 16; at 4 × 4 / 2, 24 gives an output width of 12, and 16 one of 8 on 4 channels.
            let x = randomTensor([2, 4, 6, [12, 16, 16, 16, 24, 16][index]], seed: 310 + UInt64(index))
            XCTAssertEqual(run(conv, x, direct: true), run(conv, x, direct: false), "case \(index)")
        }
    }

    func testDirectKernelGradients() {
        for kernels in ConvolutionTuning.supportedDirectKernels {
            ConvolutionTuning.directKernels = kernels
            checkDirectKernelGradients()
        }
    }

    private func checkDirectKernelGradients() {
        for (index, (inChannels, outChannels, bias, kernel)) in [(3, 10, true, 3), (9, 2, false, 3), (8, 3, true, 4)].enumerated() {
            let conv = Conv2d(inChannels, outChannels, kernel: kernel, stride: kernel - 2, padding: 1, bias: bias)
            initialise(conv, seed: 400 + UInt64(index))
            let size = kernel == 3 ? (3, 8) : (4, 16)
            checkGradients(conv, input: randomTensor([2, inChannels, size.0, size.1], seed: 410 + UInt64(index)))
        }
    }
}
