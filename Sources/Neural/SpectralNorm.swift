import COpenBLAS

/// A layer whose weight spectral normalisation can wrap.
public protocol WeightedLayer: Layer {
    var weight: Parameter { get }
    /// The weight dimension PyTorch's `spectral_norm` treats as the rows: 1 for ConvTranspose2d, 0 otherwise.
    var spectralDimension: Int { get }
}

extension Conv2d: WeightedLayer { public var spectralDimension: Int { 0 } }
extension Linear: WeightedLayer { public var spectralDimension: Int { 0 } }
extension ConvTranspose2d: WeightedLayer { public var spectralDimension: Int { 1 } }

/// Spectral normalisation of a layer's weight, PyTorch's `torch.nn.utils.spectral_norm` with one
/// power iteration per training forward: v = normalize(Wᵀu), u = normalize(W v), σ = uᵀ W v,
/// and the wrapped layer runs with W / σ. Eval reuses the stored u, v.
///
/// Names as PyTorch's: `weight_orig` (trainable W), buffers `weight_u`, `weight_v`, plus the
/// wrapped layer's other parameters. The gradient treats u and v as constants, as PyTorch does:
/// dL/dW = (G − ⟨G, W/σ⟩ u vᵀ) / σ with G = dL/d(W/σ).
public final class SpectralNorm: ChannelAffineFusing {
    public let inner: WeightedLayer
    public let original: Parameter
    public let u: Tensor
    public let v: Tensor
    public private(set) var sigma: Float = 1
    private let rows: Int
    private let columns: Int
    private let matrix: Tensor          // W as rows × columns
    private let matrixGradient: Tensor

    /// Wraps `inner`, taking its current weight as W and drawing u, v from `rng` (normalised normals).
    public init(_ inner: WeightedLayer, rng: inout RNG) {
        self.inner = inner
        let shape = inner.weight.value.shape
        rows = shape[inner.spectralDimension]
        columns = inner.weight.value.count / rows
        original = Parameter(inner.weight.value.copy())
        u = Tensor(shape: [rows])
        v = Tensor(shape: [columns])
        rng.fillNormal(u.buffer)
        rng.fillNormal(v.buffer)
        SpectralNorm.normalize(u)
        SpectralNorm.normalize(v)
        matrix = Tensor(shape: [rows, columns])
        matrixGradient = Tensor(shape: [rows, columns])
    }

    // The wrapped layer is not a sublayer: its tensors keep their names, beside `weight_orig`.
    public var ownParameters: [(name: String, parameter: Parameter)] {
        [("weight_orig", original)] + inner.ownParameters.filter { $0.name != "weight" }
    }
    public var ownBuffers: [(name: String, tensor: Tensor)] { [("weight_u", u), ("weight_v", v)] + inner.ownBuffers }

    public func initializeOwnParameters(_ scheme: Initialization, rng: inout RNG) {
        inner.initializeOwnParameters(scheme, rng: &rng)
        original.value.assign(inner.weight.value)
    }

    public var lastForwardMultiplyAdds: Int { inner.lastForwardMultiplyAdds }

