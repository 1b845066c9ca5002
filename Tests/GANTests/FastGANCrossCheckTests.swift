import GAN
import Neural
import XCTest

/// The fastgan model against PyTorch: one training-mode forward and backward of G and D at 64 × 64 (so
/// skip-layer excitation runs), width 2 (channel counts at their floor of 8 or above), z 8, batch 2, with
/// weights, spectral norm's u and v, latents, pictures and margins every language rebuilds exactly
/// (`hashed`). BatchNorm uses batch statistics, every spectral norm does its power iteration, noise
/// injection (non-zero strengths) draws from a stream of seed 7 that the script replays (PCG32), and the
/// decoders reconstruct quadrant 2, the first draw of `RNG(seed: 2)`. D's loss: random hinge with hashed
/// margins plus the decoders' L1; G's: the hinge on D's logits for a second fake. No augmentation or
/// LeCam (the trainer's tests cover them). The reference numbers are PyTorch's (CPU, float64), printed by
/// scripts/fastgan_reference.py from the model in scripts/torch_fastgan.py; rerun it to regenerate them.
final class FastGANCrossCheckTests: XCTestCase {
    private let config = ModelConfig(resolution: 64, width: 2, zDim: 8, architecture: .fastgan)
    private let batch = 2

    /// Parameters in name order get keys keyBase, keyBase + 1, …: BatchNorm weights 1 ± 0.2, noise
    /// strengths ± 0.3, biases ± 0.05, convolution weights ± 0.15; spectral norm's u and v (in name order,
    /// keys keyBase + 500, …) hashed and normalised.
    private func fill(_ net: Module, keyBase: UInt64) {
        for (k, entry) in net.parameters.sorted(by: { $0.name < $1.name }).enumerated() {
            let value = entry.parameter.value
            let (scale, offset): (Double, Double)
            if value.count == 1 {
                (scale, offset) = (0.3, 0)
            } else if value.shape.count == 1 {
                (scale, offset) = entry.name.hasSuffix("weight") ? (0.2, 1) : (0.05, 0)
            } else {
                (scale, offset) = (0.15, 0)
            }
            value.assign(Tensor(shape: value.shape, scalars: CrossCheck.hashed(value.count, scale: scale, offset: offset, key: keyBase + UInt64(k))))
        }
        let vectors = net.buffers.filter { $0.name.hasSuffix("weight_u") || $0.name.hasSuffix("weight_v") }.sorted { $0.name < $1.name }
        for (k, entry) in vectors.enumerated() {
            let values = CrossCheck.hashed(entry.tensor.count, scale: 1, key: keyBase + 500 + UInt64(k)).map(Double.init)
            let norm = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
            entry.tensor.assign(Tensor(shape: entry.tensor.shape, scalars: values.map { Float($0 / norm) }))
        }
    }

