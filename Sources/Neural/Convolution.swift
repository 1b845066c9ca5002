/// How the convolutions cut a batch into GEMMs.
public enum ConvolutionTuning {
    /// Largest column matrix (floats) one GEMM works on. The batch is folded into the GEMM's N
    /// dimension in chunks of whole samples that keep the im2col / col2im matrix within this budget, so
    /// it stays in the last-level cache between being written and read (a batch of 30 at 128×128 would
    /// otherwise stream a 126 MB matrix through memory). 2²⁰ floats = 4 MiB; chunks always hold at least
    /// one sample. A tuning knob for benchmarks and tests, not a correctness setting.
    public static var columnBudget = 1 << 20

    /// Depthwise convolutions (groups == in == out) run their direct kernels; off, they take the grouped
    /// GEMM path like any other group count. A knob for tests and benchmarks comparing the two.
    public static var directDepthwise = true

    /// 1 × 1 convolutions (stride 1, no padding, one group) run one GEMM per sample on the planes as they
    /// lie; off, they take the im2col path. A knob for tests and benchmarks comparing the two.
    public static var directPointwise = true

    /// Dense 3 × 3 convolutions at stride 1, padding 1 on widths that are a multiple of 8 run the direct
    /// kernels of `DirectConvolution`; off, im2col + GEMM (the reference path). A knob for tests and
    /// benchmarks comparing the two.
    public static var direct3x3 = true

    /// The same for dense 4 × 4 convolutions at stride 2, padding 1 (even input sizes, output widths a
    /// multiple of 8, at least 8 input channels); their weight gradient always takes im2col + GEMM.
    public static var direct4x4Stride2 = true

    /// Direct 3 × 3 layers with in · out channels at least this take their weight gradient through
    /// im2col + GEMM: wide layers on small maps give OpenBLAS long enough rows, and the direct kernel's
    /// many short passes lose there (measured with bench-engine --only=direct).
    public static var direct3x3GEMMWeightGradientChannels = 64 * 64

    /// The copy of the direct kernels that runs: the best this CPU has unless a test or benchmark asks
    /// for a lesser one (a request above what the CPU has gets the best it has). Set it between steps.
    public static var directKernels: DirectKernels {
        get { DirectConvolution.kernels }
        set { DirectConvolution.kernels = newValue }
    }

    /// The copies this CPU can run.
    public static var supportedDirectKernels: [DirectKernels] { DirectConvolution.supportedKernels }

    static func samplesPerChunk(rows: Int, grid: Int, batch: Int) -> Int {
        max(1, min(batch, columnBudget / max(1, rows * grid)))
    }
}

/// 2-D convolution, PyTorch's `nn.Conv2d` (square kernel, equal stride and padding on both axes, groups).
/// weight: out × in/groups × k × k, bias: out. Group g maps input channels g·in/G ..< (g+1)·in/G to
/// output channels g·out/G ..< (g+1)·out/G. Lowered to one GEMM per group over chunks of the batch via
/// im2col; depthwise (groups == in == out) runs the direct kernels of `DepthwiseConvolution` instead,
/// and dense 3 × 3 at stride 1 and 4 × 4 at stride 2 those of `DirectConvolution` (see `ConvolutionTuning`).
public final class Conv2d: ChannelAffineFusing {
    public let inChannels, outChannels, kernel, stride, padding, groups: Int
    public let weight: Parameter
    public let bias: Parameter?

