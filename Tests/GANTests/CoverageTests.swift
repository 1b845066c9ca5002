import GAN
import GradientChecking
import Neural
import Perception
import XCTest

/// A pyramid that hands out maps it was given and records the gradients it is sent back: the numpy
/// cross-check then sees the coverage distance alone, not a network's arithmetic.
private final class GivenMaps: FeaturePyramid {
    let featureChannels: [Int]
    let featureStrides: [Int]
    let pooledChannels = 1
    var maps: [Tensor]
    var receivedGradients: [Tensor] = []
    private let zero = Tensor(shape: [0])

    init(_ maps: [Tensor], resolution: Int) {
        self.maps = maps
        featureChannels = maps.map { $0.shape[1] }
        featureStrides = maps.map { resolution / $0.shape[2] }
    }
    func features(_ pictures: Tensor) -> [Tensor] { maps }
    func inputGradient(_ featureGradients: [Tensor]) -> Tensor {
        receivedGradients = featureGradients.map { $0.copy() }
        zero.resize(to: [maps[0].shape[0], 3, featureStrides[0] * maps[0].shape[2], featureStrides[0] * maps[0].shape[3]])
        zero.fill(0)
        return zero
    }
    func pooledFeatures(_ pictures: Tensor) -> Tensor { preconditionFailure("not used") }
}

