import Neural
import Perception

/// Hyper-parameters of a GAN training step.
/// What one step measured.
public struct StepLosses: Equatable, Sendable {
    /// D's loss with its regulariser and self-supervision (0 when the adversarial term is off).
    public var dLoss: Float
    /// G's adversarial loss, times its weight.
    public var gLoss: Float
    /// The coverage objective's mean distance (0 without it).
    public var coverage: Float
    public var isFinite: Bool { dLoss.isFinite && gLoss.isFinite && coverage.isFinite }
}

/// One GAN: G, D, G's moving average, an Adam per net, and the random source; `step` trains on one batch.
///
/// A step: D on real and fake (G's output with a fresh latent, no gradient to G) in one batch, both
/// through DiffAugment; the adversarial loss, LeCam's regulariser and D's self-supervision (fastgan's
/// decoders reconstruct the real pictures); Adam on D. Then G on another fresh latent through DiffAugment
/// and the updated D, loss, Adam on G; then G_ema moves towards G. BatchNorm uses batch statistics in
/// training and running ones in `generate`. Buffers are owned and reused: a warmed-up step allocates no
/// tensors.
public final class GANTrainer {
    public let config: ModelConfig
    public let options: TrainingOptions
    /// Seeds the weights and every random choice of training.
    public let seed: UInt64
    public let generator: Layer
    public let discriminator: Discriminator
    public let generatorEMA: Layer
    /// Steps taken (restored by `loadState`).
    public private(set) var stepCount = 0
    /// Every random choice of training: latents, augmentation, margins, noise injection (the generator's
    /// noise layers draw from it too, so a resumed run repeats them exactly).
    public let random: RandomSource
    public var rng: RNG { random.rng }
    /// The coverage objective (IMLE) on the training set, when the run has one.
    public let coverage: CoverageObjective?

    private let generatorOptimizer: Adam
    private let discriminatorOptimizer: Adam
    private let average: ExponentialMovingAverage
    private let augmentForD: DiffAugment
    private let augmentForG: DiffAugment
    private var lecam = LeCam()
    private let latent = Tensor(shape: [0])
    private let discriminatorInput = Tensor(shape: [0])
    private let logitGradient = Tensor(shape: [0])
    private let margins = Tensor(shape: [0])
    private let generation = GeneratorBatches()

    /// Builds and initialises (the architecture's scheme, from `seed`) the three nets; throws on an invalid
    /// config, or when the architecture needs the pretrained `features` and has none.
    public init(config: ModelConfig, options: TrainingOptions = TrainingOptions(), seed: UInt64 = 0,
                features: FeaturePyramid? = nil, coverage: CoverageObjective? = nil) throws {
        self.config = config
        self.options = options
        self.seed = seed
        self.coverage = coverage
        random = RandomSource(seed: seed)
        generator = try config.makeGenerator(noise: random, rng: &random.rng)
        discriminator = try config.makeDiscriminator(features: features, rng: &random.rng)
        // The average's own spectral-norm vectors are overwritten by `reset` below: drawn apart, they leave
        // the training stream as it was.
        var scratch = RNG(seed: seed)
        generatorEMA = try config.makeGenerator(noise: random, rng: &scratch)
        config.architecture.initialization.apply(to: generator, rng: &random.rng)
        config.architecture.initialization.apply(to: discriminator, rng: &random.rng)
        average = ExponentialMovingAverage(average: generatorEMA, model: generator)
        average.reset()
        let (beta1, beta2) = options.adamBetas
        generatorOptimizer = Adam(parameters: generator.parameters, learningRate: options.learningRate, beta1: beta1, beta2: beta2)
        discriminatorOptimizer = Adam(parameters: discriminator.parameters, learningRate: options.learningRate, beta1: beta1, beta2: beta2)
        augmentForD = DiffAugment(policy: options.augmentPolicy)
        augmentForG = DiffAugment(policy: options.augmentPolicy)
    }