    private var geometry = ConvGeometry(channels: 0, height: 0, width: 0, kernel: 0, stride: 1, padding: 0)
    private var batch = 0
    private var chunk = 0
    private var input: Tensor?
    private let columns = Tensor(shape: [0])        // C·k² × chunk·L; holds the whole batch's when one chunk does
    private let outColumns = Tensor(shape: [0])     // out × batch·L
    private let output = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])
    // The direct kernels' buffers: the input padded (3 × 3, kept for the weight gradient) or cut into phases
    // (4 × 4 / 2), the output gradient padded, the weights packed, dx's phases (4 × 4 / 2).
    private let directInput = Tensor(shape: [0])
    private let paddedGradient = Tensor(shape: [0])
    private let packedWeights = Tensor(shape: [0])
    private let gradientPhases = Tensor(shape: [0])
    // `infer`'s buffers: the bias with a fused affine map, the up-sampled input where the kernels cannot up-sample.
    private let fusedBias = Tensor(shape: [0])
    private let upsampledInput = Tensor(shape: [0])

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true,
                groups: Int = 1) {
        precondition(inChannels > 0 && outChannels > 0 && kernel > 0 && stride > 0 && padding >= 0 && groups > 0)
        precondition(inChannels % groups == 0 && outChannels % groups == 0,
                     "Conv2d: \(groups) groups do not divide \(inChannels) → \(outChannels) channels")
        (self.inChannels, self.outChannels, self.kernel, self.stride, self.padding) = (inChannels, outChannels, kernel, stride, padding)
        self.groups = groups
        weight = Parameter(Tensor(shape: [outChannels, inChannels / groups, kernel, kernel]))
        self.bias = bias ? Parameter(Tensor(shape: [outChannels])) : nil
    }

    /// One filter per channel: the direct kernels run, unless `ConvolutionTuning.directDepthwise` is off.
    /// Chosen by forward, so its backward takes the same path.
    private var runsDirectDepthwise = false
    /// 1 × 1, stride 1, no padding, one group: one GEMM per sample on the planes as they lie, unless
    /// `ConvolutionTuning.directPointwise` is off. Chosen by forward, so its backward takes the same path.
    private var runsPointwise = false
    /// The direct kernels that run this layer, if any (chosen by forward, like `runsDirectDepthwise`).
    private var direct: DirectConvolution.Shape?

    public var ownParameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    public func initializeOwnParameters(_ scheme: Initialization, rng: inout RNG) {
        scheme.initialize(weight: weight.value, bias: bias?.value, rng: &rng)
    }

    public private(set) var lastForwardMultiplyAdds = 0

    // x: N × in × H × W → y: N × out × Ho × Wo, Ho = (H + 2p − k)/s + 1
    public func forward(_ input: Tensor, training: Bool) -> Tensor { run(input, upsampling: 1, affine: nil) }

    public var fusesInEval: Bool { true }
    public var fusesUpsampling: Bool { true }
    public var outputChannels: Int { outChannels }

    // x: N × in × H × W → y = scale[o] · conv(upsample_u(x))[o] + shift[o]: N × out × Ho × Wo of the uH × uW input.
    // The direct 3 × 3 kernels up-sample while padding and apply the map with the bias as they write y; other paths
    // up-sample first and map y in one more pass.
    public func infer(_ input: Tensor, upsampling: Int, outputScale: UnsafePointer<Float>, outputShift: UnsafePointer<Float>) -> Tensor {
        precondition(input.shape.count == 4 && upsampling >= 1, "Conv2d infer: \(input.shape) up-sampled by \(upsampling)")
        var (source, factor) = (input, upsampling)
        let upsampled = ConvGeometry(channels: inChannels, height: input.shape[2] * upsampling, width: input.shape[3] * upsampling,
                                     kernel: kernel, stride: stride, padding: padding)
        let depthwise = groups == inChannels && groups == outChannels && ConvolutionTuning.directDepthwise
        if upsampling > 1 && (depthwise || DirectConvolution.shape(of: upsampled, groups: groups) != .kernel3) {
            Upsample.nearest(input, scale: upsampling, into: upsampledInput)
            (source, factor) = (upsampledInput, 1)
        }
        defer { self.input = nil }   // no backward after this
        return run(source, upsampling: factor, affine: (outputScale, outputShift))
    }

    // x: N × in × H × W → y: N × out × Ho × Wo of x up-sampled by `upsampling` (only the direct 3 × 3 kernels take
    // more than 1), then scale[o] · y + shift[o] when an affine map is given
    private func run(_ input: Tensor, upsampling: Int,
                     affine: (scale: UnsafePointer<Float>, shift: UnsafePointer<Float>)?) -> Tensor {
        precondition(input.shape.count == 4 && input.shape[1] == inChannels, "Conv2d(\(inChannels)→\(outChannels)) got \(input.shape)")
        self.input = input
        batch = input.shape[0]
        geometry = ConvGeometry(channels: inChannels, height: input.shape[2] * upsampling, width: input.shape[3] * upsampling,
                                kernel: kernel, stride: stride, padding: padding)
        let (oh, ow) = (geometry.outHeight, geometry.outWidth)
        precondition(oh > 0 && ow > 0, "Conv2d: input \(input.shape) smaller than the kernel")
        let grid = oh * ow
        let patch = geometry.patchSize
        lastForwardMultiplyAdds = batch * outChannels * grid * patch / groups
        output.resize(batch, outChannels, oh, ow)
        runsDirectDepthwise = groups == inChannels && groups == outChannels && ConvolutionTuning.directDepthwise
        runsPointwise = kernel == 1 && stride == 1 && padding == 0 && groups == 1 && ConvolutionTuning.directPointwise
        direct = runsDirectDepthwise || runsPointwise ? nil : DirectConvolution.shape(of: geometry, groups: groups)
        precondition(upsampling == 1 || direct == .kernel3, "Conv2d: only the direct 3 × 3 kernels up-sample")
        if let direct {
            directForward(direct, input, upsampling: upsampling, affine: affine)
            return output
        }
        defer { if let affine { applyChannelAffine(output.data, batch: batch, channels: outChannels, grid: grid, bias: nil,
                                                   scale: affine.scale, shift: affine.shift) } }
        if runsDirectDepthwise {
            DepthwiseConvolution.forward(input.data, batch: batch, geometry, weight: weight.value.data, weightStride: kernel * kernel,
                                         bias: bias?.value.data, into: output.data)
            return output
        }
        if runsPointwise {
            PointwiseConvolution.forward(input.data, batch: batch, inChannels: inChannels, outChannels: outChannels, grid: grid,
                                         weight: weight.value.data, bias: bias?.value.data, into: output.data)
            return output
        }
        chunk = ConvolutionTuning.samplesPerChunk(rows: patch, grid: grid, batch: batch)
        columns.resize(1, 1, patch, chunk * grid)
        let target = batch == 1 ? output.data : resized(outColumns, outChannels * batch * grid)
        let (groupIn, groupOut) = (patch / groups, outChannels / groups)   // a group's rows of col, and of W and Y
        for start in Swift.stride(from: 0, to: batch, by: chunk) {
            let count = min(chunk, batch - start)
            fillColumns(start, count)
            for g in 0..<groups {
                // out/G × (n·L) = W_g (out/G × C/G·k²) · col_g (C/G·k² × n·L), into columns start·L… of out × (N·L)
                gemm(m: groupOut, n: count * grid, k: groupIn, a: weight.value.data + g * groupOut * groupIn, lda: groupIn,
                     b: columns.data + g * groupIn * count * grid, ldb: count * grid,
                     c: target + g * groupOut * batch * grid + start * grid, ldc: batch * grid)
            }
        }
        if batch == 1 {
            if let bias { addPerChannel(bias.value.data, to: output.data, channels: outChannels, grid: grid) }
        } else {
            columnsToBatch(outColumns.data, batch: batch, channels: outChannels, grid: grid, bias: bias?.value.data, into: output.data)
        }
        return output
    }

    /// im2col of samples start..<start+count into `columns` (count·L columns).
    private func fillColumns(_ start: Int, _ count: Int) {
        guard let input else { preconditionFailure("Conv2d: backward before forward") }
        im2col(input.data + start * inChannels * geometry.height * geometry.width, batch: count, geometry, into: columns.data)
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool, needsParameterGradients: Bool) -> Tensor? {
        let grid = geometry.outHeight * geometry.outWidth
        let patch = geometry.patchSize
        precondition(input != nil, "Conv2d: backward before forward (or after infer)")
        precondition(outputGradient.count == batch * outChannels * grid, "Conv2d backward: gradient \(outputGradient.shape)")
        if needsInputGradient { inputGradient.resize(batch, inChannels, geometry.height, geometry.width) }
        if runsDirectDepthwise {
            guard let input else { preconditionFailure("Conv2d: backward before forward") }
            if needsParameterGradients {
                DepthwiseConvolution.parameterGradients(outputGradient.data, input.data, batch: batch, geometry,
                                                        weightGradient: weight.gradient.data, biasGradient: bias?.gradient.data)
            }
            if needsInputGradient {
                DepthwiseConvolution.inputGradient(outputGradient.data, batch: batch, geometry, weight: weight.value.data,
                                                   weightStride: kernel * kernel, into: inputGradient.data)
            }
            return needsInputGradient ? inputGradient : nil
        }
        if runsPointwise {
            guard let input else { preconditionFailure("Conv2d: backward before forward") }
            PointwiseConvolution.backward(outputGradient.data, input.data, batch: batch, inChannels: inChannels, outChannels: outChannels,
                                          grid: grid, weight: weight.value.data, inputGradient: needsInputGradient ? inputGradient.data : nil,
                                          weightGradient: needsParameterGradients ? weight.gradient.data : nil,
                                          biasGradient: needsParameterGradients ? bias?.gradient.data : nil)
            return needsInputGradient ? inputGradient : nil
        }
        if let direct {
            if needsParameterGradients {
                if let bias { sumPerChannel(outputGradient.data, batch: batch, channels: outChannels, grid: grid, into: bias.gradient.data) }
                directWeightGradient(direct, outputGradient)
            }
            if needsInputGradient { directInputGradient(direct, outputGradient) }
            return needsInputGradient ? inputGradient : nil
        }
        let dyColumns = outputGradientColumns(outputGradient)
        if needsParameterGradients, let bias {
            sumPerChannel(outputGradient.data, batch: batch, channels: outChannels, grid: grid, into: bias.gradient.data)
        }
        let singleChunk = chunk >= batch
        let (groupIn, groupOut) = (patch / groups, outChannels / groups)
        for start in Swift.stride(from: 0, to: batch, by: chunk) {
            let count = min(chunk, batch - start)
            // One chunk: `columns` still holds the forward's im2col; several: rebuild this chunk's, for
            // the weight gradient only (the input gradient overwrites `columns` without reading it).
            if !singleChunk && needsParameterGradients { fillColumns(start, count) }
            for g in 0..<groups {
                let (w, dw) = (weight.value.data + g * groupOut * groupIn, weight.gradient.data + g * groupOut * groupIn)
                let (dy, col) = (dyColumns + g * groupOut * batch * grid + start * grid, columns.data + g * groupIn * count * grid)
                if needsParameterGradients {
                    // dW_g (out/G × C/G·k²) += dY_g (out/G × n·L) · col_gᵀ
                    gemm(transposeB: true, m: groupOut, n: groupIn, k: count * grid, a: dy, lda: batch * grid,
                         b: col, ldb: count * grid, beta: 1, c: dw, ldc: groupIn)
                }
                if needsInputGradient {
                    // dcol_g (C/G·k² × n·L) = W_gᵀ · dY_g, replacing this group's rows of col once read above
                    gemm(transposeA: true, m: groupIn, n: count * grid, k: groupOut, a: w, lda: groupIn,
                         b: dy, ldb: batch * grid, c: col, ldc: count * grid)
                }
            }
            if needsInputGradient {
                // scattered back onto the images
                col2im(columns.data, batch: count, geometry,
                       into: inputGradient.data + start * inChannels * geometry.height * geometry.width)
            }
        }
        return needsInputGradient ? inputGradient : nil
    }
}

