/// 2-D convolution, PyTorch's `nn.Conv2d` (square kernel, equal stride and padding on both axes).
/// weight: out × in × k × k, bias: out. Lowered to one GEMM over the whole batch via im2col.
public final class Conv2d: Layer {
    public let inChannels, outChannels, kernel, stride, padding: Int
    public let weight: Parameter
    public let bias: Parameter?

    private var geometry = ConvGeometry(channels: 0, height: 0, width: 0, kernel: 0, stride: 1, padding: 0)
    private var batch = 0
    private let columns = Tensor(shape: [0])        // C·k² × batch·L, kept for the weight gradient
    private let outColumns = Tensor(shape: [0])     // out × batch·L
    private let output = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true) {
        precondition(inChannels > 0 && outChannels > 0 && kernel > 0 && stride > 0 && padding >= 0)
        (self.inChannels, self.outChannels, self.kernel, self.stride, self.padding) = (inChannels, outChannels, kernel, stride, padding)
        weight = Parameter(Tensor(shape: [outChannels, inChannels, kernel, kernel]))
        self.bias = bias ? Parameter(Tensor(shape: [outChannels])) : nil
    }

    public var parameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    // x: N × in × H × W → y: N × out × Ho × Wo, Ho = (H + 2p − k)/s + 1
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.shape.count == 4 && input.shape[1] == inChannels, "Conv2d(\(inChannels)→\(outChannels)) got \(input.shape)")
        batch = input.shape[0]
        geometry = ConvGeometry(channels: inChannels, height: input.shape[2], width: input.shape[3],
                                kernel: kernel, stride: stride, padding: padding)
        let (oh, ow) = (geometry.outHeight, geometry.outWidth)
        precondition(oh > 0 && ow > 0, "Conv2d: input \(input.shape) smaller than the kernel")
        let grid = oh * ow
        columns.resize(1, 1, geometry.patchSize, batch * grid)
        im2col(input.data, batch: batch, geometry, into: columns.data)
        output.resize(batch, outChannels, oh, ow)
        let target = batch == 1 ? output.data : resized(outColumns, outChannels * batch * grid)
        // out × (N·L) = W (out × C·k²) · col (C·k² × N·L)
        gemm(m: outChannels, n: batch * grid, k: geometry.patchSize, a: weight.value.data, lda: geometry.patchSize,
             b: columns.data, ldb: batch * grid, c: target, ldc: batch * grid)
        if batch == 1 {
            if let bias { addPerChannel(bias.value.data, to: output.data, channels: outChannels, grid: grid) }
        } else {
            columnsToBatch(outColumns.data, batch: batch, channels: outChannels, grid: grid, bias: bias?.value.data, into: output.data)
        }
        return output
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool, needsParameterGradients: Bool) -> Tensor? {
        let grid = geometry.outHeight * geometry.outWidth
        precondition(outputGradient.count == batch * outChannels * grid, "Conv2d backward: gradient \(outputGradient.shape)")
        let dyColumns: UnsafeMutablePointer<Float>
        if batch == 1 {
            dyColumns = outputGradient.data
        } else {
            dyColumns = resized(outColumns, outChannels * batch * grid)
            batchToColumns(outputGradient.data, batch: batch, channels: outChannels, grid: grid, into: dyColumns)
        }
        if needsParameterGradients {
            // dW (out × C·k²) = dY (out × N·L) · colᵀ
            gemm(transposeB: true, m: outChannels, n: geometry.patchSize, k: batch * grid, a: dyColumns, lda: batch * grid,
                 b: columns.data, ldb: batch * grid, c: weight.gradient.data, ldc: geometry.patchSize)
            if let bias { sumPerChannel(outputGradient.data, batch: batch, channels: outChannels, grid: grid, into: bias.gradient.data) }
        }
        guard needsInputGradient else { return nil }
        // dcol (C·k² × N·L) = Wᵀ · dY, then scattered back onto the image
        gemm(transposeA: true, m: geometry.patchSize, n: batch * grid, k: outChannels, a: weight.value.data, lda: geometry.patchSize,
             b: dyColumns, ldb: batch * grid, c: columns.data, ldc: batch * grid)
        inputGradient.resize(batch, inChannels, geometry.height, geometry.width)
        col2im(columns.data, batch: batch, geometry, into: inputGradient.data)
        return inputGradient
    }
}

