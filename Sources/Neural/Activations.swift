/// An element-wise layer: y = f(x); backward multiplies by f′ computed from the kept output
/// (ReLU, Tanh) or input (LeakyReLU). Shape unchanged.
public class ElementwiseLayer: Layer {
    let output = Tensor(shape: [0])
    let inputGradient = Tensor(shape: [0])
    var input: Tensor?

    func apply(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) { fatalError("abstract") }
    /// dx = dy · f′, from x (the input) and y (the output).
    func derive(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                _ dx: UnsafeMutablePointer<Float>, _ count: Int) { fatalError("abstract") }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        self.input = input
        if output.shape != input.shape { output.resize(to: input.shape) }
        let (x, y) = (UnsafePointer(input.data), output.data)
        Parallel.chunks(input.count, cost: 4) { self.apply(x + $0.lowerBound, y + $0.lowerBound, $0.count) }
        return output
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool, needsParameterGradients: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        guard let input else { preconditionFailure("backward before forward") }
        precondition(outputGradient.count == output.count, "backward: gradient \(outputGradient.shape) for output \(output.shape)")
        if inputGradient.shape != input.shape { inputGradient.resize(to: input.shape) }
        let (x, y, dy, dx) = (UnsafePointer(input.data), UnsafePointer(output.data), UnsafePointer(outputGradient.data), inputGradient.data)
        Parallel.chunks(output.count, cost: 4) { r in
            self.derive(x + r.lowerBound, y + r.lowerBound, dy + r.lowerBound, dx + r.lowerBound, r.count)
        }
        return inputGradient
    }
}

/// max(0, x).
public final class ReLU: ElementwiseLayer {
    public override init() {}
    override func apply(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        for i in 0..<count { y[i] = max(0, x[i]) }
    }
    override func derive(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                         _ dx: UnsafeMutablePointer<Float>, _ count: Int) {
        // Multiplying by a selected factor keeps the loads unconditional, so the loop vectorises.
        for i in 0..<count { dx[i] = dy[i] * (y[i] > 0 ? 1 : 0) }
    }
}

/// min(max(x, 0), 6), MobileNet's and EfficientNet-Lite's activation; f′ is 1 strictly between the clips.
public final class ReLU6: ElementwiseLayer {
    public override init() {}
    override func apply(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        for i in 0..<count { y[i] = min(max(x[i], 0), 6) }
    }
    override func derive(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                         _ dx: UnsafeMutablePointer<Float>, _ count: Int) {
        for i in 0..<count { dx[i] = dy[i] * (y[i] > 0 && y[i] < 6 ? 1 : 0) }
    }
}

/// y = scale · x + shift with fixed numbers (an input normalisation); f′ = scale.
public final class Affine: ElementwiseLayer {
    public let scale, shift: Float
    public init(scale: Float, shift: Float) { (self.scale, self.shift) = (scale, shift) }
    override func apply(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        let (a, b) = (scale, shift)
        for i in 0..<count { y[i] = a * x[i] + b }
    }
    override func derive(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                         _ dx: UnsafeMutablePointer<Float>, _ count: Int) {
        let a = scale
        for i in 0..<count { dx[i] = a * dy[i] }
    }
}

/// x for x > 0, slope · x otherwise (PyTorch's default slope is 0.01; DCGAN uses 0.2).
public final class LeakyReLU: ElementwiseLayer {
    public let slope: Float
    public init(_ slope: Float = 0.01) { self.slope = slope }
    override func apply(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        let slope = slope
        for i in 0..<count { y[i] = x[i] * (x[i] > 0 ? 1 : slope) }
    }
    override func derive(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                         _ dx: UnsafeMutablePointer<Float>, _ count: Int) {
        let slope = slope
        for i in 0..<count { dx[i] = dy[i] * (x[i] > 0 ? 1 : slope) }
    }
}

/// tanh(x); f′ = 1 − y². Computed by `fastTanh` (no libm call, so the loop vectorises).
public final class Tanh: ElementwiseLayer {
    public override init() {}
    override func apply(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        for i in 0..<count { y[i] = fastTanh(x[i]) }
    }
    override func derive(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                         _ dx: UnsafeMutablePointer<Float>, _ count: Int) {
        for i in 0..<count { dx[i] = dy[i] * (1 - y[i] * y[i]) }
    }
}

