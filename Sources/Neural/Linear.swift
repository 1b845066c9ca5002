/// Fully connected layer, PyTorch's `nn.Linear`. weight: out × in, bias: out.
/// Input N × in (or N × … with the trailing dimensions multiplying to in); output N × out.
public final class Linear: Layer {
    public let inFeatures, outFeatures: Int
    public let weight: Parameter
    public let bias: Parameter?

    private var input: Tensor?
    private let output = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) {
        precondition(inFeatures > 0 && outFeatures > 0)
        (self.inFeatures, self.outFeatures) = (inFeatures, outFeatures)
        weight = Parameter(Tensor(shape: [outFeatures, inFeatures]))
        self.bias = bias ? Parameter(Tensor(shape: [outFeatures])) : nil
    }

    public var ownParameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    public func initializeOwnParameters(_ scheme: Initialization, rng: inout RNG) {
        scheme.initialize(weight: weight.value, bias: bias?.value, rng: &rng)
    }

    public private(set) var lastForwardMultiplyAdds = 0

    // x: N × in → y = x Wᵀ + b: N × out
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let n = input.shape.first ?? 0
        precondition(n > 0 && input.count == n * inFeatures, "Linear(\(inFeatures)→\(outFeatures)) got \(input.shape)")
        self.input = input
        lastForwardMultiplyAdds = n * inFeatures * outFeatures
        if output.shape.count != 2 || output.shape[0] != n || output.shape[1] != outFeatures { output.resize(to: [n, outFeatures]) }
        gemm(transposeB: true, m: n, n: outFeatures, k: inFeatures, a: input.data, lda: inFeatures,
             b: weight.value.data, ldb: inFeatures, c: output.data, ldc: outFeatures)
        if let bias { addPerChannel(bias.value.data, to: output.data, batch: n, channels: outFeatures, grid: 1) }
        return output
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool, needsParameterGradients: Bool) -> Tensor? {
        guard let input else { preconditionFailure("Linear.backward before forward") }
        let n = input.shape[0]
        precondition(outputGradient.count == n * outFeatures)
        if needsParameterGradients {
            // dW (out × in) += dYᵀ · X
            gemm(transposeA: true, m: outFeatures, n: inFeatures, k: n, a: outputGradient.data, lda: outFeatures,
                 b: input.data, ldb: inFeatures, beta: 1, c: weight.gradient.data, ldc: inFeatures)
            if let bias { sumPerChannel(outputGradient.data, batch: n, channels: outFeatures, grid: 1, into: bias.gradient.data) }
        }
        guard needsInputGradient else { return nil }
        if inputGradient.shape != input.shape { inputGradient.resize(to: input.shape) }
        // dX (N × in) = dY · W
        gemm(m: n, n: inFeatures, k: outFeatures, a: outputGradient.data, lda: outFeatures,
             b: weight.value.data, ldb: inFeatures, c: inputGradient.data, ldc: inFeatures)
        return inputGradient
    }
}

/// Reshapes N × … to another per-sample shape (PyTorch's `nn.Unflatten(1, shape)` / `nn.Flatten`),
/// e.g. a latent N × z to N × z × 1 × 1. No parameters.
public final class Reshape: Layer {
    public let sampleShape: [Int]
    private let output = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])
    private var inputShape: [Int] = []

    public init(_ sampleShape: [Int]) { self.sampleShape = sampleShape }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let n = input.shape.first ?? 0
        precondition(input.count == n * sampleShape.reduce(1, *), "Reshape to \(sampleShape) got \(input.shape)")
        inputShape = input.shape
        output.resize(to: [n] + sampleShape)
        output.data.update(from: input.data, count: input.count)
        return output
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool, needsParameterGradients: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        inputGradient.resize(to: inputShape)
        inputGradient.data.update(from: outputGradient.data, count: outputGradient.count)
        return inputGradient
    }
}
