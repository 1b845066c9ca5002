import GAN
import GradientChecking
import Neural
import XCTest

/// The generators' `infer` (what sample, walk, project and the coverage objective's candidates run) draws the
/// pictures of their eval forward within float rounding, at several batch sizes, for every architecture.
final class GeneratorInferenceTests: XCTestCase {
    private func largestDifference(_ a: [Float], _ b: [Float]) -> Float {
        XCTAssertEqual(a.count, b.count)
        return zip(a, b).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
    }

    func testInferDrawsTheEvalForwardsPictures() throws {
        let configs = [ModelConfig(resolution: 64, width: 4, zDim: 8, architecture: .fastgan),
                       ModelConfig(resolution: 128, width: 4, zDim: 8, architecture: .fastgan),
                       ModelConfig(resolution: 32, width: 8, zDim: 8, architecture: .dcgan),
                       ModelConfig(resolution: 32, width: 8, zDim: 8, architecture: .resize)]
        for config in configs {
            var rng = RNG(seed: 1)
            let generator = try config.makeGenerator(noise: RandomSource(seed: 2), rng: &rng)
            Initialization.kaiming(slope: 0.2).apply(to: generator, rng: &rng)
            // Training passes move the running statistics away from 0 and 1 and give the noise a weight.
            for (_, parameter) in generator.parameters where parameter.value.count == 1 { parameter.value[0] = 0.3 }
            for step in 0..<3 { _ = generator.forward(randomTensor([6, 8, 1, 1], seed: UInt64(10 + step)), training: true) }
            for n in [1, 7, 33] {
                let z = randomTensor([n, 8, 1, 1], seed: UInt64(n))
                let expected = generator.forward(z, training: false).scalars
                let actual = generator.infer(z).scalars
                XCTAssertLessThan(largestDifference(actual, expected), 1e-5, "\(config.architecture) R\(config.resolution) batch \(n)")
            }
        }
    }

    /// `generate` (batched `infer`) gives each latent the picture its own eval forward gives it alone. Training
    /// passes first bring the running statistics near the activations' (at their initial 0 and 1 the untrained
    /// net's maps grow to 10⁷, where float rounding alone flips saturated pixels).
    func testGenerateMatchesEachLatentsOwnEvalForward() throws {
        let config = ModelConfig(resolution: 64, width: 4, zDim: 8, architecture: .fastgan)
        let trainer = try GANTrainer(config: config, seed: 3)
        for step in 0..<10 { _ = trainer.generatorEMA.forward(randomTensor([8, 8, 1, 1], seed: UInt64(20 + step)), training: true) }
        let count = 70
        var rng = RNG(seed: 4)
        let latents = rng.normals(count * 8)
        let pictures = trainer.generate(latents: latents, count: count, useEMA: true)
        let size = 3 * 64 * 64
        for index in [0, 31, 32, 69] {
            let z = Tensor(shape: [1, 8, 1, 1], scalars: Array(latents[index * 8..<(index + 1) * 8]))
            let alone = trainer.generatorEMA.forward(z, training: false).scalars
            XCTAssertLessThan(largestDifference(Array(pictures[index * size..<(index + 1) * size]), alone), 1e-5, "latent \(index)")
        }
    }
}