/// σ(x) = 1 / (1 + e⁻ˣ); f′ = y (1 − y).
public final class Sigmoid: ElementwiseLayer {
    public override init() {}
    override func apply(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        for i in 0..<count { y[i] = fastSigmoid(x[i]) }
    }
    override func derive(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                         _ dx: UnsafeMutablePointer<Float>, _ count: Int) {
        for i in 0..<count { dx[i] = dy[i] * y[i] * (1 - y[i]) }
    }
}

/// SiLU (Swish): x · σ(x); f′ = σ(x) (1 + x (1 − σ(x))), with σ recomputed from the input
/// (y / x would divide by zero).
public final class SiLU: ElementwiseLayer {
    public override init() {}
    override func apply(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        for i in 0..<count { y[i] = x[i] * fastSigmoid(x[i]) }
    }
    override func derive(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                         _ dx: UnsafeMutablePointer<Float>, _ count: Int) {
        for i in 0..<count {
            let s = fastSigmoid(x[i])
            dx[i] = dy[i] * s * (1 + x[i] * (1 - s))
        }
    }
}

/// tanh(x) by a rational minimax approximation (odd degree-13 numerator over even degree-6
/// denominator, the one Eigen uses) on x clamped to ±7.905: no libm call, so loops over it vectorise;
/// absolute error below 4e-7 against float64 tanh (checked over [−10, 10]); saturates within [−1, 1].
@inline(__always)
func fastTanh(_ x: Float) -> Float {
    let v = min(max(x, -7.905_311), 7.905_311)
    let v2 = v * v
    var p: Float = -2.760_768_5e-16
    p = p * v2 + 2.000_187_9e-13
    p = p * v2 - 8.604_671_5e-11
    p = p * v2 + 5.122_297_1e-08
    p = p * v2 + 1.485_722_4e-05
    p = p * v2 + 6.372_619_3e-04
    p = p * v2 + 4.893_524_6e-03
    var q: Float = 1.198_258_4e-06
    q = q * v2 + 1.185_347_1e-04
    q = q * v2 + 2.268_434_6e-03
    q = q * v2 + 4.893_525_2e-03
    return min(max(v * p / q, -1), 1)
}

/// σ(x) = (1 + tanh(x/2)) / 2: no exponential, so it cannot overflow and vectorises; absolute error
/// below 1e-6 against float64 (half tanh's, plus rounding). Saturates to exactly 0 and 1 for |x| > 15.8.
@inline(__always)
func fastSigmoid(_ x: Float) -> Float {
    0.5 + 0.5 * fastTanh(0.5 * x)
}

/// Nearest-neighbour upsampling by an integer factor, PyTorch's `nn.Upsample(scale_factor:, mode: "nearest")`.
/// x: N × C × H × W → N × C × sH × sW.
public final class Upsample: Layer {
    public let scale: Int
    private let output = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])
    private var inputShape: [Int] = []

    public init(scale: Int) {
        precondition(scale > 0)
        self.scale = scale
    }

    // x: N × C × H × W → y: N × C × sH × sW, y[.., i, j] = x[.., i / s, j / s]
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.shape.count == 4, "Upsample got \(input.shape)")
        inputShape = input.shape
        Upsample.nearest(input, scale: scale, into: output)
        return output
    }

    /// `output` = `input` (N × C × H × W) up-sampled by `scale`: N × C × sH × sW.
    static func nearest(_ input: Tensor, scale s: Int, into output: Tensor) {
        let (planes, h, w) = (input.shape[0] * input.shape[1], input.shape[2], input.shape[3])
        output.resize(input.shape[0], input.shape[1], h * s, w * s)
        let (x, y) = (UnsafePointer(input.data), output.data)
        Parallel.chunks(planes, cost: h * w * s * s) { range in
            for p in range {
                for row in 0..<(h * s) {
                    let source = x + p * h * w + (row / s) * w
                    let target = y + (p * h * s + row) * w * s
                    for col in 0..<(w * s) { target[col] = source[col / s] }
                }
            }
        }
    }

    // dy: N × C × sH × sW → dx: N × C × H × W, each input pixel the sum of its s × s copies' gradients
    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool, needsParameterGradients: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        let (planes, h, w, s) = (inputShape[0] * inputShape[1], inputShape[2], inputShape[3], scale)
        precondition(outputGradient.count == planes * h * w * s * s)
        inputGradient.resize(inputShape[0], inputShape[1], h, w)
        let (dy, dx) = (UnsafePointer(outputGradient.data), inputGradient.data)
        Parallel.chunks(planes, cost: h * w * s * s) { range in
            for p in range {
                (dx + p * h * w).update(repeating: 0, count: h * w)
                for row in 0..<(h * s) {
                    let target = dx + p * h * w + (row / s) * w
                    let source = dy + (p * h * s + row) * w * s
                    for col in 0..<(w * s) { target[col / s] += source[col] }
                }
            }
        }
        return inputGradient
    }
}