    /// One training step on `real`: N × 3 × R × R in [−1, 1], and with the coverage objective on the
    /// training pictures `coverageIndices` (their selected latents; the selection is redone first when due).
    /// Returns the losses (D's includes its regulariser and self-supervision).
    @discardableResult
    public func step(real: Tensor, coverageIndices: [Int] = []) -> StepLosses {
        let r = config.resolution
        precondition(real.shape.count == 4 && real.shape[0] > 0 && real.shape[1] == 3
                     && real.shape[2] == r && real.shape[3] == r,
                     "step: real batch \(real.shape), expected N × 3 × \(r) × \(r)")
        let n = real.shape[0]
        let imageSize = 3 * r * r
        let adversarialWeight = options.adversarialWeight(afterSteps: stepCount)
        if let coverage, coverage.selectsBefore(step: stepCount) { coverage.select(generator: generator, rng: &random.rng) }

        var dLoss: Float = 0
        if adversarialWeight > 0 {
            // D: real and detached fake in one batch of 2N (D has no batch statistics, so this equals two passes).
            let fake = generator.forward(drawLatent(n), training: true)
            discriminatorInput.resize(2 * n, 3, r, r)
            discriminatorInput.data.update(from: real.data, count: n * imageSize)
            (discriminatorInput.data + n * imageSize).update(from: fake.data, count: n * imageSize)
            let augmented = augmentForD.forward(discriminatorInput, rng: &random.rng)
            discriminatorOptimizer.zeroGradients()
            let logits = discriminator.forward(augmented, training: true)
            let realLogits = logits.count / 2
            dLoss = options.loss.discriminatorLoss(logits: logits, realCount: realLogits, gradient: logitGradient,
                                                   margins: drawMargins(logits.count))
            if options.lecam > 0 {
                dLoss += lecam.apply(logits: logits, realCount: realLogits, weight: options.lecam, gradient: logitGradient)
            }
            if let reconstruction = discriminator.reconstructionLoss(realCount: n, target: augmented, rng: &random.rng) {
                dLoss += reconstruction
            }
            discriminator.backward(logitGradient, needsInputGradient: false, needsParameterGradients: true)
            discriminatorOptimizer.step()
        }

        generatorOptimizer.zeroGradients()
        var gLoss: Float = 0
        if adversarialWeight > 0 {
            // G: a fresh fake through augmentation and the updated D; D's weights get no gradient here.
            let fake = generator.forward(drawLatent(n), training: true)
            let logits = discriminator.forward(augmentForG.forward(fake, rng: &random.rng), training: true)
            gLoss = adversarialWeight * options.loss.generatorLoss(logits: logits, gradient: logitGradient)
            if adversarialWeight != 1 { logitGradient.scale(by: adversarialWeight) }
            let augmentedGradient = discriminator.backward(logitGradient, needsInputGradient: true, needsParameterGradients: false)!
            generator.backward(augmentForG.backward(augmentedGradient), needsInputGradient: false, needsParameterGradients: true)
        }
        var coverageLoss: Float = 0
        if let coverage, !coverageIndices.isEmpty {
            coverageLoss = coverage.accumulateGradients(generator: generator, indices: coverageIndices)
        }
        generatorOptimizer.step()

        average.update(decay: averageDecay(afterSteps: stepCount))
        stepCount += 1
        return StepLosses(dLoss: dLoss, gLoss: gLoss, coverage: coverageLoss)
    }

    /// random-hinge's margins for `count` logits, drawn now; nil for the other losses.
    private func drawMargins(_ count: Int) -> Tensor? {
        guard options.loss == .randomHinge else { return nil }
        margins.resize(to: [count])
        AdversarialLoss.drawRandomMargins(margins, rng: &random.rng)
        return margins
    }

    /// The decay of G's moving average in the step after `t` steps: `emaDecay`, but at most
    /// (1 + t) / (10 + t), so early on the average follows G instead of holding on to the random (or,
    /// fine-tuning, the old) weights for thousands of steps; 0 when the average is off (G_ema = G).
    public func averageDecay(afterSteps t: Int) -> Float {
        guard options.emaDecay > 0 else { return 0 }
        return min(options.emaDecay, Float(1 + t) / Float(10 + t))
    }

    private func drawLatent(_ n: Int) -> Tensor {
        latent.resize(n, config.zDim, 1, 1)
        random.rng.fillNormal(latent.buffer)
        return latent
    }

    /// Images for `count` latents (`latents`: count × zDim, row-major): count × 3 × R × R in [−1, 1],
    /// G (or G_ema) in eval mode, in batches of up to 32.
    public func generate(latents: [Float], count: Int, useEMA: Bool) -> [Float] {
        generation.generate(useEMA ? generatorEMA : generator, config: config, latents: latents, count: count)
    }

