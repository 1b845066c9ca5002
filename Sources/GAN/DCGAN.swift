import Neural

/// The reference `dcgan` architecture: resolution R (32, 64, 128 or 256), width W, latent size z.
///
/// G: z as z × 1 × 1 → ConvTranspose2d(z, C0, 4, 1, 0) → BN → ReLU, then ConvTranspose2d(Ci, Ci+1, 4, 2, 1)
/// → BN → ReLU for each next width, last ConvTranspose2d(C_last, 3, 4, 2, 1) → tanh;
/// widths Ci = W · min(8, 2^(n−1−i)), n = log2(R) − 2; no bias before BN.
/// D: Conv2d(3, D0, 4, 2, 1) → LeakyReLU(0.2), Conv2d(Di, Di+1, 4, 2, 1) → LeakyReLU(0.2) with
/// Di = W · min(8, 2^i), last Conv2d(D_last, 1, 4, 1, 0) → one logit per image.
/// With `architecture` `.resize`, each ConvTranspose2d(Ci, Ci+1, 4, 2, 1) of G after the first becomes
/// Upsample(2, nearest) → Conv2d(Ci, Ci+1, 3, 1, 1) (so G's layer indices shift by one per stage).
/// Parameter names are those of the same `nn.Sequential` in PyTorch (G's latent is passed as
/// N × z × 1 × 1, so there is no leading Unflatten and G's first layer is `0`).
public enum DCGAN {
    /// G: input N × zDim × 1 × 1, output N × 3 × R × R in (−1, 1). Weights are zero until initialised.
    public static func generator(_ config: ModelConfig) throws -> Sequential {
        try config.validate()
        let widths = config.generatorWidths
        var layers: [Layer] = [ConvTranspose2d(config.zDim, widths[0], kernel: 4, stride: 1, padding: 0, bias: false),
                               BatchNorm2d(widths[0]), ReLU()]
        func doubling(_ a: Int, _ b: Int, bias: Bool) -> [Layer] {
            switch config.architecture {
            case .dcgan: return [ConvTranspose2d(a, b, kernel: 4, stride: 2, padding: 1, bias: bias)]
            case .resize: return [Upsample(scale: 2), Conv2d(a, b, kernel: 3, stride: 1, padding: 1, bias: bias)]
            case .fastgan, .projected: preconditionFailure("\(config.architecture) has a generator of its own")
            }
        }
        for (a, b) in zip(widths, widths.dropFirst()) {
            layers += doubling(a, b, bias: false) + [BatchNorm2d(b), ReLU()]
        }
        layers += doubling(widths.last!, 3, bias: true) + [Tanh()]
        return Sequential(layers)
    }

    /// D: input N × 3 × R × R, output N × 1 × 1 × 1 logits.
    public static func discriminator(_ config: ModelConfig) throws -> Sequential {
        try config.validate()
        let widths = config.discriminatorWidths
        var layers: [Layer] = [Conv2d(3, widths[0], kernel: 4, stride: 2, padding: 1), LeakyReLU(0.2)]
        for (a, b) in zip(widths, widths.dropFirst()) {
            layers += [Conv2d(a, b, kernel: 4, stride: 2, padding: 1), LeakyReLU(0.2)]
        }
        layers += [Conv2d(widths.last!, 1, kernel: 4, stride: 1, padding: 0)]
        return Sequential(layers)
    }
}
