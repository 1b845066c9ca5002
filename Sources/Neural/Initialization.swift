/// Weight initialisation schemes, drawn from the engine's RNG in parameter order.
public enum Initialization {
    /// DCGAN (Radford et al.): conv weights N(0, 0.02), BatchNorm weight N(1, 0.02), biases 0.
    case dcgan
    /// Kaiming/He normal for conv and linear weights: N(0, gain / √fan_in), gain √(2 / (1 + slope²));
    /// BatchNorm weight 1, biases 0.
    case kaiming(slope: Float)

    /// Initialises every parameter of `model` (walking Sequential and spectral-norm wrappers).
    public func apply(to model: Layer, rng: inout RNG) {
        switch model {
        case let sequential as Sequential:
            for layer in sequential.layers { apply(to: layer, rng: &rng) }
        case let wrapper as SpectralNorm:
            apply(to: wrapper.inner, rng: &rng)
            wrapper.original.value.assign(wrapper.inner.weight.value)
        case let norm as BatchNorm2d:
            if case .dcgan = self { rng.fillNormal(norm.weight.value.buffer, mean: 1, std: 0.02) } else { norm.weight.value.fill(1) }
            norm.bias.value.fill(0)
        case let layer as WeightedLayer:
            let weight = layer.weight.value
            switch self {
            case .dcgan:
                rng.fillNormal(weight.buffer, mean: 0, std: 0.02)
            case .kaiming(let slope):
                // fan_in as PyTorch computes it: weight.size(1) · receptive field.
                let fanIn = weight.count / weight.shape[0]
                let gain = (2 / (1 + slope * slope)).squareRoot()
                rng.fillNormal(weight.buffer, mean: 0, std: gain / Float(fanIn).squareRoot())
            }
            for (name, parameter) in layer.parameters where name == "bias" { parameter.value.fill(0) }
        default:
            break
        }
    }
}
