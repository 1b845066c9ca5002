/// Weight initialisation schemes, drawn from the engine's RNG in parameter order.
public enum Initialization {
    /// DCGAN (Radford et al.): conv weights N(0, 0.02), BatchNorm weight N(1, 0.02), biases 0.
    case dcgan
    /// Kaiming/He normal for conv and linear weights: N(0, gain / √fan_in), gain √(2 / (1 + slope²));
    /// BatchNorm weight 1, biases 0.
    case kaiming(slope: Float)

    /// Initialises every parameter of `model`: each layer draws its own, parents before children,
    /// sublayers in order.
    public func apply(to model: Module, rng: inout RNG) {
        model.initializeOwnParameters(self, rng: &rng)
        for child in model.sublayers { apply(to: child.module, rng: &rng) }
    }

    /// A convolution or linear weight (out × fan-in…) and its optional bias.
    public func initialize(weight: Tensor, bias: Tensor?, rng: inout RNG) {
        switch self {
        case .dcgan:
            rng.fillNormal(weight.buffer, mean: 0, std: 0.02)
        case .kaiming(let slope):
            // fan_in as PyTorch computes it: weight.size(1) · receptive field.
            let fanIn = weight.count / weight.shape[0]
            let gain = (2 / (1 + slope * slope)).squareRoot()
            rng.fillNormal(weight.buffer, mean: 0, std: gain / Float(fanIn).squareRoot())
        }
        bias?.fill(0)
    }

    /// A normalisation layer's scale (γ) and shift (β).
    public func initialize(scale: Tensor, shift: Tensor, rng: inout RNG) {
        if case .dcgan = self { rng.fillNormal(scale.buffer, mean: 1, std: 0.02) } else { scale.fill(1) }
        shift.fill(0)
    }
}
