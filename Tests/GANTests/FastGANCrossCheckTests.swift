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
        "D.decoder_big.0.weight_orig": [-0.0102437396, 0.790981119, 0.000677720059, -0.00142250263],
        "D.decoder_big.2.weight_orig": [0.0314214983, 25.8171171, -0.00111855249, 0.000938251022],
        "D.decoder_big.3.bias": [0.00296801811, 0.12999529, 0.000912337211, 0.00111743558],
        "D.decoder_big.3.weight": [-0.00934221249, 0.121221663, -0.0048048931, -0.0003408713],
        "D.decoder_big.6.weight_orig": [-0.166943674, 53.029728, -0.00151885852, 0.00113267229],
        "D.decoder_big.7.bias": [-0.013057849, 0.0870976043, -0.00322254616, 2.1397509e-06],
        "D.decoder_big.7.weight": [0.033275148, 0.126875955, 0.00666028192, -0.000659711452],
        "D.decoder_big.9.bias": [-0.0716603592, 0.0882907997, -0.00246019314, -0.0355217574],
        "D.decoder_big.9.weight_orig": [0.0445491414, 4.71044199, 0.00517291803, 0.00813379923],
        "D.decoder_part.0.weight_orig": [-0.0416982789, 1.73723234, -0.0135711587, -0.00701005549],
        "D.decoder_part.2.weight_orig": [-0.130239167, 15.4279998, -0.000166102084, 0.000129780804],
        "D.decoder_part.3.bias": [-0.00179560777, 0.0688025101, -0.00170209884, -0.000745557129],
        "D.decoder_part.3.weight": [0.00175858041, 0.0955639623, 0.00228598073, 0.000261818198],
        "D.decoder_part.6.weight_orig": [0.016098322, 35.4151833, -0.00394074905, -8.17344932e-05],
        "D.decoder_part.7.bias": [0.000190110605, 0.036597532, 0.000466277747, -0.00104879483],
        "D.decoder_part.7.weight": [0.0138682586, 0.0573321012, -0.00225383408, 0.000958256394],
        "D.decoder_part.9.bias": [-0.0286917727, 0.0361360569, 0.000437735053, -0.0144059903],
        "D.decoder_part.9.weight_orig": [0.000554528711, 1.9805394, 0.00754791669, 0.00886430853],
        "D.down_16.direct.1.bias": [-0.0177505767, 0.0903854121, -0.0359240347, 0.000273457742],
        "D.down_16.direct.1.weight_orig": [0.110786766, 1.12569769, -0.0399651969, 0.0123779146],
        "D.down_16.main.0.bias": [-0.0123654543, 0.022280377, -0.000588717077, -0.000841654796],
        "D.down_16.main.0.weight_orig": [0.00112284527, 1.34443782, 0.000414676546, 0.00023047682],
        "D.down_16.main.2.bias": [-0.0327407173, 0.0691084664, -0.0313946584, -0.00256146248],
        "D.down_16.main.2.weight_orig": [-0.00978423139, 0.673089965, -0.00358571021, 0.000180336745],
        "D.down_8.direct.1.bias": [-0.0574537241, 0.217394443, 0.00219580675, 0.0127378884],
        "D.down_8.direct.1.weight_orig": [-0.0844219276, 0.169592198, 7.94387387e-05, 0.000910738514],
        "D.down_8.main.0.bias": [0.00183441191, 0.120822869, 0.0111849161, -0.00628958715],
        "D.down_8.main.0.weight_orig": [0.00067253317, 1.02771277, -0.000403975939, 0.000719157768],
        "D.down_8.main.2.bias": [-0.126007675, 0.244100726, 0.00219580675, 0.0127378884],
        "D.down_8.main.2.weight_orig": [0.00697100176, 0.500369543, -3.59672499e-05, 7.82759662e-05],
        "D.head.0.bias": [-0.000193490536, 0.000750206273, 0, 0],
        "D.head.0.weight_orig": [-0.00388129516, 0.0461100848, 3.44012519e-05, -6.14178493e-07],
        "D.head.2.bias": [1.11022302e-16, 1.11022302e-16, 1.11022302e-16, 1.11022302e-16],
        "D.head.2.weight_orig": [-0.00480681436, 0.10160262, -6.24152753e-05, -7.52341509e-05],
        "D.input": [-3.39407235e-05, 0.00836429149, 3.26494947e-07, 4.46810723e-07],
        "D.stem.0.bias": [0.0206111893, 0.0315263842, 0.00573226486, -0.0116054268],
        "D.stem.0.weight_orig": [-0.0138031643, 0.894132853, 0.00174760226, -0.00305033498],
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
        "losses": [1.79879258, 0.206292062, 0.470564958, 0.292023919],
        "reconstruction.part": [0.0218238074, -0.150028452, 0.114282293, -0.258961043, 0.0472696708, 0.0933927017, -0.103540431, -0.274758027, -0.0997495881, 0.00779943097, 0.0898372286, 0.258351154, 0.0556299438, 0.0100513275, 0.132131185, 0.117169952, -0.00438853419, 0.327998775, 0.213104327, -0.0507596299, -0.0877843525, 0.0527808266, -0.068444191, -0.203850534],
        "reconstruction.whole": [-0.0863083416, -0.117317374, -0.0246227835, -0.225247511, -0.168596051, -0.00162606198, -0.135359477, -0.164805836, -0.0166770011, -0.0463993258, -0.449071816, -0.363338177, -0.121019792, -0.0169725424, -0.0388208961, 0.0646346233, 0.0354671257, 0.0496447351, 0.0524153179, 0.135364216, 0.312614004, 0.251801722, -0.148420983, -0.0331445822],
        "running": [-0.000252256207, 0.0148542505, 0.0196652656, -0.00868217208, -0.000237586091, -0.0296684713, -0.0048491001, 28.8645226, 14.6039174, 14.5746627, 14.5348203, 14.8140729, 15.1222735, 14.8055126],
    ]
}