final class CoverageTests: XCTestCase {
    /// The distance in plain numpy, float64: block averages and unit-normalised maps, weighted means of
    /// squared differences; its gradients with respect to the pictures (pixel part) and to the maps.
    static let script = #"""
import json, sys
import numpy as np
out = []
for c in json.load(sys.stdin):
    n, r = c["n"], c["resolution"]
    x = np.array(c["pictures"], dtype=np.float64).reshape(n, 3, r, r)
    t = np.array(c["targets"], dtype=np.float64).reshape(n, 3, r, r)
    factors = [f for f in (2, 4, 8) if r // f >= 8]
    loss = 0.0
    dx = np.zeros_like(x)
    for f in factors:
        s = r // f
        pool = lambda a: a.reshape(n, 3, s, f, s, f).mean(axis=(3, 5))
        d = pool(x) - pool(t)
        w = c["pixelWeight"] / (len(factors) * 3 * s * s)
        loss += w * (d ** 2).sum() / n
        dx += np.repeat(np.repeat(2 * w * d / n, f, axis=2), f, axis=3) / (f * f)
    dmaps = []
    count = len(c["maps"])
    for m, tm, shape in zip(c["maps"], c["targetMaps"], c["mapShapes"]):
        m = np.array(m, dtype=np.float64).reshape(shape)
        tm = np.array(tm, dtype=np.float64).reshape(shape)
        plane = shape[2] * shape[3]
        w = c["perceptualWeight"] / (count * plane)
        unit = lambda a: a / (np.sqrt((a ** 2).sum(axis=1, keepdims=True)) + 1e-6)
        d = unit(m) - unit(tm)
        loss += w * (d ** 2).sum() / n
        # d/dm of |m/(|m|+e)|: (I/(|m|+e) - m m^T / (|m| (|m|+e)^2)) applied to the upstream gradient g
        g = 2 * w * d / n
        norm = np.sqrt((m ** 2).sum(axis=1, keepdims=True))
        dm = g / (norm + 1e-6) - m * (m * g).sum(axis=1, keepdims=True) / (norm * (norm + 1e-6) ** 2)
        dmaps.append(dm.ravel().tolist())
    out.append([loss])
    out.append(dx.ravel().tolist())
    out += dmaps
print(json.dumps(out))
"""#

    private struct Case: Encodable {
        var n: Int, resolution: Int
        var pixelWeight: Float, perceptualWeight: Float
        var pictures: [Float], targets: [Float]
        var maps: [[Float]], targetMaps: [[Float]], mapShapes: [[Int]]
    }

    func testTheDistanceAndItsGradientsMatchNumpy() throws {
        let (n, r) = (3, 32)
        let pictures = randomTensor([n, 3, r, r], seed: 1, scale: 0.8)
        let targets = randomTensor([n, 3, r, r], seed: 2, scale: 0.8)
        let shapes = [[n, 4, 16, 16], [n, 6, 8, 8], [n, 5, 2, 2]]
        let maps = shapes.enumerated().map { randomTensor($0.element, seed: UInt64(10 + $0.offset)) }
        let targetMaps = shapes.enumerated().map { randomTensor($0.element, seed: UInt64(20 + $0.offset)) }
        let network = GivenMaps(targetMaps, resolution: r)
        let embedding = PictureEmbedding(resolution: r, pixelWeight: 1.5, perceptualWeight: 0.7, features: network)
        let targetRows = Tensor(shape: [n, embedding.length])
        embedding.embed(targets, into: targetRows.data)
        network.maps = maps
        let (loss, gradient) = embedding.loss(pictures, targets: targetRows.data, scratch: Tensor(shape: [0]))

        let expected = try numpyReference(script: Self.script, cases: [Case(
            n: n, resolution: r, pixelWeight: 1.5, perceptualWeight: 0.7, pictures: pictures.scalars,
            targets: targets.scalars, maps: maps.map(\.scalars), targetMaps: targetMaps.map(\.scalars), mapShapes: shapes)])
        XCTAssertEqual(expected.count, 2 + shapes.count)
        XCTAssertEqual(Double(loss), expected[0][0], accuracy: 1e-5 * expected[0][0])
        func compare(_ values: [Float], _ reference: [Double], _ name: String) {
            XCTAssertEqual(values.count, reference.count, name)
            let scale = reference.map(abs).max()!
            XCTAssertGreaterThan(scale, 0, name)
            for (value, expected) in zip(values, reference) {
                XCTAssertEqual(Double(value), expected, accuracy: 1e-4 * scale, name)
            }
        }
        compare(gradient.scalars, expected[1], "pixel gradient")
        for (index, received) in network.receivedGradients.enumerated() {
            compare(received.scalars, expected[2 + index], "map \(index) gradient")
        }
    }

    /// The whole distance, through a real (smooth) feature network, by finite differences.
    func testTheDistanceGradientMatchesFiniteDifferences() {
        let (n, r) = (2, 16)
        let embedding = PictureEmbedding(resolution: r, pixelWeight: 1, perceptualWeight: 1, features: StandInFeatures())
        let targets = Tensor(shape: [n, embedding.length])
        embedding.embed(randomTensor([n, 3, r, r], seed: 3, scale: 0.8), into: targets.data)
        let pictures = randomTensor([n, 3, r, r], seed: 4, scale: 0.8)
        let scratch = Tensor(shape: [0])
        let analytic = embedding.loss(pictures, targets: targets.data, scratch: scratch).gradient.copy()
        let scale = analytic.scalars.map(abs).max()!
        XCTAssertGreaterThan(scale, 0)
        var rng = RNG(seed: 5)
        for _ in 0..<40 {
            let index = rng.integer(below: pictures.count)
            let numeric = centralDifference(pictures, index, epsilon: 1e-2) {
                Double(embedding.loss(pictures, targets: targets.data, scratch: scratch).loss)
            }
            XCTAssertEqual(Double(analytic[index]), numeric, accuracy: 1e-2 * abs(numeric) + 2e-3 * Double(scale), "[\(index)]")
        }
    }

    /// A set of dark pictures and one bright red one: the generator, started from random weights, draws
    /// nothing red; the selection finds the candidate nearest the red picture anyway, and training pulls
    /// that candidate's picture onto it.
    func testAPictureTheGeneratorLeavesOutIsFoundAndPulledIn() throws {
        let size = 32
        var dataset = try ImageDataset(height: size, width: size)
        for shade in [20, 30, 40, 50, 60] { dataset.append([UInt8](repeating: UInt8(shade), count: size * size * 3)) }
        dataset.append((0..<(size * size)).flatMap { _ in [UInt8(230), 20, 20] })
        let red = dataset.count - 1

        var options = TrainingOptions()
        (options.objective, options.batch, options.learningRate) = (.imle, 6, 1e-3)
        options.coverage.perceptualWeight = 0
        options.coverage.reselectEvery = 20
        let config = ModelConfig(resolution: size, width: 8, zDim: 16, architecture: .fastgan)
        let run = try TrainingRun(dataset: dataset, config: config, options: options, seed: 3)
        let coverage = try XCTUnwrap(run.trainer.coverage)
        XCTAssertEqual(try run.run(to: 1) { _ in }, .finished)
        let before = coverage.selectedDistances[red]
        XCTAssertEqual(try run.run(to: 200) { _ in }, .finished)
        // The last selection (step 180) measured where training had brought every picture's candidate.
        let after = coverage.selectedDistances[red]
        XCTAssertLessThan(after, before / 10, "the red picture's nearest candidate: \(before) at the start, \(after) after")

        // G itself (not the average) draws a red picture from the red picture's latent.
        let latent = Array(coverage.latents[(red * 16)..<((red + 1) * 16)])
        let image = run.trainer.generate(latents: latent, count: 1, useEMA: false)
        let plane = size * size
        let meanRed = image[0..<plane].reduce(0, +) / Float(plane)
        let meanGreen = image[plane..<(2 * plane)].reduce(0, +) / Float(plane)
        XCTAssertGreaterThan(meanRed, 0.5)
        XCTAssertLessThan(meanGreen, -0.5)
    }

    /// With a margin, no picture is given a candidate nearer than the margin; a picture all of whose candidates
    /// are that near rests (no gradient) until the next selection.
    func testTheMarginPassesOverCandidatesTooNearAPicture() throws {
        let size = 32
        let pictures = randomTensor([5, 3, size, size], seed: 8, scale: 0.6)
        let config = ModelConfig(resolution: size, width: 8, zDim: 16, architecture: .fastgan)
        var rng = RNG(seed: 1)
        let generator = try config.makeGenerator(noise: RandomSource(seed: 2), rng: &rng)
        Initialization.dcgan.apply(to: generator, rng: &rng)
        func objective(margin: Float) -> CoverageObjective {
            var options = CoverageOptions()
            (options.perceptualWeight, options.candidates, options.margin) = (0, 8, margin)
            let objective = CoverageObjective(options: options, pictures: pictures, zDim: 16, features: nil)
            var draws = RNG(seed: 3)
            objective.select(generator: generator, rng: &draws)
            return objective
        }
        let plain = objective(margin: 0)
        XCTAssertEqual(plain.rejectedBelow, 0)
        XCTAssertEqual(plain.hasSelection, Array(repeating: true, count: 5))
        // A margin between the nearest and farthest candidates of the plain selection splits the pictures.
        let distances = plain.selectedDistances.sorted()
        let typical = objective(margin: 1).rejectedBelow.squareRoot()   // the median nearest-neighbour distance
        XCTAssertGreaterThan(typical, 0)
        let margin = (distances[2].squareRoot() + 1e-3) / typical
        let strict = objective(margin: margin)
        XCTAssertEqual(strict.rejectedBelow, (margin * typical) * (margin * typical), accuracy: 1e-3 * strict.rejectedBelow)
        for (picture, distance) in strict.selectedDistances.enumerated() where strict.hasSelection[picture] {
            XCTAssertGreaterThanOrEqual(distance, strict.rejectedBelow, "picture \(picture)")
        }
        // Pictures whose best candidate was nearer than the margin are farther now, or rest.
        for picture in 0..<5 where plain.selectedDistances[picture] < strict.rejectedBelow {
            XCTAssertTrue(!strict.hasSelection[picture] || strict.selectedDistances[picture] > plain.selectedDistances[picture])
        }
        // Every candidate too near: every picture rests, and the objective leaves G's gradients at 0.
        let resting = objective(margin: 9)
        XCTAssertEqual(resting.hasSelection, Array(repeating: false, count: 5))
        generator.zeroGradients()
        XCTAssertEqual(resting.accumulateGradients(generator: generator, indices: [0, 1, 2]), 0)
        XCTAssertTrue(generator.parameters.allSatisfy { $0.parameter.gradient.buffer.allSatisfy { $0 == 0 } })
    }

    func testCoverageRunsResumeBitForBit() throws {
        let data = try SolidColours.dataset(resolution: 32, count: 6)
        let config = ModelConfig(resolution: 32, width: 8, zDim: 16, architecture: .fastgan)
        for objective in [TrainingOptions.Objective.imle, .imleGAN] {
            var options = TrainingOptions(defaultsFor: .fastgan)
            (options.objective, options.batch) = (objective, 4)
            options.coverage.perceptualWeight = 0
            (options.coverage.reselectEvery, options.coverage.candidates, options.coverage.margin) = (3, 2, 0.3)
            (options.adversarialStart, options.adversarialRamp) = (2, 2)
            let straight = try TrainingRun(dataset: data, config: config, options: options, seed: 5)
            XCTAssertEqual(try straight.run(to: 7) { _ in }, .finished)
            let expected = try straight.checkpoint().serialized()

            let first = try TrainingRun(dataset: data, config: config, options: options, seed: 5)
            XCTAssertEqual(try first.run(to: 7, shouldStop: { first.step == 4 }) { _ in }, .stopped)
            let saved = try Checkpoint(bytes: first.checkpoint().serialized())
            XCTAssertEqual(saved.info.training, options, "\(objective): the options survive the checkpoint")
            let resumed = try TrainingRun(dataset: data, config: config, options: TrainingOptions(), seed: 0, start: .resume(saved))
            XCTAssertEqual(try resumed.run(to: 7) { _ in }, .finished)
            XCTAssertEqual(try resumed.checkpoint().serialized(), expected, "\(objective)")
        }
    }

    func testTheAdversarialWeightFollowsItsSchedule() {
        var options = TrainingOptions(objective: .imleGAN, adversarialStart: 10, adversarialRamp: 4)
        XCTAssertEqual((8...15).map { options.adversarialWeight(afterSteps: $0) }, [0, 0, 0.25, 0.5, 0.75, 1, 1, 1])
        options.objective = .imle
        XCTAssertEqual(options.adversarialWeight(afterSteps: 1000), 0, "coverage alone never trains a discriminator")
        options.objective = .gan
        XCTAssertEqual(options.adversarialWeight(afterSteps: 0), 1, "a GAN's adversarial term is whole from the first step")
    }

    /// Options JSON of a GAN reads as before objectives existed, and a checkpoint without them is a GAN.
    func testGANOptionsKeepTheirOldForm() throws {
        let old = #"{"augment":["color"],"batch":8,"emaDecay":0.999,"learningRate":0.0002,"lecam":0.1,"loss":"random-hinge"}"#
        let decoded = try JSONDecoder().decode(TrainingOptions.self, from: Data(old.utf8))
        XCTAssertEqual(decoded.objective, .gan)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        XCTAssertEqual(String(decoding: try encoder.encode(decoded), as: UTF8.self), old)
    }
}