extension Conv2d {
    // x: N × in × H/u × W/u, up-sampled by u (3 × 3 only) → y (`output`): N × out × Ho × Wo on the direct kernels, then
    // scale[o] · y + shift[o] with an affine map (folded into the packed weights and the bias)
    fileprivate func directForward(_ shape: DirectConvolution.Shape, _ input: Tensor, upsampling: Int,
                                   affine: (scale: UnsafePointer<Float>, shift: UnsafePointer<Float>)?) {
        let (h, w, oh, ow) = (geometry.height, geometry.width, geometry.outHeight, geometry.outWidth)
        let weights = UnsafePointer(weight.value.data)
        var outputBias = bias.map { UnsafePointer($0.value.data) }
        if let affine {
            let folded = resized(fusedBias, outChannels)
            for o in 0..<outChannels { folded[o] = affine.scale[o] * (outputBias?[o] ?? 0) + affine.shift[o] }
            outputBias = UnsafePointer(folded)
        }
        let scale = affine?.scale
        switch shape {
        case .kernel3:
            // The padded input stays for the weight gradient.
            let padded = resized(directInput, batch * inChannels * (h + 2) * (w + 2))
            DirectConvolution.pad(input.data, batch: batch, channels: inChannels, height: h / upsampling, width: w / upsampling,
                                  upsampling: upsampling, into: padded)
            let packed = resized(packedWeights, DirectConvolution.packedCount(targets: outChannels, sources: inChannels, taps: 9))
            DirectConvolution.pack(targets: outChannels, sources: inChannels, taps: 9, into: packed) { o, c, tap in
                (scale?[o] ?? 1) * weights[(o * inChannels + c) * 9 + tap]
            }
            DirectConvolution.convolve(padded, batch: batch, channels: inChannels, plane: (h + 2) * (w + 2), rowLength: w + 2,
                                       side: 3, height: h, width: w, packed: packed, out: outChannels, bias: outputBias,
                                       into: output.data)
        case .kernel4Stride2:
            // Tap (ky, kx) = (2a + py, 2b + px) reads phase (py, px) at (row + a, x + b).
            let (rows, columns) = (oh + 1, ow + 1)
            let phases = resized(directInput, batch * 4 * inChannels * rows * columns)
            DirectConvolution.spaceToDepth(input.data, batch: batch, channels: inChannels, height: h, width: w, into: phases)
            let packed = resized(packedWeights, DirectConvolution.packedCount(targets: outChannels, sources: 4 * inChannels, taps: 4))
            DirectConvolution.pack(targets: outChannels, sources: 4 * inChannels, taps: 4, into: packed) { o, source, tap in
                let (c, py, px, a, b) = (source / 4, source % 4 / 2, source % 2, tap / 2, tap % 2)
                return (scale?[o] ?? 1) * weights[((o * inChannels + c) * 4 + 2 * a + py) * 4 + 2 * b + px]
            }
            DirectConvolution.convolve(phases, batch: batch, channels: 4 * inChannels, plane: rows * columns, rowLength: columns,
                                       side: 2, height: oh, width: ow, packed: packed, out: outChannels, bias: outputBias,
                                       into: output.data)
        }
    }

