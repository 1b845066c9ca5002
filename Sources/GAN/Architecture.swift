import Neural
import Perception

public struct ModelConfig: Codable, Equatable, Sendable {
    public var resolution: Int
    public var width: Int
    public var zDim: Int
    /// Which networks to build. Not part of the config JSON: checkpoints name it in their
    /// `architecture` field.
    public var architecture: Architecture = .dcgan

    private enum CodingKeys: String, CodingKey { case resolution, width, zDim }

    public static let resolutions = [32, 64, 128, 256]

    public init(resolution: Int, width: Int = 64, zDim: Int = 128, architecture: Architecture = .dcgan) {
        (self.resolution, self.width, self.zDim, self.architecture) = (resolution, width, zDim, architecture)
    }

    /// The model `train` builds for pictures of `resolution` unless told otherwise, z of 128 and the
    /// architecture's default width: dcgan and resize 64, or 32 from 128 pixels up (the wider nets would
    /// cost too much per step on a CPU); fastgan 16 (see `FastGAN`: its 64-pixel step then takes about
    /// 1.3 times as long as dcgan's at width 32, 135 against 106 ms on the 2-core machine).
    public static func trainingDefault(resolution: Int, width: Int? = nil, zDim: Int? = nil,
                                       architecture: Architecture = .dcgan) -> ModelConfig {
        let defaultWidth: Int
        switch architecture {
        case .dcgan, .resize: defaultWidth = resolution <= 64 ? 64 : 32
        case .fastgan, .projected: defaultWidth = 16
        }
        return ModelConfig(resolution: resolution, width: width ?? defaultWidth, zDim: zDim ?? 128, architecture: architecture)
    }

    /// Throws `ModelConfigError.invalidConfig` unless the resolution is supported and width, zDim are positive.
    public func validate() throws {
        guard ModelConfig.resolutions.contains(resolution) else {
            throw ModelConfigError.invalidConfig("resolution \(resolution) is not one of \(ModelConfig.resolutions)")
        }
        guard width > 0, width <= 4096 else { throw ModelConfigError.invalidConfig("width \(width) out of range 1...4096") }
        guard zDim > 0, zDim <= 65536 else { throw ModelConfigError.invalidConfig("zDim \(zDim) out of range 1...65536") }
    }

    /// Number of up- or down-sampling stages: log2(R) − 2.
    var stages: Int { resolution.trailingZeroBitCount - 2 }

    /// dcgan's and resize's G widths, widest first (R 64, W 64: 512, 256, 128, 64).
    public var generatorWidths: [Int] { (0..<stages).map { width * min(8, 1 << (stages - 1 - $0)) } }
    /// dcgan's and resize's D widths, narrowest first (R 64, W 64: 64, 128, 256, 512).
    public var discriminatorWidths: [Int] { (0..<stages).map { width * min(8, 1 << $0) } }
}

/// The networks a checkpoint holds: its name builds G and D (`ModelConfig.makeGenerator`,
/// `makeDiscriminator`) and picks their initialisation.
public enum Architecture: String, Codable, CaseIterable, Sendable {
    /// The reference DCGAN: G doubles with ConvTranspose2d(4, 2, 1), whose uneven kernel overlap draws a
    /// checkerboard that an under-trained model shows as a regular dot grid.
    case dcgan
    /// DCGAN whose G doubles with nearest-neighbour Upsample(2) then Conv2d(3, 1, 1): every output pixel
    /// gets the same number of taps, so there is no checkerboard (Odena et al., "Deconvolution and
    /// Checkerboard Artifacts").
    case resize
    /// The few-shot model after FastGAN (Liu et al. 2021): a generator of upsample + 3×3 convolution +
    /// GLU blocks with skip-layer excitation, a discriminator with patch logits and decoders that must
    /// reconstruct the real pictures from its features (see `FastGAN`).
    case fastgan
    /// fastgan's generator against a discriminator that looks through a frozen pretrained feature
    /// network, EfficientNet-Lite0 (see `ProjectedDiscriminator`).
    case projected

    /// Whether training needs the pretrained feature network (`makeDiscriminator(features:rng:)`).
    public var needsFeatureNetwork: Bool { self == .projected }

    /// How the weights are drawn: DCGAN's N(0, 0.02), which FastGAN uses too.
    public var initialization: Initialization { .dcgan }
}

public enum ModelConfigError: Error, Equatable, CustomStringConvertible {
    case invalidConfig(String)
    public var description: String {
        switch self { case .invalidConfig(let why): return "invalid model configuration: \(why)" }
    }
}


extension ModelConfig {
    /// G: latents N × zDim × 1 × 1 → pictures N × 3 × R × R in (−1, 1). Weights are zero until
    /// initialised; spectral norm's vectors are drawn from `rng`, noise (fastgan) from `noise`.
    public func makeGenerator(noise: RandomSource, rng: inout RNG) throws -> Layer {
        switch architecture {
        case .dcgan, .resize: return try DCGAN.generator(self)
        case .fastgan, .projected: return try FastGANGenerator(self, noise: noise, rng: &rng)
        }
    }

    /// D: pictures N × 3 × R × R → logits N × k × h × w. Weights are zero until initialised. `projected`
    /// looks through `features` and throws without them; the others ignore them.
    public func makeDiscriminator(features: FeaturePyramid?, rng: inout RNG) throws -> Discriminator {
        switch architecture {
        case .dcgan, .resize: return try DCGAN.discriminator(self)
        case .fastgan: return try FastGANDiscriminator(self, rng: &rng)
        case .projected:
            guard let features else { throw ModelConfigError.invalidConfig("projected needs the pretrained feature network") }
            return try ProjectedDiscriminator(self, features: features, rng: &rng)
        }
    }
}

extension ModelConfig {
    /// A lower bound of the weights G holds, worked out from the config without building anything: a
    /// checkpoint whose config claims a huge model must hold that many (see `Checkpoint.requireGeneratorTensors`).
    public var minimumGeneratorWeights: Int {
        switch architecture {
        case .dcgan, .resize:
            // G's first layer is a 4 × 4 transposed convolution from z; every later stage's kernel is at least 3 × 3.
            let widths = generatorWidths
            return zDim * widths[0] * 16 + zip(widths, widths.dropFirst() + [3]).reduce(0) { $0 + $1.0 * $1.1 * 9 }
        case .fastgan, .projected:
            // The 4 × 4 transposed convolution to twice c(4) channels, then a 3 × 3 convolution to twice the
            // channels per doubling, and the last one to RGB.
            let levels = resolution.trailingZeroBitCount - 2
            let channels = (0...levels).map { FastGAN.generatorChannels(4 << $0, width: width) }
            return zDim * 2 * channels[0] * 16 + (1...levels).reduce(0) { $0 + channels[$1 - 1] * 2 * channels[$1] * 9 }
                + channels[levels] * 3 * 9
        }
    }
}

/// A discriminator: pictures N × 3 × R × R → logits N × k × h × w (one logit a picture, a grid of
/// patch logits, or a grid per scale).
public protocol Discriminator: Layer {
    /// Self-supervision on the real pictures, the first `realCount` samples of the last forward:
    /// `target` holds them as D saw them. Returns the loss and keeps its gradient for the next
    /// `backward`, or nil when the architecture has none. Random choices come from `rng`.
    func reconstructionLoss(realCount: Int, target: Tensor, rng: inout RNG) -> Float?
}

/// DCGAN's discriminator is a plain stack of layers without self-supervision.
extension Sequential: Discriminator {
    public func reconstructionLoss(realCount: Int, target: Tensor, rng: inout RNG) -> Float? { nil }
}
