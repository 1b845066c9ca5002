import GAN
import GradientChecking
import Neural
import XCTest

/// The few-shot model as a whole: its blocks wired together (finite differences through G's skip-layer
/// excitation; D, whose LeakyReLU kinks every finite step crosses somewhere, is checked against PyTorch in
/// FastGANCrossCheckTests), every parameter initialised, steps that allocate nothing once warm, and a
/// resume that repeats the noise, the margins and LeCam's averages exactly.
final class FastGANTests: XCTestCase {
    /// 64 pixels: the 4 × 4 map gates the 64 × 64 one; width 2 leaves every layer at its floor of 8 channels.
    private let config = ModelConfig(resolution: 64, width: 2, zDim: 8, architecture: .fastgan)

    private func realBatch(_ n: Int, resolution: Int, seed: UInt64) -> Tensor {
        randomTensor([n, 3, resolution, resolution], seed: seed, scale: 0.5)
    }

    /// G in eval mode (running statistics, no noise, fixed spectral-norm vectors), so the loss is a fixed
    /// function of z and the weights; the noise weights get no gradient without noise. Training passes first
    /// give the running statistics of real activations (the initial ones, mean 0 and variance 1, would
    /// saturate tanh) and converge the spectral-norm vectors.
    func testGeneratorGradientsMatchFiniteDifferences() throws {
        var rng = RNG(seed: 1)
        let generator = try config.makeGenerator(noise: RandomSource(seed: 2), rng: &rng)
        Initialization.kaiming(slope: 0.2).apply(to: generator, rng: &rng)
        XCTAssertTrue(generator.sublayers.map(\.name).contains("se_64"))
        let noiseWeights = Set(generator.parameters.filter { $0.parameter.value.count == 1 }.map(\.name))
        XCTAssertEqual(noiseWeights.count, 4, "the blocks to 8 and 32 have two noise layers each")
        let z = randomTensor([4, 8, 1, 1], seed: 3)
        for _ in 0..<40 { _ = generator.forward(z, training: true) }
        let image = generator.forward(z, training: false)
        XCTAssertLessThan(image.scalars.filter { abs($0) > 0.99 }.count, image.count / 10, "tanh is not saturated")
        checkGradients(generator, input: z, training: false, epsilon: 1e-2, samples: 8, skipping: noiseWeights)
    }

    /// The decoders' loss reaches the trunk: with it, D's first layer gets a different gradient than from
    /// the logits alone, and the decoders themselves get one.
    func testReconstructionTrainsTheDecodersAndTheTrunk() throws {
        var rng = RNG(seed: 6)
        let discriminator = try config.makeDiscriminator(features: nil, rng: &rng)
        Initialization.dcgan.apply(to: discriminator, rng: &rng)
        let real = realBatch(4, resolution: 64, seed: 7)
        let dLogits = Tensor(shape: [4, 1, 5, 5], repeating: 0.01)
        func stemGradient(reconstructing: Bool) -> [Float] {
            discriminator.zeroGradients()
            _ = discriminator.forward(real, training: true)
            if reconstructing {
                var choice = RNG(seed: 8)
                let loss = discriminator.reconstructionLoss(realCount: 2, target: real, rng: &choice)
                XCTAssertNotNil(loss)
                XCTAssertGreaterThan(loss ?? 0, 0)
            }
            discriminator.backward(dLogits, needsInputGradient: false, needsParameterGradients: true)
            return discriminator.parameters.first { $0.name == "stem.0.weight_orig" }!.parameter.gradient.scalars
        }
        let plain = stemGradient(reconstructing: false)
        XCTAssertTrue(discriminator.parameters.filter { $0.name.hasPrefix("decoder_") }
            .allSatisfy { $0.parameter.gradient.scalars.allSatisfy { $0 == 0 } })
        let withReconstruction = stemGradient(reconstructing: true)
        XCTAssertNotEqual(plain, withReconstruction)
        for decoder in ["decoder_big", "decoder_part"] {
            XCTAssertTrue(discriminator.parameters.filter { $0.name.hasPrefix(decoder) }
                .contains { $0.parameter.gradient.scalars.contains { $0 != 0 } }, decoder)
        }
    }

    /// Initialisation reaches every parameter of every architecture through the protocol: nothing is left
    /// at the zeros a tensor starts with but biases and the noise weights, which start at zero on purpose.
    func testEveryParameterOfEveryArchitectureIsInitialised() throws {
        for architecture in Architecture.allCases {
            for resolution in ModelConfig.resolutions {
                let features = architecture.needsFeatureNetwork ? StandInFeatures() : nil
                let trainer = try GANTrainer(config: ModelConfig(resolution: resolution, width: 2, zDim: 8, architecture: architecture),
                                             options: TrainingOptions(batch: 2), seed: 1, features: features)
                for (net, model) in [("G", trainer.generator as Module), ("D", trainer.discriminator)] {
                    let zeroOnPurpose = model.allModules.compactMap { ($0 as? NoiseInjection)?.weight }
                    XCTAssertFalse(model.parameters.isEmpty)
                    for (name, parameter) in model.parameters {
                        let values = parameter.value.scalars
                        XCTAssertTrue(values.allSatisfy(\.isFinite), "\(architecture) \(resolution) \(net).\(name)")
                        if name.hasSuffix("bias") || zeroOnPurpose.contains(where: { $0 === parameter }) { continue }
                        XCTAssertTrue(values.contains { $0 != 0 }, "\(architecture) \(resolution) \(net).\(name) was never initialised")
                    }
                }
            }
        }
    }

