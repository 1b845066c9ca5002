import GAN
import Neural
import Safetensors
import XCTest

/// The reference DCGAN against PyTorch: one training-mode forward and backward of G and D (BatchNorm
/// with batch statistics, hinge losses for D and for G, no augmentation) at 32 × 32, width 2, z 8,
/// batch 4, with weights and inputs every language can rebuild exactly (`hashed`). The reference
/// numbers were computed by PyTorch 2.x (CPU, float64) with the same nets and weights by
/// `scripts/torch_dcgan.py crosscheck`, which prints the table; rerun it to regenerate them.
/// The run goes through the 4 × 4 stride-2 im2col/col2im fast paths, once with the whole batch in one
/// GEMM and once split into one-sample chunks. The `resize` generator (Upsample + Conv2d 3 × 3) is
/// checked the same way.
final class CrossCheckTests: XCTestCase {
    private let config = ModelConfig(resolution: 32, width: 2, zDim: 8)
    private let batch = 4

    /// BatchNorm weights around 1, other vectors (biases) small, convolution weights ±0.15; the k-th
    /// parameter of G gets key k, of D key 100 + k.
    private func fill(_ net: Module, keyBase: UInt64) {
        for (k, entry) in net.parameters.enumerated() {
            let value = entry.parameter.value
            let isVector = value.shape.count == 1
            let (scale, offset) = isVector ? (entry.name.hasSuffix("weight") ? (0.2, 1.0) : (0.05, 0)) : (0.15, 0)
            value.assign(Tensor(shape: value.shape, scalars: CrossCheck.hashed(value.count, scale: scale, offset: offset, key: keyBase + UInt64(k))))
        }
    }

    private func engineNumbers() throws -> [String: [Double]] {
        let g = try DCGAN(doubling: .transposedConvolution).generator(config), d = try DCGAN.discriminator(config)
        fill(g, keyBase: 0)
        fill(d, keyBase: 100)
        let r = config.resolution
        let z = Tensor(shape: [batch, config.zDim, 1, 1], scalars: CrossCheck.hashed(batch * config.zDim, scale: 1.5, key: 200))
        let real = CrossCheck.hashed(batch * 3 * r * r, scale: 0.9, key: 300)
        var out: [String: [Double]] = [:]

        let fake = g.forward(z, training: true)
        out["fake"] = CrossCheck.strided(fake)
        let norms = g.layers.compactMap { $0 as? BatchNorm2d }
        out["running"] = norms.map { Double($0.runningMean.scalars.reduce(0, +)) } + norms.map { Double($0.runningVar.scalars.reduce(0, +)) }

        let both = Tensor(shape: [2 * batch, 3, r, r], scalars: real + fake.scalars)
        let logits = d.forward(both, training: true)
        out["logits"] = logits.scalars.map(Double.init)
        let gradient = Tensor(shape: [0])
        let dLoss = AdversarialLoss.hinge.discriminatorLoss(logits: logits, realCount: batch, gradient: gradient)
        d.backward(gradient, needsInputGradient: false, needsParameterGradients: true)
        for (name, parameter) in d.parameters { out["D.\(name)"] = CrossCheck.summary(parameter.gradient) }

        let fake2 = g.forward(z, training: true)
        let gLoss = AdversarialLoss.hinge.generatorLoss(logits: d.forward(fake2, training: true), gradient: gradient)
        let dx = d.backward(gradient, needsInputGradient: true, needsParameterGradients: false)!
        out["losses"] = [Double(dLoss), Double(gLoss)]
        out["dx"] = CrossCheck.strided(dx)
        out["D.input"] = CrossCheck.summary(dx)
        g.backward(dx, needsInputGradient: false, needsParameterGradients: true)
        for (name, parameter) in g.parameters { out["G.\(name)"] = CrossCheck.summary(parameter.gradient) }

        // The resize generator, through the same D.
        var resizeConfig = config
        resizeConfig.architecture = .resize
        let resized = try DCGAN(doubling: .resizeConvolution).generator(resizeConfig)
        fill(resized, keyBase: 0)
        let fakeR = resized.forward(z, training: true)
        out["resize.fake"] = CrossCheck.strided(fakeR)
        out["resize.loss"] = [Double(AdversarialLoss.hinge.generatorLoss(logits: d.forward(fakeR, training: true), gradient: gradient))]
        resized.backward(d.backward(gradient, needsInputGradient: true, needsParameterGradients: false)!,
                         needsInputGradient: false, needsParameterGradients: true)
        for (name, parameter) in resized.parameters { out["resize.G.\(name)"] = CrossCheck.summary(parameter.gradient) }
        return out
    }

