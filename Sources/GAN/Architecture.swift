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

    /// The model `train` builds for pictures of `resolution` unless told otherwise: the objective's latent
    /// size and the architecture's default width.
    public static func trainingDefault(resolution: Int, width: Int? = nil, zDim: Int? = nil,
                                       architecture: Architecture = .dcgan,
                                       objective: TrainingOptions.Objective = .gan) -> ModelConfig {
        ModelConfig(resolution: resolution, width: width ?? architecture.descriptor.defaultWidth(resolution: resolution),
                    zDim: zDim ?? objective.defaultLatentSize, architecture: architecture)
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

/// The networks a checkpoint holds, by the name its metadata stores (`architecture`): a key into the
/// registry of descriptors, which know everything else about them.
public struct Architecture: RawRepresentable, Hashable, Codable, CaseIterable, Sendable, CustomStringConvertible {
    /// The registry: every architecture a checkpoint may name, in the order `train --help` lists them. A
    /// new architecture is one file (its descriptor and its constant) and one entry here.
    public static let allCases: [Architecture] = [.dcgan, .resize, .fastgan, .projected]

    public let rawValue: String
    public let descriptor: any ArchitectureDescriptor

    /// The constant of an architecture, for its descriptor's file.
    init(_ name: String, _ descriptor: any ArchitectureDescriptor) { (rawValue, self.descriptor) = (name, descriptor) }

    /// The registered architecture of this name; nil for an unknown one.
    public init?(rawValue: String) {
        guard let known = Self.allCases.first(where: { $0.rawValue == rawValue }) else { return nil }
        self = known
    }

    /// Its name, as a checkpoint stores it.
    public init(from decoder: Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let known = Architecture(rawValue: name) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown architecture '\(name)'"))
        }
        self = known
    }

    public func encode(to encoder: Encoder) throws {
        var name = encoder.singleValueContainer()
        try name.encode(rawValue)
    }

    public static func == (a: Architecture, b: Architecture) -> Bool { a.rawValue == b.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
    public var description: String { rawValue }

    /// Whether training needs the pretrained feature network (`makeDiscriminator(features:rng:)`).
    public var needsFeatureNetwork: Bool { descriptor.needsFeatureNetwork }

    /// How the weights are drawn.
    public var initialization: Initialization { descriptor.initialization }
}

/// Everything the project knows about one architecture: the networks it builds and the defaults `train`
/// gives it. One conforming type per architecture, registered in `Architecture.allCases`.
public protocol ArchitectureDescriptor: Sendable {
    /// The width `train` uses for pictures of `resolution` unless told otherwise.
    func defaultWidth(resolution: Int) -> Int
    /// What this architecture changes in `train`'s defaults (batch, loss, LeCam); see
    /// `TrainingOptions(defaultsFor:objective:)`.
    func applyTrainingDefaults(to options: inout TrainingOptions)
    /// Whether D looks through the pretrained feature network, which `makeDiscriminator` then needs.
    var needsFeatureNetwork: Bool { get }
    /// How the weights are drawn.
    var initialization: Initialization { get }

    /// G: latents N × zDim × 1 × 1 → pictures N × 3 × R × R in (−1, 1). Weights are zero until initialised;
    /// spectral norm's vectors are drawn from `rng`, noise from `noise`.
    func makeGenerator(_ config: ModelConfig, noise: RandomSource, rng: inout RNG) throws -> Layer
    /// D: pictures N × 3 × R × R → logits N × k × h × w. Weights are zero until initialised. Throws when it
    /// needs the pretrained `features` and has none.
    func makeDiscriminator(_ config: ModelConfig, features: FeaturePyramid?, rng: inout RNG) throws -> Discriminator
    /// The same D as a network whose own layers see the pictures, the feature stages `project` compares in
    /// (`DiscriminatorFeatures`); nil when D looks through the pretrained network instead.
    func makeFeatureDiscriminator(_ config: ModelConfig, rng: inout RNG) throws -> FeatureStagedDiscriminator?
    /// A lower bound of the weights G holds, worked out from the config without building anything: a
    /// checkpoint whose config claims a huge model must hold that many (see `Checkpoint.requireGeneratorTensors`).
    func minimumGeneratorWeights(_ config: ModelConfig) -> Int
    /// The bytes a training run holds per weight of G (weights, gradients, Adam's moments, the average, D),
    /// measured at 32 pixels: what `ModelConfig.estimatedTrainingBytes` scales.
    var trainingBytesPerWeight: Int { get }
}

extension ArchitectureDescriptor {
    /// DCGAN's N(0, 0.02), which FastGAN uses too.
    public var initialization: Initialization { .dcgan }
}

public enum ModelConfigError: Error, Equatable, CustomStringConvertible {
    case invalidConfig(String)
    public var description: String {
        switch self { case .invalidConfig(let why): return "invalid model configuration: \(why)" }
    }
}


extension ModelConfig {
    /// The architecture's G for this config (see `ArchitectureDescriptor.makeGenerator`).
    public func makeGenerator(noise: RandomSource, rng: inout RNG) throws -> Layer {
        try architecture.descriptor.makeGenerator(self, noise: noise, rng: &rng)
    }

    /// The architecture's D for this config (see `ArchitectureDescriptor.makeDiscriminator`).
    public func makeDiscriminator(features: FeaturePyramid?, rng: inout RNG) throws -> Discriminator {
        try architecture.descriptor.makeDiscriminator(self, features: features, rng: &rng)
    }

    /// See `ArchitectureDescriptor.minimumGeneratorWeights`.
    public var minimumGeneratorWeights: Int { architecture.descriptor.minimumGeneratorWeights(self) }
}

/// A discriminator: pictures N × 3 × R × R → logits N × k × h × w (one logit a picture, a grid of
/// patch logits, or a grid per scale).
public protocol Discriminator: Layer {
    /// Self-supervision on the real pictures, the first `realCount` samples of the last forward:
    /// `target` holds them as D saw them. Returns the loss and keeps its gradient for the next
    /// `backward`, or nil when the architecture has none. Random choices come from `rng`.
    func reconstructionLoss(realCount: Int, target: Tensor, rng: inout RNG) -> Float?
}

/// A discriminator whose own layers see the pictures (not a pretrained network's features): what it has
/// learnt to tell apart, `project` can compare pictures in.
public protocol FeatureStagedDiscriminator: Discriminator {
    /// D's layers from the pictures up to its last feature map (the logits' head and any decoders left
    /// out), tapped at each map, finest first. The layers are D's own.
    var featureStages: Sequential { get }
}
