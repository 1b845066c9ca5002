import Neural
import Perception

/// A checkpoint's own discriminator seen as a frozen feature network: the maps after each of its
/// down-sampling stages, finest first. What `project` compares pictures in when no pretrained network is
/// at hand: D has learnt what tells the training pictures apart from the generator's attempts.
///
/// dcgan and resize: the output of each Conv2d(4, 2, 1) → LeakyReLU pair (R/2 … 4 pixels a side);
/// fastgan: its trunk, the stem and the down blocks (R/2 … 8). The logits head and fastgan's decoders
/// are left out. Inference only: spectral norm reuses its stored vectors, and no parameter gradient is
/// taken.
public final class DiscriminatorFeatures: FeaturePyramid {
    /// One layer per map: running them in turn gives the maps.
    private let stages: [Layer]
    public let featureChannels: [Int]
    public let featureStrides: [Int]
    private var maps: [Tensor] = []
    private let mergedGradient = Tensor(shape: [0])
    private let pooled = Tensor(shape: [0])

    /// The discriminator (`D.*`) of `checkpoint`; throws `CheckpointError.mismatch` when its tensors do
    /// not fit the checkpoint's config.
    public convenience init(checkpoint: Checkpoint) throws {
        let config = checkpoint.info.config
        // Eval mode draws nothing, so the spectral-norm vectors drawn here are replaced by the loaded ones.
        var unused = RNG(seed: 0)
        // A projected D looks through the pretrained network: its own layers are no picture features.
        guard checkpoint.info.discriminatorSeesPictures else {
            throw CheckpointError.mismatch("a \(config.architecture) \(checkpoint.info.training.objective.rawValue) model is compared in the pretrained network's features, not its D's")
        }
        let discriminator = try config.makeDiscriminator(features: nil, rng: &unused)
        let named = try checkpoint.engineTensors(matching: discriminator.liveTensors().map { ("D." + $0.0, $0.1) },
                                                 prefixes: ["D."])
        try discriminator.load(Dictionary(uniqueKeysWithValues: named.map { (String($0.key.dropFirst(2)), $0.value) }))
        self.init(discriminator, resolution: config.resolution)
    }

    /// The feature stages of `discriminator` (a dcgan/resize `Sequential` or a `FastGANDiscriminator`)
    /// for pictures of `resolution`.
    public init(_ discriminator: Discriminator, resolution: Int) {
        switch discriminator {
        case let fastgan as FastGANDiscriminator:
            stages = fastgan.trunk
        case let sequential as Sequential:
            // Convolution, LeakyReLU pairs, then the convolution to the logit.
            stages = stride(from: 0, to: sequential.layers.count - 1, by: 2).map {
                Sequential(Array(sequential.layers[$0..<($0 + 2)]))
            }
        default:
            preconditionFailure("DiscriminatorFeatures: no feature stages known for \(type(of: discriminator))")
        }
        // One blank picture tells every map's channels and size.
        let probe = Tensor(shape: [1, 3, resolution, resolution])
        var x = probe
        var channels: [Int] = [], strides: [Int] = []
        for stage in stages {
            x = stage.forward(x, training: false)
            channels.append(x.shape[1])
            strides.append(resolution / x.shape[2])
        }
        (featureChannels, featureStrides) = (channels, strides)
    }

    public func features(_ pictures: Tensor) -> [Tensor] {
        var x = pictures
        maps = stages.map { stage in
            x = stage.forward(x, training: false)
            return x
        }
        return maps
    }

    public func inputGradient(_ featureGradients: [Tensor]) -> Tensor {
        precondition(featureGradients.count == stages.count, "DiscriminatorFeatures: \(featureGradients.count) gradients for \(stages.count) maps")
        var gradient = featureGradients[stages.count - 1]
        for index in stages.indices.reversed() {
            gradient = stages[index].backward(gradient, needsInputGradient: true, needsParameterGradients: false)!
            if index > 0 {
                // Each map is both an output and the next stage's input: its gradient is the sum of both.
                mergedGradient.assign(gradient)
                mergedGradient.add(featureGradients[index - 1])
                gradient = mergedGradient
            }
        }
        return gradient
    }

    public var pooledChannels: Int { featureChannels.last! }

    public func pooledFeatures(_ pictures: Tensor) -> Tensor {
        let last = features(pictures).last!
        let (n, c, plane) = (last.shape[0], last.shape[1], last.shape[2] * last.shape[3])
        pooled.resize(to: [n, c])
        for i in 0..<(n * c) {
            var sum: Float = 0
            for p in 0..<plane { sum += last.data[i * plane + p] }
            pooled.data[i] = sum / Float(plane)
        }
        return pooled
    }
}