    // dy: N × out × Ho × Wo → dW += on the direct path
    fileprivate func directWeightGradient(_ shape: DirectConvolution.Shape, _ outputGradient: Tensor) {
        guard shape == .kernel3, inChannels * outChannels < ConvolutionTuning.direct3x3GEMMWeightGradientChannels else {
            return weightGradientFromColumns(outputGradient)
        }
        DirectConvolution.weightGradient(directInput.data, batch: batch, channels: inChannels, height: geometry.height,
                                         width: geometry.width, outputGradient: outputGradient.data, out: outChannels,
                                         into: weight.gradient.data)
    }

    // dy: N × out × Ho × Wo → dx (`inputGradient`): N × in × H × W on the direct kernels
    fileprivate func directInputGradient(_ shape: DirectConvolution.Shape, _ outputGradient: Tensor) {
        let (oh, ow) = (geometry.outHeight, geometry.outWidth)
        let weights = UnsafePointer(weight.value.data)
        let padded = resized(paddedGradient, batch * outChannels * (oh + 2) * (ow + 2))
        DirectConvolution.pad(outputGradient.data, batch: batch, channels: outChannels, height: oh, width: ow, into: padded)
        switch shape {
        case .kernel3:
            // dx = dy, padded, convolved with the transposed, turned filters.
            let packed = resized(packedWeights, DirectConvolution.packedCount(targets: inChannels, sources: outChannels, taps: 9))
            DirectConvolution.pack(targets: inChannels, sources: outChannels, taps: 9, into: packed) { c, o, tap in
                weights[(o * inChannels + c) * 9 + 8 - tap]
            }
            DirectConvolution.convolve(padded, batch: batch, channels: outChannels, plane: (oh + 2) * (ow + 2), rowLength: ow + 2,
                                       side: 3, height: oh, width: ow, packed: packed, out: inChannels, bias: nil,
                                       into: inputGradient.data)
        case .kernel4Stride2:
            // dx at (2m + py, 2j + px) gathers dy at rows m − 1, m (py = 0: taps ky = 3, 1) or m, m + 1 (py = 1:
            // ky = 2, 0), the same for columns: per phase a 2 × 2 window of padded dy starting at row py, column px.
            let phaseSize = batch * inChannels * oh * ow
            let phases = resized(gradientPhases, 4 * phaseSize)
            let packed = resized(packedWeights, DirectConvolution.packedCount(targets: inChannels, sources: outChannels, taps: 4))
            for phase in 0..<4 {
                let (py, px) = (phase / 2, phase % 2)
                DirectConvolution.pack(targets: inChannels, sources: outChannels, taps: 4, into: packed) { c, o, tap in
                    let (ky, kx) = (3 - py - 2 * (tap / 2), 3 - px - 2 * (tap % 2))
                    return weights[((o * inChannels + c) * 4 + ky) * 4 + kx]
                }
                DirectConvolution.convolve(padded, batch: batch, channels: outChannels, plane: (oh + 2) * (ow + 2), rowLength: ow + 2,
                                           side: 2, rowBase: py, columnBase: px, height: oh, width: ow, packed: packed,
                                           out: inChannels, bias: nil, into: phases + phase * phaseSize)
            }
            DirectConvolution.interleave(phases, batch: batch, channels: inChannels, height: oh, width: ow, into: inputGradient.data)
        }
    }

