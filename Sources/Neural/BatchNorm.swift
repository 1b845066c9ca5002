/// PyTorch's `nn.BatchNorm2d` (affine, momentum 0.1, eps 1e-5).
///
/// Training: normalises with the batch's mean and biased variance per channel and moves the running
/// mean and the (unbiased) running variance towards them. Eval: uses the running statistics, a per-channel
/// affine map that a convolution before it applies in `Sequential.infer`.
public final class BatchNorm2d: ChannelAffineInEval {
    public let channels: Int
    public let momentum: Float
    public let epsilon: Float
    public let weight: Parameter
    public let bias: Parameter
    public let runningMean: Tensor
    public let runningVar: Tensor

    private var normalized = Tensor(shape: [0])     // x̂, kept for backward
    private let inverseStd: Tensor
    private let output = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])
    private var trainedForward = false
    private var lastInput: Tensor?

    public init(_ channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        precondition(channels > 0)
        (self.channels, self.momentum, self.epsilon) = (channels, momentum, epsilon)
        weight = Parameter(Tensor(shape: [channels], repeating: 1))
        bias = Parameter(Tensor(shape: [channels]))
        runningMean = Tensor(shape: [channels])
        runningVar = Tensor(shape: [channels], repeating: 1)
        inverseStd = Tensor(shape: [channels])
    }

    public var ownParameters: [(name: String, parameter: Parameter)] { [("weight", weight), ("bias", bias)] }
    public var ownBuffers: [(name: String, tensor: Tensor)] { [("running_mean", runningMean), ("running_var", runningVar)] }

    public func initializeOwnParameters(_ scheme: Initialization, rng: inout RNG) {
        scheme.initialize(scale: weight.value, shift: bias.value, rng: &rng)
    }

    // x: N × C × H × W → y = γ (x − μ)/σ + β, same shape
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.shape.count == 4 && input.shape[1] == channels, "BatchNorm2d(\(channels)) got \(input.shape)")
        let (n, grid) = (input.shape[0], input.shape[2] * input.shape[3])
        let count = n * grid
        precondition(!training || count > 1, "BatchNorm2d: training needs more than one value per channel")
        output.resize(n, channels, input.shape[2], input.shape[3])
        normalized.resize(n, channels, input.shape[2], input.shape[3])
        trainedForward = training
        lastInput = input
        let (x, y, xhat) = (UnsafePointer(input.data), output.data, normalized.data)
        let (gamma, beta, mean, variance, invStd) = (weight.value.data, bias.value.data, runningMean.data, runningVar.data, inverseStd.data)
        let (momentum, epsilon) = (momentum, epsilon)
        Parallel.chunks(channels, cost: 3 * count) { range in
            for c in range {
                var mu: Float, inv: Float
                if training {
                    var sum: Double = 0, squares: Double = 0
                    for b in 0..<n {
                        let plane = x + (b * self.channels + c) * grid
                        for i in 0..<grid { let v = Double(plane[i]); sum += v; squares += v * v }
                    }
                    let m = sum / Double(count)
                    let v = max(0, squares / Double(count) - m * m)
                    mu = Float(m)
                    inv = Float(1 / (v + Double(epsilon)).squareRoot())
                    mean[c] = (1 - momentum) * mean[c] + momentum * mu
                    variance[c] = (1 - momentum) * variance[c] + momentum * Float(v * Double(count) / Double(count - 1))
                } else {
                    mu = mean[c]
                    inv = 1 / (variance[c] + epsilon).squareRoot()
                }
                invStd[c] = inv
                let (g, bb) = (gamma[c], beta[c])
                for b in 0..<n {
                    let offset = (b * self.channels + c) * grid
                    if training {
                        for i in 0..<grid {
                            let h = (x[offset + i] - mu) * inv
                            xhat[offset + i] = h
                            y[offset + i] = g * h + bb
                        }
                    } else {
                        // Eval (generation) skips storing x̂; a backward in eval rebuilds it from the input.
                        let (scale, shift) = (g * inv, bb - g * inv * mu)
                        for i in 0..<grid { y[offset + i] = scale * x[offset + i] + shift }
                    }
                }
            }
        }
        return output
    }

    /// y = γ (x − μ_running)/σ_running + β as scale · x + shift, the eval forward's own numbers.
    public func composeEvalMap(scale: UnsafeMutablePointer<Float>, shift: UnsafeMutablePointer<Float>, channels: Int) {
        precondition(channels == self.channels, "BatchNorm2d(\(self.channels)) after \(channels) channels")
        let (gamma, beta, mean, variance) = (weight.value.data, bias.value.data, runningMean.data, runningVar.data)
        for c in 0..<channels {
            let inv = 1 / (variance[c] + epsilon).squareRoot()
            let (a, b) = (gamma[c] * inv, beta[c] - gamma[c] * inv * mean[c])
            (scale[c], shift[c]) = (a * scale[c], a * shift[c] + b)
        }
    }

    // dy: N × C × H × W → dx: N × C × H × W; dγ, dβ: C (batch statistics: dx also flows through mean and variance)
    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool, needsParameterGradients: Bool) -> Tensor? {
        let shape = normalized.shape
        let (n, grid) = (shape[0], shape[2] * shape[3])
        let count = Float(n * grid)
        precondition(outputGradient.count == normalized.count, "BatchNorm2d backward: gradient \(outputGradient.shape)")
        if needsInputGradient { inputGradient.resize(shape[0], shape[1], shape[2], shape[3]) }
        let (dy, xhat, dx) = (UnsafePointer(outputGradient.data), UnsafePointer(normalized.data), inputGradient.data)
        let (gamma, dGamma, dBeta, invStd) = (weight.value.data, weight.gradient.data, bias.gradient.data, inverseStd.data)
        let trained = trainedForward
        if !trained, let input = lastInput {
            let (x, target, mean, invStd) = (UnsafePointer(input.data), normalized.data, runningMean.data, inverseStd.data)
            for b in 0..<n {
                for c in 0..<channels {
                    let offset = (b * channels + c) * grid
                    for i in 0..<grid { target[offset + i] = (x[offset + i] - mean[c]) * invStd[c] }
                }
            }
        }
        Parallel.chunks(channels, cost: 4 * n * grid) { range in
            for c in range {
                var sumDy: Float = 0, sumDyXhat: Float = 0
                for b in 0..<n {
                    let offset = (b * self.channels + c) * grid
                    for i in 0..<grid { sumDy += dy[offset + i]; sumDyXhat += dy[offset + i] * xhat[offset + i] }
                }
                if needsParameterGradients { dGamma[c] += sumDyXhat; dBeta[c] += sumDy }
                guard needsInputGradient else { continue }
                let scale = gamma[c] * invStd[c]
                // Batch statistics depend on x: dx = γσ⁻¹ (dy − mean(dy) − x̂·mean(dy·x̂)); running ones do not.
                let (meanDy, meanDyXhat) = trained ? (sumDy / count, sumDyXhat / count) : (0, 0)
                for b in 0..<n {
                    let offset = (b * self.channels + c) * grid
                    for i in 0..<grid {
                        dx[offset + i] = scale * (dy[offset + i] - meanDy - xhat[offset + i] * meanDyXhat)
                    }
                }
            }
        }
        return needsInputGradient ? inputGradient : nil
    }
}
