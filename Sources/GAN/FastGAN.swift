import Neural
import Perception

extension Architecture {
    /// The few-shot model after FastGAN (Liu et al. 2021): a generator of upsample + 3×3 convolution +
    /// GLU blocks with skip-layer excitation, a discriminator with patch logits and decoders that must
    /// reconstruct the real pictures from its features.
    public static let fastgan = Architecture("fastgan", FastGAN())
}

/// The few-shot model after FastGAN (Liu et al., "Towards Faster and Stabilized GAN Training for
/// High-fidelity Few-shot Image Synthesis", ICLR 2021), sized for a CPU. Every convolution is
/// spectrally normalised, as in the paper.
///
/// G (`FastGANGenerator`): z as N × z × 1 × 1 → `init`: ConvTranspose2d(z, 2·c4, 4) → BN → GLU (4 × 4),
/// then one up-sampling block per doubling, `feat_8` … `feat_R`: nearest ×2 → conv 3×3 (to twice the
/// channels) → BN → GLU, with a second conv → BN → GLU and noise injection before each BN in the blocks
/// to 8, 32 and 128 (FastGAN's "UpBlockComp"). Skip-layer excitation gates the 64 × 64 map with the
/// 4 × 4 one (`se_64`), 128 with 8 (`se_128`) and 256 with 16 (`se_256`); `to_big`: conv 3×3 → tanh.
/// Channels at resolution r: width · (8, 4, 2, 1, ½, ¼, ⅛) for r = 4, 8, … 256, at least 8 (at width 16:
/// 128, 64, 32, 16, 8, 8, 8; the costly full-resolution layers stay narrow, which a CPU needs).
///
/// D (`FastGANDiscriminator`): `stem`: conv 4×4/2 → LeakyReLU(0.2) to R/2, then down blocks to 8 × 8,
/// each the average of conv 4×4/2 → LReLU → conv 3×3 → LReLU and AvgPool2d(2) → conv 1×1 → LReLU;
/// `head`: conv 1×1 → LReLU → conv 4×4 → a 5 × 5 grid of patch logits. Channels at resolution r:
/// width · 64 / r, at least 8. Without BatchNorm (unlike the paper's D), so real and fake pictures
/// share one batch and a picture's logits never depend on the others'. Two decoders reconstruct a
/// 32 × 32 real picture, `decoder_big` from the 8 × 8 features and `decoder_part` from a random quadrant
/// of the 16 × 16 ones (conv 1×1 to 16 channels, up-sampling blocks to 16 and 8, conv 3×3 → tanh: a
/// tenth of D's cost; FastGAN's are far wider, and an LPIPS network scores them), scored by L1
/// against the real picture (or that quadrant) averaged down to 32 × 32.
public struct FastGAN: ArchitectureDescriptor {
    /// Measured at 32 pixels: D, with its decoders, is several times G.
    public var trainingBytesPerWeight: Int { 200 }
    /// The side of the decoders' reconstructions.
    public static let reconstructionSize = 32

    /// 16: the 64-pixel step then takes about 1.3 times as long as dcgan's at width 32 (135 against 106 ms
    /// on the 2-core machine).
    public func defaultWidth(resolution: Int) -> Int { 16 }

    /// FastGAN's batch of 8, the random-margin hinge loss and LeCam at 0.1.
    public func applyTrainingDefaults(to options: inout TrainingOptions) {
        (options.batch, options.loss, options.lecam) = (8, .randomHinge, 0.1)
    }

    public var needsFeatureNetwork: Bool { false }

    public func makeGenerator(_ config: ModelConfig, noise: RandomSource, rng: inout RNG) throws -> Layer {
        try FastGANGenerator(config, noise: noise, rng: &rng)
    }

    public func makeDiscriminator(_ config: ModelConfig, features: FeaturePyramid?, rng: inout RNG) throws -> Discriminator {
        try FastGANDiscriminator(config, rng: &rng)
    }

    public func makeFeatureDiscriminator(_ config: ModelConfig, rng: inout RNG) throws -> FeatureStagedDiscriminator? {
        try FastGANDiscriminator(config, rng: &rng)
    }

    /// The 4 × 4 transposed convolution to twice c(4) channels, then a 3 × 3 convolution to twice the
    /// channels per doubling, and the last one to RGB.
    public func minimumGeneratorWeights(_ config: ModelConfig) -> Int {
        let levels = config.stages
        let channels = (0...levels).map { FastGAN.generatorChannels(4 << $0, width: config.width) }
        return config.zDim * 2 * channels[0] * 16 + (1...levels).reduce(0) { $0 + channels[$1 - 1] * 2 * channels[$1] * 9 }
            + channels[levels] * 3 * 9
    }

