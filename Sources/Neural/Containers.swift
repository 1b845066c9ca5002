/// Several paths from one input, their outputs summed and scaled: y = scale · Σ pathᵢ(x). FastGAN's
/// down-sampling block averages a strided-convolution path with an average-pool path (scale ½).
/// Names: the paths' own (`main.0.weight`, `direct.1.weight`).
public final class ParallelPaths: Layer {
    public let paths: [(name: String, layer: Layer)]
    public let scale: Float
    private let output = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])
    private let scaledGradient = Tensor(shape: [0])

    public init(_ paths: [(name: String, layer: Layer)], scale: Float = 1) {
        precondition(!paths.isEmpty)
        (self.paths, self.scale) = (paths, scale)
    }

    public var sublayers: [(name: String, module: Module)] { paths.map { ($0.name, $0.layer) } }

    // x → y = scale · Σ pathᵢ(x); every path must give the same shape
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        for (index, path) in paths.enumerated() {
            let y = path.layer.forward(input, training: training)
            if index == 0 { output.assign(y) } else {
                precondition(y.shape == output.shape, "ParallelPaths: \(path.name) gives \(y.shape), not \(output.shape)")
                output.add(y)
            }
        }
        if scale != 1 { output.scale(by: scale) }
        return output
    }

    // dy → dx = Σ pathᵢ′ᵀ(scale · dy)
    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool, needsParameterGradients: Bool) -> Tensor? {
        scaledGradient.assign(outputGradient)
        if scale != 1 { scaledGradient.scale(by: scale) }
        for (index, path) in paths.enumerated() {
            let dx = path.layer.backward(scaledGradient, needsInputGradient: needsInputGradient,
                                         needsParameterGradients: needsParameterGradients)
            guard let dx else { continue }
            if index == 0 { inputGradient.assign(dx) } else { inputGradient.add(dx) }
        }
        return needsInputGradient ? inputGradient : nil
    }
}
