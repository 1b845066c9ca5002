/// Direct kernels for depthwise convolution (one k × k filter per channel; Conv2d with
/// groups == in == out, and the fixed Blur). Each output pixel needs only k² multiply-adds, so
/// the work is bound by memory traffic: im2col would write and read k² copies of the input for
/// a GEMM with a single row. These loops instead walk whole rows of a plane with one kernel tap
/// at a time (contiguous and branch-free at stride 1, so they vectorise), one plane per task.
///
/// `weight` holds k² taps per channel, `weightStride` apart (0: one filter for every channel).
enum DepthwiseConvolution {
    // x: N × C × H × W, weight: C × k × k, bias: C → y: N × C × Ho × Wo
    static func forward(_ x: UnsafePointer<Float>, batch: Int, _ g: ConvGeometry, weight: UnsafePointer<Float>,
                        weightStride: Int, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>) {
        let (k, s, p, h, w, oh, ow) = (g.kernel, g.stride, g.padding, g.height, g.width, g.outHeight, g.outWidth)
        Parallel.chunks(batch * g.channels, cost: 2 * k * k * oh * ow) { planes in
            for plane in planes {
                let c = plane % g.channels
                let (image, taps) = (x + plane * h * w, weight + c * weightStride)
                let start = bias?[c] ?? 0
                for oy in 0..<oh {
                    let out = y + (plane * oh + oy) * ow
                    out.update(repeating: start, count: ow)
                    for i in 0..<k {
                        let iy = oy * s - p + i
                        guard iy >= 0 && iy < h else { continue }
                        for j in 0..<k {
                            let (first, end) = g.insideColumns(j)
                            let (source, tap) = (image + iy * w - p + j, taps[i * k + j])
                            if s == 1 {
                                for ox in first..<end { out[ox] += tap * source[ox] }
                            } else {
                                for ox in first..<end { out[ox] += tap * source[ox * s] }
                            }
                        }
                    }
                }
            }
        }
    }

    // dy: N × C × Ho × Wo, weight: C × k × k → dx: N × C × H × W (overwritten): every tap scatters its
    // output row back onto the input row it read
    static func inputGradient(_ dy: UnsafePointer<Float>, batch: Int, _ g: ConvGeometry, weight: UnsafePointer<Float>,
                              weightStride: Int, into dx: UnsafeMutablePointer<Float>) {
        let (k, s, p, h, w, oh, ow) = (g.kernel, g.stride, g.padding, g.height, g.width, g.outHeight, g.outWidth)
        Parallel.chunks(batch * g.channels, cost: 2 * k * k * oh * ow) { planes in
            for plane in planes {
                let c = plane % g.channels
                let (image, taps) = (dx + plane * h * w, weight + c * weightStride)
                image.update(repeating: 0, count: h * w)
                for oy in 0..<oh {
                    let gradient = dy + (plane * oh + oy) * ow
                    for i in 0..<k {
                        let iy = oy * s - p + i
                        guard iy >= 0 && iy < h else { continue }
                        for j in 0..<k {
                            let (first, end) = g.insideColumns(j)
                            let (target, tap) = (image + iy * w - p + j, taps[i * k + j])
                            if s == 1 {
                                for ox in first..<end { target[ox] += tap * gradient[ox] }
                            } else {
                                for ox in first..<end { target[ox * s] += tap * gradient[ox] }
                            }
                        }
                    }
                }
            }
        }
    }

    // dy: N × C × Ho × Wo, x: N × C × H × W → dW: C × k × k and db: C, both added to.
    // One task per channel (it owns that channel's k² + 1 sums); each tap's products are summed into a
    // row of per-column partial sums (element-wise, so it vectorises) and those rows reduced at the end.
    static func parameterGradients(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, batch: Int, _ g: ConvGeometry,
                                   weightGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>?) {
        let (k, s, p, h, w, oh, ow) = (g.kernel, g.stride, g.padding, g.height, g.width, g.outHeight, g.outWidth)
        Parallel.chunks(g.channels, cost: 2 * batch * k * k * oh * ow) { channels in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: (k * k + 1) * ow) { scratch in
                let partial = scratch.baseAddress!
                let biasPartial = partial + k * k * ow
                for c in channels {
                    partial.update(repeating: 0, count: (k * k + 1) * ow)
                    for n in 0..<batch {
                        let plane = n * g.channels + c
                        let image = x + plane * h * w
                        for oy in 0..<oh {
                            let gradient = dy + (plane * oh + oy) * ow
                            for ox in 0..<ow { biasPartial[ox] += gradient[ox] }
                            for i in 0..<k {
                                let iy = oy * s - p + i
                                guard iy >= 0 && iy < h else { continue }
                                for j in 0..<k {
                                    let (first, end) = g.insideColumns(j)
                                    let (source, row) = (image + iy * w - p + j, partial + (i * k + j) * ow)
                                    if s == 1 {
                                        for ox in first..<end { row[ox] += gradient[ox] * source[ox] }
                                    } else {
                                        for ox in first..<end { row[ox] += gradient[ox] * source[ox * s] }
                                    }
                                }
                            }
                        }
                    }
                    for tap in 0..<(k * k) {
                        let row = partial + tap * ow
                        weightGradient[c * k * k + tap] += sumOf(ow) { row[$0] }
                    }
                    biasGradient?[c] += sumOf(ow) { biasPartial[$0] }
                }
            }
        }
    }
}