    static func generatorChannels(_ r: Int, width: Int) -> Int {
        let eighths = [4: 64, 8: 32, 16: 16, 32: 8, 64: 4, 128: 2, 256: 1][r]!
        return max(8, width * eighths / 8)
    }

    static func discriminatorChannels(_ r: Int, width: Int) -> Int { max(8, width * 64 / r) }

    /// Spectrally normalised convolution.
    static func conv(_ a: Int, _ b: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true,
                     rng: inout RNG) -> SpectralNorm {
        SpectralNorm(Conv2d(a, b, kernel: kernel, stride: stride, padding: padding, bias: bias), rng: &rng)
    }

    /// Nearest ×2 → conv 3×3 → [noise] → BN → GLU, a channels to b (and a second conv → [noise] → BN
    /// → GLU when `twoConvolutions`).
    static func upBlock(_ a: Int, _ b: Int, twoConvolutions: Bool, noise: RandomSource?, rng: inout RNG) -> Sequential {
        func convolution(_ from: Int) -> [Layer] {
            [conv(from, 2 * b, kernel: 3, padding: 1, bias: false, rng: &rng)] + (noise.map { [NoiseInjection(source: $0)] } ?? [])
                + [BatchNorm2d(2 * b), GLU()]
        }
        return Sequential([Upsample(scale: 2)] + convolution(a) + (twoConvolutions ? convolution(b) : []))
    }
}

/// Skip-layer excitation: a small feature map gates the channels of a large one,
/// y = big ⊙ σ(conv 1×1(SiLU(conv 4×4(AdaptiveAvgPool(4)(small))))).
/// Two inputs, so a `Module` with its own forward/backward pair rather than a `Layer`.
public final class SkipLayerExcitation: Module {
    /// small N × a × h × w → gate N × b × 1 × 1 (FastGAN's `main`).
    public let gate: Sequential
    private var big: Tensor?
    private var gateValues: Tensor?
    private let output = Tensor(shape: [0])
    private let bigGradient = Tensor(shape: [0])
    private let gateGradient = Tensor(shape: [0])

    public init(_ smallChannels: Int, _ bigChannels: Int, rng: inout RNG) {
        gate = Sequential([AdaptiveAvgPool2d(4),
                           FastGAN.conv(smallChannels, bigChannels, kernel: 4, bias: false, rng: &rng), SiLU(),
                           FastGAN.conv(bigChannels, bigChannels, kernel: 1, bias: false, rng: &rng), Sigmoid()])
    }

    public var sublayers: [(name: String, module: Module)] { [("main", gate)] }

    // small: N × a × h × w, big: N × b × H × W → y: N × b × H × W
    public func forward(small: Tensor, big: Tensor, training: Bool) -> Tensor {
        let g = gate.forward(small, training: training)
        (self.big, gateValues) = (big, g)
        output.multiply(big, byChannelGate: g)
        return output
    }

    // The eval forward for drawing only (see `Layer.infer`): nothing kept for a backward.
    public func infer(small: Tensor, big: Tensor) -> Tensor {
        (self.big, gateValues) = (nil, nil)
        output.multiply(big, byChannelGate: gate.infer(small))
        return output
    }

    // dy: N × b × H × W → (d small: N × a × h × w, d big: N × b × H × W)
    public func backward(_ outputGradient: Tensor, needsParameterGradients: Bool) -> (small: Tensor, big: Tensor) {
        guard let big, let gateValues else { preconditionFailure("SkipLayerExcitation: backward before forward") }
        Tensor.channelGateGradients(outputGradient: outputGradient, input: big, gate: gateValues,
                                    inputGradient: bigGradient, gateGradient: gateGradient)
        let small = gate.backward(gateGradient, needsInputGradient: true, needsParameterGradients: needsParameterGradients)!
        return (small, bigGradient)
    }
}

