import GAN
import GradientChecking
import Neural
import Foundation
import XCTest

final class TrainerStepTests: XCTestCase {
    private let config = ModelConfig(resolution: 32, width: 8, zDim: 16)

    private func realBatch(_ n: Int, seed: UInt64) -> Tensor {
        var rng = RNG(seed: seed)
        let t = Tensor(shape: [n, 3, 32, 32])
        for i in 0..<t.count { t[i] = rng.uniform() * 2 - 1 }
        return t
    }

    private func snapshot(_ trainer: GANTrainer) -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: trainer.stateTensors().map { ($0.0, $0.1.scalars) })
    }

    func testStepChangesEveryNetAndReturnsFiniteLosses() throws {
        let trainer = try GANTrainer(config: config, options: TrainingOptions(batch: 4), seed: 3)
        let before = snapshot(trainer)
        let losses = trainer.step(real: realBatch(4, seed: 1))
        XCTAssertTrue(losses.dLoss.isFinite && losses.gLoss.isFinite)
        // Hinge D loss at init is close to 2 (logits near 0).
        XCTAssertEqual(losses.dLoss, 2, accuracy: 0.5)
        let after = snapshot(trainer)
        XCTAssertEqual(trainer.stepCount, 1)
        for name in ["G.0.weight", "G.1.weight", "D.0.weight", "D.0.bias", "G_ema.0.weight", "opt.G.0.weight.exp_avg"] {
            XCTAssertNotEqual(before[name], after[name], name)
        }
        // BN running statistics moved (G ran twice in training mode).
        XCTAssertNotEqual(before["G.1.running_mean"], after["G.1.running_mean"])
    }

    /// Once warmed up (both batch sizes D sees have been through), steps and generation reuse their buffers.
    func testWarmedUpStepAllocatesNoTensorStorage() throws {
        let trainer = try GANTrainer(config: config, options: TrainingOptions(batch: 4), seed: 1)
        let real = realBatch(4, seed: 2)
        let latents = { var rng = RNG(seed: 3); return rng.normals(5 * config.zDim) }()
        let fresh = Tensor.storageAllocations
        for _ in 0..<2 { trainer.step(real: real); _ = trainer.generate(latents: latents, count: 5, useEMA: true) }
        let before = Tensor.storageAllocations
        XCTAssertGreaterThan(before, fresh, "the first steps size the buffers")
        for _ in 0..<3 { trainer.step(real: real); _ = trainer.generate(latents: latents, count: 5, useEMA: true) }
        XCTAssertEqual(Tensor.storageAllocations, before)
    }

    func testSameSeedGivesSameSteps() throws {
        let a = try GANTrainer(config: config, options: TrainingOptions(batch: 3), seed: 9)
        let b = try GANTrainer(config: config, options: TrainingOptions(batch: 3), seed: 9)
        let c = try GANTrainer(config: config, options: TrainingOptions(batch: 3), seed: 10)
        let real = realBatch(3, seed: 2)
        for _ in 0..<2 {
            let (la, lb) = (a.step(real: real), b.step(real: real))
            XCTAssertEqual(la.dLoss, lb.dLoss)
            XCTAssertEqual(la.gLoss, lb.gLoss)
        }
        XCTAssertEqual(snapshot(a), snapshot(b))
        XCTAssertNotEqual(snapshot(a)["G.0.weight"], snapshot(c)["G.0.weight"])
    }

    func testResumeFromStateIsBitExact() throws {
        let options = TrainingOptions(batch: 2, loss: .logistic, emaDecay: 0.9)
        let uninterrupted = try GANTrainer(config: config, options: options, seed: 5)
        let first = try GANTrainer(config: config, options: options, seed: 5)
        let real = realBatch(2, seed: 4)
        for _ in 0..<2 { uninterrupted.step(real: real); first.step(real: real) }
        let saved = Dictionary(uniqueKeysWithValues: first.stateTensors())
        let resumed = try GANTrainer(config: config, options: options, seed: 77)
        try resumed.loadState(saved)
        XCTAssertEqual(resumed.stepCount, 2)
        for _ in 0..<2 {
            let (a, b) = (uninterrupted.step(real: real), resumed.step(real: real))
            XCTAssertEqual(a.dLoss.bitPattern, b.dLoss.bitPattern)
            XCTAssertEqual(a.gLoss.bitPattern, b.gLoss.bitPattern)
        }
        XCTAssertEqual(snapshot(uninterrupted), snapshot(resumed))
    }

    /// G_ema warms up: after t steps the next one mixes with decay min(emaDecay, (1 + t) / (10 + t));
    /// decay 0 keeps G_ema an exact copy of G.
    func testAverageWarmsUpToItsDecay() throws {
        let trainer = try GANTrainer(config: config, options: TrainingOptions(batch: 2, emaDecay: 0.999), seed: 2)
        XCTAssertEqual(trainer.averageDecay(afterSteps: 0), 0.1)
        XCTAssertEqual(trainer.averageDecay(afterSteps: 90), 0.91)
        XCTAssertEqual(trainer.averageDecay(afterSteps: 100_000), 0.999)
        let start = snapshot(trainer)["G_ema.0.weight"]!
        trainer.step(real: realBatch(2, seed: 6))
        let (weights, average) = (snapshot(trainer)["G.0.weight"]!, snapshot(trainer)["G_ema.0.weight"]!)
        XCTAssertNotEqual(weights, start)
        for i in stride(from: 0, to: weights.count, by: 97) {
            XCTAssertEqual(average[i], 0.1 * start[i] + 0.9 * weights[i], accuracy: 1e-6, "[\(i)]")
        }

        let plain = try GANTrainer(config: config, options: TrainingOptions(batch: 2, emaDecay: 0), seed: 2)
        XCTAssertEqual(plain.averageDecay(afterSteps: 0), 0)
        plain.step(real: realBatch(2, seed: 6))
        let state = snapshot(plain)
        for (name, values) in state where name.hasPrefix("G.") { XCTAssertEqual(state["G_ema." + name.dropFirst(2)], values, name) }
    }

    func testLoadRejectsWrongShapeNamingTheTensor() throws {
        let trainer = try GANTrainer(config: config)
        var state = Dictionary(uniqueKeysWithValues: trainer.stateTensors())
        state["D.2.weight"] = Tensor(shape: [1, 2, 3, 4])
        XCTAssertThrowsError(try trainer.loadState(state)) { error in
            XCTAssertTrue("\(error)".contains("D.2.weight"), "\(error)")
        }
        state["D.2.weight"] = nil
        XCTAssertThrowsError(try trainer.loadWeights(state)) { error in
            XCTAssertEqual(error as? NeuralError, .missingTensor("D.2.weight"))
        }
    }

    func testGenerateIsDeterministicBoundedAndBatchIndependent() throws {
        let trainer = try GANTrainer(config: config)
        trainer.step(real: realBatch(4, seed: 1))
        var rng = RNG(seed: 1)
        let latents = rng.normals(40 * config.zDim)
        let all = trainer.generate(latents: latents, count: 40, useEMA: true)
        XCTAssertEqual(all.count, 40 * 3 * 32 * 32)
        XCTAssertTrue(all.allSatisfy { $0 >= -1 && $0 <= 1 })
        // Image 35 alone equals image 35 in a batch (eval mode: no batch statistics).
        let single = trainer.generate(latents: Array(latents[(35 * 16)..<(36 * 16)]), count: 1, useEMA: true)
        let imageSize = 3 * 32 * 32
        for (a, b) in zip(single, all[(35 * imageSize)..<(36 * imageSize)]) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        XCTAssertNotEqual(trainer.generate(latents: Array(latents[0..<16]), count: 1, useEMA: false), Array(all[0..<imageSize]))
    }

    /// DiffAugment's backward against central differences of L = Σ aug(x) ⊙ r, with the RNG reset to
    /// the same state for every evaluation so the random choices stay fixed. The transforms are then
    /// linear in x, so the difference quotient is exact up to float32 rounding (~1e-5 here).
    func testDiffAugmentGradientMatchesFiniteDifferences() {
        for policy in [AugmentPolicy.color, .translation, .cutout, .all] {
            let augment = DiffAugment(policy: policy)
            var seedRNG = RNG(seed: 8)
            let x = Tensor(shape: [2, 3, 8, 6])
            for i in 0..<x.count { x[i] = seedRNG.normal() }
            let r = Tensor(shape: [2, 3, 8, 6])
            for i in 0..<r.count { r[i] = seedRNG.normal() }
            func loss() -> Double {
                var rng = RNG(seed: 21)
                let y = augment.forward(x, rng: &rng)
                return (0..<y.count).reduce(0) { $0 + Double(y[$1]) * Double(r[$1]) }
            }
            _ = loss()
            let analytic = augment.backward(r).scalars
            for i in stride(from: 0, to: x.count, by: 7) {
                XCTAssertEqual(Double(analytic[i]), centralDifference(x, i, epsilon: 0.05, loss), accuracy: 1e-3, "\(policy) [\(i)]")
            }
        }
    }

    func testDiffAugmentTransformsAndDrawsFromTheRNG() {
        let x = Tensor(shape: [4, 3, 16, 16], repeating: 0.5)
        var rng = RNG(seed: 1)
        let cut = DiffAugment(policy: .cutout).forward(x, rng: &rng)
        // Each image loses an 8 × 8 square (clipped at the border), nothing else changes.
        for n in 0..<4 {
            let plane = (0..<256).map { cut[n * 768 + $0] }
            let zeros = plane.filter { $0 == 0 }.count
            XCTAssertTrue(zeros >= 16 && zeros <= 64, "\(zeros) zeros")
            XCTAssertEqual(plane.filter { $0 == 0.5 }.count, 256 - zeros)
        }
        XCTAssertNotEqual(rng, RNG(seed: 1))
        var same = RNG(seed: 1)
        XCTAssertEqual(DiffAugment(policy: .all).forward(x, rng: &same).scalars,
                       { var again = RNG(seed: 1); return DiffAugment(policy: .all).forward(x, rng: &again).scalars }())
        var untouched = RNG(seed: 1)
        XCTAssertEqual(DiffAugment(policy: .none).forward(x, rng: &untouched).scalars, x.scalars)
        XCTAssertEqual(untouched, RNG(seed: 1))
    }

    /// Translation moves each image by whole pixels (at most 1/8 of the size) and shifts in zeros.
    func testDiffAugmentTranslationShiftsWholeImages() {
        let (n, h, w) = (6, 16, 8)
        let x = Tensor(shape: [n, 3, h, w])
        for i in 0..<x.count { x[i] = Float(i % (3 * h * w) + 1) }
        var rng = RNG(seed: 4)
        let y = DiffAugment(policy: .translation).forward(x, rng: &rng)
        var moved = 0
        for sample in 0..<n {
            let base = sample * 3 * h * w
            let matches = (-2...2).flatMap { dy in (-1...1).map { dx in (dy, dx) } }.filter { dy, dx in
                (0..<(3 * h * w)).allSatisfy { index in
                    let (c, i, j) = (index / (h * w), index / w % h, index % w)
                    let (si, sj) = (i + dy, j + dx)
                    let expected = si >= 0 && si < h && sj >= 0 && sj < w ? x[base + (c * h + si) * w + sj] : 0
                    return y[base + index] == expected
                }
            }
            XCTAssertEqual(matches.count, 1, "sample \(sample) is not one shift of its input")
            if let shift = matches.first, shift != (0, 0) { moved += 1 }
        }
        XCTAssertGreaterThan(moved, 0)
    }

    /// G and D at R64 W64 have PyTorch's names, shapes and parameter counts.
    func testReferenceArchitectureNamesAndShapes() throws {
        let config = ModelConfig(resolution: 64, width: 64, zDim: 128)
        let g = try DCGAN(doubling: .transposedConvolution).generator(config), d = try DCGAN.discriminator(config)
        let gShapes = Dictionary(uniqueKeysWithValues: g.namedTensors().map { ($0.0, $0.1.shape) })
        XCTAssertEqual(gShapes["0.weight"], [128, 512, 4, 4])
        XCTAssertEqual(gShapes["1.running_var"], [512])
        XCTAssertEqual(gShapes["3.weight"], [512, 256, 4, 4])
        XCTAssertEqual(gShapes["12.weight"], [64, 3, 4, 4])
        XCTAssertEqual(gShapes["12.bias"], [3])
        XCTAssertNil(gShapes["0.bias"])
        // Σ ConvT weights + BN (γ, β) + last bias, from the widths 512, 256, 128, 64.
        let widths = [128, 512, 256, 128, 64, 3]
        let gCount = zip(widths, widths.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 * 16 } + 2 * (512 + 256 + 128 + 64) + 3
        XCTAssertEqual(g.parameterCount, gCount)
        let dWidths = [3, 64, 128, 256, 512, 1]
        XCTAssertEqual(d.parameterCount, zip(dWidths, dWidths.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 * 16 + $1.1 })
        XCTAssertEqual(d.namedTensors().map(\.0), ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias",
                                                   "6.weight", "6.bias", "8.weight", "8.bias"])
        let image = d.forward(Tensor(shape: [2, 3, 64, 64]), training: true)
        XCTAssertEqual(image.shape, [2, 1, 1, 1])
        XCTAssertEqual(g.forward(Tensor(shape: [2, 128, 1, 1]), training: true).shape, [2, 3, 64, 64])
        XCTAssertThrowsError(try DCGAN(doubling: .transposedConvolution).generator(ModelConfig(resolution: 48)))
        XCTAssertEqual(ModelConfig(resolution: 128).generatorWidths, [512, 512, 256, 128, 64])
        // train's defaults: narrower nets from 128 pixels up; explicit choices win.
        XCTAssertEqual(ModelConfig.trainingDefault(resolution: 64), ModelConfig(resolution: 64, width: 64, zDim: 128))
        XCTAssertEqual(ModelConfig.trainingDefault(resolution: 128), ModelConfig(resolution: 128, width: 32, zDim: 128))
        XCTAssertEqual(ModelConfig.trainingDefault(resolution: 256, width: 8, zDim: 16), ModelConfig(resolution: 256, width: 8, zDim: 16))
        // Coverage alone gets a latent of 16 (random latents then land near the selected ones); the GANs keep 128.
        XCTAssertEqual(ModelConfig.trainingDefault(resolution: 64, architecture: .fastgan, objective: .imle).zDim, 16)
        XCTAssertEqual(ModelConfig.trainingDefault(resolution: 64, architecture: .fastgan, objective: .imleGAN).zDim, 128)
        XCTAssertEqual(ModelConfig.trainingDefault(resolution: 64, zDim: 32, architecture: .fastgan, objective: .imle).zDim, 32)
        let json = try JSONEncoder().encode(config)
        XCTAssertEqual(try JSONDecoder().decode(ModelConfig.self, from: json), config)
    }
}
