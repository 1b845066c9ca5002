/// 1 × 1 convolutions at stride 1 without padding or groups (the expansions and projections of inverted
/// residual blocks, Conv2d's direct path for them): each sample's output planes are one GEMM on its own
/// input planes, y_n (out × L) = W (out × in) · x_n (in × L), so no column matrix is built and no result
/// is shuffled back from the batch-folded layout.
enum PointwiseConvolution {
    // x: N × in × L, weight: out × in, bias: out → y: N × out × L
    static func forward(_ x: UnsafePointer<Float>, batch: Int, inChannels: Int, outChannels: Int, grid: Int,
                        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>) {
        for n in 0..<batch {
            let target = y + n * outChannels * grid
            if let bias {
                // The GEMM adds onto the bias (beta 1): no second pass over the output.
                for c in 0..<outChannels { (target + c * grid).update(repeating: bias[c], count: grid) }
            }
            gemm(m: outChannels, n: grid, k: inChannels, a: weight, lda: inChannels, b: x + n * inChannels * grid, ldb: grid,
                 beta: bias == nil ? 0 : 1, c: target, ldc: grid)
        }
    }

    // dy: N × out × L → dx (N × in × L, overwritten) = Wᵀ · dy_n per sample, when `dx` is given;
    // dW (out × in) += Σ_n dy_n · x_nᵀ and db += Σ dy when their gradients are given.
    static func backward(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, batch: Int, inChannels: Int, outChannels: Int,
                         grid: Int, weight: UnsafePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>?,
                         weightGradient: UnsafeMutablePointer<Float>?, biasGradient: UnsafeMutablePointer<Float>?) {
        if let biasGradient { sumPerChannel(dy, batch: batch, channels: outChannels, grid: grid, into: biasGradient) }
        for n in 0..<batch {
            let (gradient, input) = (dy + n * outChannels * grid, x + n * inChannels * grid)
            if let weightGradient {
                gemm(transposeB: true, m: outChannels, n: inChannels, k: grid, a: gradient, lda: grid, b: input, ldb: grid,
                     beta: 1, c: weightGradient, ldc: inChannels)
            }
            if let dx {
                gemm(transposeA: true, m: inChannels, n: grid, k: outChannels, a: weight, lda: inChannels, b: gradient, ldb: grid,
                     c: dx + n * inChannels * grid, ldc: grid)
            }
        }
    }
}
