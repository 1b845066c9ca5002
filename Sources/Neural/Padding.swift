/// Zero padding with a width per side, PyTorch's `nn.ZeroPad2d((left, right, top, bottom))`
/// (TensorFlow's "same" padding of a stride-2 convolution puts the extra pixel at the bottom right).
public final class ZeroPad2d: Layer {
    public let left, right, top, bottom: Int
    private let output = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])
    private var inputSize = (height: 0, width: 0)

    public init(left: Int, right: Int, top: Int, bottom: Int) {
        precondition(left >= 0 && right >= 0 && top >= 0 && bottom >= 0, "ZeroPad2d crops nothing: padding must be ≥ 0")
        (self.left, self.right, self.top, self.bottom) = (left, right, top, bottom)
    }

    // x: N × C × H × W → y: N × C × (top + H + bottom) × (left + W + right), zeros around x
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.shape.count == 4, "ZeroPad2d got \(input.shape)")
        inputSize = (input.shape[2], input.shape[3])
        output.resize(input.shape[0], input.shape[1], top + input.shape[2] + bottom, left + input.shape[3] + right)
        output.fill(0)
        output.addUncropped(input, top: top, left: left)
        return output
    }

    // dy: N × C × (top + H + bottom) × (left + W + right) → dx: N × C × H × W, the window x came from
    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool, needsParameterGradients: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        precondition(outputGradient.shape == output.shape, "ZeroPad2d backward: gradient \(outputGradient.shape) for \(output.shape)")
        inputGradient.crop(outputGradient, top: top, left: left, height: inputSize.height, width: inputSize.width)
        return inputGradient
    }
}

/// A fixed low-pass filter per channel: [1, 2, 1] ⊗ [1, 2, 1] / 16, 3 × 3, stride 1, zero padding 1
/// (the blur StyleGAN-style models put beside resampling). Not trainable; any channel count.
public final class Blur: Layer {
    /// The 3 × 3 taps, shared by every channel (weight stride 0 in the depthwise kernels).
    private static let taps: [Float] = [1, 2, 1, 2, 4, 2, 1, 2, 1].map { $0 / 16 }
    private let filter = Tensor(shape: [9], scalars: Blur.taps)
    private var geometry = ConvGeometry(channels: 0, height: 0, width: 0, kernel: 3, stride: 1, padding: 1)
    private var batch = 0
    private let output = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])

    public init() {}

    // x: N × C × H × W → y: N × C × H × W
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.shape.count == 4, "Blur got \(input.shape)")
        batch = input.shape[0]
        geometry = ConvGeometry(channels: input.shape[1], height: input.shape[2], width: input.shape[3], kernel: 3, stride: 1, padding: 1)
        output.resize(batch, input.shape[1], input.shape[2], input.shape[3])
        DepthwiseConvolution.forward(input.data, batch: batch, geometry, weight: filter.data, weightStride: 0, bias: nil, into: output.data)
        return output
    }

    // dy: N × C × H × W → dx: N × C × H × W (the filter is symmetric, so its adjoint is itself)
    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool, needsParameterGradients: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        precondition(outputGradient.shape == output.shape, "Blur backward: gradient \(outputGradient.shape) for \(output.shape)")
        inputGradient.resize(batch, geometry.channels, geometry.height, geometry.width)
        DepthwiseConvolution.inputGradient(outputGradient.data, batch: batch, geometry, weight: filter.data, weightStride: 0,
                                           into: inputGradient.data)
        return inputGradient
    }
}
