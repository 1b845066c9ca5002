/// Direct kernels for depthwise convolution (one k × k filter per channel; Conv2d with
/// groups == in == out, and the fixed Blur). Each output pixel needs only k² multiply-adds, so
/// the work is bound by memory traffic: im2col would write and read k² copies of the input for
/// GEMMs with a single row. Instead each task copies one plane into a zero-bordered scratch plane
/// (small enough to stay in cache), so every kernel tap is one full-width, branch-free pass over an
/// output row that vectorises without edge cases; 3 × 3 at stride 1 (the common case) takes all
/// nine taps in one pass.
///
/// `weight` holds k² taps per channel, `weightStride` apart (0: one filter for every channel).
enum DepthwiseConvolution {
    // x: N × C × H × W, weight: C × k × k, bias: C → y: N × C × Ho × Wo
    // (`flipped`: each filter turned by 180°, for the input gradient)
    static func forward(_ x: UnsafePointer<Float>, batch: Int, _ g: ConvGeometry, weight: UnsafePointer<Float>,
                        weightStride: Int, flipped: Bool = false, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>) {
        let (k, s, oh, ow) = (g.kernel, g.stride, g.outHeight, g.outWidth)
        forEachPaddedPlane(batch: batch, g) { plane, padded, rowLength in
            let c = plane % g.channels
            padded.copyInterior(x + plane * g.height * g.width)
            let filter = weight + c * weightStride
            func tap(_ i: Int, _ j: Int) -> Float { flipped ? filter[(k - 1 - i) * k + k - 1 - j] : filter[i * k + j] }
            let start = bias?[c] ?? 0
            for oy in 0..<oh {
                let out = y + (plane * oh + oy) * ow
                let row = UnsafePointer(padded.data + oy * s * rowLength)
                if k == 3 && s == 1 {
                    // All nine taps per output pixel in one pass: each output is written once.
                    let (r0, r1, r2) = (row, row + rowLength, row + 2 * rowLength)
                    let (t00, t01, t02, t10, t11, t12) = (tap(0, 0), tap(0, 1), tap(0, 2), tap(1, 0), tap(1, 1), tap(1, 2))
                    let (t20, t21, t22) = (tap(2, 0), tap(2, 1), tap(2, 2))
                    for ox in 0..<ow {
                        var sum = start + t00 * r0[ox] + t01 * r0[ox + 1] + t02 * r0[ox + 2]
                        sum += t10 * r1[ox] + t11 * r1[ox + 1] + t12 * r1[ox + 2]
                        out[ox] = sum + t20 * r2[ox] + t21 * r2[ox + 1] + t22 * r2[ox + 2]
                    }
                    continue
                }
                out.update(repeating: start, count: ow)
                for i in 0..<k {
                    for j in 0..<k {
                        let (source, t) = (row + i * rowLength + j, tap(i, j))
                        if s == 1 {
                            for ox in 0..<ow { out[ox] += t * source[ox] }
                        } else {
                            for ox in 0..<ow { out[ox] += t * source[ox * s] }
                        }
                    }
                }
            }
        }
    }

    // dy: N × C × Ho × Wo, weight: C × k × k → dx: N × C × H × W (overwritten).
    // Stride 1: the gradient is dy, padded by k − 1 − p, convolved with the turned filters (the forward
    // kernel). Otherwise every tap scatters its output row back onto the padded input row it read, and
    // the interior is the gradient.
    static func inputGradient(_ dy: UnsafePointer<Float>, batch: Int, _ g: ConvGeometry, weight: UnsafePointer<Float>,
                              weightStride: Int, into dx: UnsafeMutablePointer<Float>) {
        let (k, s, p, oh, ow) = (g.kernel, g.stride, g.padding, g.outHeight, g.outWidth)
        if s == 1 && p <= k - 1 {
            let transposed = ConvGeometry(channels: g.channels, height: oh, width: ow, kernel: k, stride: 1, padding: k - 1 - p)
            return forward(dy, batch: batch, transposed, weight: weight, weightStride: weightStride, flipped: true, bias: nil, into: dx)
        }
        forEachPaddedPlane(batch: batch, g) { plane, padded, rowLength in
            let c = plane % g.channels
            padded.clear()
            let taps = weight + c * weightStride
            for oy in 0..<oh {
                let gradient = dy + (plane * oh + oy) * ow
                for i in 0..<k {
                    let row = padded.data + (oy * s + i) * rowLength
                    for j in 0..<k {
                        let (target, tap) = (row + j, taps[i * k + j])
                        for ox in 0..<ow { target[ox * s] += tap * gradient[ox] }
                    }
                }
            }
            padded.copyInteriorOut(to: dx + plane * g.height * g.width)
        }
    }