/// Gated linear unit, PyTorch's `nn.GLU(dim: 1)`: the first half of the channels, gated by the
/// sigmoid of the second half. Works on N × 2C × H × W and on N × 2C.
public final class GLU: Layer {
    private let output = Tensor(shape: [0])
    private let gate = Tensor(shape: [0])             // σ(b), kept for backward
    private let inputGradient = Tensor(shape: [0])
    private var input: Tensor?

    public init() {}

    // x: N × 2C × … → y = a ⊙ σ(b): N × C × …, with a = x[:, ..<C], b = x[:, C...]
    public func forward(_ input: Tensor, training: Bool) -> Tensor { run(input, keepingGate: true) }

    // The same without keeping σ(b) for a backward.
    public func infer(_ input: Tensor) -> Tensor { run(input, keepingGate: false) }

    private func run(_ input: Tensor, keepingGate: Bool) -> Tensor {
        precondition(input.shape.count >= 2 && input.shape[1] % 2 == 0, "GLU needs an even channel count, got \(input.shape)")
        self.input = keepingGate ? input : nil
        resizeHalvingChannels(output, input.shape)
        if keepingGate { resizeHalvingChannels(gate, input.shape) }
        let (x, y, g) = (UnsafePointer(input.data), output.data, gate.data)
        let half = output.count / input.shape[0]   // C · H · W: a and b of one sample are this far apart
        forEachSpan(samples: input.shape[0], half: half) { sample, range in
            let (a, b) = (x + 2 * sample * half, x + (2 * sample + 1) * half)
            let out = y + sample * half
            if keepingGate {
                let gateOut = g + sample * half
                for e in range {
                    let s = fastSigmoid(b[e])
                    gateOut[e] = s
                    out[e] = a[e] * s
                }
            } else {
                for e in range { out[e] = a[e] * fastSigmoid(b[e]) }
            }
        }
        return output
    }

    // dy: N × C × … → dx: N × 2C × …; da = dy ⊙ σ(b), db = dy ⊙ a ⊙ σ(b)(1 − σ(b))
    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool, needsParameterGradients: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        guard let input else { preconditionFailure("GLU: backward before forward") }
        precondition(outputGradient.count == output.count, "GLU backward: gradient \(outputGradient.shape) for output \(output.shape)")
        if inputGradient.shape != input.shape { inputGradient.resize(to: input.shape) }
        let (x, g, dy, dx) = (UnsafePointer(input.data), UnsafePointer(gate.data), UnsafePointer(outputGradient.data), inputGradient.data)
        let half = output.count / input.shape[0]
        forEachSpan(samples: input.shape[0], half: half) { sample, range in
            let a = x + 2 * sample * half
            let (da, db) = (dx + 2 * sample * half, dx + (2 * sample + 1) * half)
            let (gradient, s) = (dy + sample * half, g + sample * half)
            for e in range {
                da[e] = gradient[e] * s[e]
                db[e] = gradient[e] * a[e] * s[e] * (1 - s[e])
            }
        }
        return inputGradient
    }

    private func resizeHalvingChannels(_ t: Tensor, _ shape: [Int]) {
        if shape.count == 4 { return t.resize(shape[0], shape[1] / 2, shape[2], shape[3]) }
        var halved = shape
        halved[1] /= 2
        if t.shape != halved { t.resize(to: halved) }
    }

    /// Splits samples × half over the workers and calls `body` per sample with its part of 0..<half,
    /// so a single large sample is split too.
    private func forEachSpan(samples: Int, half: Int, _ body: (Int, Range<Int>) -> Void) {
        Parallel.chunks(samples * half, cost: 24) { range in
            var index = range.lowerBound
            while index < range.upperBound {
                let sample = index / half
                let end = min(range.upperBound, (sample + 1) * half)
                body(sample, (index - sample * half)..<(end - sample * half))
                index = end
            }
        }
    }
}