    /// dY as out × (N·L), the GEMMs' layout (dY itself at batch 1).
    fileprivate func outputGradientColumns(_ outputGradient: Tensor) -> UnsafeMutablePointer<Float> {
        let grid = geometry.outHeight * geometry.outWidth
        guard batch > 1 else { return outputGradient.data }
        let dyColumns = resized(outColumns, outChannels * batch * grid)
        batchToColumns(outputGradient.data, batch: batch, channels: outChannels, grid: grid, into: dyColumns)
        return dyColumns
    }

    /// dW += dY · colᵀ for one group, im2col made here chunk by chunk: the weight gradient of a direct
    /// 3 × 3 layer whose forward made no columns.
    fileprivate func weightGradientFromColumns(_ outputGradient: Tensor) {
        let (grid, patch) = (geometry.outHeight * geometry.outWidth, geometry.patchSize)
        let dyColumns = outputGradientColumns(outputGradient)
        chunk = ConvolutionTuning.samplesPerChunk(rows: patch, grid: grid, batch: batch)
        columns.resize(1, 1, patch, chunk * grid)
        for start in Swift.stride(from: 0, to: batch, by: chunk) {
            let count = min(chunk, batch - start)
            fillColumns(start, count)
            gemm(transposeB: true, m: outChannels, n: patch, k: count * grid, a: dyColumns + start * grid, lda: batch * grid,
                 b: columns.data, ldb: count * grid, beta: 1, c: weight.gradient.data, ldc: patch)
        }
    }
}

