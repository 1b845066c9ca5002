import Foundation
import Neural
import Perception
import Safetensors

/// A data set of square RGB pictures held in memory as the streams carry them: u8, height x width x 3.
public struct ImageDataset: Sendable {
    public static let supportedResolutions = [32, 64, 128, 256]

    public let resolution: Int
    public private(set) var count = 0
    public private(set) var pixels: [UInt8] = []

    public var recordSize: Int { resolution * resolution * 3 }

    /// An empty data set for pictures of `height` x `width` x `channels`; throws unless they are RGB,
    /// square, and of a size the models are built for.
    public init(height: Int, width: Int, channels: Int = 3) throws {
        guard channels == 3 else { throw DatasetError.notRGB(channels) }
        guard height == width, Self.supportedResolutions.contains(height) else {
            throw DatasetError.unsupportedSize(height: height, width: width)
        }
        resolution = height
    }

    /// A data set of every record `next` gives (it fills its argument and returns false at the end),
    /// checked between records against `shouldStop`, which ends the reading early. Throws as
    /// `init(height:width:channels:)` does, and `DatasetError.empty` for no pictures unless stopped.
    public init(height: Int, width: Int, channels: Int = 3, records next: (inout [UInt8]) throws -> Bool,
                shouldStop: () -> Bool = { false }) throws {
        try self.init(height: height, width: width, channels: channels)
        var record: [UInt8] = []
        while !shouldStop(), try next(&record) { append(record) }
        guard count > 0 || shouldStop() else { throw DatasetError.empty }
    }

    /// Every picture, unflipped, as N × 3 × R × R in [−1, 1].
    public func allPictures() -> Tensor {
        let result = Tensor(shape: [count, 3, resolution, resolution])
        pixels.withUnsafeBufferPointer { all in
            for index in 0..<count {
                let record = UnsafeBufferPointer(rebasing: all[(index * recordSize)..<((index + 1) * recordSize)])
                Pixels.loadImage(record, size: resolution, flip: false, into: result.data, index: index)
            }
        }
        return result
    }

    public mutating func append(_ record: [UInt8]) {
        precondition(record.count == recordSize, "record of \(record.count) bytes, expected \(recordSize)")
        pixels += record
        count += 1
    }

    /// Fills `batch` (N x 3 x R x R) with pictures drawn uniformly with replacement by `rng`, each
    /// mirrored left-right with probability 1/2 (the flip augmentation), scaled to [-1, 1].
    public func fillBatch(_ batch: Tensor, rng: inout RNG) {
        let n = batch.shape[0]
        let size = resolution, recordSize = recordSize
        pixels.withUnsafeBufferPointer { all in
            for i in 0..<n {
                let index = rng.integer(below: count)
                let flip = rng.next32() & 1 == 1
                let record = UnsafeBufferPointer(rebasing: all[(index * recordSize)..<((index + 1) * recordSize)])
                Pixels.loadImage(record, size: size, flip: flip, into: batch.data, index: i)
            }
        }
    }
}

public enum DatasetError: Error, Equatable, CustomStringConvertible {
    case notRGB(Int)
    case unsupportedSize(height: Int, width: Int)
    case empty

    public var description: String {
        switch self {
        case .notRGB(let channels): return "pictures have \(channels) channels, train needs RGB (3)"
        case .unsupportedSize(let h, let w):
            return "pictures are \(w)x\(h); train needs square 32, 64, 128 or 256 pixel pictures (ingest --size 64)"
        case .empty: return "the data set has no pictures"
        }
    }
}

public enum TrainingError: Error, Equatable, CustomStringConvertible {
    case nonFiniteLoss(step: Int, dLoss: Float, gLoss: Float)
    /// The losses were finite but the update that followed them left a tensor with inf or NaN.
    case nonFiniteState(step: Int, tensor: String)
    case resolutionMismatch(model: Int, data: Int)

    public var description: String {
        switch self {
        case .nonFiniteLoss(let step, let d, let g):
            return "training diverged at step \(step) (D loss \(d), G loss \(g)); try a lower --lr"
        case .nonFiniteState(let step, let tensor):
            return "training diverged at step \(step) (\(tensor) is no longer finite); try a lower --lr"
        case .resolutionMismatch(let model, let data):
            return "the model makes \(model)x\(model) pictures but the data are \(data)x\(data)"
        }
    }
}