    func testWarmedUpStepAllocatesNoTensorStorage() throws {
        let trainer = try GANTrainer(config: config, options: TrainingOptions(batch: 2, loss: .randomHinge, lecam: 0.1), seed: 1)
        let real = realBatch(2, resolution: 64, seed: 2)
        let latents = { var rng = RNG(seed: 3); return rng.normals(3 * config.zDim) }()
        for _ in 0..<2 { trainer.step(real: real); _ = trainer.generate(latents: latents, count: 3, useEMA: true) }
        let before = Tensor.storageAllocations
        for _ in 0..<3 { trainer.step(real: real); _ = trainer.generate(latents: latents, count: 3, useEMA: true) }
        XCTAssertEqual(Tensor.storageAllocations, before)
    }

    /// Noise injection, random margins, the quadrant choice and LeCam's averages all come back with the
    /// state: the resumed trainer's steps equal the uninterrupted one's bit for bit.
    func testResumeFromStateIsBitExact() throws {
        let options = TrainingOptions(batch: 2, loss: .randomHinge, lecam: 0.1)
        let uninterrupted = try GANTrainer(config: config, options: options, seed: 5)
        let first = try GANTrainer(config: config, options: options, seed: 5)
        let real = realBatch(2, resolution: 64, seed: 4)
        for _ in 0..<2 { uninterrupted.step(real: real); first.step(real: real) }
        let saved = Dictionary(uniqueKeysWithValues: first.stateTensors())
        XCTAssertNotNil(saved["trainer.lecam"])
        let resumed = try GANTrainer(config: config, options: options, seed: 77)
        try resumed.loadState(saved)
        for _ in 0..<2 {
            let (a, b) = (uninterrupted.step(real: real), resumed.step(real: real))
            XCTAssertEqual(a.dLoss.bitPattern, b.dLoss.bitPattern)
            XCTAssertEqual(a.gLoss.bitPattern, b.gLoss.bitPattern)
        }
        let (x, y) = (Dictionary(uniqueKeysWithValues: uninterrupted.stateTensors().map { ($0.0, $0.1.scalars) }),
                      Dictionary(uniqueKeysWithValues: resumed.stateTensors().map { ($0.0, $0.1.scalars) }))
        XCTAssertEqual(x, y)
    }
}

/// LeCam's regulariser: the averages move by 1 % toward this step's mean logits, and its gradient
/// matches finite differences of its value with the averages held.
final class LeCamTests: XCTestCase {
    func testLeCamAveragesAndGradient() {
        let logits = Tensor(shape: [6], scalars: [1.5, 0.2, -0.4, -1.2, 0.3, 0.9])
        var start = LeCam()
        (start.realAverage, start.fakeAverage) = (0.8, -0.5)
        var lecam = start
        let gradient = Tensor(shape: [6])
        let value = lecam.apply(logits: logits, realCount: 3, weight: 0.5, gradient: gradient)
        let (meanReal, meanFake): (Float, Float) = (1.3 / 3, 0)
        XCTAssertEqual(lecam.realAverage, 0.99 * 0.8 + 0.01 * meanReal, accuracy: 1e-6)
        XCTAssertEqual(lecam.fakeAverage, 0.99 * -0.5 + 0.01 * meanFake, accuracy: 1e-6)
        // By hand with the updated averages: real logits above α_F and fakes below α_R are penalised.
        let (alphaR, alphaF) = (lecam.realAverage, lecam.fakeAverage)
        func squares(_ excesses: [Float]) -> Float { excesses.map { $0 * $0 }.reduce(0, +) / 3 }
        let real = squares([Float(1.5), 0.2, -0.4].map { max(0, $0 - alphaF) })
        let fake = squares([Float(-1.2), 0.3, 0.9].map { max(0, alphaR - $0) })
        XCTAssertEqual(value, 0.5 * (real + fake), accuracy: 1e-6)
        XCTAssertGreaterThan(value, 0)
        for i in 0..<6 {
            func penalty(_ delta: Float) -> Float {
                var copy = start
                let shifted = logits.copy()
                shifted[i] += delta
                return copy.apply(logits: shifted, realCount: 3, weight: 0.5, gradient: Tensor(shape: [6]))
            }
            // The averages move with the logits too, by 1 %: the analytic gradient holds them, so allow that much.
            let numeric = (penalty(1e-3) - penalty(-1e-3)) / 2e-3
            XCTAssertEqual(gradient[i], numeric, accuracy: 0.005 + 0.03 * abs(numeric), "logit \(i)")
        }
    }
}
