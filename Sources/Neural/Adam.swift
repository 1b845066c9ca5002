import Foundation

/// Adam with bias correction (PyTorch's `torch.optim.Adam`, no weight decay):
/// m ← β1 m + (1−β1) g, v ← β2 v + (1−β2) g², p ← p − lr · m̂ / (√v̂ + ε),
/// m̂ = m / (1 − β1ᵗ), v̂ = v / (1 − β2ᵗ).
public final class Adam {
    public var learningRate: Float
    public let beta1, beta2, epsilon: Float
    /// Updates made so far (t).
    public private(set) var stepCount = 0
    private let parameters: [(name: String, parameter: Parameter)]
    private let firstMoments: [Tensor]
    private let secondMoments: [Tensor]

    public init(parameters: [(name: String, parameter: Parameter)], learningRate: Float,
                beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        self.parameters = parameters
        (self.learningRate, self.beta1, self.beta2, self.epsilon) = (learningRate, beta1, beta2, epsilon)
        firstMoments = parameters.map { Tensor(shape: $0.parameter.value.shape) }
        secondMoments = parameters.map { Tensor(shape: $0.parameter.value.shape) }
    }

    /// Clears the gradients of the parameters this optimizer updates, before a step's passes add theirs:
    /// its own list, so a training step does not walk the model's tree of layers.
    public func zeroGradients() {
        for (_, parameter) in parameters { parameter.gradient.fill(0) }
    }

    /// One update of every parameter from its gradient.
    public func step() {
        stepCount += 1
        let t = Double(stepCount)
        let correction1 = Float(1 - pow(Double(beta1), t))
        let correction2 = Float(1 - pow(Double(beta2), t))
        let (b1, b2, eps) = (beta1, beta2, epsilon)
        let stepSize = learningRate / correction1
        let rootCorrection2 = correction2.squareRoot()
        for (index, entry) in parameters.enumerated() {
            let (p, g) = (entry.parameter.value.data, UnsafePointer(entry.parameter.gradient.data))
            let (m, v) = (firstMoments[index].data, secondMoments[index].data)
            Parallel.chunks(entry.parameter.value.count, cost: 8) { range in
                for i in range {
                    m[i] = b1 * m[i] + (1 - b1) * g[i]
                    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                    p[i] -= stepSize * m[i] / (v[i].squareRoot() / rootCorrection2 + eps)
                }
            }
        }
    }

    /// The optimizer state by name: `<param>.exp_avg`, `<param>.exp_avg_sq` and `step`
    /// (a one-element float tensor, exact up to 2²⁴ steps). Copies.
    public func stateTensors() -> [(String, Tensor)] {
        var result: [(String, Tensor)] = [("step", Tensor(shape: [1], scalars: [Float(stepCount)]))]
        for (index, entry) in parameters.enumerated() {
            result.append(("\(entry.name).exp_avg", firstMoments[index].copy()))
            result.append(("\(entry.name).exp_avg_sq", secondMoments[index].copy()))
        }
        return result
    }

    /// Restores `stateTensors()` output; throws on a missing name or wrong shape before changing anything.
    public func loadState(_ named: [String: Tensor]) throws {
        // Int(exactly:) refuses a fraction, a value past Int's range and NaN, any of which a file can hold.
        guard let step = named["step"], step.count == 1, let savedSteps = Int(exactly: step[0]), savedSteps >= 0 else {
            throw NeuralError.missingTensor("step")
        }
        var pairs: [(Tensor, Tensor)] = []
        for (index, entry) in parameters.enumerated() {
            for (suffix, own) in [("exp_avg", firstMoments[index]), ("exp_avg_sq", secondMoments[index])] {
                let name = "\(entry.name).\(suffix)"
                guard let source = named[name] else { throw NeuralError.missingTensor(name) }
                guard source.shape == own.shape else { throw NeuralError.shapeMismatch(name, expected: own.shape, found: source.shape) }
                pairs.append((own, source))
            }
        }
        for (own, source) in pairs { own.assign(source) }
        stepCount = savedSteps
    }
}

/// An exponential moving average of a model's parameters kept in another model of the same
/// architecture: avg ← decay · avg + (1 − decay) · current; buffers (BN statistics) are copied.
/// decay 0 makes the average an exact copy.
public struct ExponentialMovingAverage {
    private let pairs: [(average: Tensor, current: Tensor)]
    private let bufferPairs: [(average: Tensor, current: Tensor)]

    /// `average` and `model` must have the same parameters (names and shapes).
    public init(average: Module, model: Module) {
        let (a, m) = (average.parameters, model.parameters)
        precondition(a.map(\.name) == m.map(\.name) && zip(a, m).allSatisfy { $0.parameter.value.shape == $1.parameter.value.shape },
                     "EMA: the models differ")
        pairs = zip(a, m).map { ($0.parameter.value, $1.parameter.value) }
        bufferPairs = zip(average.buffers, model.buffers).map { ($0.tensor, $1.tensor) }
    }

    /// Makes the average equal to the model.
    public func reset() {
        for (average, current) in pairs + bufferPairs { average.assign(current) }
    }

    public func update(decay: Float) {
        let keep = 1 - decay
        for (average, current) in pairs {
            let (a, c) = (average.data, UnsafePointer(current.data))
            Parallel.chunks(average.count, cost: 3) { range in
                for i in range { a[i] = decay * a[i] + keep * c[i] }
            }
        }
        for (average, current) in bufferPairs { average.assign(current) }
    }
}