    private func engineNumbers() throws -> [String: [Double]] {
        var scratch = RNG(seed: 0)
        let g = try FastGANGenerator(config, noise: RandomSource(seed: 7), rng: &scratch)
        let d = try FastGANDiscriminator(config, rng: &scratch)
        fill(g, keyBase: 0)
        fill(d, keyBase: 100)
        let r = config.resolution
        let z = Tensor(shape: [batch, config.zDim, 1, 1], scalars: CrossCheck.hashed(batch * config.zDim, scale: 1.5, key: 200))
        let real = Tensor(shape: [batch, 3, r, r], scalars: CrossCheck.hashed(batch * 3 * r * r, scale: 0.9, key: 300))
        var out: [String: [Double]] = [:]

        let fake = g.forward(z, training: true)
        out["fake"] = CrossCheck.strided(fake)
        let norms = g.allModules.compactMap { $0 as? BatchNorm2d }
        out["running"] = norms.map { Double($0.runningMean.scalars.reduce(0, +)) } + norms.map { Double($0.runningVar.scalars.reduce(0, +)) }

        let both = Tensor(shape: [2 * batch, 3, r, r], scalars: real.scalars + fake.scalars)
        d.zeroGradients()
        let logits = d.forward(both, training: true)
        out["logits"] = logits.scalars.map(Double.init)
        let gradient = Tensor(shape: [0])
        let margins = Tensor(shape: [logits.count], scalars: CrossCheck.hashed(logits.count, scale: 0.1, offset: 0.9, key: 400))
        let hinge = AdversarialLoss.randomHinge.discriminatorLoss(logits: logits, realCount: logits.count / 2,
                                                                  gradient: gradient, margins: margins)
        var quadrantRNG = RNG(seed: 2)
        var peek = quadrantRNG
        XCTAssertEqual(peek.integer(below: 4), 2, "the reference reconstructs quadrant 2 (bottom left)")
        let reconstructionLoss = d.reconstructionLoss(realCount: batch, target: real, rng: &quadrantRNG)
        let reconstructions = try XCTUnwrap(d.lastReconstructions)
        XCTAssertEqual(reconstructionLoss, reconstructions.wholeLoss + reconstructions.partLoss)
        out["reconstruction.whole"] = CrossCheck.strided(reconstructions.whole)
        out["reconstruction.part"] = CrossCheck.strided(reconstructions.part)
        d.backward(gradient, needsInputGradient: false, needsParameterGradients: true)
        for (name, parameter) in d.parameters { out["D.\(name)"] = CrossCheck.summary(parameter.gradient) }

        let fake2 = g.forward(z, training: true)
        let gLoss = AdversarialLoss.randomHinge.generatorLoss(logits: d.forward(fake2, training: true), gradient: gradient)
        let dx = d.backward(gradient, needsInputGradient: true, needsParameterGradients: false)!
        out["losses"] = [Double(hinge), Double(reconstructions.wholeLoss), Double(reconstructions.partLoss), Double(gLoss)]
        out["dx"] = CrossCheck.strided(dx)
        out["D.input"] = CrossCheck.summary(dx)
        g.zeroGradients()
        g.backward(dx, needsInputGradient: false, needsParameterGradients: true)
        for (name, parameter) in g.parameters { out["G.\(name)"] = CrossCheck.summary(parameter.gradient) }
        return out
    }

    /// A parameter gradient's net: "D" or "G" (nil for the other quantities, D's input gradient included).
    private static func net(_ name: String) -> String? {
        name == "D.input" ? nil : ["D", "G"].first { name.hasPrefix("\($0).") }
    }

    private func assertMatchesReference(_ ours: [String: [Double]], _ label: String) {
        // Some gradients cancel to 0 exactly (the last bias of D sums the hinge's −1/50 over real and +1/50
        // over fake logits; so do the head's channels whose LeakyReLU slopes are all alike): float32 leaves
        // the rounding of the terms, so a parameter gradient's scale is at least a thousandth of its net's largest.
        var floors: [String: Double] = [:]
        for (name, expected) in Self.reference {
            if let net = Self.net(name) { floors[net] = max(floors[net] ?? 0, 1e-3 * expected[1]) }
        }
        // A summary's scale is its sum of magnitudes.
        CrossCheck.assertMatches(ours, Self.reference, label) { name, expected in
            let isSummary = name.hasPrefix("D.") || name.hasPrefix("G.")
            return isSummary ? max(expected[1], Self.net(name).flatMap { floors[$0] } ?? 0) : expected.map(abs).max()!
        }
    }

    func testForwardAndGradientsMatchPyTorch() throws {
        assertMatchesReference(try engineNumbers(), "one chunk")
    }

    func testForwardAndGradientsMatchPyTorchInOneSampleChunks() throws {
        try CrossCheck.inOneSampleChunks { assertMatchesReference(try engineNumbers(), "one-sample chunks") }
    }

