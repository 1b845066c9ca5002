import Foundation
import Neural
import XCTest

final class LossAndOptimizerTests: XCTestCase {
    /// Central differences of each loss with respect to every logit (float64 loss accumulation;
    /// logits kept 0.1 away from the hinge kinks at ±1, ε = 1e-3).
    func testLossGradientsMatchFiniteDifferences() {
        let logits = Tensor(shape: [5, 1, 1, 1], scalars: [-1.7, 0.3, 1.4, -0.4, 0.6])
        let gradient = Tensor(shape: [0])
        for loss in AdversarialLoss.allCases {
            for realCount in [1, 2, 4] {
                _ = loss.discriminatorLoss(logits: logits, realCount: realCount, gradient: gradient)
                let analytic = gradient.scalars
                for i in 0..<logits.count {
                    let numeric = difference(logits, i) { loss.discriminatorLoss(logits: logits, realCount: realCount, gradient: Tensor(shape: [0])) }
                    XCTAssertEqual(analytic[i], numeric, accuracy: 1e-3, "\(loss) D real \(realCount) [\(i)]")
                }
            }
            _ = loss.generatorLoss(logits: logits, gradient: gradient)
            let analytic = gradient.scalars
            for i in 0..<logits.count {
                let numeric = difference(logits, i) { loss.generatorLoss(logits: logits, gradient: Tensor(shape: [0])) }
                XCTAssertEqual(analytic[i], numeric, accuracy: 1e-3, "\(loss) G [\(i)]")
            }
        }
    }

    private func difference(_ t: Tensor, _ i: Int, _ f: () -> Float) -> Float {
        let saved = t[i]
        t[i] = saved + 1e-3
        let plus = f()
        t[i] = saved - 1e-3
        let minus = f()
        t[i] = saved
        return (plus - minus) / 2e-3
    }

    func testLossValuesFromTheirDefinitions() {
        let logits = Tensor(shape: [4], scalars: [2, 0.5, -3, 0.25])
        let g = Tensor(shape: [0])
        // hinge D: real [2, 0.5] → relu(1 − x) = 0, 0.5; fake [-3, 0.25] → relu(1 + x) = 0, 1.25.
        XCTAssertEqual(AdversarialLoss.hinge.discriminatorLoss(logits: logits, realCount: 2, gradient: g), 0.25 + 0.625, accuracy: 1e-6)
        XCTAssertEqual(AdversarialLoss.hinge.generatorLoss(logits: logits, gradient: g), -(2 + 0.5 - 3 + 0.25) / 4, accuracy: 1e-6)
        let softplus = { (x: Double) in log(1 + exp(x)) }
        let expected = (softplus(-2) + softplus(-0.5)) / 2 + (softplus(-3) + softplus(0.25)) / 2
        XCTAssertEqual(Double(AdversarialLoss.logistic.discriminatorLoss(logits: logits, realCount: 2, gradient: g)), expected, accuracy: 1e-6)
        // No overflow far out.
        let extreme = Tensor(shape: [2], scalars: [-200, 200])
        XCTAssertEqual(AdversarialLoss.logistic.discriminatorLoss(logits: extreme, realCount: 1, gradient: g), 400, accuracy: 1e-3)
    }

    /// Two Adam steps by hand: m, v and the bias-corrected update.
    func testAdamMatchesItsFormula() throws {
        let parameter = Parameter(Tensor(shape: [2], scalars: [1, -2]))
        let adam = Adam(parameters: [("p", parameter)], learningRate: 0.1, beta1: 0.5, beta2: 0.9, epsilon: 1e-8)
        var (m, v, p): ([Double], [Double], [Double]) = ([0, 0], [0, 0], [1, -2])
        for (t, gradient) in [[0.5, -1.0], [0.25, 2.0]].enumerated() {
            parameter.gradient.assign(Tensor(shape: [2], scalars: gradient.map(Float.init)))
            adam.step()
            for i in 0..<2 {
                m[i] = 0.5 * m[i] + 0.5 * gradient[i]
                v[i] = 0.9 * v[i] + 0.1 * gradient[i] * gradient[i]
                let mHat = m[i] / (1 - pow(0.5, Double(t + 1))), vHat = v[i] / (1 - pow(0.9, Double(t + 1)))
                p[i] -= 0.1 * mHat / (vHat.squareRoot() + 1e-8)
                XCTAssertEqual(Double(parameter.value[i]), p[i], accuracy: 1e-6)
            }
        }
        XCTAssertEqual(adam.stepCount, 2)
        let state = Dictionary(uniqueKeysWithValues: adam.stateTensors())
        XCTAssertEqual(Set(state.keys), ["step", "p.exp_avg", "p.exp_avg_sq"])
        XCTAssertEqual(Double(state["p.exp_avg"]![1]), m[1], accuracy: 1e-6)
        let other = Adam(parameters: [("p", Parameter(Tensor(shape: [2])))], learningRate: 0.1)
        try other.loadState(state)
        XCTAssertEqual(other.stepCount, 2)
        XCTAssertThrowsError(try other.loadState(["step": Tensor(shape: [1])]))
    }

