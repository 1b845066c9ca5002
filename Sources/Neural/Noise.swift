/// One random stream shared by reference: the trainer and every noise layer draw from it in turn, so a
/// checkpoint that saves `rng.state` resumes with bit-identical draws.
public final class RandomSource {
    public var rng: RNG

    public init(seed: UInt64) { rng = RNG(seed: seed) }
}

/// Noise injection (StyleGAN, FastGAN): adds `weight` times a fresh standard-normal map per sample,
/// the same map for every channel. `weight` (one scalar) starts at 0, so the noise fades in as training
/// finds it useful.
///
/// Only training draws noise. Eval passes x through unchanged: generating (`sample --seeds`, `walk`)
/// must give the same picture for the same latent, and drawing would also advance the shared stream
/// between training steps.
public final class NoiseInjection: ChannelAffineInEval {
    public let source: RandomSource
    public let weight = Parameter(Tensor(shape: [1]))
    private let noise = Tensor(shape: [0])             // N × 1 × H × W of the last training forward
    private let sampleSums = Tensor(shape: [0])        // N: Σ dy ⊙ noise per sample
    private var noiseAdded = false
    private let output = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])

    public init(source: RandomSource) { self.source = source }

    public var ownParameters: [(name: String, parameter: Parameter)] { [("weight", weight)] }

    /// 0 under every scheme (as FastGAN and StyleGAN start it).
    public func initializeOwnParameters(_ scheme: Initialization, rng: inout RNG) {
        weight.value.fill(0)
    }

    // x: N × C × H × W, noise: N × 1 × H × W → y = x + weight · noise (broadcast over C); eval: y = x
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.shape.count == 4, "NoiseInjection got \(input.shape)")
        let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        output.resize(n, c, h, w)
        noiseAdded = training
        guard training else {
            output.data.update(from: input.data, count: input.count)
            return output
        }
        noise.resize(n, 1, h, w)
        source.rng.fillNormal(noise.buffer)
        let (x, z, y, strength, grid) = (UnsafePointer(input.data), UnsafePointer(noise.data), output.data, weight.value[0], h * w)
        Parallel.chunks(n * c, cost: 2 * grid) { planes in
            for plane in planes {
                let (source, target, map) = (x + plane * grid, y + plane * grid, z + plane / c * grid)
                for i in 0..<grid { target[i] = source[i] + strength * map[i] }
            }
        }
        return output
    }

    // x → x: eval adds nothing, and nothing is kept for a backward
    public func infer(_ input: Tensor) -> Tensor { input }

    /// Eval passes x through: the identity map.
    public func composeEvalMap(scale: UnsafeMutablePointer<Float>, shift: UnsafeMutablePointer<Float>, channels: Int) {}

    // dy: N × C × H × W → dx = dy; dweight += Σ dy ⊙ noise (nothing after an eval forward: no noise was added)
    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool, needsParameterGradients: Bool) -> Tensor? {
        precondition(outputGradient.shape == output.shape, "NoiseInjection backward: gradient \(outputGradient.shape) for \(output.shape)")
        if needsParameterGradients && noiseAdded {
            let (n, c, grid) = (output.shape[0], output.shape[1], output.shape[2] * output.shape[3])
            let (dy, z) = (UnsafePointer(outputGradient.data), UnsafePointer(noise.data))
            // One sum per sample in parallel, then added in order: the same result on any worker count.
            sampleSums.resize(n, 1, 1, 1)
            let sums = sampleSums.data
            Parallel.chunks(n, cost: 2 * c * grid) { samples in
                for sample in samples {
                    var total: Float = 0
                    for channel in 0..<c { total += dot(dy + (sample * c + channel) * grid, z + sample * grid, grid) }
                    sums[sample] = total
                }
            }
            for sample in 0..<n { weight.gradient[0] += sums[sample] }
        }
        guard needsInputGradient else { return nil }
        inputGradient.assign(outputGradient)
        return inputGradient
    }
}