    // W (rows × columns as a matrix), u: rows, v: columns, σ: scalar; x → y as the wrapped layer with W / σ
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        normalizeWeight(training: training)
        return inner.forward(input, training: training)
    }

    public var fusesInEval: Bool { (inner as? ChannelAffineFusing)?.fusesInEval ?? false }
    public var fusesUpsampling: Bool { (inner as? ChannelAffineFusing)?.fusesUpsampling ?? false }
    public var outputChannels: Int { (inner as? ChannelAffineFusing)?.outputChannels ?? 0 }

    // x → y as the wrapped layer's fused eval forward with W / σ (see `ChannelAffineFusing`)
    public func infer(_ input: Tensor, upsampling: Int, outputScale: UnsafePointer<Float>, outputShift: UnsafePointer<Float>) -> Tensor {
        guard let fusing = inner as? ChannelAffineFusing else { preconditionFailure("SpectralNorm: \(type(of: inner)) does not fuse") }
        normalizeWeight(training: false)
        return fusing.infer(input, upsampling: upsampling, outputScale: outputScale, outputShift: outputShift)
    }

    /// The wrapped layer's weight = W / σ, after one power iteration when training.
    private func normalizeWeight(training: Bool) {
        // W as rows × columns: the weight itself unless rows are dimension 1 (ConvTranspose2d).
        let m: UnsafePointer<Float>
        if inner.spectralDimension == 0 {
            m = UnsafePointer(original.value.data)
        } else {
            permute(original.value.data, toMatrix: true, matrix.data)
            m = UnsafePointer(matrix.data)
        }
        let (r, c) = (Int32(rows), Int32(columns))
        if training {
            cblas_sgemv(CblasRowMajor, CblasTrans, r, c, 1, m, c, u.data, 1, 0, v.data, 1)
            SpectralNorm.normalize(v)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, r, c, 1, m, c, v.data, 1, 0, u.data, 1)
            SpectralNorm.normalize(u)
        }
        // σ = uᵀ (W v)
        let wv = matrixGradient.data   // scratch of at least `rows` floats
        cblas_sgemv(CblasRowMajor, CblasNoTrans, r, c, 1, m, c, v.data, 1, 0, wv, 1)
        sigma = cblas_sdot(r, u.data, 1, wv, 1)
        let (source, target, s) = (UnsafePointer(original.value.data), inner.weight.value.data, sigma)
        for i in 0..<inner.weight.value.count { target[i] = source[i] / s }
    }

    // dy as the wrapped layer's → dx as its; dW_orig: the weight's shape, from G = dL/d(W/σ) (rows × columns)
    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool, needsParameterGradients: Bool) -> Tensor? {
        // The wrapped weight's gradient holds this pass's G alone (σ, u, v are this pass's); W_orig's accumulates.
        if needsParameterGradients { inner.weight.gradient.fill(0) }
        let result = inner.backward(outputGradient, needsInputGradient: needsInputGradient, needsParameterGradients: needsParameterGradients)
        if needsParameterGradients {
            let g = inner.weight.gradient
            let w = inner.weight.value
            let overlap = cblas_sdot(Int32(g.count), g.data, 1, w.data, 1)
            permute(g.data, toMatrix: true, matrixGradient.data)
            // G − ⟨G, Ŵ⟩ u vᵀ, then / σ
            cblas_sger(CblasRowMajor, Int32(rows), Int32(columns), -overlap, u.data, 1, v.data, 1, matrixGradient.data, Int32(columns))
            permute(matrixGradient.data, toMatrix: false, g.data)
            let (scale, source, target) = (1 / sigma, UnsafePointer(g.data), original.gradient.data)
            for i in 0..<original.gradient.count { target[i] += scale * source[i] }
        }
        return result
    }

    /// Copies between the weight layout and the rows × columns matrix (only ConvTranspose2d,
    /// whose rows are dimension 1, needs an actual permutation).
    private func permute(_ source: UnsafePointer<Float>, toMatrix: Bool, _ target: UnsafeMutablePointer<Float>) {
        let shape = inner.weight.value.shape
        guard inner.spectralDimension == 1 else {
            target.update(from: source, count: rows * columns)
            return
        }
        let (first, rest) = (shape[0], columns / shape[0])
        for i in 0..<first {
            for o in 0..<rows {
                let weightIndex = (i * rows + o) * rest
                let matrixIndex = o * columns + i * rest
                if toMatrix {
                    (target + matrixIndex).update(from: source + weightIndex, count: rest)
                } else {
                    (target + weightIndex).update(from: source + matrixIndex, count: rest)
                }
            }
        }
    }

    private static func normalize(_ t: Tensor) {
        let norm = cblas_snrm2(Int32(t.count), t.data, 1)
        let scale = 1 / max(norm, 1e-12)
        for i in 0..<t.count { t.data[i] *= scale }
    }
}
