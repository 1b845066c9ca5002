import Neural

/// A frozen, pretrained network seen as a pyramid of feature maps: what a projected discriminator
/// looks through, what `project` compares a reconstruction in, and what `score` measures distances in.
///
/// Its weights never train: `features` runs inference (BatchNorm with running statistics), and
/// `inputGradient` takes the gradient of a loss with respect to each map back to the pictures only.
/// Returned tensors belong to the network and stay valid until its next call.
public protocol FeaturePyramid: AnyObject {
    /// Channels of each map, finest first.
    var featureChannels: [Int] { get }
    /// How many pixels of the pictures passed to `features` one map pixel spans, per map (EfficientNet-Lite0:
    /// 4, 8, 16, 32 of its own input, so 2, 4, 8, 16 when it first upsamples the pictures ×2).
    var featureStrides: [Int] { get }

    // x: N × 3 × H × W, pictures in [-1, 1] (the generator's range) → map i: N × featureChannels[i] × H/sᵢ × W/sᵢ
    func features(_ pictures: Tensor) -> [Tensor]

    // dL/d(map i), same shapes as the last `features` → dL/dx: N × 3 × H × W
    func inputGradient(_ featureGradients: [Tensor]) -> Tensor

    /// Length of one picture's pooled feature vector (1280 for EfficientNet-Lite0's head).
    var pooledChannels: Int { get }

    // x: N × 3 × H × W in [-1, 1] → N × pooledChannels, the global average of the last map: what
    // Fréchet distance, KID and feature-space nearest neighbours are measured in. Inference only.
    func pooledFeatures(_ pictures: Tensor) -> Tensor
}
