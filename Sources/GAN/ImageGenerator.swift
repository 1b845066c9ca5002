import Neural

/// A trained generator ready to draw pictures: the EMA generator of a checkpoint when it has one (that
/// is what looks best), else the raw one, in eval mode. What `sample` and `walk` run.
public final class ImageGenerator {
    public let config: DCGANConfig
    public let usesEMA: Bool
    private let trainer: GANTrainer

    public var resolution: Int { config.resolution }
    public var zDim: Int { config.zDim }

    public init(checkpoint: Checkpoint) throws {
        config = checkpoint.info.config
        usesEMA = checkpoint.info.training.emaDecay > 0
        trainer = try GANTrainer(config: config, options: checkpoint.info.training.trainerOptions(seed: checkpoint.info.seed))
        try trainer.loadWeights(checkpoint.engineTensors(matching: trainer.weightTensors(),
                                                         prefixes: TrainingRun.weightPrefixes))
    }

    /// Loads the checkpoint at `path`; errors name the file.
    public convenience init(contentsOf path: String) throws {
        let checkpoint = try Checkpoint(contentsOf: path)
        do {
            try self.init(checkpoint: checkpoint)
        } catch let error as CheckpointError {
            throw CheckpointFileError(path: path, error: error)
        }
    }

    /// The pictures of `count` latents (count x zDim, back to back) as u8 RGB records (R x R x 3 each),
    /// back to back.
    public func images(latents: [Float], count: Int) -> [UInt8] {
        precondition(latents.count == count * zDim, "\(latents.count) latent values for \(count) pictures")
        let floats = trainer.generate(latents: latents, count: count, useEMA: usesEMA)
        return Pixels.bytes(fromBatch: floats, count: count, size: resolution)
    }

    /// Draws `count` pictures in batches of `batchSize`: `latents` gives the latents of a range of
    /// pictures, `body` takes each picture's u8 record in order (and may throw to stop).
    public func forEachImage(count: Int, batchSize: Int = 30, latents: (Range<Int>) -> [Float],
                             body: ([UInt8]) throws -> Void) throws {
        let recordSize = resolution * resolution * 3
        for start in stride(from: 0, to: count, by: batchSize) {
            let range = start..<min(count, start + batchSize)
            let pixels = images(latents: latents(range), count: range.count)
            for i in 0..<range.count {
                try body(Array(pixels[(i * recordSize)..<((i + 1) * recordSize)]))
            }
        }
    }
}
