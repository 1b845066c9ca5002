import GradientChecking
import Neural
import XCTest

/// The layers EfficientNet-Lite0 adds to the engine: ReLU6, the input affine and bilinear upsampling.
final class FeatureNetworkLayerTests: XCTestCase {
    func testReLU6ClipsAtZeroAndSixWithGradientsBetween() {
        let relu6 = ReLU6()
        let y = relu6.forward(Tensor(shape: [1, 1, 1, 4], scalars: [-2, 0.5, 5.5, 9]), training: false)
        XCTAssertEqual(y.scalars, [0, 0.5, 5.5, 6])
        // Scale 4 puts entries beyond 6; all stay 0.05 from both kinks (ε is 0.01).
        let input = randomTensor([2, 3, 4, 3], seed: 40, scale: 4, awayFromZero: 0.05)
        for i in 0..<input.count where abs(input[i] - 6) < 0.05 { input[i] = 6.1 }
        checkGradients(relu6, input: input)
    }

    func testAffine() {
        let affine = Affine(scale: 127.5 / 128, shift: 0.5 / 128)
        XCTAssertEqual(affine.forward(Tensor(shape: [1, 1, 1, 2], scalars: [-1, 1]), training: false).scalars,
                       [-127 / 128, 1], accuracy: 1e-7)
        checkGradients(affine, input: randomTensor([2, 3, 2, 2], seed: 41))
    }

    func testBilinearUpsampleMatchesPyTorch() {
        let x = Tensor(shape: [1, 1, 2, 3], scalars: [0, 1, 4, 2, 3, -1])
        // torch.nn.functional.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        XCTAssertEqual(BilinearUpsample(scale: 2).forward(x, training: false).scalars,
                       [0, 0.25, 0.75, 1.75, 3.25, 4, 0.5, 0.75, 1.25, 1.8125, 2.4375, 2.75,
                        1.5, 1.75, 2.25, 1.9375, 0.8125, 0.25, 2, 2.25, 2.75, 2, 0, -1], accuracy: 1e-6)
        // scale_factor=3, first two output rows
        let three = BilinearUpsample(scale: 3).forward(x, training: false)
        XCTAssertEqual(three.shape, [1, 1, 6, 9])
        XCTAssertEqual(Array(three.scalars[0..<18]), [0, 0, 1 / 3, 2 / 3, 1, 2, 3, 4, 4, 0, 0, 1 / 3, 2 / 3, 1, 2, 3, 4, 4],
                       accuracy: 1e-6)
        XCTAssertEqual(Array(three.scalars[18..<27]),
                       [2 / 3, 2 / 3, 1, 4 / 3, 5 / 3, 17 / 9, 19 / 9, 7 / 3, 7 / 3], accuracy: 1e-6)
    }

    func testBilinearUpsampleGradient() {
        checkGradients(BilinearUpsample(scale: 2), input: randomTensor([2, 3, 4, 5], seed: 42))
        checkGradients(BilinearUpsample(scale: 3), input: randomTensor([1, 2, 3, 2], seed: 43))
        checkGradients(BilinearUpsample(scale: 2), input: randomTensor([1, 1, 1, 1], seed: 44))
    }
}

private func XCTAssertEqual(_ a: [Float], _ b: [Float], accuracy: Float, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "lengths", file: file, line: line)
    for (i, (x, y)) in zip(a, b).enumerated() { XCTAssertEqual(x, y, accuracy: accuracy, "[\(i)]", file: file, line: line) }
}

/// The depthwise kernels on rows wide enough for their vector paths (16, 8 and 4 outputs at a time and the
/// rest), strides 1 and 2, kernels 3 and 5, TF "same" and symmetric padding, against the grouped GEMM path.
final class DepthwiseVectorKernelTests: XCTestCase {
    func testWideRowsEqualGroupedGEMMPath() {
        defer { ConvolutionTuning.directDepthwise = true }
        let cases = [(3, 1, 1, 38), (5, 1, 2, 29), (3, 2, 0, 41), (5, 2, 1, 40), (5, 2, 2, 13), (3, 2, 1, 9)]
        for (index, (kernel, stride, padding, width)) in cases.enumerated() {
            let conv = Conv2d(3, 3, kernel: kernel, stride: stride, padding: padding, groups: 3)
            let x = randomTensor([2, 3, 11, width], seed: 60 + UInt64(index))
            conv.weight.value.assign(randomTensor(conv.weight.value.shape, seed: 70 + UInt64(index), scale: 0.3))
            conv.bias!.value.assign(randomTensor([3], seed: 80 + UInt64(index), scale: 0.1))
            func run() -> [[Float]] {
                let y = conv.forward(x, training: false).scalars
                let dx = conv.backward(randomTensor(conv.forward(x, training: false).shape, seed: 90),
                                       needsInputGradient: true, needsParameterGradients: false)!.scalars
                return [y, dx]
            }
            ConvolutionTuning.directDepthwise = true
            let direct = run()
            ConvolutionTuning.directDepthwise = false
            let viaGEMM = run()
            for (a, b) in zip(direct, viaGEMM) {
                XCTAssertEqual(a.count, b.count)
                for (u, v) in zip(a, b) { XCTAssertEqual(u, v, accuracy: 1e-5 * max(1, abs(v)), "kernel \(kernel) stride \(stride) width \(width)") }
            }
        }
    }

    /// 1 × 1 convolutions take their own path (one GEMM per sample): against the sums written out, finite
    /// differences and the im2col path.
    func testPointwiseConvolution() {
        let conv = Conv2d(3, 2, kernel: 1)
        conv.weight.value.assign(randomTensor([2, 3, 1, 1], seed: 100))
        conv.bias!.value.assign(randomTensor([2], seed: 101))
        let x = randomTensor([2, 3, 4, 5], seed: 102)
        let y = conv.forward(x, training: false)
        for n in 0..<2 {
            for o in 0..<2 {
                for p in 0..<20 {
                    var sum = conv.bias!.value[o]
                    for i in 0..<3 { sum += conv.weight.value[o * 3 + i] * x[(n * 3 + i) * 20 + p] }
                    XCTAssertEqual(y[(n * 2 + o) * 20 + p], sum, accuracy: 1e-5)
                }
            }
        }
        checkGradients(conv, input: x)
        // Against the im2col path, all three gradients, batch 3
        defer { ConvolutionTuning.directPointwise = true }
        let wide = Conv2d(5, 4, kernel: 1)
        wide.weight.value.assign(randomTensor([4, 5, 1, 1], seed: 105))
        wide.bias!.value.assign(randomTensor([4], seed: 106))
        let input = randomTensor([3, 5, 6, 7], seed: 107), gradient = randomTensor([3, 4, 6, 7], seed: 108)
        func run() -> [[Float]] {
            wide.zeroGradients()
            let y = wide.forward(input, training: true).scalars
            let dx = wide.backward(gradient).scalars
            return [y, dx, wide.weight.gradient.scalars, wide.bias!.gradient.scalars]
        }
        let direct = run()
        ConvolutionTuning.directPointwise = false
        for (a, b) in zip(direct, run()) {
            XCTAssertEqual(a.count, b.count)
            for (u, v) in zip(a, b) { XCTAssertEqual(u, v, accuracy: 1e-5 * max(1, abs(v))) }
        }
        let unbiased = Conv2d(4, 3, kernel: 1, bias: false)
        unbiased.weight.value.assign(randomTensor([3, 4, 1, 1], seed: 103))
        checkGradients(unbiased, input: randomTensor([3, 4, 2, 3], seed: 104))
    }
}
