import GAN
import Neural
import XCTest

final class TrainerStepTests: XCTestCase {
    private let config = DCGANConfig(resolution: 32, width: 8, zDim: 16)

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
        let trainer = try GANTrainer(config: config, options: GANTrainerOptions(batch: 4, seed: 3))
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

    func testSameSeedGivesSameSteps() throws {
        let a = try GANTrainer(config: config, options: GANTrainerOptions(batch: 3, seed: 9))
        let b = try GANTrainer(config: config, options: GANTrainerOptions(batch: 3, seed: 9))
        let c = try GANTrainer(config: config, options: GANTrainerOptions(batch: 3, seed: 10))
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
        let options = GANTrainerOptions(batch: 2, loss: .logistic, emaDecay: 0.9, seed: 5)
        let uninterrupted = try GANTrainer(config: config, options: options)
        let first = try GANTrainer(config: config, options: options)
        let real = realBatch(2, seed: 4)
        for _ in 0..<2 { uninterrupted.step(real: real); first.step(real: real) }
        let saved = Dictionary(uniqueKeysWithValues: first.stateTensors())
        let resumed = try GANTrainer(config: config, options: GANTrainerOptions(batch: 2, loss: .logistic, emaDecay: 0.9, seed: 77))
        try resumed.loadState(saved)
        XCTAssertEqual(resumed.stepCount, 2)
        for _ in 0..<2 {
            let (a, b) = (uninterrupted.step(real: real), resumed.step(real: real))
            XCTAssertEqual(a.dLoss.bitPattern, b.dLoss.bitPattern)
            XCTAssertEqual(a.gLoss.bitPattern, b.gLoss.bitPattern)
        }
        XCTAssertEqual(snapshot(uninterrupted), snapshot(resumed))
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
}
