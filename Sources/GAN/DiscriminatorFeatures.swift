import Neural
import Perception

/// A checkpoint's own discriminator seen as a frozen feature network: the maps of its feature stages,
/// finest first (`FeatureStagedDiscriminator.featureStages`: dcgan's and resize's Conv2d(4, 2, 1) →
/// LeakyReLU pairs, R/2 … 4 pixels a side; fastgan's trunk, R/2 … 8). What `project` compares pictures in
/// when no pretrained network is at hand: D has learnt what tells the training pictures apart from the
/// generator's attempts. Inference only: spectral norm reuses its stored vectors, and no parameter
/// gradient is taken.
public final class DiscriminatorFeatures: FeaturePyramid {
    /// D's layers up to its last map, tapped at every map.
    private let stages: Sequential
    public let featureChannels: [Int]
    public let featureStrides: [Int]
    /// The last map averaged over its pixels: N × c × h × w → N × c.
    private let globalAverage: Sequential

    /// The discriminator (`D.*`) of `checkpoint`; throws `CheckpointError.mismatch` when its tensors do
    /// not fit the checkpoint's config, or when its D has no picture features of its own.
    public convenience init(checkpoint: Checkpoint) throws {
        let config = checkpoint.info.config
        // Eval mode draws nothing, so the spectral-norm vectors drawn here are replaced by the loaded ones.
        var unused = RNG(seed: 0)
        // A projected D looks through the pretrained network, and a coverage-only run's D never trained.
        guard checkpoint.info.discriminatorSeesPictures,
              let discriminator = try config.architecture.descriptor.makeFeatureDiscriminator(config, rng: &unused) else {
            throw CheckpointError.mismatch("a \(config.architecture) \(checkpoint.info.training.objective.rawValue) model is compared in the pretrained network's features, not its D's")
        }
        let named = try checkpoint.engineTensors(matching: discriminator.liveTensors().map { ("D." + $0.0, $0.1) },
                                                 prefixes: ["D."])
        try discriminator.load(Dictionary(uniqueKeysWithValues: named.map { (String($0.key.dropFirst(2)), $0.value) }))
        self.init(discriminator, resolution: config.resolution)
    }

    /// The feature stages of `discriminator` for pictures of `resolution`.
    public init(_ discriminator: FeatureStagedDiscriminator, resolution: Int) {
        stages = discriminator.featureStages
        // One blank picture tells every map's channels and size.
        _ = stages.forward(Tensor(shape: [1, 3, resolution, resolution]), training: false)
        featureChannels = stages.tappedMaps.map { $0.shape[1] }
        featureStrides = stages.tappedMaps.map { resolution / $0.shape[2] }
        globalAverage = Sequential([AdaptiveAvgPool2d(1), Reshape([featureChannels.last!])])
    }

    public func features(_ pictures: Tensor) -> [Tensor] {
        _ = stages.forward(pictures, training: false)
        return stages.tappedMaps
    }

    // Each map is both an output and the next stage's input: the tapped stack sums both gradients.
    public func inputGradient(_ featureGradients: [Tensor]) -> Tensor {
        precondition(featureGradients.count == stages.taps.count,
                     "DiscriminatorFeatures: \(featureGradients.count) gradients for \(stages.taps.count) maps")
        return stages.backward(nil, tapGradients: featureGradients, needsInputGradient: true, needsParameterGradients: false)!
    }

    public var pooledChannels: Int { featureChannels.last! }

    public func pooledFeatures(_ pictures: Tensor) -> Tensor {
        globalAverage.forward(features(pictures).last!, training: false)
    }
}
