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
public struct DCGANConfig: Codable, Equatable, Sendable {
    public var resolution: Int
    public var width: Int
    public var zDim: Int
    /// How G upsamples. Not part of the config JSON: checkpoints name it in their `architecture` field.
    public var architecture: GeneratorArchitecture = .dcgan

    private enum CodingKeys: String, CodingKey { case resolution, width, zDim }

    public static let resolutions = [32, 64, 128, 256]

    public init(resolution: Int, width: Int = 64, zDim: Int = 128, architecture: GeneratorArchitecture = .dcgan) {
        (self.resolution, self.width, self.zDim, self.architecture) = (resolution, width, zDim, architecture)
    }

    /// The model `train` builds for pictures of `resolution` unless told otherwise: width 64, or 32
    /// from 128 pixels up (the wider nets would cost too much per step on a CPU), and z of 128.
    public static func trainingDefault(resolution: Int, width: Int? = nil, zDim: Int? = nil,
                                       architecture: GeneratorArchitecture = .dcgan) -> DCGANConfig {
        DCGANConfig(resolution: resolution, width: width ?? (resolution <= 64 ? 64 : 32), zDim: zDim ?? 128,
                    architecture: architecture)
    }

    /// Throws `DCGANError.invalidConfig` unless the resolution is supported and width, zDim are positive.
    public func validate() throws {
        guard DCGANConfig.resolutions.contains(resolution) else {
            throw DCGANError.invalidConfig("resolution \(resolution) is not one of \(DCGANConfig.resolutions)")
        }
        guard width > 0, width <= 4096 else { throw DCGANError.invalidConfig("width \(width) out of range 1...4096") }
        guard zDim > 0, zDim <= 65536 else { throw DCGANError.invalidConfig("zDim \(zDim) out of range 1...65536") }
    }

    /// Number of up- or down-sampling stages: log2(R) − 2.
    var stages: Int { resolution.trailingZeroBitCount - 2 }

    /// G's widths, widest first (R 64, W 64: 512, 256, 128, 64).
    public var generatorWidths: [Int] { (0..<stages).map { width * min(8, 1 << (stages - 1 - $0)) } }
    /// D's widths, narrowest first (R 64, W 64: 64, 128, 256, 512).
    public var discriminatorWidths: [Int] { (0..<stages).map { width * min(8, 1 << $0) } }
}

/// How the generator doubles the picture size after its first 4 × 4 layer.
public enum GeneratorArchitecture: String, Codable, CaseIterable, Sendable {
    /// The reference: ConvTranspose2d(4, 2, 1), whose uneven kernel overlap draws a checkerboard that
    /// an under-trained model shows as a regular dot grid.
    case dcgan
    /// Nearest-neighbour Upsample(2) then Conv2d(3, 1, 1): every output pixel gets the same number of
    /// taps, so there is no checkerboard (Odena et al., "Deconvolution and Checkerboard Artifacts").
    case resize
}

public enum DCGANError: Error, Equatable, CustomStringConvertible {
    case invalidConfig(String)
    public var description: String {
        switch self { case .invalidConfig(let why): return "invalid model configuration: \(why)" }
    }
}

public enum DCGAN {
    /// G: input N × zDim × 1 × 1, output N × 3 × R × R in (−1, 1). Weights are zero until initialised.
    public static func generator(_ config: DCGANConfig) throws -> Sequential {
        try config.validate()
        let widths = config.generatorWidths
        var layers: [Layer] = [ConvTranspose2d(config.zDim, widths[0], kernel: 4, stride: 1, padding: 0, bias: false),
                               BatchNorm2d(widths[0]), ReLU()]
        func doubling(_ a: Int, _ b: Int, bias: Bool) -> [Layer] {
            switch config.architecture {
            case .dcgan: return [ConvTranspose2d(a, b, kernel: 4, stride: 2, padding: 1, bias: bias)]
            case .resize: return [Upsample(scale: 2), Conv2d(a, b, kernel: 3, stride: 1, padding: 1, bias: bias)]
            }
        }
        for (a, b) in zip(widths, widths.dropFirst()) {
            layers += doubling(a, b, bias: false) + [BatchNorm2d(b), ReLU()]
        }
        layers += doubling(widths.last!, 3, bias: true) + [Tanh()]
        return Sequential(layers)
    }

    /// D: input N × 3 × R × R, output N × 1 × 1 × 1 logits.
    public static func discriminator(_ config: DCGANConfig) throws -> Sequential {
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
