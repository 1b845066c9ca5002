/// Direct kernels for depthwise convolution (one k × k filter per channel; Conv2d with
/// groups == in == out, and the fixed Blur). Each output pixel needs only k² multiply-adds, so
/// the work is bound by memory traffic: im2col would write and read k² copies of the input for
/// GEMMs with a single row. Instead each task copies one plane into a zero-bordered scratch plane
/// (small enough to stay in cache) and computes every output pixel once, all k² taps in vector
/// registers, eight or sixteen pixels of a row at a time (`convolveRows`). At stride s the scratch
/// plane keeps the padded columns split by phase (column X at (X mod s)·L + X/s), so a tap's inputs for
/// consecutive outputs are consecutive floats at every stride.
///
/// `weight` holds k² taps per channel, `weightStride` apart (0: one filter for every channel).
enum DepthwiseConvolution {
    // x: N × C × H × W, weight: C × k × k, bias: C → y: N × C × Ho × Wo
    static func forward(_ x: UnsafePointer<Float>, batch: Int, _ g: ConvGeometry, weight: UnsafePointer<Float>,
                        weightStride: Int, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>) {
        let (k, s, p, oh, ow) = (g.kernel, g.stride, g.padding, g.outHeight, g.outWidth)
        let phaseLength = (g.width + 2 * p + s - 1) / s
        let rowLength = s * phaseLength
        let planeSize = (g.height + 2 * p) * rowLength
        Parallel.chunks(batch * g.channels, cost: 2 * k * k * oh * ow) { planes in
            withKernelScratch(planeSize: planeSize, taps: k * k) { padded, taps, offsets in
                for i in 0..<k {
                    for j in 0..<k { offsets[i * k + j] = i * rowLength + (j % s) * phaseLength + j / s }
                }
                for plane in planes {
                    let c = plane % g.channels
                    // Interior only: the zero border, written once, stays as it is.
                    let source = x + plane * g.height * g.width
                    for row in 0..<g.height {
                        let target = padded + (row + p) * rowLength
                        let line = source + row * g.width
                        if s == 1 {
                            (target + p).update(from: line, count: g.width)
                        } else {
                            // Phase q holds the columns with (column + p) mod s == q, from the first such column on.
                            for phase in 0..<s {
                                var (column, index) = ((phase - p % s + s) % s, phase * phaseLength)
                                index += (column + p) / s
                                while column < g.width {
                                    target[index] = line[column]
                                    (column, index) = (column + s, index + 1)
                                }
                            }
                        }
                    }
                    taps.update(from: weight + c * weightStride, count: k * k)
                    convolveRows(padded, rowStep: s * rowLength, offsets: offsets, taps: taps, count: k * k,
                                 bias: bias?[c] ?? 0, into: y + plane * oh * ow, height: oh, width: ow)
                }
            }
        }
    }

    // dy: N × C × Ho × Wo, weight: C × k × k → dx: N × C × H × W (overwritten).
    // dx[y][x] = Σ w[i][j] · dy[(y + p − i)/s][(x + p − j)/s] over the whole quotients: a stride-1 pass of the
    // turned filter over dy spread s apart (zeros between, k − 1 zeros around), read from offset p.
    static func inputGradient(_ dy: UnsafePointer<Float>, batch: Int, _ g: ConvGeometry, weight: UnsafePointer<Float>,
                              weightStride: Int, into dx: UnsafeMutablePointer<Float>) {
        let (k, s, p, oh, ow) = (g.kernel, g.stride, g.padding, g.outHeight, g.outWidth)
        let rowLength = g.width + 2 * p + k - 1
        let planeSize = (g.height + 2 * p + k - 1) * rowLength
        Parallel.chunks(batch * g.channels, cost: 2 * k * k * g.height * g.width) { planes in
            withKernelScratch(planeSize: planeSize, taps: k * k) { spread, taps, offsets in
                for i in 0..<k {
                    for j in 0..<k { offsets[i * k + j] = i * rowLength + j }
                }
                for plane in planes {
                    let c = plane % g.channels
                    // Every plane writes the same positions, so the zeros between them stay.
                    let gradient = dy + plane * oh * ow
                    for oy in 0..<oh {
                        let target = spread + (k - 1 + oy * s) * rowLength + k - 1
                        let line = gradient + oy * ow
                        if s == 1 {
                            target.update(from: line, count: ow)
                        } else {
                            for ox in 0..<ow { target[ox * s] = line[ox] }
                        }
                    }
                    let filter = weight + c * weightStride
                    for t in 0..<(k * k) { taps[t] = filter[k * k - 1 - t] }
                    convolveRows(spread + p * rowLength + p, rowStep: rowLength, offsets: offsets, taps: taps, count: k * k,
                                 bias: 0, into: dx + plane * g.height * g.width, height: g.height, width: g.width)
                }
            }
        }
    }

    /// out[r][c] = bias + Σₜ taps[t] · source[r · rowStep + offsets[t] + c] for an height × width output plane:
    /// the whole sum of each output pixel in registers, sixteen (then eight, four, one) pixels at a time.
    @inline(__always)
    private static func convolveRows(_ source: UnsafePointer<Float>, rowStep: Int, offsets: UnsafePointer<Int>,
                                     taps: UnsafePointer<Float>, count: Int, bias: Float,
                                     into out: UnsafeMutablePointer<Float>, height: Int, width: Int) {
        typealias Lanes = SIMD8<Float>
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> Lanes { UnsafeRawPointer(p).loadUnaligned(as: Lanes.self) }
        @inline(__always) func store(_ v: Lanes, _ p: UnsafeMutablePointer<Float>) {
            UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self)
        }
        for r in 0..<height {
            let (row, target) = (source + r * rowStep, out + r * width)
            var c = 0
            while c + 16 <= width {
                var (a, b) = (Lanes(repeating: bias), Lanes(repeating: bias))
                for t in 0..<count {
                    let (tap, input) = (Lanes(repeating: taps[t]), row + offsets[t] + c)
                    // Multiply then add: the baseline x86-64 target has no FMA, and addingProduct would call fmaf per lane.
                    a += tap * load(input)
                    b += tap * load(input + 8)
                }
                store(a, target + c)
                store(b, target + c + 8)
                c += 16
            }
            if c + 8 <= width {
                var a = Lanes(repeating: bias)
                for t in 0..<count { a += Lanes(repeating: taps[t]) * load(row + offsets[t] + c) }
                store(a, target + c)
                c += 8
            }
            if c + 4 <= width {
                // The 4 × 4 maps of the deepest layers
                var a = SIMD4<Float>(repeating: bias)
                for t in 0..<count {
                    a += SIMD4(repeating: taps[t]) * UnsafeRawPointer(row + offsets[t] + c).loadUnaligned(as: SIMD4<Float>.self)
                }
                UnsafeMutableRawPointer(target + c).storeBytes(of: a, as: SIMD4<Float>.self)
                c += 4
            }
            while c < width {
                var sum = bias
                for t in 0..<count { sum += taps[t] * row[offsets[t] + c] }
                target[c] = sum
                c += 1
            }
        }
    }

    /// A zeroed scratch plane of `planeSize` floats, room for `taps` taps and their offsets, for `body`.
    private static func withKernelScratch(planeSize: Int, taps: Int,
                                          _ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Int>) -> Void) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: planeSize + taps) { storage in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: taps) { offsets in
                let plane = storage.baseAddress!
                plane.update(repeating: 0, count: planeSize)
                body(plane, plane + planeSize, offsets.baseAddress!)
            }
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

}