    static let reference: [String: [Double]] = [
        "D.decoder_big.0.weight_orig": [0.0337162284, 1.79155179, 0.00247624167, 0.00361431604],
        "D.decoder_big.2.weight_orig": [-0.0113544974, 27.8216514, 0.00536675083, -0.00146549485],
        "D.decoder_big.3.bias": [0.0231267042, 0.230557221, 0.0154008247, -0.00240488079],
        "D.decoder_big.3.weight": [0.00623307825, 0.207798483, 0.0101963276, 0.00101844005],
        "D.decoder_big.6.weight_orig": [-0.374305951, 31.9441746, 0.0117312527, 0.00373137476],
        "D.decoder_big.7.bias": [0.0157323541, 0.0404290254, 0.000596566873, 0.00189182493],
        "D.decoder_big.7.weight": [-0.00867887376, 0.0910696219, 0.00113297149, 0.00034100488],
        "D.decoder_big.9.bias": [-0.052183761, 0.0902383892, 0.0154459285, -0.0196947304],
        "D.decoder_big.9.weight_orig": [0.0164796752, 3.45114004, 0.00199693615, 0.0209681646],
        "D.decoder_part.0.weight_orig": [-0.178164562, 1.6005291, -0.00841052734, -0.0200438099],
        "D.decoder_part.2.weight_orig": [-0.0177179355, 11.2305046, 0.00388448349, -0.00284091301],
        "D.decoder_part.3.bias": [0.00422331103, 0.0543954869, 0.00147714251, 0.00036931742],
        "D.decoder_part.3.weight": [0.00386428036, 0.0564461376, 0.00106526429, -0.00234688467],
        "D.decoder_part.6.weight_orig": [-0.243609038, 16.1477515, 0.00979609247, 0.000930024607],
        "D.decoder_part.7.bias": [0.000667755919, 0.0345853413, 0.00285468056, 0.00198899319],
        "D.decoder_part.7.weight": [0.00535902042, 0.0610414164, 0.00952981016, 9.75211547e-05],
        "D.decoder_part.9.bias": [-0.0161685765, 0.0345715782, 0.00922033352, -0.00237343868],
        "D.decoder_part.9.weight_orig": [-0.0644133161, 1.65759554, -0.00828249145, 0.013884821],
        "D.down_16.direct.1.bias": [0.00328796771, 0.142154938, -0.0388816498, 0.00704506624],
        "D.down_16.direct.1.weight_orig": [0.0822135501, 0.842394264, -0.0271554806, 0.0123929223],
        "D.down_16.main.0.bias": [-0.00883002995, 0.0229597243, -0.0028182829, -0.00196986601],
        "D.down_16.main.0.weight_orig": [-0.0016138537, 1.0591675, 0.000825312328, 0.000506478761],
        "D.down_16.main.2.bias": [0.00151938277, 0.0908691926, -0.0282181558, -0.00510799633],
        "D.down_16.main.2.weight_orig": [0.00855879379, 0.572408539, -0.00131471606, 4.57501591e-05],
        "D.down_8.direct.1.bias": [0.194226922, 0.508306627, 0.00287395582, 0.0244385266],
        "D.down_8.direct.1.weight_orig": [-0.0444476839, 0.261226045, 4.23934213e-05, 0.0015335824],
        "D.down_8.main.0.bias": [-0.0256110486, 0.0851625643, -0.00254222866, 0.0017018303],
        "D.down_8.main.0.weight_orig": [0.000730036288, 0.565815564, 0.000346702539, -0.000315978113],
        "D.down_8.main.2.bias": [0.21876446, 0.554267144, 0.00287395582, 0.0244385266],
        "D.down_8.main.2.weight_orig": [-0.0159791133, 0.529239214, 1.01086434e-05, -5.54029581e-05],
        "D.head.0.bias": [-0.000193490536, 0.000750206273, 0, 0],
        "D.head.0.weight_orig": [-0.00388129516, 0.0461100848, 3.44012519e-05, -6.14178493e-07],
        "D.head.2.bias": [1.11022302e-16, 1.11022302e-16, 1.11022302e-16, 1.11022302e-16],
        "D.head.2.weight_orig": [-0.00480681436, 0.10160262, -6.24152753e-05, -7.52341509e-05],
        "D.input": [-3.39407235e-05, 0.00836429149, 3.26494947e-07, 4.46810723e-07],
        "D.stem.0.bias": [0.0133680719, 0.060123099, -0.0195855293, -0.00374311557],
        "D.stem.0.weight_orig": [0.00240663531, 1.1005524, 0.000710448219, -0.00166455377],
        "G.feat_16.1.weight_orig": [1.38320922e-06, 0.00258493709, 3.62333295e-06, -1.46432767e-06],
        "G.feat_16.2.bias": [3.36043396e-06, 1.16841838e-05, -4.06898285e-07, -8.36636285e-09],
        "G.feat_16.2.weight": [-5.04469503e-07, 1.09515946e-05, 3.63635992e-07, -4.50423225e-07],
        "G.feat_32.1.weight_orig": [-4.6003748e-06, 0.000875746234, 1.48001282e-06, -8.78491732e-07],
        "G.feat_32.2.weight": [4.4549351e-06, 4.4549351e-06, 4.4549351e-06, 4.4549351e-06],
        "G.feat_32.3.bias": [2.44428366e-07, 7.48804021e-06, -1.14758648e-07, 8.66901717e-07],
        "G.feat_32.3.weight": [-7.86442159e-06, 2.21603768e-05, -1.04102656e-06, -8.39328808e-09],
        "G.feat_32.5.weight_orig": [2.31427559e-06, 0.00150120743, -1.71717643e-06, -6.94384837e-07],
        "G.feat_32.6.weight": [5.81976675e-06, 5.81976675e-06, 5.81976675e-06, 5.81976675e-06],
        "G.feat_32.7.bias": [-1.51236747e-06, 2.06078892e-05, -9.9067764e-07, -3.94667916e-07],
        "G.feat_32.7.weight": [-7.54934931e-06, 3.89624671e-05, -4.92969459e-06, 7.43333957e-07],
        "G.feat_64.1.weight_orig": [4.14501954e-05, 0.00407340634, -9.75086813e-06, 1.14375583e-06],
        "G.feat_64.2.bias": [2.68912918e-06, 2.85870886e-05, -7.0581072e-07, -2.26736412e-07],
        "G.feat_64.2.weight": [4.22437018e-05, 8.96551641e-05, -1.88962541e-07, -2.53648039e-06],
        "G.feat_8.1.weight_orig": [2.3540059e-05, 0.00299819356, 1.2867148e-06, 8.54284043e-07],
        "G.feat_8.2.weight": [-2.12850475e-05, 2.12850475e-05, -2.12850475e-05, -2.12850475e-05],
        "G.feat_8.3.bias": [8.02109302e-06, 5.54220109e-05, 5.88002234e-06, -1.40439151e-08],
        "G.feat_8.3.weight": [8.44531455e-06, 5.13423217e-05, 6.97195282e-06, 1.40927061e-06],
        "G.feat_8.5.weight_orig": [-1.46599275e-05, 0.0031502863, -4.5163174e-06, 1.3373914e-06],
        "G.feat_8.6.weight": [2.72182388e-05, 2.72182388e-05, 2.72182388e-05, 2.72182388e-05],
        "G.feat_8.7.bias": [4.63296432e-06, 1.22554774e-05, -1.07589488e-06, 1.7380166e-06],
        "G.feat_8.7.weight": [-5.81620442e-07, 4.03313578e-05, -6.11283012e-06, -1.96549598e-06],
        "G.init.0.weight_orig": [2.87798004e-06, 0.00212903238, 1.03379061e-07, -1.68984719e-06],
        "G.init.1.bias": [-1.08004785e-08, 1.48559716e-05, -1.00738434e-06, -1.17009048e-07],
        "G.init.1.weight": [-2.44167397e-06, 2.13971322e-05, -6.78468015e-07, -2.33893905e-07],
        "G.se_64.main.1.weight_orig": [1.94221002e-08, 0.00031819747, -2.24413568e-07, 1.10110157e-08],
        "G.se_64.main.3.weight_orig": [-2.415829e-05, 0.000577901322, 2.06640931e-06, -4.3391549e-06],
        "G.to_big.0.weight_orig": [-3.76695213e-05, 0.00345457642, -1.30044955e-05, 1.74127689e-05],
        "dx": [-3.41882702e-07, -6.15441766e-08, 3.10831172e-08, 2.36441279e-07, -4.16714414e-07, -2.90006361e-07, 1.0512295e-07, 3.56267995e-08, 8.5768317e-08, 1.80104675e-07, 2.40168462e-07, -3.58323827e-07, -1.27473083e-07, -7.83041959e-08, 8.07107733e-08, -3.59788188e-07, 5.68435971e-07, -6.05872132e-08, -1.2067311e-06, -7.64402434e-08, 9.61707233e-07, 2.04514512e-07, -4.94594162e-07, -2.18466763e-08],
        "fake": [-0.0176829468, -0.21118536, -0.113608668, 0.0544074743, 0.158260859, 0.0600873583, -0.0168155067, 0.159026927, -0.443333455, -0.102178114, 0.65698457, -0.0452365355, -0.0388898628, -0.124821259, -0.184576717, 0.127148031, -0.293385131, -0.0152210827, 0.253965731, -0.168547872, -0.298148319, 0.188422797, 0.025667135, 0.0460150221],
        "logits": [-0.293046713, -0.290086074, -0.292237996, -0.291576159, -0.293082299, -0.294010109, -0.295781753, -0.294411055, -0.293958288, -0.293053101, -0.291293754, -0.291422303, -0.292422232, -0.291302758, -0.293978666, -0.29391239, -0.293919248, -0.29258607, -0.293926039, -0.292510461, -0.292282356, -0.29321808, -0.294189878, -0.291934826, -0.293856604, -0.294904508, -0.293703401, -0.292130493, -0.29195221, -0.291671568, -0.290523666, -0.292096453, -0.293867088, -0.293036036, -0.295324202, -0.294788396, -0.293958668, -0.293007488, -0.292060747, -0.290771943, -0.29050502, -0.293323254, -0.291434496, -0.293499921, -0.295365025, -0.294154568, -0.291808802, -0.291713147, -0.292138467, -0.291747251, -0.29271412, -0.29290686, -0.292186141, -0.2925735, -0.292557515, -0.291688626, -0.293458359, -0.292712423, -0.292271132, -0.293008421, -0.292809833, -0.292778551, -0.292422511, -0.292903667, -0.292631684, -0.292862812, -0.292035561, -0.293634939, -0.292551648, -0.292620977, -0.292916207, -0.293056468, -0.292557792, -0.292902298, -0.291940933, -0.292025237, -0.29297146, -0.292831938, -0.29252926, -0.292790992, -0.293677735, -0.291827896, -0.292832041, -0.29273881, -0.291687793, -0.292122552, -0.292875616, -0.293285481, -0.292942007, -0.292473029, -0.293141414, -0.291674893, -0.293639477, -0.29249643, -0.293052167, -0.291842563, -0.292630658, -0.293832695, -0.291480808, -0.292840752],
        "losses": [1.79879258, 0.203903276, 0.469543707, 0.292023919],
        "reconstruction.part": [-0.0457196022, -0.19968835, 0.0190067345, -0.0144092586, -0.0231478699, -0.0663719845, 0.0193095733, -0.0434239097, -0.0845614695, -0.0573123443, -0.0992570897, 0.0762439399, -0.361290047, -0.0353452436, 0.0213356509, -0.0219537353, -0.584405727, -0.0961494781, 0.153163384, 0.284606333, -0.313984797, 0.192766722, -0.117558339, 0.0008976589],
        "reconstruction.whole": [-0.113256363, -0.450837956, 0.237658962, 0.113818969, 0.0205533489, -0.0383738064, -0.148436287, -0.0483226393, -0.00400830095, -0.0428315663, -0.213353081, -0.444587604, 0.037068017, -0.0243763802, 0.0451921181, 0.028434816, 0.0887758533, 0.0609159045, 0.0121356569, 0.0490033278, -0.0720855722, 0.269285073, -0.235932663, -0.040852527],
        "running": [-0.000252256207, 0.0148542505, 0.0196652656, -0.00868217208, -0.000237586091, -0.0296684713, -0.0048491001, 28.8645226, 14.6039174, 14.5746627, 14.5348203, 14.8140729, 15.1222735, 14.8055126],
    ]
}
