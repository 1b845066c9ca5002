import Neural
import Perception

extension Architecture {
    /// The reference DCGAN: G doubles with ConvTranspose2d(4, 2, 1), whose uneven kernel overlap draws a
    /// checkerboard that an under-trained model shows as a regular dot grid.
    public static let dcgan = Architecture("dcgan", DCGAN(doubling: .transposedConvolution))
    /// DCGAN whose G doubles with nearest-neighbour Upsample(2) then Conv2d(3, 1, 1): every output pixel
    /// gets the same number of taps, so there is no checkerboard (Odena et al., "Deconvolution and
    /// Checkerboard Artifacts").
    public static let resize = Architecture("resize", DCGAN(doubling: .resizeConvolution))
}

/// The reference `dcgan` architecture and its `resize` variant: resolution R (32, 64, 128 or 256), width W,
/// latent size z.
///
/// G: z as z × 1 × 1 → ConvTranspose2d(z, C0, 4, 1, 0) → BN → ReLU, then ConvTranspose2d(Ci, Ci+1, 4, 2, 1)
/// → BN → ReLU for each next width, last ConvTranspose2d(C_last, 3, 4, 2, 1) → tanh;
/// widths Ci = W · min(8, 2^(n−1−i)), n = log2(R) − 2; no bias before BN.
/// D: Conv2d(3, D0, 4, 2, 1) → LeakyReLU(0.2), Conv2d(Di, Di+1, 4, 2, 1) → LeakyReLU(0.2) with
/// Di = W · min(8, 2^i), last Conv2d(D_last, 1, 4, 1, 0) → one logit per image.
/// With `resizeConvolution` doubling, each ConvTranspose2d(Ci, Ci+1, 4, 2, 1) of G after the first becomes
/// Upsample(2, nearest) → Conv2d(Ci, Ci+1, 3, 1, 1) (so G's layer indices shift by one per stage).
/// Parameter names are those of the same `nn.Sequential` in PyTorch (G's latent is passed as
/// N × z × 1 × 1, so there is no leading Unflatten and G's first layer is `0`).
public struct DCGAN: ArchitectureDescriptor {
    /// Measured at 32 pixels: the weights, their gradients, Adam's two moments, the average and a D about as large.
    public var trainingBytesPerWeight: Int { 48 }
    /// How G doubles the size of its maps after the first layer.
    public enum Doubling: Sendable {
        case transposedConvolution, resizeConvolution
    }

    public let doubling: Doubling

    public init(doubling: Doubling) { self.doubling = doubling }

    /// W 64, or 32 from 128 pixels up: the wider nets would cost too much per step on a CPU.
    public func defaultWidth(resolution: Int) -> Int { resolution <= 64 ? 64 : 32 }

    /// `TrainingOptions`' own defaults are DCGAN's: batch 16, the hinge loss, no LeCam.
    public func applyTrainingDefaults(to options: inout TrainingOptions) {}

    public var needsFeatureNetwork: Bool { false }

    public func makeGenerator(_ config: ModelConfig, noise: RandomSource, rng: inout RNG) throws -> Layer {
        try generator(config)
    }

    public func makeDiscriminator(_ config: ModelConfig, features: FeaturePyramid?, rng: inout RNG) throws -> Discriminator {
        try DCGAN.discriminator(config)
    }

    public func makeFeatureDiscriminator(_ config: ModelConfig, rng: inout RNG) throws -> FeatureStagedDiscriminator? {
        try DCGAN.discriminator(config)
    }

    /// G's first layer is a 4 × 4 transposed convolution from z; every later stage's kernel is at least 3 × 3.
    public func minimumGeneratorWeights(_ config: ModelConfig) -> Int {
        let widths = config.generatorWidths
        return config.zDim * widths[0] * 16 + zip(widths, widths.dropFirst() + [3]).reduce(0) { $0 + $1.0 * $1.1 * 9 }
    }

    /// G: input N × zDim × 1 × 1, output N × 3 × R × R in (−1, 1). Weights are zero until initialised.
    public func generator(_ config: ModelConfig) throws -> Sequential {
        try config.validate()
        let widths = config.generatorWidths
        var layers: [Layer] = [ConvTranspose2d(config.zDim, widths[0], kernel: 4, stride: 1, padding: 0, bias: false),
                               BatchNorm2d(widths[0]), ReLU()]
        func doubling(_ a: Int, _ b: Int, bias: Bool) -> [Layer] {
            switch self.doubling {
            case .transposedConvolution: return [ConvTranspose2d(a, b, kernel: 4, stride: 2, padding: 1, bias: bias)]
            case .resizeConvolution: return [Upsample(scale: 2), Conv2d(a, b, kernel: 3, stride: 1, padding: 1, bias: bias)]
            }
        }
        for (a, b) in zip(widths, widths.dropFirst()) {
            layers += doubling(a, b, bias: false) + [BatchNorm2d(b), ReLU()]
        }
        layers += doubling(widths.last!, 3, bias: true) + [Tanh()]
        return Sequential(layers)
    }

    /// D: input N × 3 × R × R, output N × 1 × 1 × 1 logits.
    public static func discriminator(_ config: ModelConfig) throws -> DCGANDiscriminator {
        try config.validate()
        let widths = config.discriminatorWidths
        var layers: [Layer] = [Conv2d(3, widths[0], kernel: 4, stride: 2, padding: 1), LeakyReLU(0.2)]
        for (a, b) in zip(widths, widths.dropFirst()) {
            layers += [Conv2d(a, b, kernel: 4, stride: 2, padding: 1), LeakyReLU(0.2)]
        }
        layers += [Conv2d(widths.last!, 1, kernel: 4, stride: 1, padding: 0)]
        return DCGANDiscriminator(Sequential(layers))
    }
}

/// DCGAN's discriminator: a plain stack of layers without self-supervision, named as that stack
/// ("0.weight"), whose feature maps are the outputs of its Conv2d(4, 2, 1) → LeakyReLU pairs.
public final class DCGANDiscriminator: FeatureStagedDiscriminator {
    public let network: Sequential

    init(_ network: Sequential) { self.network = network }

    public var sublayers: [(name: String, module: Module)] { network.sublayers }

    // x: N × 3 × R × R → logits N × 1 × 1 × 1
    public func forward(_ input: Tensor, training: Bool) -> Tensor { network.forward(input, training: training) }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool, needsParameterGradients: Bool) -> Tensor? {
        network.backward(outputGradient, needsInputGradient: needsInputGradient, needsParameterGradients: needsParameterGradients)
    }

    public func reconstructionLoss(realCount: Int, target: Tensor, rng: inout RNG) -> Float? { nil }

    /// Every layer but the last convolution, tapped after each LeakyReLU (R/2 … 4 pixels a side).
    public var featureStages: Sequential {
        let stages = Array(network.layers.dropLast())
        return Sequential(stages, taps: Array(stride(from: 2, through: stages.count, by: 2)))
    }
}