/// Transposed convolution, PyTorch's `nn.ConvTranspose2d` (no output padding, no dilation).
/// weight: in × out × k × k, bias: out. Forward is Conv2d's input-gradient (GEMM then col2im),
/// backward-data is Conv2d's forward (im2col then GEMM).
public final class ConvTranspose2d: ChannelAffineFusing {
    public let inChannels, outChannels, kernel, stride, padding: Int
    public let weight: Parameter
    public let bias: Parameter?

    private var geometry = ConvGeometry(channels: 0, height: 0, width: 0, kernel: 0, stride: 1, padding: 0)
    private var batch = 0
    private let inputColumns = Tensor(shape: [0])   // in × N·H·W, kept for the weight gradient
    private let columns = Tensor(shape: [0])        // out·k² × chunk·H·W
    private let output = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])
    private let inputGradientColumns = Tensor(shape: [0])

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true) {
        precondition(inChannels > 0 && outChannels > 0 && kernel > 0 && stride > 0 && padding >= 0)
        (self.inChannels, self.outChannels, self.kernel, self.stride, self.padding) = (inChannels, outChannels, kernel, stride, padding)
        weight = Parameter(Tensor(shape: [inChannels, outChannels, kernel, kernel]))
        self.bias = bias ? Parameter(Tensor(shape: [outChannels])) : nil
    }

    public var ownParameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    public func initializeOwnParameters(_ scheme: Initialization, rng: inout RNG) {
        scheme.initialize(weight: weight.value, bias: bias?.value, rng: &rng)
    }

    public private(set) var lastForwardMultiplyAdds = 0

    /// Samples per GEMM, fixed by forward: backward reuses `columns`, sized for it.
    private var chunk = 0

    /// Whether the last call was a forward, whose input a backward needs (not `infer`).
    private var forwardRan = false

    // x: N × in × H × W → y: N × out × Ho × Wo, Ho = (H − 1)·s − 2p + k
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        forwardRan = true
        return run(input, affine: nil)
    }

    public var fusesInEval: Bool { true }
    public var fusesUpsampling: Bool { false }
    public var outputChannels: Int { outChannels }

    // x: N × in × H × W → y = scale[o] · convT(x)[o] + shift[o], the map applied in the pass that adds the bias
    public func infer(_ input: Tensor, upsampling: Int, outputScale: UnsafePointer<Float>, outputShift: UnsafePointer<Float>) -> Tensor {
        precondition(upsampling == 1, "ConvTranspose2d takes no up-sampled input")
        forwardRan = false
        return run(input, affine: (outputScale, outputShift))
    }

    // x: N × in × H × W → y: N × out × Ho × Wo, then scale[o] · y + shift[o] when an affine map is given
    private func run(_ input: Tensor, affine: (scale: UnsafePointer<Float>, shift: UnsafePointer<Float>)?) -> Tensor {
        precondition(input.shape.count == 4 && input.shape[1] == inChannels, "ConvTranspose2d(\(inChannels)→\(outChannels)) got \(input.shape)")
        batch = input.shape[0]
        let (h, w) = (input.shape[2], input.shape[3])
        let (oh, ow) = ((h - 1) * stride - 2 * padding + kernel, (w - 1) * stride - 2 * padding + kernel)
        precondition(oh > 0 && ow > 0, "ConvTranspose2d: empty output for \(input.shape)")
        geometry = ConvGeometry(channels: outChannels, height: oh, width: ow, kernel: kernel, stride: stride, padding: padding)
        precondition(geometry.outHeight == h && geometry.outWidth == w)
        let grid = h * w
        let x: UnsafeMutablePointer<Float>
        if batch == 1 {
            inputColumns.assign(input)
            x = inputColumns.data
        } else {
            x = resized(inputColumns, inChannels * batch * grid)
            batchToColumns(input.data, batch: batch, channels: inChannels, grid: grid, into: x)
        }
        let patch = geometry.patchSize
        lastForwardMultiplyAdds = batch * grid * inChannels * patch
        chunk = ConvolutionTuning.samplesPerChunk(rows: patch, grid: grid, batch: batch)
        columns.resize(1, 1, patch, chunk * grid)
        output.resize(batch, outChannels, oh, ow)
        for start in Swift.stride(from: 0, to: batch, by: chunk) {
            let count = min(chunk, batch - start)
            // col (out·k² × n·L) = Wᵀ (W: in × out·k²) · X (in × n·L), then summed onto the output images
            gemm(transposeA: true, m: patch, n: count * grid, k: inChannels, a: weight.value.data, lda: patch,
                 b: x + start * grid, ldb: batch * grid, c: columns.data, ldc: count * grid)
            col2im(columns.data, batch: count, geometry, into: output.data + start * outChannels * oh * ow)
        }
        if let affine {
            applyChannelAffine(output.data, batch: batch, channels: outChannels, grid: oh * ow, bias: bias?.value.data,
                               scale: affine.scale, shift: affine.shift)
        } else if let bias {
            addPerChannel(bias.value.data, to: output.data, batch: batch, channels: outChannels, grid: oh * ow)
        }
        return output
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool, needsParameterGradients: Bool) -> Tensor? {
        let grid = geometry.outHeight * geometry.outWidth
        let imageSize = outChannels * geometry.height * geometry.width
        let patch = geometry.patchSize
        precondition(forwardRan, "ConvTranspose2d: backward before forward (or after infer)")
        precondition(outputGradient.count == batch * imageSize, "ConvTranspose2d backward: gradient \(outputGradient.shape)")
        if needsParameterGradients, let bias {
            sumPerChannel(outputGradient.data, batch: batch, channels: outChannels, grid: geometry.height * geometry.width,
                          into: bias.gradient.data)
        }
        guard needsInputGradient || needsParameterGradients else { return nil }
        var target: UnsafeMutablePointer<Float>?
        if needsInputGradient {
            inputGradient.resize(batch, inChannels, geometry.outHeight, geometry.outWidth)
            target = batch == 1 ? inputGradient.data : resized(inputGradientColumns, inChannels * batch * grid)
        }
        for start in Swift.stride(from: 0, to: batch, by: chunk) {
            let count = min(chunk, batch - start)
            // dcol (out·k² × n·L) = im2col(dy)
            im2col(outputGradient.data + start * imageSize, batch: count, geometry, into: columns.data)
            if needsParameterGradients {
                // dW (in × out·k²) += X (in × n·L) · dcolᵀ
                gemm(transposeB: true, m: inChannels, n: patch, k: count * grid, a: inputColumns.data + start * grid, lda: batch * grid,
                     b: columns.data, ldb: count * grid, beta: 1, c: weight.gradient.data, ldc: patch)
            }
            if let target {
                // dX (in × n·L) = W (in × out·k²) · dcol
                gemm(m: inChannels, n: count * grid, k: patch, a: weight.value.data, lda: patch,
                     b: columns.data, ldb: count * grid, c: target + start * grid, ldc: batch * grid)
            }
        }
        guard let target else { return nil }
        if batch > 1 {
            columnsToBatch(target, batch: batch, channels: inChannels, grid: grid, bias: nil, into: inputGradient.data)
        }
        return inputGradient
    }
}

/// Resizes a scratch tensor to `count` elements and returns its storage.
func resized(_ scratch: Tensor, _ count: Int) -> UnsafeMutablePointer<Float> {
    scratch.resize(1, 1, 1, count)
    return scratch.data
}

/// y[n, c, ·] += bias[c] for y: batch × C × L.
func addPerChannel(_ bias: UnsafePointer<Float>, to y: UnsafeMutablePointer<Float>, batch: Int = 1, channels: Int, grid: Int) {
    for n in 0..<batch {
        for c in 0..<channels {
            let plane = y + (n * channels + c) * grid
            let b = bias[c]
            for i in 0..<grid { plane[i] += b }
        }
    }
}
