import Neural
import Perception

/// A tiny frozen feature pyramid for tests: four stages of average pooling (to the stage's stride) →
/// conv 3×3 → SiLU, 4, 6, 8 and 10 channels at strides 1, 2, 4, 8 by default, with fixed random weights. Smooth,
/// so finite differences through it are exact to float rounding; small, so a 32-pixel model trains in
/// milliseconds. Stands in for EfficientNet-Lite0 wherever a test needs only the protocol.
final class StandInFeatures: FeaturePyramid {
    let featureChannels = [4, 6, 8, 10]
    let featureStrides: [Int]
    var pooledChannels: Int { featureChannels[3] }
    private let stages: [Sequential]
    private let pool = AdaptiveAvgPool2d(1)
    private let mergedGradient = Tensor(shape: [0])
    private let pooled = Tensor(shape: [0])

    /// `strides`: each a power of two, doubling from one map to the next.
    init(strides: [Int] = [1, 2, 4, 8], seed: UInt64 = 11) {
        featureStrides = strides
        var rng = RNG(seed: seed)
        var (previous, stride) = (3, 1)
        stages = zip(featureChannels, strides).map { channels, next in
            defer { (previous, stride) = (channels, next) }
            return Sequential((next > stride ? [AvgPool2d(kernel: next / stride)] : [] as [Layer])
                              + [Conv2d(previous, channels, kernel: 3, padding: 1), SiLU()])
        }
        for stage in stages { Initialization.kaiming(slope: 1).apply(to: stage, rng: &rng) }
    }

    func features(_ pictures: Tensor) -> [Tensor] {
        var x = pictures
        return stages.map { stage in x = stage.forward(x, training: false); return x }
    }

    func inputGradient(_ featureGradients: [Tensor]) -> Tensor {
        precondition(featureGradients.count == stages.count)
        // Stage i's input is stage i − 1's map: its gradient adds to that map's own.
        var gradient = featureGradients[stages.count - 1]
        for index in (1..<stages.count).reversed() {
            let below = stages[index].backward(gradient, needsInputGradient: true, needsParameterGradients: false)!
            mergedGradient.add(below, featureGradients[index - 1])
            gradient = mergedGradient
        }
        return stages[0].backward(gradient, needsInputGradient: true, needsParameterGradients: false)!
    }

    func pooledFeatures(_ pictures: Tensor) -> Tensor {
        let averages = pool.forward(features(pictures)[stages.count - 1], training: false)
        pooled.resize(to: [pictures.shape[0], pooledChannels])
        pooled.data.update(from: averages.data, count: pooled.count)
        return pooled
    }
}
