import GradientChecking
import Neural
import XCTest

/// The direct 3 × 3 kernels (stride 1, padding 1, widths a multiple of 8) against the im2col + GEMM
/// reference path, and their gradients against finite differences.
final class DirectConvolutionTests: XCTestCase {
    private let bestKernels = ConvolutionTuning.direct3x3Kernels

    private let gemmWeightGradientChannels = ConvolutionTuning.direct3x3GEMMWeightGradientChannels

    override func tearDown() {
        ConvolutionTuning.direct3x3 = true
        ConvolutionTuning.direct3x3GEMMWeightGradientChannels = gemmWeightGradientChannels
        ConvolutionTuning.direct3x3Kernels = bestKernels
        super.tearDown()
    }

    private func initialise(_ layer: Layer, seed: UInt64) {
        var rng = RNG(seed: seed)
        for (_, parameter) in layer.parameters { rng.fillNormal(parameter.value.buffer, mean: 0, std: 0.5) }
    }

    /// Output, input gradient and the parameter gradients of two passes (they accumulate), on one path.
    private func run(_ conv: Conv2d, _ x: Tensor, direct: Bool) -> [[Float]] {
        ConvolutionTuning.direct3x3 = direct
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
        XCTAssertEqual(ConvolutionTuning.supportedDirect3x3Kernels.first, .baseline)
        XCTAssertEqual(ConvolutionTuning.supportedDirect3x3Kernels.last, bestKernels)
        for kernels in ConvolutionTuning.supportedDirect3x3Kernels {
            ConvolutionTuning.direct3x3Kernels = kernels
            XCTAssertEqual(ConvolutionTuning.direct3x3Kernels, kernels)
            compareWithIm2colPath("\(kernels)")
        }
        ConvolutionTuning.direct3x3GEMMWeightGradientChannels = 0
        compareWithIm2colPath("weight gradient by GEMM")
    }

    private func compareWithIm2colPath(_ label: String) {
        let cases = [(3, 5, 1, 5, 8, true), (11, 3, 3, 7, 16, false), (16, 9, 2, 3, 24, true), (8, 16, 3, 8, 8, false),
                     (1, 1, 2, 1, 8, true)]
        for (index, (inChannels, outChannels, batch, height, width, bias)) in cases.enumerated() {
            let conv = Conv2d(inChannels, outChannels, kernel: 3, stride: 1, padding: 1, bias: bias)
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
            XCTAssertEqual(conv.lastForwardMultiplyAdds, batch * outChannels * height * width * inChannels * 9)
        }
    }

    /// Shapes the kernels do not take (a width off 8, stride 2, groups) run the reference path: the
    /// same bits with the knob on and off.
    func testOtherShapesKeepTheReferencePath() {
        for (index, conv) in [Conv2d(4, 6, kernel: 3, stride: 1, padding: 1), Conv2d(4, 6, kernel: 3, stride: 2, padding: 1),
                              Conv2d(4, 6, kernel: 3, stride: 1, padding: 1, groups: 2)].enumerated() {
            initialise(conv, seed: 300 + UInt64(index))
            let x = randomTensor([2, 4, 6, index == 0 ? 12 : 16], seed: 310 + UInt64(index))
            XCTAssertEqual(run(conv, x, direct: true), run(conv, x, direct: false), "case \(index)")
        }
    }

    func testDirectKernelGradients() {
        for kernels in ConvolutionTuning.supportedDirect3x3Kernels {
            ConvolutionTuning.direct3x3Kernels = kernels
            checkDirectKernelGradients()
        }
    }

    private func checkDirectKernelGradients() {
        for (index, (inChannels, outChannels, bias)) in [(3, 10, true), (9, 2, false)].enumerated() {
            let conv = Conv2d(inChannels, outChannels, kernel: 3, stride: 1, padding: 1, bias: bias)
            initialise(conv, seed: 400 + UInt64(index))
            checkGradients(conv, input: randomTensor([2, inChannels, 3, 8], seed: 410 + UInt64(index)))
        }
    }
}
