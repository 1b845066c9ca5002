import Foundation
import GAN
import GradientChecking
import Neural
import XCTest

/// A tiny model trained here on six two-colour pictures (a boundary at a different place in each), and
/// its projections of those pictures: trained once for all the tests of this file.
private final class TrainedTinyModel: @unchecked Sendable {
    static let shared = try! TrainedTinyModel()
    static let resolution = 32

    let pictures: [[UInt8]]
    let checkpoint: Checkpoint
    let generator: ImageGenerator

    init() throws {
        let size = Self.resolution
        pictures = (0..<6).map { index -> [UInt8] in
            let boundary = 6 + 4 * index
            return (0..<(size * size)).flatMap { pixel -> [UInt8] in
                let (y, x) = (pixel / size, pixel % size)
                let first = index % 2 == 0 ? x < boundary : y < boundary
                return first ? [230, 40, 30] : [20, 60, 200]
            }
        }
        var dataset = try ImageDataset(height: size, width: size)
        for picture in pictures { dataset.append(picture) }
        var options = TrainingOptions()
        // Plain and quick: no augmentation, a large step, the last weights rather than an average.
        options.batch = 6
        options.augment = []
        options.learningRate = 2e-3
        options.emaDecay = 0
        let run = try TrainingRun(dataset: dataset, config: ModelConfig(resolution: size, width: 8, zDim: 16),
                                  options: options, seed: 3)
        _ = try run.run(to: 200) { _ in }
        checkpoint = try run.checkpoint()
        generator = try ImageGenerator(checkpoint: checkpoint)
    }

    func projector(_ options: ProjectionOptions) throws -> Projector {
        Projector(generator: generator, features: try DiscriminatorFeatures(checkpoint: checkpoint), options: options)
    }
}

final class ProjectionTests: XCTestCase {
    let options = ProjectionOptions(steps: 60, learningRate: 0.05, candidates: 16, batchSize: 4)

    /// The optimisation must do real work: starting from the best of the random latents, 60 steps lower
    /// the objective of the model's own training pictures by at least 40 % in sum, and their pixel distance
    /// by at least 20 % (measured: 66 % and 40 %, 3.97 → 1.36 and 1.36 → 0.82).
    func testStepsLowerTheDistanceWellBelowTheBestRandomStart() throws {
        let model = TrainedTinyModel.shared
        let projections = try model.projector(options).project(model.pictures, seed: 1)
        XCTAssertEqual(projections.count, model.pictures.count)
        let start = projections.map(\.startLoss).reduce(0, +), end = projections.map(\.loss).reduce(0, +)
        XCTAssertLessThan(end, 0.6 * start, "objective \(start) → \(end)")
        let startDistance = projections.map(\.startDistance).reduce(0, +), distance = projections.map(\.distance).reduce(0, +)
        XCTAssertLessThan(distance, 0.8 * startDistance, "pixel distance \(startDistance) → \(distance)")
        for projection in projections {
            XCTAssertLessThanOrEqual(projection.loss, projection.startLoss, "a projection keeps its best latent")
        }
    }

    /// The latents stay on the shell of the prior, and the reported distance is that of the generator's
    /// own picture of the latent.
    func testLatentsLieOnThePriorsShellAndDistancesAreTheirPictures() throws {
        let model = TrainedTinyModel.shared
        let projections = try model.projector(options).project(Array(model.pictures.prefix(3)), seed: 1)
        for (projection, picture) in zip(projections, model.pictures) {
            let norm = projection.latent.reduce(0) { $0 + $1 * $1 }.squareRoot()
            XCTAssertEqual(norm, Float(16).squareRoot(), accuracy: 1e-3)
            let drawn = model.generator.images(latents: projection.latent, count: 1)
            XCTAssertEqual(projection.distance, Projector.pictureDistance(drawn, picture, size: 32), accuracy: 1e-6)
        }
    }

    /// A picture's latent does not depend on the other pictures of its batch (G in eval mode, D without
    /// batch statistics, Adam per element): one at a time gives what four together give.
    func testBatchingDoesNotChangeALatent() throws {
        let model = TrainedTinyModel.shared
        var single = options
        single.batchSize = 1
        let together = try model.projector(options).project(Array(model.pictures.prefix(4)), seed: 2)
        let alone = try model.projector(single).project(Array(model.pictures[2...2]), seed: 2)
        for (a, b) in zip(together[2].latent, alone[0].latent) { XCTAssertEqual(a, b, accuracy: 1e-3) }
    }

    /// A stop drops the batch under way and keeps the finished ones.
    func testStopKeepsTheFinishedBatches() throws {
        let model = TrainedTinyModel.shared
        var small = options
        small.batchSize = 2
        var events = 0
        let projections = try model.projector(small).project(model.pictures, seed: 1, shouldStop: { events > small.steps + 3 }) { _ in
            events += 1
        }
        XCTAssertEqual(projections.count, 2)
        let full = try model.projector(small).project(Array(model.pictures.prefix(2)), seed: 1)
        XCTAssertEqual(projections, full)
    }