/// FastGAN's generator (see `FastGAN`): latents N × z × 1 × 1 → pictures N × 3 × R × R in (−1, 1).
public final class FastGANGenerator: Layer {
    /// z → 4 × 4 features.
    public let initial: Sequential
    /// The block that makes the features at 8, 16, … R from the level below.
    public let blocks: [Sequential]
    /// Skip-layer excitations by the level they gate (level i is 4 · 2^i pixels); the gating map is 4 levels down.
    public let excitations: [Int: SkipLayerExcitation]
    public let toImage: Sequential
    private let resolution: Int
    private let mergedGradient = Tensor(shape: [0])
    /// Forward's feature map per level and backward's gradient per gating level, kept between calls
    /// so a warmed-up step allocates no array or dictionary.
    private var features: [Tensor] = []
    private var gatingGradients: [Tensor?] = []

    public init(_ config: ModelConfig, noise: RandomSource, rng: inout RNG) throws {
        try config.validate()
        resolution = config.resolution
        let levels = config.resolution.trailingZeroBitCount - 2   // 4 · 2^levels = R
        let channels = (0...levels).map { FastGAN.generatorChannels(4 << $0, width: config.width) }
        initial = Sequential([SpectralNorm(ConvTranspose2d(config.zDim, 2 * channels[0], kernel: 4, bias: false), rng: &rng),
                              BatchNorm2d(2 * channels[0]), GLU()])
        blocks = (1...levels).map { level in
            // The blocks to 8, 32 and 128 have two convolutions and noise (FastGAN's UpBlockComp).
            let compound = level % 2 == 1
            return FastGAN.upBlock(channels[level - 1], channels[level], twoConvolutions: compound,
                                   noise: compound ? noise : nil, rng: &rng)
        }
        var excitations: [Int: SkipLayerExcitation] = [:]
        for level in 4...max(4, levels) where level <= levels {
            excitations[level] = SkipLayerExcitation(channels[level - 4], channels[level], rng: &rng)
        }
        self.excitations = excitations
        toImage = Sequential([FastGAN.conv(channels[levels], 3, kernel: 3, padding: 1, bias: false, rng: &rng), Tanh()])
    }

    public var sublayers: [(name: String, module: Module)] {
        [("init", initial)] + blocks.enumerated().map { ("feat_\(8 << $0.offset)", $0.element) }
            + excitations.keys.sorted().map { ("se_\(4 << $0)", excitations[$0]!) } + [("to_big", toImage)]
    }

    // z: N × z × 1 × 1 → feature levels 4 … R → x: N × 3 × R × R
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        run(input, { $0.forward($1, training: training) }, excite: { $0.forward(small: $1, big: $2, training: training) })
    }

    // The same in eval with every part's `infer`.
    public func infer(_ input: Tensor) -> Tensor {
        run(input, { $0.infer($1) }, excite: { $0.infer(small: $1, big: $2) })
    }

    /// The levels with `apply` running each part and `excite` each skip-layer excitation.
    private func run(_ input: Tensor, _ apply: (Layer, Tensor) -> Tensor,
                     excite: (SkipLayerExcitation, _ small: Tensor, _ big: Tensor) -> Tensor) -> Tensor {
        features.removeAll(keepingCapacity: true)
        features.append(apply(initial, input))
        for (index, block) in blocks.enumerated() {
            let level = index + 1
            var x = apply(block, features[index])
            if let excitation = excitations[level] { x = excite(excitation, features[level - 4], x) }
            features.append(x)
        }
        return apply(toImage, features.last!)
    }

    // dx: N × 3 × R × R → dz: N × z × 1 × 1 (each level's gradient: its block's, plus an excitation's
    // gradient for the map it gated with; written by hand, not as a tapped stack, because that gradient
    // arises within this same backward pass)
    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool, needsParameterGradients: Bool) -> Tensor? {
        var gradient = toImage.backward(outputGradient, needsInputGradient: true, needsParameterGradients: needsParameterGradients)!
        gatingGradients.removeAll(keepingCapacity: true)
        gatingGradients.append(contentsOf: repeatElement(nil, count: blocks.count + 1))
        for level in stride(from: blocks.count, through: 1, by: -1) {
            if let excitation = excitations[level] {
                let (small, big) = excitation.backward(gradient, needsParameterGradients: needsParameterGradients)
                gatingGradients[level - 4] = small
                gradient = big
            }
            gradient = blocks[level - 1].backward(gradient, needsInputGradient: true, needsParameterGradients: needsParameterGradients)!
            if let extra = gatingGradients[level - 1] {
                mergedGradient.assign(gradient)
                mergedGradient.add(extra)
                gradient = mergedGradient
            }
        }
        return initial.backward(gradient, needsInputGradient: needsInputGradient, needsParameterGradients: needsParameterGradients)
    }
}

