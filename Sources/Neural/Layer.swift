/// A trainable tensor and the gradient of the last backward pass with respect to it.
public final class Parameter {
    public let value: Tensor
    /// Set (not accumulated) by the owning layer's `backward`.
    public let gradient: Tensor

    public init(_ value: Tensor) {
        self.value = value
        gradient = Tensor(shape: value.shape)
    }
}

/// A layer with a forward pass and a hand-written backward pass.
///
/// `forward` keeps what `backward` needs; `backward` takes dL/d(output) of that same forward call,
/// sets the parameter gradients (overwriting them) and returns dL/d(input). Returned tensors belong
/// to the layer and stay valid until its next call: copy them to keep them.
public protocol Layer: AnyObject {
    /// `training` selects batch statistics (BatchNorm) and power iterations (spectral norm).
    func forward(_ input: Tensor, training: Bool) -> Tensor
    /// Returns nil when `needsInputGradient` is false; skips parameter gradients when
    /// `needsParameterGradients` is false (e.g. G's step backpropagates through a frozen D).
    @discardableResult
    func backward(_ outputGradient: Tensor, needsInputGradient: Bool, needsParameterGradients: Bool) -> Tensor?
    /// Trainable tensors with PyTorch names relative to this layer ("weight", "bias").
    var parameters: [(name: String, parameter: Parameter)] { get }
    /// Non-trainable state with PyTorch names ("running_mean", "running_var").
    var buffers: [(name: String, tensor: Tensor)] { get }
}

extension Layer {
    public var parameters: [(name: String, parameter: Parameter)] { [] }
    public var buffers: [(name: String, tensor: Tensor)] { [] }

    /// Backward with both gradients.
    @discardableResult
    public func backward(_ outputGradient: Tensor) -> Tensor {
        backward(outputGradient, needsInputGradient: true, needsParameterGradients: true)!
    }

    /// Every parameter and buffer under its PyTorch state-dict name, as copies
    /// (`num_batches_tracked` is not kept).
    public func namedTensors() -> [(String, Tensor)] {
        parameters.map { ($0.name, $0.parameter.value.copy()) } + buffers.map { ($0.name, $0.tensor.copy()) }
    }

    /// Live (not copied) parameters and buffers by name, for in-place updates such as EMA.
    public func liveTensors() -> [(String, Tensor)] {
        parameters.map { ($0.name, $0.parameter.value) } + buffers.map { ($0.name, $0.tensor) }
    }

    /// Loads every parameter and buffer from `named` (extra names are ignored, so a checkpoint
    /// holding several models can be passed whole after its prefix is removed).
    /// Throws on a missing name or a shape mismatch, before changing anything.
    public func load(_ named: [String: Tensor]) throws {
        try checkLoadable(named)
        for (name, tensor) in liveTensors() { tensor.assign(named[name]!) }
    }

    /// Throws what `load` would throw, changing nothing; errors name the tensor as `prefix + name`.
    public func checkLoadable(_ named: [String: Tensor], prefix: String = "") throws {
        for (name, tensor) in liveTensors() {
            guard let source = named[name] else { throw NeuralError.missingTensor(prefix + name) }
            guard source.shape == tensor.shape else {
                throw NeuralError.shapeMismatch(prefix + name, expected: tensor.shape, found: source.shape)
            }
        }
    }

    /// The number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.parameter.value.count } }
}

/// Errors of loading named tensors.
public enum NeuralError: Error, Equatable, CustomStringConvertible {
    case missingTensor(String)
    case shapeMismatch(String, expected: [Int], found: [Int])
    case invalidState(String)

    public var description: String {
        switch self {
        case .missingTensor(let name): return "missing tensor \(name)"
        case let .shapeMismatch(name, expected, found): return "tensor \(name) has shape \(found), expected \(expected)"
        case .invalidState(let what): return "invalid state: \(what)"
        }
    }
}

/// Layers applied in order; names are PyTorch's `nn.Sequential` ones ("0.weight", "1.running_mean").
public final class Sequential: Layer {
    public let layers: [Layer]

    public init(_ layers: [Layer]) { self.layers = layers }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        var x = input
        for layer in layers { x = layer.forward(x, training: training) }
        return x
    }

    @discardableResult
    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool, needsParameterGradients: Bool) -> Tensor? {
        var gradient = outputGradient
        for index in layers.indices.reversed() {
            let needsInput = index > 0 || needsInputGradient
            guard let next = layers[index].backward(gradient, needsInputGradient: needsInput,
                                                    needsParameterGradients: needsParameterGradients) else { return nil }
            gradient = next
        }
        return gradient
    }

    public var parameters: [(name: String, parameter: Parameter)] {
        layers.enumerated().flatMap { index, layer in layer.parameters.map { ("\(index).\($0.name)", $0.parameter) } }
    }

    public var buffers: [(name: String, tensor: Tensor)] {
        layers.enumerated().flatMap { index, layer in layer.buffers.map { ("\(index).\($0.name)", $0.tensor) } }
    }
}