    private func assertMatchesReference(_ ours: [String: [Double]], _ label: String) {
        // A summary's scale is its sum of magnitudes.
        CrossCheck.assertMatches(ours, Self.reference, label) { name, expected in
            let isSummary = name.hasPrefix("D.") || name.hasPrefix("G.") || name.hasPrefix("resize.G.")
            return isSummary ? expected[1] : expected.map(abs).max()!
        }
    }

    func testForwardAndGradientsMatchPyTorch() throws {
        assertMatchesReference(try engineNumbers(), "one chunk")
    }

    func testForwardAndGradientsMatchPyTorchInOneSampleChunks() throws {
        try CrossCheck.inOneSampleChunks { assertMatchesReference(try engineNumbers(), "one-sample chunks") }
    }

    /// Every architecture but the reference writes its name into the checkpoint, and loading it back
    /// builds the same generator: the pictures of a reloaded checkpoint equal those of the run that wrote it.
    func testArchitectureSurvivesTheCheckpoint() throws {
        for architecture in [Architecture.resize, .fastgan] {
            var options = TrainingOptions(defaultsFor: architecture)
            options.batch = 2
            let run = try TrainingRun(dataset: SolidColours.dataset(resolution: 32, count: 3),
                                      config: ModelConfig(resolution: 32, width: 4, zDim: 8, architecture: architecture),
                                      options: options, seed: 5)
            _ = try run.run(to: 2) { _ in }
            XCTAssertTrue(run.trainer.generator.allModules.contains { $0 is Upsample })
            let bytes = try run.checkpoint().serialized()
            XCTAssertEqual(try SafetensorsFile(bytes: bytes).metadata["architecture"], architecture.rawValue)
            XCTAssertEqual(try SafetensorsFile(bytes: bytes).metadata["config"], #"{"resolution":32,"width":4,"zDim":8}"#)
            let back = try Checkpoint(bytes: bytes)
            XCTAssertEqual(back.info.config.architecture, architecture)
            let latents = CrossCheck.hashed(3 * 8, scale: 1.5, key: 7)
            let expected = Pixels.bytes(fromBatch: run.trainer.generate(latents: latents, count: 3, useEMA: true), count: 3, size: 32)
            XCTAssertEqual(try ImageGenerator(checkpoint: back).images(latents: latents, count: 3), expected, "\(architecture)")
            // The same weights do not load into the reference architecture.
            var dcgan = back
            dcgan.info.config.architecture = .dcgan
            XCTAssertThrowsError(try ImageGenerator(checkpoint: dcgan))
        }
    }

    static let reference: [String: [Double]] = [
        "fake": [-0.0668830684, -0.107910222, 0.000355448223, -0.0224685813, 0.127295127, -0.00570032565, 0.00641467259, -0.0249583011, 0.0659079373, 0.274479161, 0.0750066796, 0.142705922, 0.272393156, 0.15674092, 0.180888937, 0.122300952, -0.0278719313, -0.0157213362, 0.0873127664, 0.11339922, 0.121062257, 0.0806891913, -0.0523409058, 0.12335165],
        "running": [-0.00166293834, -0.00395107927, -0.000778922192, 7.22478356, 3.61494542, 1.80869892],
        "logits": [-0.0276490673, -0.0322944216, -0.0215183732, -0.0388624659, -0.1255572, 0.0380989333, -0.0303285167, -0.0256688724],
        "D.0.weight": [-0.023566024, 0.738082484, -0.00510771576, -0.00607283183],
        "D.0.bias": [0.0119802502, 0.0695068765, -0.0261068533, 0.0434000232],
        "D.2.weight": [-0.0441262291, 1.64230914, -0.0465985928, 0.00220308377],
        "D.2.bias": [0.0123868926, 0.136329185, 0.0034030317, 0.00640768925],
        "D.4.weight": [-0.13202545, 3.96283251, -0.00289655873, 0.00866493825],
        "D.4.bias": [-0.126493613, 0.464874169, 0.0159237584, 0.0353197066],
        "D.6.weight": [-0.0289685995, 2.07797924, 0.00680811966, -0.00744541663],
        "D.6.bias": [0, 0, 0, 0],
        "losses": [1.99421717, 0.0358639141],
        "dx": [-2.57169419e-06, -3.11711845e-06, 0.000107438831, 4.34090094e-06, 0.000120156593, -0.000176181883, -0.000353114676, 0.000102317469, -6.4846457e-05, 8.64837614e-05, 0.000119058203, 0.000232234171, 7.29339427e-05, 0.000254835383, 0.000478582709, 0.000242782482, -0.000116403395, 0.000230550348, 9.10852726e-05, -3.28569453e-05, 5.43146668e-05, 0.00023560281, -0.000105245694, 8.11773892e-05],
        "D.input": [0.00169453602, 1.78157905, 6.51200321e-06, 3.81726351e-06],
        "G.0.weight": [0.183151199, 8.77666253, -0.00963599895, 0.0102066914],
        "G.1.weight": [-0.0120046089, 0.0892457929, -0.0325837248, 0.00684709029],
        "G.1.bias": [-0.00973091973, 0.0883547929, -0.0309247086, 0.0047383865],
        "G.3.weight": [-0.0245542327, 4.88826608, 0.0137171167, -0.0185979833],
        "G.4.weight": [-0.0114450926, 0.0420385413, 0.0125125059, 0.0030589803],
        "G.4.bias": [-0.0106431088, 0.0274988534, 0.00700797112, 0.000932582063],
        "G.6.weight": [-0.0654311647, 1.39912656, -0.0044122899, -0.0202295521],
        "G.7.weight": [0.00669707169, 0.0319678363, 0.0185086334, -0.0134592029],
        "G.7.bias": [0.00466496564, 0.0284115046, 0.0157641039, -0.0126474007],
        "G.9.weight": [0.00181911312, 0.404940674, 0.00324169796, -0.00667213135],
        "G.9.bias": [-0.00770683755, 0.00927508391, -0.000624847145, -0.00324507647],
        "resize.fake": [-0.0499489682, -0.0513927412, -0.0499489682, 0.390938811, -0.0750796887, -0.231925405, -0.13785649, -0.0496426721, -0.0933463596, 0.0451633557, -0.0636341932, 0.141899061, -0.0504132895, -0.037594036, -0.0281947288, 0.229321426, -0.0148380976, -0.10320226, -0.251546517, 0.340443191, 0.115334124, 0.137571213, -0.0262789386, 0.285230525],
        "resize.loss": [0.0324142908],
        "resize.G.0.weight": [0.0347530638, 0.868335226, 0.000810171205, 0.00538389182],
        "resize.G.1.weight": [-0.00177903463, 0.00584368062, 3.87894333e-05, 0.00120023039],
        "resize.G.1.bias": [-0.00121251655, 0.00552112626, 0.000449782848, 0.0013333687],
        "resize.G.4.weight": [0.00138462406, 0.267112848, 0.00119360555, -0.000368632776],
        "resize.G.5.weight": [-0.000730625686, 0.00227493974, 0.000353272804, -0.000474114475],
        "resize.G.5.bias": [-0.000285487536, 0.00164102376, 0.000215517162, -0.000949673819],
        "resize.G.8.weight": [0.000109939811, 0.117247494, 0.00134123642, 0.00432460272],
        "resize.G.9.weight": [-4.22666921e-05, 0.000140446617, -8.81560136e-05, 5.22906032e-05],
        "resize.G.9.bias": [-0.00182201012, 0.00188984624, -0.00133570853, -0.000554137705],
        "resize.G.12.weight": [0.0145298396, 0.160785027, -0.00566988756, -0.00317563246],
        "resize.G.12.bias": [0.00174370125, 0.0105209887, -0.0015271969, -0.00383681123],
    ]
}

// The reference table is printed by `PYTHON scripts/torch_dcgan.py crosscheck` (PYTHON: an interpreter with
// torch, outside the repository); paste its output over `reference` above.