/// FastGAN's discriminator with its two reconstruction decoders (see `FastGAN`): pictures
/// N × 3 × R × R → patch logits N × 1 × 5 × 5.
public final class FastGANDiscriminator: FeatureStagedDiscriminator {
    /// R → R/2 → … → 8 × 8: the stem, then the down blocks; tapped at the 16 × 16 and 8 × 8 maps, which
    /// the decoders read.
    public let trunk: Sequential
    public let head: Sequential
    public let wholeDecoder: Sequential
    public let partDecoder: Sequential
    private let resolution: Int

    /// The last `reconstructionLoss`'s pictures (its real pictures', N × 3 × 32 × 32: whole, and the
    /// quadrant) and their L1 losses, to inspect; valid until the next call.
    public private(set) var lastReconstructions: (whole: Tensor, part: Tensor, wholeLoss: Float, partLoss: Float)?
    /// Whether the next backward adds the last reconstruction's gradients to the trunk's.
    private var reconstructionPending = false
    /// The decoders' targets: the real pictures (or the quadrant) resampled to the reconstruction size.
    private let wholeResampling: Layer, partResampling: Layer
    private let realPictures = Tensor(shape: [0])
    private let quadrantPictures = Tensor(shape: [0])
    private let decoderInput = Tensor(shape: [0])
    private let firstSamples = Tensor(shape: [0])
    private let reconstructionGradient = Tensor(shape: [0])
    private let wholeFeatureGradient = Tensor(shape: [0])
    private let partFeatureGradient = Tensor(shape: [0])
    /// The decoders' feature gradients as the whole batch's (zero for the samples they did not read).
    private let tapGradients16 = Tensor(shape: [0]), tapGradients8 = Tensor(shape: [0])

    public init(_ config: ModelConfig, rng: inout RNG) throws {
        try config.validate()
        resolution = config.resolution
        let width = config.width
        func channels(_ r: Int) -> Int { FastGAN.discriminatorChannels(r, width: width) }
        var trunk: [Layer] = [Sequential([FastGAN.conv(3, channels(resolution / 2), kernel: 4, stride: 2, padding: 1, rng: &rng),
                                          LeakyReLU(0.2)])]
        var r = resolution / 2
        while r > 8 {
            let (a, b) = (channels(r), channels(r / 2))
            let main = Sequential([FastGAN.conv(a, b, kernel: 4, stride: 2, padding: 1, rng: &rng), LeakyReLU(0.2),
                                   FastGAN.conv(b, b, kernel: 3, padding: 1, rng: &rng), LeakyReLU(0.2)])
            let direct = Sequential([AvgPool2d(kernel: 2), FastGAN.conv(a, b, kernel: 1, rng: &rng), LeakyReLU(0.2)])
            trunk.append(ParallelPaths([("main", main), ("direct", direct)], scale: 0.5))
            r /= 2
        }
        self.trunk = Sequential(trunk, taps: [trunk.count - 1, trunk.count])
        head = Sequential([FastGAN.conv(channels(8), channels(8), kernel: 1, rng: &rng), LeakyReLU(0.2),
                           FastGAN.conv(channels(8), 1, kernel: 4, rng: &rng)])
        func decoder(_ inputChannels: Int) -> Sequential {
            Sequential([FastGAN.conv(inputChannels, 16, kernel: 1, bias: false, rng: &rng)]
                       + FastGAN.upBlock(16, 16, twoConvolutions: false, noise: nil, rng: &rng).layers
                       + FastGAN.upBlock(16, 8, twoConvolutions: false, noise: nil, rng: &rng).layers
                       + [FastGAN.conv(8, 3, kernel: 3, padding: 1, rng: &rng), Tanh()])
        }
        wholeDecoder = decoder(channels(8))
        partDecoder = decoder(channels(16))
        // Averaged over blocks down to the reconstruction size, or repeated up to it when the window is smaller.
        func resampling(_ side: Int) -> Layer {
            let size = FastGAN.reconstructionSize
            return side >= size ? AvgPool2d(kernel: side / size) : Upsample(scale: size / side)
        }
        (wholeResampling, partResampling) = (resampling(resolution), resampling(resolution / 2))
    }

    public var sublayers: [(name: String, module: Module)] {
        [("stem", trunk.layers[0])] + trunk.layers.dropFirst().enumerated().map { ("down_\(resolution >> ($0.offset + 2))", $0.element) }
            + [("head", head), ("decoder_big", wholeDecoder), ("decoder_part", partDecoder)]
    }

