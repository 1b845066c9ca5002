import Neural
import Perception

extension Architecture {
    /// fastgan's generator against a discriminator that looks through a frozen pretrained feature
    /// network, EfficientNet-Lite0 (see `ProjectedDiscriminator`).
    public static let projected = Architecture("projected", ProjectedGAN())
}

/// fastgan's generator, and `ProjectedDiscriminator`.
public struct ProjectedGAN: ArchitectureDescriptor {
    /// Measured at 32 pixels: measured as fastgan's, whose G it shares.
    public var trainingBytesPerWeight: Int { 200 }
    private let fastgan = FastGAN()

    public func defaultWidth(resolution: Int) -> Int { fastgan.defaultWidth(resolution: resolution) }

    /// Projected GANs' batch of 8 and plain hinge loss.
    public func applyTrainingDefaults(to options: inout TrainingOptions) { options.batch = 8 }

    public var needsFeatureNetwork: Bool { true }

    public func makeGenerator(_ config: ModelConfig, noise: RandomSource, rng: inout RNG) throws -> Layer {
        try fastgan.makeGenerator(config, noise: noise, rng: &rng)
    }

    public func makeDiscriminator(_ config: ModelConfig, features: FeaturePyramid?, rng: inout RNG) throws -> Discriminator {
        guard let features else { throw ModelConfigError.invalidConfig("projected needs the pretrained feature network") }
        return try ProjectedDiscriminator(config, features: features, rng: &rng)
    }

    /// D sees the pictures only through the pretrained network: `project` compares in that network's features.
    public func makeFeatureDiscriminator(_ config: ModelConfig, rng: inout RNG) throws -> FeatureStagedDiscriminator? { nil }

    public func minimumGeneratorWeights(_ config: ModelConfig) -> Int { fastgan.minimumGeneratorWeights(config) }
}

/// A discriminator that looks through a frozen, pretrained feature network, after Projected GANs
/// (Sauer et al., "Projected GANs Converge Faster", NeurIPS 2021): learning its own eyes from a hundred
/// pictures is what a few-shot discriminator does worst, so it borrows ImageNet's.
///
/// pictures N × 3 × R × R → `features` (EfficientNet-Lite0: maps fᵢ of 24, 40, 112, 320 channels at
/// strides 4, 8, 16, 32 of its input, which it upsamples to at least 128 pixels) →
/// cross-channel mixing, a fixed random 1×1 convolution per map: cᵢ = Pᵢ fᵢ, mᵢ = 32 · 2ⁱ channels →
/// cross-scale mixing, top-down: s₃ = c₃, sᵢ = cᵢ + up₂(Qᵢ sᵢ₊₁), Qᵢ a fixed random 1×1 convolution
/// mᵢ₊₁ → mᵢ (applied before the nearest ×2, which it commutes with, at a quarter of the cost) →
/// one small trainable discriminator per scale (`disc_i`): conv 4×4/2 → LeakyReLU(0.2) while the map is
/// larger than 4 × 4 (channels doubling, at most 256), then conv 3×3 → a 4 × 4 grid of patch logits.
/// Every trainable convolution is spectrally normalised. The four grids are the channels of the
/// output, logits N × 4 × 4 × 4, so the loss weighs every scale alike.
///
/// The random mixes are buffers, not parameters: drawn once (Kaiming, gain 1) with the other weights,
/// never trained, saved in the checkpoint. The feature network is not saved: it is the same file on
/// every machine, and the checkpoint's metadata names it.
public final class ProjectedDiscriminator: Discriminator {
    public let features: FeaturePyramid
    /// Pᵢ: fᵢ → cᵢ.
    let channelMixing: [FixedProjection]
    /// Qᵢ: sᵢ₊₁ → mᵢ channels at sᵢ₊₁'s size, for i = 0 ..< 3.
    let scaleMixing: [FixedProjection]
    let upsampling: [Upsample]
    /// The trainable discriminator of each scale.
    public let scaleDiscriminators: [Sequential]
    /// sᵢ for i < 3 (s₃ is c₃, the projection's own output).
    private let mixed: [Tensor]
    private let output = Tensor(shape: [0])
    private let scaleGradient = Tensor(shape: [0])
    private let mixedGradient: [Tensor]
    /// Per scale, reused from step to step (filled by index, so a step allocates no arrays): cᵢ, sᵢ, and dfᵢ.
    private var channelMixed: [Tensor], scaleInputs: [Tensor], featureGradients: [Tensor]