    /// A memory walk: frames on the keys are exactly the generator's pictures of the projected latents.
    func testWalkFramesOnTheKeysAreThePicturesOfTheProjectedLatents() throws {
        let model = TrainedTinyModel.shared
        let projections = try model.projector(options).project(Array(model.pictures.prefix(3)), seed: 1)
        let walk = try LatentWalk(keys: projections.map(\.latent), frames: 20, ease: true, loop: true, hold: 4)
        let frames = model.generator.images(latents: walk.latents(frames: 0..<20), count: 20)
        let keys = model.generator.images(latents: projections.flatMap(\.latent), count: 3)
        let record = 32 * 32 * 3
        // 20 frames, 3 keys held for 4: key k arrives at frame round(20k/3).
        for (key, frame) in [(0, 0), (0, 3), (1, 7), (1, 10), (2, 13), (2, 16)] {
            XCTAssertEqual(Array(frames[(frame * record)..<((frame + 1) * record)]),
                           Array(keys[(key * record)..<((key + 1) * record)]), "frame \(frame) is key \(key)")
        }
        XCTAssertNotEqual(Array(frames[(5 * record)..<(6 * record)]), Array(keys[0..<record]), "frame 5 moves on")
    }

    func testPictureDistance() {
        let black = [UInt8](repeating: 0, count: 64 * 64 * 3), white = [UInt8](repeating: 255, count: 64 * 64 * 3)
        XCTAssertEqual(Projector.pictureDistance(black, black, size: 64), 0)
        XCTAssertEqual(Projector.pictureDistance(black, white, size: 64), 1, accuracy: 1e-6)
        // A checkerboard of black and white averages to grey at 32 pixels: half way to either.
        let checkers = (0..<(64 * 64)).flatMap { i -> [UInt8] in (i / 64 + i % 64) % 2 == 0 ? [0, 0, 0] : [255, 255, 255] }
        XCTAssertEqual(Projector.pictureDistance(checkers, white, size: 64), 0.5, accuracy: 1e-6)
    }
}

/// The discriminator's maps as a FeaturePyramid: shapes, and the input gradient against finite differences.
final class DiscriminatorFeaturesTests: XCTestCase {
    func discriminator(_ architecture: Architecture) throws -> (FeatureStagedDiscriminator, ModelConfig) {
        let config = ModelConfig(resolution: 32, width: 8, zDim: 8, architecture: architecture)
        var rng = RNG(seed: 4)
        let d = try XCTUnwrap(try architecture.descriptor.makeFeatureDiscriminator(config, rng: &rng))
        Initialization.dcgan.apply(to: d, rng: &rng)
        return (d, config)
    }

    /// Only a D that looks through the pretrained network has no feature stages of its own.
    func testEveryArchitectureButProjectedOffersFeatureStages() throws {
        for architecture in Architecture.allCases {
            var rng = RNG(seed: 4)
            let config = ModelConfig(resolution: 32, width: 8, zDim: 8, architecture: architecture)
            let offered = try architecture.descriptor.makeFeatureDiscriminator(config, rng: &rng)
            XCTAssertEqual(offered == nil, architecture.needsFeatureNetwork, "\(architecture)")
        }
    }

    func testMapsAreTheDownsamplingStages() throws {
        let (dcgan, _) = try discriminator(.dcgan)
        let features = DiscriminatorFeatures(dcgan, resolution: 32)
        XCTAssertEqual(features.featureChannels, [8, 16, 32])
        XCTAssertEqual(features.featureStrides, [2, 4, 8])
        let maps = features.features(randomTensor([2, 3, 32, 32], seed: 1))
        XCTAssertEqual(maps.map(\.shape), [[2, 8, 16, 16], [2, 16, 8, 8], [2, 32, 4, 4]])
        XCTAssertEqual(features.pooledFeatures(randomTensor([2, 3, 32, 32], seed: 1)).shape, [2, 32])

        let (fastgan, _) = try discriminator(.fastgan)
        let trunk = DiscriminatorFeatures(fastgan, resolution: 32)
        // fastgan's channels at r: width · 64 / r, at least 8.
        XCTAssertEqual(trunk.featureChannels, [32, 64])
        XCTAssertEqual(trunk.featureStrides, [2, 4])
    }

    /// The gradient of L = Σᵢ Σ mapᵢ ⊙ rᵢ is the sum, over the maps, of rᵢ taken back through the layers
    /// below map i alone (whose backward passes have finite-difference tests of their own): each map is both
    /// an output and the next stage's input.
    func testInputGradientSumsEveryMapsGradient() throws {
        for architecture in [Architecture.dcgan, .fastgan] {
            let (d, _) = try discriminator(architecture)
            let input = randomTensor([2, 3, 32, 32], seed: 2, scale: 0.5)
            let features = DiscriminatorFeatures(d, resolution: 32)
            let weights = features.features(input).enumerated().map { randomTensor($0.element.shape, seed: UInt64(10 + $0.offset)) }
            let gradient = features.inputGradient(weights).copy()

            let stages = d.featureStages
            XCTAssertEqual(weights.count, architecture == .dcgan ? 3 : 2)
            let expected = Tensor(shape: input.shape)
            for (index, weight) in weights.enumerated() {
                let below = Sequential(Array(stages.layers[0..<stages.taps[index]]))
                _ = below.forward(input, training: false)
                expected.add(below.backward(weight, needsInputGradient: true, needsParameterGradients: false)!)
            }
            let scale = expected.scalars.map(abs).max()!
            XCTAssertGreaterThan(scale, 0)
            for i in 0..<input.count { XCTAssertEqual(gradient[i], expected[i], accuracy: 1e-4 * scale, "\(architecture) [\(i)]") }
        }
    }
}
