/// A trainable tensor and the gradient of the loss with respect to it.
public final class Parameter {
    public let value: Tensor
    /// Accumulated (added to) by every backward pass that asks for parameter gradients, so one step
    /// can pass the same net twice (D on real, then on fake); `Module.zeroGradients()` clears it.
    public let gradient: Tensor

    public init(_ value: Tensor) {
        self.value = value
        gradient = Tensor(shape: value.shape)
    }
}

/// Something with trainable tensors, possibly built of sublayers: PyTorch's `nn.Module`.
///
/// Parameters, buffers, names, initialisation and multiply-add counts reach every module through this
/// protocol: a container lists its `sublayers`, and the walks below (`parameters`, `Initialization.apply`,
/// `totalMultiplyAdds`) visit them, so no code needs a list of concrete layer types. A block with several
/// inputs or outputs (skip-layer excitation, a discriminator with decoders) is a `Module` with its own
/// hand-written forward/backward pair; a block with one input and one output is a `Layer`.
public protocol Module: AnyObject {
    /// This module's own trainable tensors (not its sublayers'), with PyTorch names ("weight", "bias").
    var ownParameters: [(name: String, parameter: Parameter)] { get }
    /// This module's own non-trainable state, with PyTorch names ("running_mean", "running_var").
    var ownBuffers: [(name: String, tensor: Tensor)] { get }
    /// Named sublayers, in the order of PyTorch's module registration; their tensors are named
    /// `sublayer.tensor`.
    var sublayers: [(name: String, module: Module)] { get }
    /// Draws this module's own parameters (not its sublayers') for `scheme` from `rng`.
    func initializeOwnParameters(_ scheme: Initialization, rng: inout RNG)
    /// Multiply-adds of this module's own arithmetic in its last forward (convolutions and linear
    /// layers; 0 for the cheap element-wise ones). Backward costs about twice as many.
    var lastForwardMultiplyAdds: Int { get }
}

/// A module with one input and one output: a forward pass and a hand-written backward pass.
///
/// `forward` keeps what `backward` needs; `backward` takes dL/d(output) of that same forward call,
/// adds the parameter gradients into `Parameter.gradient` and returns dL/d(input). Returned tensors
/// belong to the layer and stay valid until its next call: copy them to keep them.
public protocol Layer: Module {
    /// `training` selects batch statistics (BatchNorm), power iterations (spectral norm) and noise.
    func forward(_ input: Tensor, training: Bool) -> Tensor
    /// The eval forward (`forward(input, training: false)`, equal within float rounding) for drawing only:
    /// no backward may follow it, so it keeps nothing for one, and a stack may fuse its layers' passes
    /// (see `ChannelAffineFusing`). What `generate`, `sample`, `walk` and the candidates of a search run.
    func infer(_ input: Tensor) -> Tensor
    /// Returns nil when `needsInputGradient` is false; skips parameter gradients when
    /// `needsParameterGradients` is false (e.g. G's step backpropagates through a frozen D).
    @discardableResult
    func backward(_ outputGradient: Tensor, needsInputGradient: Bool, needsParameterGradients: Bool) -> Tensor?
}

extension Layer {
    /// Layers with nothing to save in eval run their eval forward.
    public func infer(_ input: Tensor) -> Tensor { forward(input, training: false) }

    /// Backward with both gradients.
    @discardableResult
    public func backward(_ outputGradient: Tensor) -> Tensor {
        backward(outputGradient, needsInputGradient: true, needsParameterGradients: true)!
    }
}

extension Module {
    public var ownParameters: [(name: String, parameter: Parameter)] { [] }
    public var ownBuffers: [(name: String, tensor: Tensor)] { [] }
    public var sublayers: [(name: String, module: Module)] { [] }
    public var lastForwardMultiplyAdds: Int { 0 }

    /// A module without parameters of its own has nothing to draw; one with parameters must say how.
    public func initializeOwnParameters(_ scheme: Initialization, rng: inout RNG) {
        precondition(ownParameters.isEmpty, "\(type(of: self)) has parameters but no initialisation")
    }

    /// Every trainable tensor of the module and its sublayers, under PyTorch state-dict names.
    public var parameters: [(name: String, parameter: Parameter)] {
        ownParameters + sublayers.flatMap { child in child.module.parameters.map { ("\(child.name).\($0.name)", $0.parameter) } }
    }

    /// Every buffer of the module and its sublayers, under PyTorch state-dict names.
    public var buffers: [(name: String, tensor: Tensor)] {
        ownBuffers + sublayers.flatMap { child in child.module.buffers.map { ("\(child.name).\($0.name)", $0.tensor) } }
    }

    /// The module and all below it, parents before children.
    public var allModules: [Module] { [self] + sublayers.flatMap { $0.module.allModules } }

    /// Clears every parameter gradient, before the passes of a step add theirs.
    public func zeroGradients() {
        for (_, parameter) in parameters { parameter.gradient.fill(0) }
    }

