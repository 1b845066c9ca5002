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