    /// Logit grids per picture, one per scale; each is logitSide × logitSide.
    public static let scales = 4
    public static let logitSide = 4

    /// EfficientNet-Lite0 from its default place, at the input scale it takes for R-pixel pictures.
    public static func loadFeatureNetwork(resolution: Int) throws -> FeaturePyramid {
        try EfficientNetLite0.loadDefault(inputScale: EfficientNetLite0.inputScale(height: resolution, width: resolution))
    }

    /// The mixed channels of scale i.
    static func mixedChannels(_ scale: Int) -> Int { 32 << scale }

    /// Throws unless the network gives four maps whose sides are at least 4 at this resolution.
    /// `leakySlope`: the scale discriminators' LeakyReLU slope (1 makes them kink-free, for gradient checks).
    public init(_ config: ModelConfig, features: FeaturePyramid, leakySlope: Float = 0.2, rng: inout RNG) throws {
        try config.validate()
        let scales = Self.scales
        guard features.featureChannels.count == scales, features.featureStrides.count == scales else {
            throw ModelConfigError.invalidConfig("a projected discriminator needs a feature network with \(scales) maps")
        }
        let sides = features.featureStrides.map { config.resolution / $0 }
        guard sides.allSatisfy({ $0 >= Self.logitSide }) else {
            throw ModelConfigError.invalidConfig(
                "the feature maps of \(config.resolution)-pixel pictures are \(sides) pixels wide; the projected discriminator needs at least \(Self.logitSide)")
        }
        self.features = features
        channelMixing = (0..<scales).map { FixedProjection(features.featureChannels[$0], Self.mixedChannels($0)) }
        scaleMixing = (0..<(scales - 1)).map { FixedProjection(Self.mixedChannels($0 + 1), Self.mixedChannels($0)) }
        upsampling = (0..<(scales - 1)).map { _ in Upsample(scale: 2) }
        scaleDiscriminators = (0..<scales).map { scale in
            var layers: [Layer] = []
            var (channels, side) = (Self.mixedChannels(scale), sides[scale])
            while side > Self.logitSide {
                let wider = min(2 * channels, 256)
                layers += [FastGAN.conv(channels, wider, kernel: 4, stride: 2, padding: 1, rng: &rng), LeakyReLU(leakySlope)]
                (channels, side) = (wider, side / 2)
            }
            return Sequential(layers + [FastGAN.conv(channels, 1, kernel: 3, padding: 1, rng: &rng)])
        }
        mixed = (0..<(scales - 1)).map { _ in Tensor(shape: [0]) }
        mixedGradient = (0..<scales).map { _ in Tensor(shape: [0]) }
        (channelMixed, scaleInputs, featureGradients) = (mixedGradient, mixedGradient, mixedGradient)
    }

    public var sublayers: [(name: String, module: Module)] {
        channelMixing.enumerated().map { ("mix_channels_\($0.offset)", $0.element) }
            + scaleMixing.enumerated().map { ("mix_scales_\($0.offset)", $0.element) }
            + scaleDiscriminators.enumerated().map { ("disc_\($0.offset)", $0.element) }
    }

    public func reconstructionLoss(realCount: Int, target: Tensor, rng: inout RNG) -> Float? { nil }

