import Foundation
import GradientChecking
import Neural
import XCTest

/// The layers of the few-shot models (FastGAN-class): forward against plain references written from
/// the PyTorch definitions here (float64 loops), backward by finite differences.
final class FewShotLayerTests: XCTestCase {
    private func initialise(_ layer: Layer, seed: UInt64, std: Float = 0.5) {
        var rng = RNG(seed: seed)
        for (_, parameter) in layer.parameters { rng.fillNormal(parameter.value.buffer, mean: 0, std: std) }
    }

    private func assertClose(_ actual: [Float], _ expected: [Double], accuracy: Double = 1e-5,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, "element count", file: file, line: line)
        for (i, (a, e)) in zip(actual, expected).enumerated() {
            XCTAssertEqual(Double(a), e, accuracy: accuracy * max(1, abs(e)), "[\(i)]", file: file, line: line)
        }
    }

    private func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

    // MARK: GLU, Sigmoid, SiLU

    func testGLUForwardAndGradients() {
        for shape in [[2, 6, 3, 2], [3, 4]] {
            let x = randomTensor(shape, seed: 1)
            let y = GLU().forward(x, training: true)
            var expectedShape = shape
            expectedShape[1] /= 2
            XCTAssertEqual(y.shape, expectedShape)
            let (n, half) = (shape[0], x.count / shape[0] / 2)
            var expected: [Double] = []
            for s in 0..<n {
                for e in 0..<half {
                    let (a, b) = (Double(x[2 * s * half + e]), Double(x[(2 * s + 1) * half + e]))
                    expected.append(a * sigmoid(b))
                }
            }
            assertClose(y.scalars, expected)
            checkGradients(GLU(), input: x)
        }
    }

    func testSigmoidAndSiLUForwardAndGradients() {
        let x = randomTensor([2, 3, 4, 3], seed: 2, scale: 3)
        assertClose(Sigmoid().forward(x, training: true).scalars, x.scalars.map { sigmoid(Double($0)) }, accuracy: 1e-6)
        assertClose(SiLU().forward(x, training: true).scalars, x.scalars.map { Double($0) * sigmoid(Double($0)) }, accuracy: 1e-6)
        checkGradients(Sigmoid(), input: x)
        checkGradients(SiLU(), input: x)
    }

    /// The tanh-based sigmoid against float64 over a dense range well into saturation; SiLU inherits
    /// its error times |x|.
    func testSigmoidAccuracyOverWideRange() {
        let x = Tensor(shape: [60_001])
        for i in 0..<x.count { x[i] = Float(i - 30_000) / 1_000 }   // −30 … 30
        let (s, silu) = (Sigmoid().forward(x, training: false), SiLU().forward(x, training: false))
        for i in 0..<x.count {
            let exact = sigmoid(Double(x[i]))
            XCTAssertEqual(Double(s[i]), exact, accuracy: 1e-6, "σ(\(x[i]))")
            XCTAssertTrue(s[i] >= 0 && s[i] <= 1, "σ(\(x[i])) = \(s[i])")
            XCTAssertEqual(Double(silu[i]), Double(x[i]) * exact, accuracy: 1e-6 * max(1, abs(Double(x[i]))), "silu(\(x[i]))")
        }
    }

    // MARK: Pooling

    /// Mean of x[n, c, rows, columns] for the reference pools.
    private func windowMean(_ x: Tensor, _ n: Int, _ c: Int, rows: Range<Int>, columns: Range<Int>) -> Double {
        let (channels, h, w) = (x.shape[1], x.shape[2], x.shape[3])
        var total = 0.0
        for row in rows { for column in columns { total += Double(x[((n * channels + c) * h + row) * w + column]) } }
        return total / Double(rows.count * columns.count)
    }

    private func referencePool(_ x: Tensor, outHeight: Int, outWidth: Int,
                               rows: (Int) -> Range<Int>, columns: (Int) -> Range<Int>) -> [Double] {
        var result: [Double] = []
        for n in 0..<x.shape[0] {
            for c in 0..<x.shape[1] {
                for oy in 0..<outHeight {
                    for ox in 0..<outWidth { result.append(windowMean(x, n, c, rows: rows(oy), columns: columns(ox))) }
                }
            }
        }
        return result
    }

    func testAvgPoolForwardAndGradients() {
        // (kernel, stride, input): stride = kernel; overlapping windows; gaps with a dropped edge (floor mode)
        for (kernel, stride, shape) in [(2, nil, [2, 3, 6, 4]), (3, 1, [1, 2, 5, 4]), (2, 3, [2, 2, 7, 6])] as [(Int, Int?, [Int])] {
            let pool = AvgPool2d(kernel: kernel, stride: stride)
            let s = stride ?? kernel
            let x = randomTensor(shape, seed: 3)
            let (oh, ow) = ((shape[2] - kernel) / s + 1, (shape[3] - kernel) / s + 1)
            let y = pool.forward(x, training: true)
            XCTAssertEqual(y.shape, [shape[0], shape[1], oh, ow])
            assertClose(y.scalars, referencePool(x, outHeight: oh, outWidth: ow,
                                                 rows: { ($0 * s)..<($0 * s + kernel) }, columns: { ($0 * s)..<($0 * s + kernel) }))
            checkGradients(pool, input: x)
        }
    }

    func testAdaptiveAvgPoolForwardAndGradients() {
        // PyTorch's windows: start = ⌊i·H/out⌋, end = ⌈(i+1)·H/out⌉, computed here in floating point.
        func window(_ i: Int, _ length: Int, _ out: Int) -> Range<Int> {
            Int(floor(Double(i * length) / Double(out)))..<Int(ceil(Double((i + 1) * length) / Double(out)))
        }
        for (size, shape) in [(3, [2, 2, 5, 7]), (4, [1, 3, 8, 8]), (1, [2, 3, 4, 3]), (4, [1, 2, 3, 6])] {
            let pool = AdaptiveAvgPool2d(size)
            let x = randomTensor(shape, seed: 4)
            let y = pool.forward(x, training: true)
            XCTAssertEqual(y.shape, [shape[0], shape[1], size, size])
            assertClose(y.scalars, referencePool(x, outHeight: size, outWidth: size,
                                                 rows: { window($0, shape[2], size) }, columns: { window($0, shape[3], size) }))
            checkGradients(pool, input: x)
        }
    }

    // MARK: Grouped and depthwise convolution

    /// Grouped convolution equals `groups` separate convolutions on channel slices, forward and backward.
    func testGroupedConvEqualsSeparateConvsOnChannelSlices() {
        let (groups, inPer, outPer) = (3, 2, 4)
        let grouped = Conv2d(groups * inPer, groups * outPer, kernel: 3, stride: 2, padding: 1, groups: groups)
        initialise(grouped, seed: 5)
        XCTAssertEqual(grouped.weight.value.shape, [groups * outPer, inPer, 3, 3])
        let x = randomTensor([2, groups * inPer, 7, 6], seed: 6)
        let y = grouped.forward(x, training: true).copy()
        XCTAssertEqual(grouped.lastForwardMultiplyAdds, 2 * groups * outPer * y.shape[2] * y.shape[3] * inPer * 9)
        let dy = randomTensor(y.shape, seed: 7)
        grouped.zeroGradients()
        let dx = grouped.backward(dy).copy()
        let (n, h, w, oh, ow) = (2, 7, 6, y.shape[2], y.shape[3])
        for g in 0..<groups {
            let single = Conv2d(inPer, outPer, kernel: 3, stride: 2, padding: 1)
            let perFilter = inPer * 9
            single.weight.value.buffer.baseAddress!.update(from: grouped.weight.value.data + g * outPer * perFilter, count: outPer * perFilter)
            single.bias!.value.buffer.baseAddress!.update(from: grouped.bias!.value.data + g * outPer, count: outPer)
            let slice = Tensor(shape: [n, inPer, h, w])
            let sliceGradient = Tensor(shape: [n, outPer, oh, ow])
            for s in 0..<n {
                (slice.data + s * inPer * h * w).update(from: x.data + (s * groups * inPer + g * inPer) * h * w, count: inPer * h * w)
                (sliceGradient.data + s * outPer * oh * ow).update(from: dy.data + (s * groups * outPer + g * outPer) * oh * ow,
                                                                   count: outPer * oh * ow)
            }
            let ySingle = single.forward(slice, training: true)
            single.zeroGradients()
            let dxSingle = single.backward(sliceGradient)
            for s in 0..<n {
                for i in 0..<(outPer * oh * ow) {
                    XCTAssertEqual(y[(s * groups * outPer + g * outPer) * oh * ow + i], ySingle[s * outPer * oh * ow + i], accuracy: 1e-5)
                }
                for i in 0..<(inPer * h * w) {
                    XCTAssertEqual(dx[(s * groups * inPer + g * inPer) * h * w + i], dxSingle[s * inPer * h * w + i], accuracy: 1e-5)
                }
            }
            for i in 0..<(outPer * perFilter) {
                XCTAssertEqual(grouped.weight.gradient[g * outPer * perFilter + i], single.weight.gradient[i], accuracy: 1e-4)
            }
            for i in 0..<outPer { XCTAssertEqual(grouped.bias!.gradient[g * outPer + i], single.bias!.gradient[i], accuracy: 1e-4) }
        }
        checkGradients(grouped, input: x)
    }

    /// The direct depthwise kernels against the grouped GEMM path (one GEMM chunk per sample), on odd
    /// sizes, strides 1 and 2, kernels 3 and 5, with and without bias; padding ≥ kernel takes the
    /// scatter path at stride 1 too.
    func testDepthwiseDirectKernelsEqualGroupedGEMMPath() {
        let savedBudget = ConvolutionTuning.columnBudget
        defer { (ConvolutionTuning.directDepthwise, ConvolutionTuning.columnBudget) = (true, savedBudget) }
        let cases = [(3, 1, 1, true), (3, 2, 1, false), (5, 1, 2, true), (5, 2, 0, true), (3, 1, 3, false)]
        for (index, (kernel, stride, padding, bias)) in cases.enumerated() {
            let conv = Conv2d(5, 5, kernel: kernel, stride: stride, padding: padding, bias: bias, groups: 5)
            initialise(conv, seed: 10 + UInt64(index))
            let x = randomTensor([3, 5, 9, 7], seed: 20 + UInt64(index))
            func run() -> [[Float]] {
                let y = conv.forward(x, training: true).scalars
                let multiplyAdds = conv.lastForwardMultiplyAdds
                conv.zeroGradients()
                let dx = conv.backward(randomTensor(conv.forward(x, training: true).shape, seed: 30)).scalars
                return [y, dx, conv.weight.gradient.scalars, conv.bias?.gradient.scalars ?? [], [Float(multiplyAdds)]]
            }
            ConvolutionTuning.directDepthwise = true
            let direct = run()
            (ConvolutionTuning.directDepthwise, ConvolutionTuning.columnBudget) = (false, 1)
            let viaGEMM = run()
            ConvolutionTuning.columnBudget = savedBudget
            for (a, b) in zip(direct, viaGEMM) {
                XCTAssertEqual(a.count, b.count)
                for (u, v) in zip(a, b) { XCTAssertEqual(u, v, accuracy: 1e-4 * max(1, abs(v)), "kernel \(kernel) stride \(stride)") }
            }
            let (oh, ow) = ((9 + 2 * padding - kernel) / stride + 1, (7 + 2 * padding - kernel) / stride + 1)
            XCTAssertEqual(direct[4], [Float(3 * 5 * oh * ow * kernel * kernel)])
        }
    }

    func testDepthwiseGradients() {
        for (index, (kernel, stride)) in [(3, 1), (3, 2), (5, 1), (5, 2)].enumerated() {
            let conv = Conv2d(4, 4, kernel: kernel, stride: stride, padding: kernel / 2, groups: 4)
            initialise(conv, seed: 40 + UInt64(index))
            checkGradients(conv, input: randomTensor([2, 4, 7, 6], seed: 50 + UInt64(index)))
        }
    }

    /// Spectral norm wraps grouped and depthwise convolutions: rows are the output channels, the
    /// columns one filter (in/groups · k²).
    func testSpectralNormOnGroupedAndDepthwiseConv() {
        var rng = RNG(seed: 60)
        for (groups, channels) in [(2, 4), (6, 6)] {
            let conv = Conv2d(channels, channels, kernel: 3, stride: 1, padding: 1, groups: groups)
            initialise(conv, seed: 61)
            let wrapped = SpectralNorm(conv, rng: &rng)
            XCTAssertEqual(wrapped.u.shape, [channels])
            XCTAssertEqual(wrapped.v.shape, [channels / groups * 9])
            _ = wrapped.forward(randomTensor([1, channels, 4, 4], seed: 62), training: true)
            checkGradients(wrapped, input: randomTensor([2, channels, 5, 4], seed: 63), training: false)
        }
    }

    // MARK: Padding, blur, noise

    func testZeroPadForwardAndGradients() {
        let pad = ZeroPad2d(left: 0, right: 1, top: 2, bottom: 1)
        let x = randomTensor([2, 3, 4, 5], seed: 70)
        let y = pad.forward(x, training: true)
        XCTAssertEqual(y.shape, [2, 3, 7, 6])
        var expected: [Double] = []
        for plane in 0..<6 {
            for row in 0..<7 {
                for column in 0..<6 {
                    let (r, c) = (row - 2, column)
                    expected.append(r >= 0 && r < 4 && c < 5 ? Double(x[(plane * 4 + r) * 5 + c]) : 0)
                }
            }
        }
        assertClose(y.scalars, expected)
        checkGradients(pad, input: x)
    }

    func testBlurForwardAndGradients() {
        let x = randomTensor([2, 3, 5, 4], seed: 71)
        let y = Blur().forward(x, training: true)
        XCTAssertEqual(y.shape, x.shape)
        let taps: [Double] = [1, 2, 1]
        var expected: [Double] = []
        for plane in 0..<6 {
            for row in 0..<5 {
                for column in 0..<4 {
                    var total = 0.0
                    for i in 0..<3 {
                        for j in 0..<3 {
                            let (r, c) = (row + i - 1, column + j - 1)
                            if r >= 0 && r < 5 && c >= 0 && c < 4 { total += taps[i] * taps[j] / 16 * Double(x[(plane * 5 + r) * 4 + c]) }
                        }
                    }
                    expected.append(total)
                }
            }
        }
        assertClose(y.scalars, expected)
        // A constant picture stays constant away from the zero-padded border.
        let flat = Blur().forward(Tensor(shape: [1, 1, 5, 5], repeating: 2), training: false)
        XCTAssertEqual(flat[2 * 5 + 2], 2, accuracy: 1e-6)
        checkGradients(Blur(), input: x)
        XCTAssertTrue(Blur().parameters.isEmpty)
    }

    /// Replays the same noise in every forward (restores the shared stream first), so finite
    /// differences see one function.
    private final class ReplayedNoise: Layer {
        let inner: NoiseInjection
        let start: RNG
        init(_ inner: NoiseInjection) { (self.inner, start) = (inner, inner.source.rng) }
        var sublayers: [(name: String, layer: Layer)] { [("inner", inner)] }
        func forward(_ input: Tensor, training: Bool) -> Tensor {
            inner.source.rng = start
            return inner.forward(input, training: training)
        }
        func backward(_ outputGradient: Tensor, needsInputGradient: Bool, needsParameterGradients: Bool) -> Tensor? {
            inner.backward(outputGradient, needsInputGradient: needsInputGradient, needsParameterGradients: needsParameterGradients)
        }
    }

    func testNoiseInjection() {
        let source = RandomSource(seed: 80)
        let noise = NoiseInjection(source: source)
        var rng = RNG(seed: 1)
        noise.weight.value[0] = 5
        Initialization.kaiming(slope: 0.2).apply(to: noise, rng: &rng)
        XCTAssertEqual(noise.weight.value.scalars, [0])
        XCTAssertEqual(noise.parameters.map(\.name), ["weight"])

        let x = randomTensor([2, 3, 4, 5], seed: 81)
        noise.weight.value[0] = 0.7
        // Eval: y = x, and the shared stream does not move.
        XCTAssertEqual(noise.forward(x, training: false).scalars, x.scalars)
        XCTAssertEqual(source.rng, RNG(seed: 80))
        // Training: one N × 1 × H × W map from the shared stream, the same for every channel.
        let y = noise.forward(x, training: true).copy()   // the layer reuses its output tensor
        var expectedStream = RNG(seed: 80)
        let map = expectedStream.normals(2 * 4 * 5)
        XCTAssertEqual(source.rng, expectedStream, "the layer drew exactly N·H·W normals from the shared stream")
        for n in 0..<2 {
            for c in 0..<3 {
                for p in 0..<20 {
                    let i = (n * 3 + c) * 20 + p
                    XCTAssertEqual(y[i], x[i] + 0.7 * map[n * 20 + p], accuracy: 1e-6)
                }
            }
        }
        // Another training forward draws new noise.
        XCTAssertNotEqual(noise.forward(x, training: true).scalars, y.scalars)
        checkGradients(ReplayedNoise(noise), input: x)
    }

    /// Owned buffers: once warmed up at the larger batch, passes at either batch size (D sees 2N and N
    /// in one step) allocate no tensor storage.
    func testWarmedUpPassesAllocateNothing() {
        var rng = RNG(seed: 130)
        let model = Sequential([Conv2d(3, 8, kernel: 3, stride: 1, padding: 1), GLU(), Conv2d(4, 4, kernel: 3, stride: 2, padding: 1, groups: 4),
                                Conv2d(4, 4, kernel: 3, stride: 1, padding: 1, groups: 2), NoiseInjection(source: RandomSource(seed: 131)),
                                Blur(), SiLU(), ZeroPad2d(left: 0, right: 1, top: 0, bottom: 1), AvgPool2d(kernel: 2),
                                AdaptiveAvgPool2d(3), Sigmoid(), Reshape([4 * 9]), Linear(4 * 9, 6), GLU()])
        Initialization.kaiming(slope: 0.2).apply(to: model, rng: &rng)
        let inputs = [randomTensor([3, 3, 12, 10], seed: 132), randomTensor([2, 3, 12, 10], seed: 133)]
        let gradients = [randomTensor([3, 3], seed: 134), randomTensor([2, 3], seed: 135)]
        func pass(_ index: Int) {
            _ = model.forward(inputs[index], training: true)
            model.backward(gradients[index])
        }
        pass(0)
        pass(1)
        let before = Tensor.storageAllocations
        for index in [0, 1, 0, 1] { pass(index) }
        XCTAssertEqual(Tensor.storageAllocations, before)
    }

    // MARK: Tensor arithmetic and L1

    func testElementwiseArithmetic() {
        let (a, b) = (randomTensor([2, 3, 4, 5], seed: 90), randomTensor([2, 3, 4, 5], seed: 91))
        let sum = Tensor(shape: [0])
        sum.add(a, b)
        XCTAssertEqual(sum.shape, a.shape)
        for i in 0..<a.count { XCTAssertEqual(sum[i], a[i] + b[i]) }
        let t = a.copy()
        t.add(b)
        XCTAssertEqual(t.scalars, sum.scalars)
        t.add(b, scaledBy: -0.5)
        t.scale(by: 2)
        for i in 0..<a.count { XCTAssertEqual(t[i], 2 * (a[i] + 0.5 * b[i]), accuracy: 1e-5) }
        // Large enough to be split over the workers.
        let (big, other) = (randomTensor([70_000], seed: 92), randomTensor([70_000], seed: 93))
        let bigSum = big.copy()
        bigSum.add(other, scaledBy: 3)
        for i in Swift.stride(from: 0, to: big.count, by: 997) { XCTAssertEqual(bigSum[i], big[i] + 3 * other[i], accuracy: 1e-5) }
    }

    func testChannelGateValuesAndGradients() {
        let (a, gate) = (randomTensor([2, 3, 4, 5], seed: 100), randomTensor([2, 3, 1, 1], seed: 101))
        let y = Tensor(shape: [0])
        y.multiply(a, byChannelGate: gate)
        XCTAssertEqual(y.shape, a.shape)
        for i in 0..<a.count { XCTAssertEqual(y[i], a[i] * gate[i / 20]) }
        // L = Σ y ⊙ r: gradients against finite differences (L is bilinear, so central differences are exact up to rounding).
        let r = randomTensor(a.shape, seed: 102)
        func loss() -> Double {
            y.multiply(a, byChannelGate: gate)
            return (0..<y.count).reduce(0) { $0 + Double(y[$1]) * Double(r[$1]) }
        }
        let (da, dgate) = (Tensor(shape: [0]), Tensor(shape: [0]))
        Tensor.channelGateGradients(outputGradient: r, input: a, gate: gate, inputGradient: da, gateGradient: dgate)
        XCTAssertEqual(da.shape, a.shape)
        XCTAssertEqual(dgate.shape, [2, 3, 1, 1])
        for (values, gradient) in [(a, da), (gate, dgate)] {
            for i in Swift.stride(from: 0, to: values.count, by: 3) {
                XCTAssertEqual(Double(gradient[i]), centralDifference(values, i, epsilon: 0.01, loss),
                               accuracy: 1e-3 * max(1, abs(Double(gradient[i]))))
            }
        }
    }

    /// crop reads the window; addUncropped is its adjoint: ⟨crop(x), g⟩ = ⟨x, addUncropped(g)⟩ on zeros,
    /// and it adds to what is there.
    func testCropAndItsAdjoint() {
        let x = randomTensor([2, 3, 6, 7], seed: 110)
        let window = Tensor(shape: [0])
        window.crop(x, top: 1, left: 2, height: 4, width: 3)
        XCTAssertEqual(window.shape, [2, 3, 4, 3])
        for plane in 0..<6 {
            for row in 0..<4 {
                for column in 0..<3 { XCTAssertEqual(window[(plane * 4 + row) * 3 + column], x[(plane * 6 + row + 1) * 7 + column + 2]) }
            }
        }
        let g = randomTensor([2, 3, 4, 3], seed: 111)
        let spread = Tensor(shape: [2, 3, 6, 7])
        spread.addUncropped(g, top: 1, left: 2)
        let lhs = (0..<g.count).reduce(0.0) { $0 + Double(window[$1]) * Double(g[$1]) }
        let rhs = (0..<x.count).reduce(0.0) { $0 + Double(x[$1]) * Double(spread[$1]) }
        XCTAssertEqual(lhs, rhs, accuracy: 1e-4)
        let base = randomTensor([2, 3, 6, 7], seed: 112)
        let added = base.copy()
        added.addUncropped(g, top: 1, left: 2)
        for i in 0..<base.count { XCTAssertEqual(added[i], base[i] + spread[i]) }
    }

    func testMeanAbsoluteError() {
        let (p, t) = (randomTensor([2, 3, 2, 2], seed: 120), randomTensor([2, 3, 2, 2], seed: 121))
        t[5] = p[5]   // equality: gradient 0
        let gradient = Tensor(shape: [0])
        let loss = meanAbsoluteError(p, t, gradient: gradient)
        XCTAssertEqual(gradient.shape, p.shape)
        let expected = (0..<p.count).reduce(0.0) { $0 + abs(Double(p[$1]) - Double(t[$1])) } / Double(p.count)
        XCTAssertEqual(Double(loss), expected, accuracy: 1e-6)
        XCTAssertEqual(gradient[5], 0)
        let scratch = Tensor(shape: [0])
        for i in 0..<p.count where i != 5 {
            let saved = p[i]
            p[i] = saved + 1e-3
            let plus = meanAbsoluteError(p, t, gradient: scratch)
            p[i] = saved - 1e-3
            let minus = meanAbsoluteError(p, t, gradient: scratch)
            p[i] = saved
            XCTAssertEqual(gradient[i], (plus - minus) / 2e-3, accuracy: 1e-3)
        }
    }
}