    /// The full training state by name, for exact resume: `G.*`, `D.*`, `G_ema.*` (PyTorch names),
    /// `opt.G.*`, `opt.D.*` (Adam `<param>.exp_avg`, `<param>.exp_avg_sq`, `step`), `rng.state`
    /// (the RNG words as 16-bit limbs, low first, exact in float32), `trainer.step` and, with LeCam,
    /// `trainer.lecam` (its moving averages of D's real and fake logits).
    public func stateTensors() -> [(String, Tensor)] {
        var result = weightTensors()
        result += generatorOptimizer.stateTensors().map { ("opt.G.\($0.0)", $0.1) }
        result += discriminatorOptimizer.stateTensors().map { ("opt.D.\($0.0)", $0.1) }
        let limbs = random.rng.state.flatMap { word in (0..<4).map { Float((word >> (16 * UInt64($0))) & 0xFFFF) } }
        result.append(("rng.state", Tensor(shape: [limbs.count], scalars: limbs)))
        result.append(("trainer.step", Tensor(shape: [1], scalars: [Float(stepCount)])))
        if options.lecam > 0 {
            result.append(("trainer.lecam", Tensor(shape: [2], scalars: [lecam.realAverage, lecam.fakeAverage])))
        }
        if let coverage { result += coverage.stateTensors() }
        return result
    }

    /// Restores everything `stateTensors` saved; the next steps are then bit-for-bit those of an
    /// uninterrupted run. Throws (changing nothing it has not validated) on a missing or misshapen tensor.
    public func loadState(_ named: [String: Tensor]) throws {
        guard let limbs = named["rng.state"], limbs.count % 4 == 0,
              limbs.scalars.allSatisfy({ $0 >= 0 && $0 <= 65535 && $0 == $0.rounded() }) else {
            throw NeuralError.invalidState("rng.state")
        }
        let words = stride(from: 0, to: limbs.count, by: 4).map { start in
            (0..<4).reduce(UInt64(0)) { $0 | (UInt64(limbs[start + $1]) << (16 * UInt64($1))) }
        }
        guard let restored = RNG(state: words) else { throw NeuralError.invalidState("rng.state") }
        // Int(exactly:) refuses a fraction, a value past Int's range and NaN, any of which a file can hold.
        guard let steps = named["trainer.step"], steps.count == 1, let savedSteps = Int(exactly: steps[0]), savedSteps >= 0 else {
            throw NeuralError.invalidState("trainer.step")
        }
        var restoredLeCam = LeCam()
        if options.lecam > 0 {
            guard let averages = named["trainer.lecam"], averages.count == 2, averages.scalars.allSatisfy(\.isFinite) else {
                throw NeuralError.invalidState("trainer.lecam")
            }
            (restoredLeCam.realAverage, restoredLeCam.fakeAverage) = (averages[0], averages[1])
        }
        try loadWeights(named, requireAverage: true)
        try coverage?.loadState(named)
        try generatorOptimizer.loadState(GANTrainer.strip("opt.G.", from: named))
        try discriminatorOptimizer.loadState(GANTrainer.strip("opt.D.", from: named))
        random.rng = restored
        lecam = restoredLeCam
        stepCount = savedSteps
    }

    /// Loads weights only (fine-tuning): `G.*` and `D.*`, and `G_ema.*` when present (else G_ema = G).
    /// Optimizer moments, RNG and step count stay as they are.
    public func loadWeights(_ named: [String: Tensor]) throws {
        try loadWeights(named, requireAverage: false)
    }

    private func loadWeights(_ named: [String: Tensor], requireAverage: Bool) throws {
        let averageNames = GANTrainer.strip("G_ema.", from: named)
        // Validate every net before loading any, so a failure leaves the trainer unchanged.
        try generator.checkLoadable(GANTrainer.strip("G.", from: named), prefix: "G.")
        try discriminator.checkLoadable(GANTrainer.strip("D.", from: named), prefix: "D.")
        if requireAverage || !averageNames.isEmpty { try generatorEMA.checkLoadable(averageNames, prefix: "G_ema.") }
        try generator.load(GANTrainer.strip("G.", from: named))
        try discriminator.load(GANTrainer.strip("D.", from: named))
        if averageNames.isEmpty { average.reset() } else { try generatorEMA.load(averageNames) }
    }

    /// G, D and G_ema weights by name (copies).
    public func weightTensors() -> [(String, Tensor)] {
        generator.namedTensors().map { ("G.\($0.0)", $0.1) }
            + discriminator.namedTensors().map { ("D.\($0.0)", $0.1) }
            + generatorEMA.namedTensors().map { ("G_ema.\($0.0)", $0.1) }
    }

    private static func strip(_ prefix: String, from named: [String: Tensor]) -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for (name, tensor) in named where name.hasPrefix(prefix) { result[String(name.dropFirst(prefix.count))] = tensor }
        return result
    }
}
