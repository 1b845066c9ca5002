import Neural

/// A trained generator ready to draw pictures: the EMA generator of a checkpoint when it has one (that
/// is what looks best), else the raw one, in eval mode. What `sample` and `walk` run; only that one
/// network is built and loaded, not the discriminator or the optimizer state training needs.
public final class ImageGenerator {
    public let config: ModelConfig
    public let usesEMA: Bool
    let generator: Layer
    private let batches = GeneratorBatches()

    public var resolution: Int { config.resolution }
    public var zDim: Int { config.zDim }

    /// Throws `CheckpointError.mismatch` when the checkpoint's generator tensors (`G_ema.*`, or `G.*`
    /// without an average) do not fit its config.
    public init(checkpoint: Checkpoint) throws {
        config = checkpoint.info.config
        usesEMA = checkpoint.info.training.emaDecay > 0
        let prefix = usesEMA ? "G_ema." : "G."
        try checkpoint.requireGeneratorTensors(for: config, prefix: prefix)
        // In eval mode the generator draws nothing: neither noise nor spectral-norm iterations.
        var unused = RNG(seed: 0)
        generator = try config.makeGenerator(noise: RandomSource(seed: 0), rng: &unused)
        let named = try checkpoint.engineTensors(matching: generator.liveTensors().map { (prefix + $0.0, $0.1) },
                                                 prefixes: [prefix])
        try generator.load(Dictionary(uniqueKeysWithValues: named.map { (String($0.key.dropFirst(prefix.count)), $0.value) }))
    }

    /// Loads the generators of the checkpoint at `path` (not D or the optimizer state); errors name the file.
    public convenience init(contentsOf path: String) throws {
        let checkpoint = try Checkpoint(contentsOf: path, keeping: { $0.hasPrefix("G.") || $0.hasPrefix("G_ema.") })
        do {
            try self.init(checkpoint: checkpoint)
        } catch let error as CheckpointError {
            throw CheckpointFileError(path: path, error: error)
        }
    }

    /// The pictures of `count` latents (count x zDim, back to back) as u8 RGB records (R x R x 3 each),
    /// back to back.
    public func images(latents: [Float], count: Int) -> [UInt8] {
        let floats = batches.generate(generator, config: config, latents: latents, count: count)
        return Pixels.bytes(fromBatch: floats, count: count, size: resolution)
    }

    /// Draws `count` pictures in batches of `batchSize`: `latents` gives the latents of a range of
    /// pictures, `body` takes each picture's u8 record in order (and may throw to stop).
    public func forEachImage(count: Int, batchSize: Int = 30, latents: (Range<Int>) -> [Float],
                             body: ([UInt8]) throws -> Void) throws {
        for start in stride(from: 0, to: count, by: batchSize) {
            let range = start..<min(count, start + batchSize)
            let floats = batches.generate(generator, config: config, latents: latents(range), count: range.count)
            for record in Pixels.records(fromBatch: floats, count: range.count, size: resolution) { try body(record) }
        }
    }
}

/// Runs a generator in eval mode over many latents, 32 at a time, through one reused input tensor.
final class GeneratorBatches {
    private let input = Tensor(shape: [0])

    /// Images for `count` latents (`latents`: count × zDim, row-major): count × 3 × R × R in [−1, 1].
    func generate(_ generator: Layer, config: ModelConfig, latents: [Float], count: Int) -> [Float] {
        let (z, imageSize) = (config.zDim, 3 * config.resolution * config.resolution)
        precondition(count >= 0 && latents.count == count * z, "generate: \(latents.count) latent values for \(count) × \(z)")
        // Filled batch by batch straight from G's output, without zero-filling first.
        return [Float](unsafeUninitializedCapacity: count * imageSize) { buffer, initialized in
            var start = 0
            while start < count {
                let n = min(32, count - start)
                input.resize(n, z, 1, 1)
                latents.withUnsafeBufferPointer { input.data.update(from: $0.baseAddress! + start * z, count: n * z) }
                let images = generator.infer(input)
                (buffer.baseAddress! + start * imageSize).initialize(from: images.data, count: n * imageSize)
                start += n
            }
            initialized = count * imageSize
        }
    }
}