/// Transposed convolution, PyTorch's `nn.ConvTranspose2d` (no output padding, no dilation).
/// weight: in × out × k × k, bias: out. Forward is Conv2d's input-gradient (GEMM then col2im),
/// backward-data is Conv2d's forward (im2col then GEMM).
public final class ConvTranspose2d: Layer {
    public let inChannels, outChannels, kernel, stride, padding: Int
    public let weight: Parameter
    public let bias: Parameter?

    private var geometry = ConvGeometry(channels: 0, height: 0, width: 0, kernel: 0, stride: 1, padding: 0)
    private var batch = 0
    private let inputColumns = Tensor(shape: [0])   // in × N·H·W, kept for the weight gradient
    private let columns = Tensor(shape: [0])        // out·k² × N·H·W
    private let output = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])
    private let inputGradientColumns = Tensor(shape: [0])

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true) {
        precondition(inChannels > 0 && outChannels > 0 && kernel > 0 && stride > 0 && padding >= 0)
        (self.inChannels, self.outChannels, self.kernel, self.stride, self.padding) = (inChannels, outChannels, kernel, stride, padding)
        weight = Parameter(Tensor(shape: [inChannels, outChannels, kernel, kernel]))
        self.bias = bias ? Parameter(Tensor(shape: [outChannels])) : nil
    }

    public var parameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    // x: N × in × H × W → y: N × out × Ho × Wo, Ho = (H − 1)·s − 2p + k
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
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
        columns.resize(1, 1, patch, batch * grid)
        // col (out·k² × N·L) = Wᵀ (W: in × out·k²) · X (in × N·L)
        gemm(transposeA: true, m: patch, n: batch * grid, k: inChannels, a: weight.value.data, lda: patch,
             b: x, ldb: batch * grid, c: columns.data, ldc: batch * grid)
        output.resize(batch, outChannels, oh, ow)
        col2im(columns.data, batch: batch, geometry, into: output.data)
        if let bias { addPerChannel(bias.value.data, to: output.data, batch: batch, channels: outChannels, grid: oh * ow) }
        return output
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool, needsParameterGradients: Bool) -> Tensor? {
        let grid = geometry.outHeight * geometry.outWidth
        let patch = geometry.patchSize
        precondition(outputGradient.count == batch * outChannels * geometry.height * geometry.width,
                     "ConvTranspose2d backward: gradient \(outputGradient.shape)")
        // dcol (out·k² × N·L) = im2col(dy)
        im2col(outputGradient.data, batch: batch, geometry, into: columns.data)
        if needsParameterGradients {
            // dW (in × out·k²) = X (in × N·L) · dcolᵀ
            gemm(transposeB: true, m: inChannels, n: patch, k: batch * grid, a: inputColumns.data, lda: batch * grid,
                 b: columns.data, ldb: batch * grid, c: weight.gradient.data, ldc: patch)
            if let bias {
                sumPerChannel(outputGradient.data, batch: batch, channels: outChannels, grid: geometry.height * geometry.width,
                              into: bias.gradient.data)
            }
        }
        guard needsInputGradient else { return nil }
        inputGradient.resize(batch, inChannels, geometry.outHeight, geometry.outWidth)
        let target = batch == 1 ? inputGradient.data : resized(inputGradientColumns, inChannels * batch * grid)
        // dX (in × N·L) = W (in × out·k²) · dcol
        gemm(m: inChannels, n: batch * grid, k: patch, a: weight.value.data, lda: patch,
             b: columns.data, ldb: batch * grid, c: target, ldc: batch * grid)
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