    func testMovingAverage() {
        let model = Linear(2, 1), average = Linear(2, 1)
        model.weight.value.assign(Tensor(shape: [1, 2], scalars: [1, 2]))
        let ema = ExponentialMovingAverage(average: average, model: model)
        ema.update(decay: 0.75)
        XCTAssertEqual(average.weight.value.scalars, [0.25, 0.5])
        ema.update(decay: 0)
        XCTAssertEqual(average.weight.value.scalars, [1, 2])
    }

    /// A two-layer net learns to separate two concentric rings with the logistic loss:
    /// the loss falls from ln 4 ≈ 1.39 (chance) by at least a factor of 10.
    func testTinyModelLearnsRings() {
        var rng = RNG(seed: 11)
        let model = Sequential([Linear(2, 32), ReLU(), Linear(32, 1)])
        Initialization.kaiming(slope: 0).apply(to: model, rng: &rng)
        let adam = Adam(parameters: model.parameters, learningRate: 0.01)
        let n = 64
        let points = Tensor(shape: [2 * n, 2])
        for i in 0..<(2 * n) {
            let radius: Float = i < n ? 0.5 : 1.5   // inner ring "real", outer "fake"
            let angle = rng.uniform() * 2 * .pi
            points[2 * i] = radius * cos(angle) + 0.1 * rng.normal()
            points[2 * i + 1] = radius * sin(angle) + 0.1 * rng.normal()
        }
        let gradient = Tensor(shape: [0])
        var losses: [Float] = []
        for _ in 0..<400 {
            let logits = model.forward(points, training: true)
            losses.append(AdversarialLoss.logistic.discriminatorLoss(logits: logits, realCount: n, gradient: gradient))
            adam.zeroGradients()   // without it the gradients add up over the steps and the net does not learn
            model.backward(gradient)
            adam.step()
        }
        XCTAssertEqual(losses[0], 2 * log(2), accuracy: 0.3)
        XCTAssertLessThan(losses.last!, losses[0] / 10, "loss \(losses[0]) → \(losses.last!)")
    }

    func testLoadChecksNamesAndShapes() throws {
        let model = Sequential([Conv2d(3, 4, kernel: 3), BatchNorm2d(4)])
        var named = Dictionary(uniqueKeysWithValues: model.namedTensors())
        named["1.running_mean"] = Tensor(shape: [4], scalars: [1, 2, 3, 4])
        named["unrelated"] = Tensor(shape: [1])
        try model.load(named)
        XCTAssertEqual((model.layers[1] as! BatchNorm2d).runningMean.scalars, [1, 2, 3, 4])
        named["0.weight"] = Tensor(shape: [4, 3, 3, 2])
        XCTAssertThrowsError(try model.load(named)) {
            XCTAssertEqual($0 as? NeuralError, .shapeMismatch("0.weight", expected: [4, 3, 3, 3], found: [4, 3, 3, 2]))
        }
        named["0.weight"] = nil
        XCTAssertThrowsError(try model.load(named)) { XCTAssertEqual($0 as? NeuralError, .missingTensor("0.weight")) }
    }
}

final class InitializationTests: XCTestCase {
    /// DCGAN init: conv weights N(0, 0.02), BN γ N(1, 0.02), β and biases 0; Kaiming: std √2/√fan_in.
    func testInitializationStatistics() {
        func moments(_ t: Tensor) -> (mean: Float, std: Float) {
            let values = t.scalars
            let mean = values.reduce(0, +) / Float(values.count)
            return (mean, (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(values.count)).squareRoot())
        }
        let conv = Conv2d(64, 64, kernel: 4), norm = BatchNorm2d(4096)
        var rng = RNG(seed: 1)
        conv.bias!.value.fill(5)
        Initialization.dcgan.apply(to: Sequential([conv, norm]), rng: &rng)
        XCTAssertEqual(moments(conv.weight.value).mean, 0, accuracy: 1e-3)
        XCTAssertEqual(moments(conv.weight.value).std, 0.02, accuracy: 1e-3)
        XCTAssertEqual(moments(norm.weight.value).mean, 1, accuracy: 2e-3)
        XCTAssertEqual(moments(norm.weight.value).std, 0.02, accuracy: 2e-3)
        XCTAssertEqual(conv.bias!.value.scalars, [Float](repeating: 0, count: 64))
        Initialization.kaiming(slope: 0).apply(to: conv, rng: &rng)
        XCTAssertEqual(moments(conv.weight.value).std, (2 / Float(64 * 16)).squareRoot(), accuracy: 2e-3)
    }
}
