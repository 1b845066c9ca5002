import GAN
import GradientChecking
import Neural
import XCTest

/// The projected discriminator through a small stand-in feature network: its backward against finite
/// differences (input and every trainable weight), the fixed random mixes that never train, and the
/// trainer's warmed-up step and resume with it.
final class ProjectedTests: XCTestCase {
    private let config = ModelConfig(resolution: 32, width: 2, zDim: 8, architecture: .projected)

    /// Eval mode holds the spectral-norm vectors, so the logits are a fixed function of the pictures and
    /// weights. The scale discriminators' LeakyReLUs get slope 1: with hundreds of pre-activations per
    /// channel, every finite step would cross a kink somewhere, and the wiring under test (mixes, sums,
    /// the stacked logits, the four maps' gradients) is the same at any slope.
    func testGradientsMatchFiniteDifferences() throws {
        var rng = RNG(seed: 1)
        let discriminator = try ProjectedDiscriminator(config, features: StandInFeatures(), leakySlope: 1, rng: &rng)
        Initialization.kaiming(slope: 1).apply(to: discriminator, rng: &rng)
        let pictures = randomTensor([2, 3, 32, 32], seed: 2, scale: 0.5)
        for _ in 0..<20 { _ = discriminator.forward(pictures, training: true) }
        let logits = discriminator.forward(pictures, training: false)
        XCTAssertEqual(logits.shape, [2, 4, 4, 4])
        checkGradients(discriminator, input: pictures, training: false, samples: 12)
    }

    /// Only the scale discriminators train: the random mixes are buffers (saved with D), and a training
    /// step leaves them as they were drawn.
    func testRandomMixesAreSavedButNeverTrained() throws {
        let trainer = try GANTrainer(config: config, options: TrainingOptions(batch: 2), seed: 3, features: StandInFeatures())
        let discriminator = trainer.discriminator
        XCTAssertTrue(discriminator.parameters.allSatisfy { $0.name.hasPrefix("disc_") })
        let mixes = discriminator.buffers.filter { $0.name.hasPrefix("mix_") }
        XCTAssertEqual(mixes.count, 7, "four channel mixes and three scale mixes")
        let drawn = mixes.map { $0.tensor.scalars }
        XCTAssertTrue(drawn.allSatisfy { $0.contains { $0 != 0 } })
        let trained = discriminator.parameters.map { $0.parameter.value.scalars }
        trainer.step(real: randomTensor([2, 3, 32, 32], seed: 4, scale: 0.5))
        XCTAssertEqual(mixes.map { $0.tensor.scalars }, drawn)
        XCTAssertNotEqual(discriminator.parameters.map { $0.parameter.value.scalars }, trained)
        let saved = Set(trainer.stateTensors().map(\.0))
        XCTAssertTrue(mixes.allSatisfy { saved.contains("D.\($0.name)") })
    }

    func testWarmedUpStepAllocatesNoTensorStorageAndResumesExactly() throws {
        let trainer = try GANTrainer(config: config, options: TrainingOptions(batch: 2), seed: 5, features: StandInFeatures())
        let real = randomTensor([2, 3, 32, 32], seed: 6, scale: 0.5)
        for _ in 0..<2 { trainer.step(real: real) }
        let before = Tensor.storageAllocations
        trainer.step(real: real)
        XCTAssertEqual(Tensor.storageAllocations, before)
        let resumed = try GANTrainer(config: config, options: TrainingOptions(batch: 2), seed: 77, features: StandInFeatures())
        try resumed.loadState(Dictionary(uniqueKeysWithValues: trainer.stateTensors()))
        for _ in 0..<2 {
            let (a, b) = (trainer.step(real: real), resumed.step(real: real))
            XCTAssertEqual(a.dLoss.bitPattern, b.dLoss.bitPattern)
            XCTAssertEqual(a.gLoss.bitPattern, b.gLoss.bitPattern)
        }
    }

    func testNeedsTheFeatureNetworkAndLargeEnoughMaps() {
        var rng = RNG(seed: 1)
        XCTAssertThrowsError(try config.makeDiscriminator(features: nil, rng: &rng))
        XCTAssertNoThrow(try ModelConfig(resolution: 32, width: 2, zDim: 8, architecture: .fastgan).makeDiscriminator(features: nil, rng: &rng))
        XCTAssertThrowsError(try config.makeDiscriminator(features: StandInFeatures(strides: [2, 4, 8, 16]), rng: &rng))
    }
}