/// Where a run's weights come from.
public enum TrainingStart {
    /// New weights from the seed.
    case fresh
    /// Weights (G, D, G_ema) of an existing model; a fresh optimizer and step count (fine-tuning).
    case initialize(Checkpoint)
    /// Everything of a saved run: weights, optimizer, step, random states. Continuing gives exactly
    /// the run that was never stopped.
    case resume(Checkpoint)
}

/// What a run reports while it goes.
public enum TrainingEvent {
    /// A step finished (the count is the steps done so far).
    case stepped(step: Int, losses: StepLosses)
    /// Time to save a checkpoint (every `saveEvery` steps).
    case checkpoint(Checkpoint)
    /// The preview latents' pictures from the EMA generator (N x 3 x R x R in [-1, 1]).
    case preview(step: Int, images: [Float], count: Int)
}

public enum TrainingOutcome: Equatable {
    case finished
    /// `shouldStop` said so between two steps.
    case stopped
    /// The time limit ran out before the last step.
    case outOfTime
}

/// A GAN training run: the data set, the trainer, the step count and the random state that picks
/// batches, everything a checkpoint holds and a resume restores.
public final class TrainingRun {
    public let dataset: ImageDataset
    public let config: ModelConfig
    public let options: TrainingOptions
    public let seed: UInt64
    public let trainer: GANTrainer
    public private(set) var step: Int

    /// Picks batch pictures and flips; its own stream, so the trainer's draws never shift the data order.
    private var dataRNG: RNG
    private let batch: Tensor
    /// The pictures the coverage objective pulls in this step.
    private var coverageIndices: [Int] = []

    /// The names of the state a run adds to the trainer's.
    static let dataRNGName = "rng.data"

    /// The pictures shown in previews are the ones `sample --seeds 0,1,...` gives.
    public static let previewSeeds: [UInt64] = Array(0..<16)
    /// Previews show their pictures in a square grid of this many columns.
    public static let previewColumns = Int(Double(previewSeeds.count).squareRoot().rounded(.up))

    /// `features`: the pretrained feature network `projected` needs (see `Architecture.needsFeatureNetwork`);
    /// `perception`: the one the coverage objective's perceptual distance needs (`TrainingOptions.needsFeatureNetwork`,
    /// `CoverageObjective.loadFeatureNetwork`).
    public init(dataset: ImageDataset, config: ModelConfig, options: TrainingOptions, seed: UInt64,
                start: TrainingStart = .fresh, features: FeaturePyramid? = nil, perception: FeaturePyramid? = nil) throws {
        guard dataset.count > 0 else { throw DatasetError.empty }
        var config = config, options = options, seed = seed
        if case .resume(let checkpoint) = start {
            config = checkpoint.info.config
            options = checkpoint.info.training
            seed = checkpoint.info.seed
        }
        if case .initialize(let checkpoint) = start { config = checkpoint.info.config }
        switch start {
        case .fresh: break
        case .initialize(let checkpoint), .resume(let checkpoint):
            try checkpoint.requireGeneratorTensors(for: config, prefix: "G.")
        }
        guard config.resolution == dataset.resolution else {
            throw TrainingError.resolutionMismatch(model: config.resolution, data: dataset.resolution)
        }
        self.dataset = dataset
        self.config = config
        self.options = options
        self.seed = seed
        let coverage = options.objective.usesCoverage
            ? CoverageObjective(options: options.coverage, pictures: dataset.allPictures(), zDim: config.zDim, features: perception)
            : nil
        trainer = try GANTrainer(config: config, options: options, seed: seed, features: features, coverage: coverage)
        step = 0
        dataRNG = RNG(seed: seed ^ 0x6461_7461_7365_7473)  // "datasets": a stream apart from the trainer's
        batch = Tensor(shape: [options.batch, 3, config.resolution, config.resolution])

        switch start {
        case .fresh:
            break
        case .initialize(let checkpoint):
            try trainer.loadWeights(checkpoint.engineTensors(matching: trainer.weightTensors(), prefixes: Self.weightPrefixes))
        case .resume(let checkpoint):
            try trainer.loadState(checkpoint.engineTensors(matching: trainer.stateTensors(),
                                                           prefixes: Self.weightPrefixes + ["opt.", "trainer.", "coverage."]))
            guard let words = try? checkpoint.tensors[Self.dataRNGName]?.int64s(),
                  let restored = RNG(state: words.map { UInt64(bitPattern: $0) }) else {
                throw CheckpointError.mismatch("missing or bad '\(Self.dataRNGName)'")
            }
            dataRNG = restored
            step = checkpoint.info.step
        }
    }