    // dy: N × C × Ho × Wo, x: N × C × H × W → dW: C × k × k and db: C, both added to.
    // One task per channel (it owns that channel's k² + 1 sums); each tap's products are summed into a
    // row of per-column partial sums (element-wise, so it vectorises), reduced once per channel.
    static func parameterGradients(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, batch: Int, _ g: ConvGeometry,
                                   weightGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>?) {
        let (k, s, oh, ow) = (g.kernel, g.stride, g.outHeight, g.outWidth)
        Parallel.chunks(g.channels, cost: 2 * batch * k * k * oh * ow) { channels in
            withPaddedPlane(g) { padded, rowLength in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: (k * k + 1) * ow) { scratch in
                    let partial = scratch.baseAddress!
                    let biasPartial = partial + k * k * ow
                    for c in channels {
                        partial.update(repeating: 0, count: (k * k + 1) * ow)
                        for n in 0..<batch {
                            let plane = n * g.channels + c
                            padded.copyInterior(x + plane * g.height * g.width)
                            if k == 3 && s == 1 {
                                accumulateThreeByThree(dy + plane * oh * ow, padded.data, rowLength: rowLength, oh: oh, ow: ow,
                                                       into: partial)
                                continue
                            }
                            for oy in 0..<oh {
                                let gradient = dy + (plane * oh + oy) * ow
                                for ox in 0..<ow { biasPartial[ox] += gradient[ox] }
                                for i in 0..<k {
                                    let row = UnsafePointer(padded.data + (oy * s + i) * rowLength)
                                    for j in 0..<k {
                                        let (source, sums) = (row + j, partial + (i * k + j) * ow)
                                        if s == 1 {
                                            for ox in 0..<ow { sums[ox] += gradient[ox] * source[ox] }
                                        } else {
                                            for ox in 0..<ow { sums[ox] += gradient[ox] * source[ox * s] }
                                        }
                                    }
                                }
                            }
                        }
                        for tap in 0..<(k * k) {
                            let sums = partial + tap * ow
                            weightGradient[c * k * k + tap] += sumOf(ow) { sums[$0] }
                        }
                        biasGradient?[c] += sumOf(ow) { biasPartial[$0] }
                    }
                }
            }
        }
    }

    /// The 3 × 3, stride-1 weight gradient of one plane in a single pass per row: ten running sums (nine
    /// taps and the bias) in vector registers, added into lane 0 of the per-column partial sums
    /// (`partial`: nine rows of `ow` floats, then the bias row).
    private static func accumulateThreeByThree(_ dy: UnsafePointer<Float>, _ padded: UnsafePointer<Float>, rowLength: Int,
                                               oh: Int, ow: Int, into partial: UnsafeMutablePointer<Float>) {
        typealias Lanes = SIMD4<Float>
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> Lanes { UnsafeRawPointer(p).loadUnaligned(as: Lanes.self) }
        var (a00, a01, a02, a10, a11, a12) = (Lanes.zero, Lanes.zero, Lanes.zero, Lanes.zero, Lanes.zero, Lanes.zero)
        var (a20, a21, a22, bias) = (Lanes.zero, Lanes.zero, Lanes.zero, Lanes.zero)
        let whole = ow & ~3
        for oy in 0..<oh {
            let gradient = dy + oy * ow
            let (r0, r1, r2) = (padded + oy * rowLength, padded + (oy + 1) * rowLength, padded + (oy + 2) * rowLength)
            var ox = 0
            while ox < whole {
                let d = load(gradient + ox)
                bias += d
                a00 += d * load(r0 + ox); a01 += d * load(r0 + ox + 1); a02 += d * load(r0 + ox + 2)
                a10 += d * load(r1 + ox); a11 += d * load(r1 + ox + 1); a12 += d * load(r1 + ox + 2)
                a20 += d * load(r2 + ox); a21 += d * load(r2 + ox + 1); a22 += d * load(r2 + ox + 2)
                ox += 4
            }
            // The last ow mod 4 columns.
            for ox in whole..<ow {
                let d = gradient[ox]
                for i in 0..<3 {
                    let row = padded + (oy + i) * rowLength
                    for j in 0..<3 { partial[(i * 3 + j) * ow] += d * row[ox + j] }
                }
                partial[9 * ow] += d
            }
        }
        func add(_ tap: Int, _ sums: Lanes) { partial[tap * ow] += sums.sum() }
        add(0, a00); add(1, a01); add(2, a02); add(3, a10); add(4, a11); add(5, a12); add(6, a20); add(7, a21); add(8, a22)
        add(9, bias)
    }

    /// Runs `body` for every plane (sample × channel) of the batch, split over the workers, each worker
    /// with its own padded scratch plane.
    private static func forEachPaddedPlane(batch: Int, _ g: ConvGeometry,
                                           _ body: (_ plane: Int, PaddedPlane, _ rowLength: Int) -> Void) {
        Parallel.chunks(batch * g.channels, cost: 2 * g.kernel * g.kernel * g.outHeight * g.outWidth) { planes in
            withPaddedPlane(g) { padded, rowLength in
                for plane in planes { body(plane, padded, rowLength) }
            }
        }
    }

    /// A zeroed (H + 2p) × (W + 2p) scratch plane for the duration of `body`.
    private static func withPaddedPlane(_ g: ConvGeometry, _ body: (PaddedPlane, _ rowLength: Int) -> Void) {
        let (height, width) = (g.height + 2 * g.padding, g.width + 2 * g.padding)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: height * width) { storage in
            let padded = PaddedPlane(data: storage.baseAddress!, height: g.height, width: g.width, padding: g.padding)
            padded.clear()
            body(padded, width)
        }
    }
}

/// An H × W plane inside a zero border of `padding` pixels.
private struct PaddedPlane {
    let data: UnsafeMutablePointer<Float>
    let height, width, padding: Int
    private var rowLength: Int { width + 2 * padding }
    private var interior: UnsafeMutablePointer<Float> { data + padding * rowLength + padding }

    func clear() { data.update(repeating: 0, count: (height + 2 * padding) * rowLength) }

    /// Overwrites the interior with `plane` (the border stays as it is: zero).
    func copyInterior(_ plane: UnsafePointer<Float>) {
        for row in 0..<height { (interior + row * rowLength).update(from: plane + row * width, count: width) }
    }

    func copyInteriorOut(to plane: UnsafeMutablePointer<Float>) {
        for row in 0..<height { (plane + row * width).update(from: interior + row * rowLength, count: width) }
    }
}
