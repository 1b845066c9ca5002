import Foundation
import GAN
import Neural
import XCTest

/// The registry of architectures: the names checkpoints store, and what each descriptor says about its
/// architecture (the defaults `train` documents, and a lower bound of G that a built G meets).
final class ArchitectureRegistryTests: XCTestCase {
    func testNamesAreTheCheckpointsAndNothingElse() throws {
        XCTAssertEqual(Architecture.allCases.map(\.rawValue), ["dcgan", "resize", "fastgan", "projected"])
        for architecture in Architecture.allCases {
            XCTAssertEqual(Architecture(rawValue: architecture.rawValue), architecture)
            let json = try JSONEncoder().encode(architecture)
            XCTAssertEqual(String(decoding: json, as: UTF8.self), "\"\(architecture.rawValue)\"")
            XCTAssertEqual(try JSONDecoder().decode(Architecture.self, from: json), architecture)
        }
        XCTAssertNil(Architecture(rawValue: "stylegan"))
        XCTAssertThrowsError(try JSONDecoder().decode(Architecture.self, from: Data("\"stylegan\"".utf8)))
    }

    func testEachArchitecturesTrainingDefaults() {
        let expected: [Architecture: (batch: Int, loss: AdversarialLoss, lecam: Float, width64: Int, width128: Int)] = [
            .dcgan: (16, .hinge, 0, 64, 32), .resize: (16, .hinge, 0, 64, 32),
            .fastgan: (8, .randomHinge, 0.1, 16, 16), .projected: (8, .hinge, 0, 16, 16),
        ]
        for architecture in Architecture.allCases {
            guard let want = expected[architecture] else { return XCTFail("no expectation for \(architecture)") }
            let options = TrainingOptions(defaultsFor: architecture)
            XCTAssertEqual(options.batch, want.batch, "\(architecture)")
            XCTAssertEqual(options.loss, want.loss, "\(architecture)")
            XCTAssertEqual(options.lecam, want.lecam, "\(architecture)")
            XCTAssertEqual(options.learningRate, 2e-4, "\(architecture)")
            XCTAssertEqual(ModelConfig.trainingDefault(resolution: 64, architecture: architecture).width, want.width64, "\(architecture)")
            XCTAssertEqual(ModelConfig.trainingDefault(resolution: 128, architecture: architecture).width, want.width128, "\(architecture)")
            // The coverage objective alone overrides the architecture's batch and rate.
            let imle = TrainingOptions(defaultsFor: architecture, objective: .imle)
            XCTAssertEqual(imle.batch, 16, "\(architecture) imle")
            XCTAssertEqual(imle.loss, want.loss, "\(architecture) imle")
            XCTAssertEqual(imle.learningRate, 1e-3, "\(architecture) imle")
        }
    }

    /// The bound a checkpoint's generator tensors are held to before G is built never exceeds a built G.
    func testMinimumGeneratorWeightsBoundTheBuiltGenerator() throws {
        for architecture in Architecture.allCases {
            for resolution in ModelConfig.resolutions {
                let config = ModelConfig(resolution: resolution, width: 4, zDim: 8, architecture: architecture)
                var rng = RNG(seed: 1)
                let generator = try config.makeGenerator(noise: RandomSource(seed: 2), rng: &rng)
                XCTAssertGreaterThan(config.minimumGeneratorWeights, 0)
                XCTAssertLessThanOrEqual(config.minimumGeneratorWeights, generator.parameterCount, "\(architecture) \(resolution)")
            }
        }
    }
}
