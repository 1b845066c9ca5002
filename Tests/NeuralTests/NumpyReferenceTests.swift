import Foundation
import GradientChecking
import Neural
import XCTest

/// Forward passes against references computed by numpy straight from the PyTorch definitions
/// (direct sums over the kernel, not im2col), in float64. Skipped where python3 with numpy is missing.
final class NumpyReferenceTests: XCTestCase {
    private static let script = #"""
import json, sys
import numpy as np
cases = json.load(sys.stdin)

def conv(x, weight, bias, k, s, pad):
    n, ci, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho, wo = (h + 2 * pad - k) // s + 1, (w + 2 * pad - k) // s + 1
    y = np.zeros((n, weight.shape[0], ho, wo))
    for i in range(k):
        for j in range(k):
            patch = xp[:, :, i:i + s * (ho - 1) + 1:s, j:j + s * (wo - 1) + 1:s]
            y += np.einsum("nchw,oc->nohw", patch, weight[:, :, i, j])
    return y if bias is None else y + bias[None, :, None, None]

def conv_transpose(x, weight, bias, k, s, pad):
    n, ci, h, w = x.shape
    full = np.zeros((n, weight.shape[1], (h - 1) * s + k, (w - 1) * s + k))
    for i in range(k):
        for j in range(k):
            full[:, :, i:i + s * (h - 1) + 1:s, j:j + s * (w - 1) + 1:s] += np.einsum("nchw,co->nohw", x, weight[:, :, i, j])
    y = full[:, :, pad:full.shape[2] - pad, pad:full.shape[3] - pad]
    return y if bias is None else y + bias[None, :, None, None]

def normalize(a):
    return a / max(np.linalg.norm(a), 1e-12)

out = []
for c in cases:
    x = np.array(c["x"], dtype=np.float64).reshape(c["xshape"])
    p = {k: np.array(v["data"], dtype=np.float64).reshape(v["shape"]) for k, v in c["params"].items()}
    kind, k, s, pad = c["kind"], c.get("k", 0), c.get("s", 1), c.get("p", 0)
    if kind == "conv":
        y = conv(x, p["weight"], p.get("bias"), k, s, pad)
    elif kind == "gconv":
        # groups from the weight's input width; each group a plain convolution of its channel slice
        w, b = p["weight"], p.get("bias")
        groups = x.shape[1] // w.shape[1]
        ci, co = x.shape[1] // groups, w.shape[0] // groups
        y = np.concatenate([conv(x[:, g * ci:(g + 1) * ci], w[g * co:(g + 1) * co], None if b is None else b[g * co:(g + 1) * co],
                                 k, s, pad) for g in range(groups)], axis=1)
    elif kind == "convT":
        y = conv_transpose(x, p["weight"], p.get("bias"), k, s, pad)
    elif kind in ("sn_conv", "sn_convT"):
        # torch.nn.utils.spectral_norm, one power iteration; ConvTranspose2d's rows are its dimension 1.
        w = p["weight_orig"]
        matrix = (w.transpose(1, 0, 2, 3) if kind == "sn_convT" else w).reshape(len(p["weight_u"]), -1)
        v = normalize(matrix.T @ p["weight_u"])
        u = normalize(matrix @ v)
        sigma = u @ matrix @ v
        layer = conv_transpose if kind == "sn_convT" else conv
        y = np.concatenate([[sigma], u, v, layer(x, w / sigma, p.get("bias"), k, s, pad).reshape(-1)])
    elif kind == "bn_train":
        mean = x.mean(axis=(0, 2, 3), keepdims=True); var = x.var(axis=(0, 2, 3), keepdims=True)
        y = (x - mean) / np.sqrt(var + 1e-5) * p["weight"][None, :, None, None] + p["bias"][None, :, None, None]
    elif kind == "bn_eval":
        y = (x - p["running_mean"][None, :, None, None]) / np.sqrt(p["running_var"][None, :, None, None] + 1e-5) \
            * p["weight"][None, :, None, None] + p["bias"][None, :, None, None]
    elif kind == "linear":
        y = x @ p["weight"].T + p["bias"]
    elif kind == "upsample":
        y = x.repeat(s, axis=2).repeat(s, axis=3)
    elif kind == "leaky":
        y = np.where(x > 0, x, 0.2 * x)
    elif kind == "tanh":
        y = np.tanh(x)
    out.append(y.reshape(-1).tolist())
json.dump(out, sys.stdout)
"""#

    private struct Case: Encodable {
        var kind: String
        var k = 0, s = 1, p = 0
        var x: [Float]
        var xshape: [Int]
        var params: [String: Named] = [:]
        struct Named: Encodable { var shape: [Int]; var data: [Float] }
    }

    private func reference(_ cases: [Case]) throws -> [[Double]] {
        try numpyReference(script: Self.script, cases: cases)
    }

    private func makeCase(_ kind: String, _ layer: Layer, input: Tensor, k: Int = 0, s: Int = 1, p: Int = 0) -> Case {
        var c = Case(kind: kind, k: k, s: s, p: p, x: input.scalars, xshape: input.shape)
        for (name, tensor) in layer.namedTensors() { c.params[name] = .init(shape: tensor.shape, data: tensor.scalars) }
        return c
    }

    func testLayersMatchNumpy() throws {
        var rng = RNG(seed: 5)
        func randomized<L: Layer>(_ layer: L) -> L {
            for (_, parameter) in layer.parameters { rng.fillNormal(parameter.value.buffer, mean: 0, std: 0.3) }
            return layer
        }
        let norm = randomized(BatchNorm2d(5))
        let evalNorm = randomized(BatchNorm2d(3))
        evalNorm.runningMean.assign(randomTensor([3], seed: 40, scale: 0.5))
        evalNorm.runningVar.assign(Tensor(shape: [3], scalars: [0.3, 1, 2.5]))
        let checks: [(String, Layer, Tensor, Int, Int, Int, Bool)] = [
            ("conv", randomized(Conv2d(3, 5, kernel: 4, stride: 2, padding: 1)), randomTensor([2, 3, 8, 6], seed: 1), 4, 2, 1, true),
            ("conv", randomized(Conv2d(5, 1, kernel: 4, stride: 1, padding: 0)), randomTensor([3, 5, 4, 4], seed: 2), 4, 1, 0, true),
            ("conv", randomized(Conv2d(2, 3, kernel: 3, stride: 2, padding: 0, bias: false)), randomTensor([1, 2, 7, 9], seed: 3), 3, 2, 0, true),
            ("convT", randomized(ConvTranspose2d(6, 5, kernel: 4, stride: 1, padding: 0, bias: false)), randomTensor([2, 6, 1, 1], seed: 4), 4, 1, 0, true),
            ("convT", randomized(ConvTranspose2d(5, 3, kernel: 4, stride: 2, padding: 1)), randomTensor([2, 5, 4, 3], seed: 5), 4, 2, 1, true),
            ("convT", randomized(ConvTranspose2d(3, 2, kernel: 3, stride: 2, padding: 1)), randomTensor([1, 3, 3, 5], seed: 6), 3, 2, 1, true),
            ("bn_train", norm, randomTensor([3, 5, 2, 3], seed: 7, scale: 2), 0, 1, 0, true),
            ("bn_eval", evalNorm, randomTensor([2, 3, 3, 3], seed: 8), 0, 1, 0, false),
            ("linear", randomized(Linear(7, 3)), randomTensor([4, 7], seed: 9), 0, 1, 0, true),
            ("upsample", Upsample(scale: 2), randomTensor([2, 3, 2, 3], seed: 10), 0, 2, 0, true),
            ("leaky", LeakyReLU(0.2), randomTensor([2, 3, 2, 2], seed: 11), 0, 1, 0, true),
            ("tanh", Tanh(), randomTensor([2, 3, 2, 2], seed: 12, scale: 2), 0, 1, 0, true),
            ("sn_conv", SpectralNorm(randomized(Conv2d(3, 4, kernel: 4, stride: 2, padding: 1)), rng: &rng),
             randomTensor([2, 3, 6, 6], seed: 13), 4, 2, 1, true),
            ("sn_convT", SpectralNorm(randomized(ConvTranspose2d(4, 3, kernel: 4, stride: 2, padding: 1, bias: false)), rng: &rng),
             randomTensor([2, 4, 3, 3], seed: 14), 4, 2, 1, true),
            ("gconv", randomized(Conv2d(6, 4, kernel: 3, stride: 2, padding: 1, groups: 2)), randomTensor([2, 6, 7, 5], seed: 15), 3, 2, 1, true),
            ("gconv", randomized(Conv2d(5, 5, kernel: 3, stride: 1, padding: 1, groups: 5)), randomTensor([2, 5, 6, 9], seed: 16), 3, 1, 1, true),
            ("gconv", randomized(Conv2d(4, 4, kernel: 5, stride: 2, padding: 2, bias: false, groups: 4)),
             randomTensor([1, 4, 9, 8], seed: 17), 5, 2, 2, true),
        ]
        let cases = checks.map { makeCase($0.0, $0.1, input: $0.2, k: $0.3, s: $0.4, p: $0.5) }
        let expected = try reference(cases)
        for (index, check) in checks.enumerated() {
            var actual = check.1.forward(check.2, training: check.6).scalars
            if let spectral = check.1 as? SpectralNorm {  // σ, then u and v after the power iteration, then y
                actual = [spectral.sigma] + spectral.u.scalars + spectral.v.scalars + actual
            }
            XCTAssertEqual(actual.count, expected[index].count, "\(check.0) #\(index) size")
            // float32 sums of at most ~100 terms of size ~1 against float64: 1e-4 absolute is ~10× the rounding.
            for (a, e) in zip(actual, expected[index]) { XCTAssertEqual(Double(a), e, accuracy: 1e-4, "\(check.0) #\(index)") }
        }
        // BatchNorm's running statistics after one training step (momentum 0.1, unbiased variance).
        let x = checks[6].2
        let values = (0..<5).map { c in (0..<3).flatMap { n in (0..<6).map { x[(n * 5 + c) * 6 + $0] } } }
        for c in 0..<5 {
            let mean = values[c].reduce(0, +) / 18
            let unbiased = values[c].map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 17
            XCTAssertEqual(norm.runningMean[c], 0.1 * mean, accuracy: 1e-5)
            XCTAssertEqual(norm.runningVar[c], 0.9 + 0.1 * unbiased, accuracy: 1e-5)
        }
    }
}