    /// Multiply-adds of the whole last forward, sublayers included.
    public var totalMultiplyAdds: Int { allModules.reduce(0) { $0 + $1.lastForwardMultiplyAdds } }

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
///
/// A stack may also hand out chosen intermediate maps, its taps: map k is the input of layer k (map 0 the
/// stack's input, map `layers.count` its output). Forward keeps them in `tappedMaps`; backward takes an
/// extra gradient for each and adds it where that map's gradient from the layers above arrives. A trunk
/// whose maps feed several heads (a feature pyramid, a discriminator's decoders) so needs no hand-written
/// fan-out bookkeeping.
public final class Sequential: Layer {
    public let layers: [Layer]
    /// The tapped map indices, ascending.
    public let taps: [Int]
    /// After a forward, the tapped maps in the order of `taps` (each the tensor its layer returned, or the
    /// input for map 0); valid until the layers' next call.
    public private(set) var tappedMaps: [Tensor]
    /// The tap slot of each map index, nil where the map is not tapped.
    private let tapSlots: [Int?]
    /// Per tap, the gradient from above plus the tap's own.
    private let summedGradients: [Tensor]
    private let noTapGradients: [Tensor?]
    /// `infer`'s runs of layers, each one layer or one fused run (see `InferenceStep`).
    private let inferenceSteps: [InferenceStep]
    /// A fused run's per-channel map: its followers' eval maps composed.
    private let fusedScale = Tensor(shape: [0]), fusedShift = Tensor(shape: [0])

    public init(_ layers: [Layer], taps: [Int] = []) {
        precondition(taps == taps.sorted() && Set(taps).count == taps.count && taps.allSatisfy { (0...layers.count).contains($0) },
                     "Sequential: taps \(taps) must be ascending map indices in 0...\(layers.count)")
        (self.layers, self.taps) = (layers, taps)
        var slots = [Int?](repeating: nil, count: layers.count + 1)
        for (slot, map) in taps.enumerated() { slots[map] = slot }
        tapSlots = slots
        tappedMaps = taps.map { _ in Tensor(shape: [0]) }
        summedGradients = taps.map { _ in Tensor(shape: [0]) }
        noTapGradients = taps.map { _ in nil }
        inferenceSteps = InferenceStep.plan(layers, tapped: { slots[$0] != nil })
    }

    public var sublayers: [(name: String, module: Module)] { layers.enumerated().map { ("\($0.offset)", $0.element) } }

    // x → y = layerₙ₋₁(… layer₀(x)); tappedMaps[j] = map taps[j]
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        var x = input
        for (index, layer) in layers.enumerated() {
            if let slot = tapSlots[index] { tappedMaps[slot] = x }
            x = layer.forward(x, training: training)
        }
        if let slot = tapSlots[layers.count] { tappedMaps[slot] = x }
        return x
    }

    // x → y = layerₙ₋₁(… layer₀(x)) in eval, each fused run of layers in one call; tappedMaps[j] = map taps[j]
    // (runs never hide a tapped map)
    public func infer(_ input: Tensor) -> Tensor {
        var x = input
        for step in inferenceSteps {
            if let slot = tapSlots[step.layers.lowerBound] { tappedMaps[slot] = x }
            guard let fusing = step.fusing else {
                x = layers[step.layers.lowerBound].infer(x)
                continue
            }
            let channels = fusing.outputChannels
            fusedScale.resize(1, 1, 1, channels)
            fusedShift.resize(1, 1, 1, channels)
            fusedScale.fill(1)
            fusedShift.fill(0)
            for follower in step.followers { follower.composeEvalMap(scale: fusedScale.data, shift: fusedShift.data, channels: channels) }
            x = fusing.infer(x, upsampling: step.upsampling, outputScale: fusedScale.data, outputShift: fusedShift.data)
        }
        if let slot = tapSlots[layers.count] { tappedMaps[slot] = x }
        return x
    }

    @discardableResult
    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool, needsParameterGradients: Bool) -> Tensor? {
        backward(outputGradient, tapGradients: noTapGradients, needsInputGradient: needsInputGradient,
                 needsParameterGradients: needsParameterGradients)
    }

    // dy (nil: the loss does not use the output), dL/d(tapped map j) for each tap (nil: none) → dx. Each
    // tapped map's gradient is what the layers above pass back plus its own; layers with no gradient above
    // them are skipped (theirs is zero). At least one gradient must be given.
    @discardableResult
    public func backward(_ outputGradient: Tensor?, tapGradients: [Tensor?], needsInputGradient: Bool,
                         needsParameterGradients: Bool) -> Tensor? {
        precondition(tapGradients.count == taps.count, "Sequential: \(tapGradients.count) tap gradients for \(taps.count) taps")
        var gradient = outputGradient
        for map in stride(from: layers.count, through: 0, by: -1) {
            if let slot = tapSlots[map], let own = tapGradients[slot] {
                if let fromAbove = gradient {
                    summedGradients[slot].add(fromAbove, own)
                    gradient = summedGradients[slot]
                } else {
                    gradient = own
                }
            }
            guard map > 0, let mapGradient = gradient else { continue }
            gradient = layers[map - 1].backward(mapGradient, needsInputGradient: map > 1 || needsInputGradient,
                                                needsParameterGradients: needsParameterGradients)
        }
        precondition(gradient != nil || !needsInputGradient, "Sequential: backward without any gradient")
        return needsInputGradient ? gradient : nil
    }
}