    static let weightPrefixes = ["G.", "D.", "G_ema."]

    /// The whole state as a checkpoint (weights, optimizer, random states, step). Throws
    /// `TrainingError.nonFiniteState` rather than capture a diverged state: a step's losses are
    /// measured before its update, so they cannot vouch for the weights the update wrote.
    public func checkpoint() throws -> Checkpoint {
        let state = trainer.stateTensors()
        if let (name, _) = state.first(where: { !$0.1.buffer.allSatisfy(\.isFinite) }) {
            throw TrainingError.nonFiniteState(step: step, tensor: name)
        }
        let info = CheckpointInfo(config: config, step: step, seed: seed, datasetSize: dataset.count, training: options)
        var result = Checkpoint(info: info, named: state)
        result.tensors[Self.dataRNGName] = SafetensorsTensor(
            int64: dataRNG.state.map { Int64(bitPattern: $0) }, shape: [dataRNG.state.count])
        return result
    }

    /// One training step on a fresh batch; throws (without counting the step) when a loss is not finite.
    @discardableResult
    public func trainStep() throws -> StepLosses {
        dataset.fillBatch(batch, rng: &dataRNG)
        coverageIndices.removeAll(keepingCapacity: true)
        if trainer.coverage != nil {
            for _ in 0..<options.batch { coverageIndices.append(dataRNG.integer(below: dataset.count)) }
        }
        let losses = trainer.step(real: batch, coverageIndices: coverageIndices)
        guard losses.isFinite else {
            throw TrainingError.nonFiniteLoss(step: step + 1, dLoss: losses.dLoss, gLoss: losses.gLoss + losses.coverage)
        }
        step += 1
        return losses
    }

    /// The preview pictures now (EMA generator when there is one).
    public func preview() -> [Float] {
        let latents = Self.previewSeeds.flatMap { Latents.forSeed($0, zDim: config.zDim) }
        return trainer.generate(latents: latents, count: Self.previewSeeds.count, useEMA: options.emaDecay > 0)
    }

    /// Trains until `totalSteps` steps are done, `timeLimit` seconds have passed (nil: no limit) or
    /// `shouldStop` (asked between steps) says to stop, reporting every step, a checkpoint every `saveEvery`
    /// steps and a preview every `previewEvery` (0: never). A non-finite loss or state throws; the last
    /// checkpoint reported stays the last good one.
    public func run(to totalSteps: Int, timeLimit: Double? = nil, saveEvery: Int = 0, previewEvery: Int = 0,
                    shouldStop: () -> Bool = { false },
                    events: (TrainingEvent) throws -> Void) throws -> TrainingOutcome {
        let start = DispatchTime.now().uptimeNanoseconds
        func outOfTime() -> Bool {
            guard let timeLimit else { return false }
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 >= timeLimit
        }
        if previewEvery > 0 && step == 0 {
            try events(.preview(step: 0, images: preview(), count: Self.previewSeeds.count))
        }
        while step < totalSteps {
            if shouldStop() { return .stopped }
            if outOfTime() {
                // The pictures at the end of the run, as a run to its last step shows them.
                if previewEvery > 0 && step % previewEvery != 0 {
                    try events(.preview(step: step, images: preview(), count: Self.previewSeeds.count))
                }
                return .outOfTime
            }
            let losses = try trainStep()
            try events(.stepped(step: step, losses: losses))
            if saveEvery > 0 && step % saveEvery == 0 && step < totalSteps {
                try events(.checkpoint(try checkpoint()))
            }
            if previewEvery > 0 && (step % previewEvery == 0 || step == totalSteps) {
                try events(.preview(step: step, images: preview(), count: Self.previewSeeds.count))
            }
        }
        return .finished
    }
}