    // x: N × 3 × R × R → fᵢ → cᵢ → sᵢ → logits N × 4 × 4 × 4 (channel i: scale i's grid)
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let maps = features.features(input)
        for scale in 0..<Self.scales { channelMixed[scale] = channelMixing[scale].forward(maps[scale], training: training) }
        scaleInputs[Self.scales - 1] = channelMixed[Self.scales - 1]
        for scale in (0..<(Self.scales - 1)).reversed() {
            let spread = upsampling[scale].forward(scaleMixing[scale].forward(scaleInputs[scale + 1], training: training),
                                                   training: training)
            mixed[scale].add(channelMixed[scale], spread)
            scaleInputs[scale] = mixed[scale]
        }
        let n = input.shape[0]
        let side = Self.logitSide
        output.resize(n, Self.scales, side, side)
        for (scale, discriminator) in scaleDiscriminators.enumerated() {
            let logits = discriminator.forward(scaleInputs[scale], training: training)
            precondition(logits.shape == [n, 1, side, side], "disc_\(scale) gave \(logits.shape)")
            output.setChannel(scale, from: logits)
        }
        return output
    }

    // dlogits: N × 4 × 4 × 4 → each scale's discriminator → dsᵢ (plus what sᵢ₋₁ passed down) → dcᵢ = dsᵢ
    // → dfᵢ = Pᵢᵀ dcᵢ → the feature network's input gradient dx: N × 3 × R × R
    // (written by hand, not as a tapped stack: each sᵢ has two inputs, cᵢ and sᵢ₊₁; the feature network's
    // own maps share its tapped trunk, which sums their gradients)
    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool, needsParameterGradients: Bool) -> Tensor? {
        precondition(outputGradient.shape == output.shape, "projected backward: \(outputGradient.shape) for \(output.shape)")
        for scale in 0..<Self.scales {
            scaleGradient.takeChannel(scale, of: outputGradient)
            let gradient = scaleDiscriminators[scale].backward(scaleGradient, needsInputGradient: needsInputGradient,
                                                               needsParameterGradients: needsParameterGradients)
            guard let gradient else { continue }
            // dsᵢ = this scale's own gradient + what the finer scale sent up through its upsampling and Qᵢ₋₁.
            mixedGradient[scale].assign(gradient)
            if scale > 0 {
                let sentUp = scaleMixing[scale - 1].backward(
                    upsampling[scale - 1].backward(mixedGradient[scale - 1], needsInputGradient: true, needsParameterGradients: false)!,
                    needsInputGradient: true, needsParameterGradients: false)!
                mixedGradient[scale].add(sentUp)
            }
            featureGradients[scale] = channelMixing[scale].backward(mixedGradient[scale], needsInputGradient: true,
                                                                    needsParameterGradients: false)!
        }
        guard needsInputGradient else { return nil }
        return features.inputGradient(featureGradients)
    }
}

/// A fixed random 1×1 convolution without bias: a projection that is drawn once and never trained. Its
/// weight is a buffer, so the optimiser never sees it and checkpoints keep it.
final class FixedProjection: Layer {
    private let convolution: Conv2d

    init(_ inChannels: Int, _ outChannels: Int) {
        convolution = Conv2d(inChannels, outChannels, kernel: 1, bias: false)
    }

    var ownBuffers: [(name: String, tensor: Tensor)] { [("weight", convolution.weight.value)] }

    /// Variance-preserving, whatever the model's scheme: N(0, 1/in).
    func initializeOwnParameters(_ scheme: Initialization, rng: inout RNG) {
        Initialization.kaiming(slope: 1).initialize(weight: convolution.weight.value, bias: nil, rng: &rng)
    }

    var lastForwardMultiplyAdds: Int { convolution.lastForwardMultiplyAdds }

    // x: N × in × H × W → y: N × out × H × W
    func forward(_ input: Tensor, training: Bool) -> Tensor { convolution.forward(input, training: training) }

    // dy: N × out × H × W → dx: N × in × H × W; the weight gets no gradient
    func backward(_ outputGradient: Tensor, needsInputGradient: Bool, needsParameterGradients: Bool) -> Tensor? {
        convolution.backward(outputGradient, needsInputGradient: needsInputGradient, needsParameterGradients: false)
    }
}