    /// The trunk, tapped at every map (R/2 … 8 pixels a side).
    public var featureStages: Sequential { Sequential(trunk.layers, taps: Array(1...trunk.layers.count)) }

    // x: N × 3 × R × R → trunk → N × c × 8 × 8 → logits N × 1 × 5 × 5
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        reconstructionPending = false
        return head.forward(trunk.forward(input, training: training), training: training)
    }

    public func reconstructionLoss(realCount: Int, target: Tensor, rng: inout RNG) -> Float? {
        let (features16, features8) = (trunk.tappedMaps[0], trunk.tappedMaps[1])
        precondition(features8.shape.count == 4, "reconstructionLoss before forward")
        let n = realCount
        precondition(n > 0 && n <= features8.shape[0] && target.shape[0] >= n && target.shape[2] == resolution)
        copyFirstSamples(n, of: target, into: realPictures)
        // The whole picture from the 8 × 8 features.
        copyFirstSamples(n, of: features8, into: decoderInput)
        let whole = reconstruct(with: wholeDecoder, target: wholeResampling.forward(realPictures, training: false),
                                featureGradient: wholeFeatureGradient)
        // A random quadrant from the matching quadrant of the 16 × 16 features.
        let quadrant = rng.integer(below: 4)
        let (top, left) = (quadrant / 2, quadrant % 2)
        copyFirstSamples(n, of: features16, into: firstSamples)
        decoderInput.crop(firstSamples, top: 8 * top, left: 8 * left, height: 8, width: 8)
        let half = resolution / 2
        quadrantPictures.crop(realPictures, top: half * top, left: half * left, height: half, width: half)
        let part = reconstruct(with: partDecoder, target: partResampling.forward(quadrantPictures, training: false),
                               featureGradient: partFeatureGradient)

        // Their gradients, as the whole batch's, for the next backward to add at the maps they read.
        let batch = features8.shape[0]
        padToBatch(wholeFeatureGradient, batch, into: tapGradients8)
        firstSamples.fill(0)
        firstSamples.addUncropped(partFeatureGradient, top: 8 * top, left: 8 * left)
        padToBatch(firstSamples, batch, into: tapGradients16)
        reconstructionPending = true
        lastReconstructions = (whole.picture, part.picture, whole.loss, part.loss)
        return whole.loss + part.loss
    }

    /// Runs `decoder` on `decoderInput`, scores it by L1 against `target`, trains the decoder by it and
    /// keeps the gradient for the features in `featureGradient`. Returns the reconstruction (the decoder's
    /// own output buffer) and its loss.
    private func reconstruct(with decoder: Sequential, target: Tensor, featureGradient: Tensor) -> (picture: Tensor, loss: Float) {
        let reconstruction = decoder.forward(decoderInput, training: true)
        let loss = meanAbsoluteError(reconstruction, target, gradient: reconstructionGradient)
        featureGradient.assign(decoder.backward(reconstructionGradient))
        return (reconstruction, loss)
    }

    // dlogits: N × 1 × 5 × 5 → dx: N × 3 × R × R, adding a pending reconstruction's gradients at the trunk's
    // 16 × 16 and 8 × 8 maps
    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool, needsParameterGradients: Bool) -> Tensor? {
        defer { reconstructionPending = false }
        let gradient = head.backward(outputGradient, needsInputGradient: true, needsParameterGradients: needsParameterGradients)!
        return trunk.backward(gradient, tapGradients: reconstructionPending ? [tapGradients16, tapGradients8] : [nil, nil],
                              needsInputGradient: needsInputGradient, needsParameterGradients: needsParameterGradients)
    }
}

/// target = the first `count` samples of `source`.
private func copyFirstSamples(_ count: Int, of source: Tensor, into target: Tensor) {
    let shape = source.shape
    target.resize(count, shape[1], shape[2], shape[3])
    target.data.update(from: source.data, count: target.count)
}

/// target = `source`'s samples, then zeros up to `batch` samples: a gradient for the first samples of a batch
/// as the whole batch's.
private func padToBatch(_ source: Tensor, _ batch: Int, into target: Tensor) {
    let shape = source.shape
    target.resize(batch, shape[1], shape[2], shape[3])
    target.fill(0)
    target.data.update(from: source.data, count: source.count)
}
