/// Geometry of a 2-D convolution from an image of `channels × height × width` to an output grid of
/// `outHeight × outWidth`, with a square kernel. ConvTranspose2d uses the same geometry with the
/// roles swapped (its output is the "image", its input the grid).
struct ConvGeometry: Equatable {
    var channels: Int
    var height: Int
    var width: Int
    var kernel: Int
    var stride: Int
    var padding: Int
    var outHeight: Int { (height + 2 * padding - kernel) / stride + 1 }
    var outWidth: Int { (width + 2 * padding - kernel) / stride + 1 }
    /// Rows of the column matrix: channels · kernel².
    var patchSize: Int { channels * kernel * kernel }

    /// The output columns ow in [start, end) whose input column ow·s − p + j lies inside the image.
    func insideColumns(_ j: Int) -> (start: Int, end: Int) {
        let first = j >= padding ? 0 : (padding - j + stride - 1) / stride
        let lastInput = width - 1 + padding - j
        let end = lastInput < 0 ? 0 : min(outWidth, lastInput / stride + 1)
        return (first, max(first, end))
    }
}

/// Column matrix with the batch folded into the columns (one GEMM for the whole batch):
/// col[(c·k + i)·k + j][n·L + oh·outW + ow] = x[n, c, oh·s − p + i, ow·s − p + j], zero outside.
/// x: batch × C × H × W; col: C·k² × batch·L with L = outH·outW.
func im2col(_ x: UnsafePointer<Float>, batch: Int, _ g: ConvGeometry, into col: UnsafeMutablePointer<Float>) {
    if g.kernel == 4 && g.stride == 2 && g.padding == 1 && g.height == 2 * g.outHeight && g.width == 2 * g.outWidth {
        return im2colKernel4Stride2(x, batch: batch, g, into: col)
    }
    let (k, s, p) = (g.kernel, g.stride, g.padding)
    let (h, w, oh, ow) = (g.height, g.width, g.outHeight, g.outWidth)
    let grid = oh * ow
    let rowLength = batch * grid
    Parallel.chunks(g.patchSize, cost: rowLength) { rows in
        for row in rows {
            let c = row / (k * k), i = (row / k) % k, j = row % k
            let (owStart, owEnd) = g.insideColumns(j)
            for n in 0..<batch {
                let plane = x + (n * g.channels + c) * h * w
                var out = col + row * rowLength + n * grid
                for y in 0..<oh {
                    let iy = y * s - p + i
                    if iy < 0 || iy >= h || owStart >= owEnd {
                        out.update(repeating: 0, count: ow)
                    } else {
                        let source = plane + iy * w - p + j
                        for x in 0..<owStart { out[x] = 0 }
                        if s == 1 {
                            (out + owStart).update(from: source + owStart, count: owEnd - owStart)
                        } else {
                            for x in owStart..<owEnd { out[x] = source[x * s] }
                        }
                        for x in owEnd..<ow { out[x] = 0 }
                    }
                    out += ow
                }
            }
        }
    }
}

/// `im2col` for 4×4, stride 2, padding 1 on even sizes. Kernel column j reads image column 2x − 1 + j:
/// j = 1 and j = 2 are the even and odd image columns (one de-interleaving pass), j = 0 and j = 3 are
/// those shifted by one output column.
private func im2colKernel4Stride2(_ x: UnsafePointer<Float>, batch: Int, _ g: ConvGeometry,
                                  into col: UnsafeMutablePointer<Float>) {
    let (h, w, oh, ow) = (g.height, g.width, g.outHeight, g.outWidth)
    let grid = oh * ow
    let rowLength = batch * grid
    Parallel.chunks(g.channels * batch, cost: 16 * grid) { planes in
        for plane in planes {
            let (c, n) = (plane / batch, plane % batch)
            let image = x + (n * g.channels + c) * h * w
            for i in 0..<4 {
                let rowBase = col + (c * 4 + i) * 4 * rowLength + n * grid
                for y in 0..<oh {
                    let (r0, r1) = (rowBase + y * ow, rowBase + rowLength + y * ow)
                    let (r2, r3) = (rowBase + 2 * rowLength + y * ow, rowBase + 3 * rowLength + y * ow)
                    let iy = 2 * y - 1 + i
                    guard iy >= 0 && iy < h else {
                        r0.update(repeating: 0, count: ow)
                        r1.update(repeating: 0, count: ow)
                        r2.update(repeating: 0, count: ow)
                        r3.update(repeating: 0, count: ow)
                        continue
                    }
                    let source = image + iy * w
                    // Branch-free loops with a constant stride, so they vectorise (rows are short: 4–32).
                    for t in 0..<ow { r1[t] = source[2 * t] }
                    for t in 0..<ow { r2[t] = source[2 * t + 1] }
                    r0[0] = 0
                    for t in 1..<ow { r0[t] = source[2 * t - 1] }
                    for t in 0..<(ow - 1) { r3[t] = source[2 * t + 2] }
                    r3[ow - 1] = 0
                }
            }
        }
    }
}

/// The adjoint of `im2col`: x[n, c, ·, ·] = Σ of the column entries that read that pixel.
/// Overwrites x (batch × C × H × W).
func col2im(_ col: UnsafePointer<Float>, batch: Int, _ g: ConvGeometry, into x: UnsafeMutablePointer<Float>) {
    if g.kernel == 4 && g.stride == 2 && g.padding == 1 && g.height == 2 * g.outHeight && g.width == 2 * g.outWidth {
        return col2imKernel4Stride2(col, batch: batch, g, into: x)
    }
    let (k, s, p) = (g.kernel, g.stride, g.padding)
    let (h, w, oh, ow) = (g.height, g.width, g.outHeight, g.outWidth)
    let grid = oh * ow
    let rowLength = batch * grid
    // Each worker owns whole channels, so no two write the same pixel.
    Parallel.chunks(g.channels, cost: k * k * rowLength) { channels in
        for c in channels {
            for n in 0..<batch { (x + (n * g.channels + c) * h * w).update(repeating: 0, count: h * w) }
            for i in 0..<k {
                for j in 0..<k {
                    let row = (c * k + i) * k + j
                    let (owStart, owEnd) = g.insideColumns(j)
                    if owStart >= owEnd { continue }
                    for n in 0..<batch {
                        let plane = x + (n * g.channels + c) * h * w
                        var source = UnsafePointer(col + row * rowLength + n * grid)
                        for y in 0..<oh {
                            let iy = y * s - p + i
                            if iy >= 0 && iy < h {
                                let target = plane + iy * w - p + j
                                if s == 1 {
                                    for x in owStart..<owEnd { target[x] += source[x] }
                                } else {
                                    for x in owStart..<owEnd { target[x * s] += source[x] }
                                }
                            }
                            source += ow
                        }
                    }
                }
            }
        }
    }
}

/// `col2im` for DCGAN's 4×4, stride 2, padding 1 on even sizes (every up/down-sampling layer).
/// Image pixel (y, X) reads grid row (y + 1 − i)/2 and column (X + 1 − j)/2 where those are whole:
/// two kernel rows i and, per column parity, two kernel columns j. So each image row is one pass that
/// sums its four taps per pixel (even X = 2t: j = 1 at t, j = 3 at t − 1; odd X = 2t + 1: j = 2 at t,
/// j = 0 at t + 1), instead of sixteen strided read-modify-write sweeps.
private func col2imKernel4Stride2(_ col: UnsafePointer<Float>, batch: Int, _ g: ConvGeometry,
                                  into x: UnsafeMutablePointer<Float>) {
    let (h, w, oh, ow) = (g.height, g.width, g.outHeight, g.outWidth)
    let grid = oh * ow
    let rowLength = batch * grid
    Parallel.chunks(g.channels * batch, cost: 16 * grid) { planes in
        withUnsafeTemporaryAllocation(of: Float.self, capacity: ow) { zeroRow in
            let zeros = UnsafePointer(zeroRow.baseAddress!)
            zeroRow.baseAddress!.update(repeating: 0, count: ow)
            for plane in planes {
                let (c, n) = (plane / batch, plane % batch)
                let image = x + (n * g.channels + c) * h * w
                for y in 0..<h {
                    let firstTap = (y + 1) % 2
                    // The taps of kernel rows firstTap and firstTap + 2; a row outside the grid reads zeros.
                    func tapRow(_ i: Int, _ j: Int) -> UnsafePointer<Float> {
                        let gridRow = (y + 1 - i) / 2
                        guard y + 1 - i >= 0, gridRow < oh else { return zeros }
                        return col + ((c * 4 + i) * 4 + j) * rowLength + n * grid + gridRow * ow
                    }
                    let (a0, a1, a2, a3) = (tapRow(firstTap, 0), tapRow(firstTap, 1), tapRow(firstTap, 2), tapRow(firstTap, 3))
                    let (b0, b1, b2, b3) = (tapRow(firstTap + 2, 0), tapRow(firstTap + 2, 1),
                                            tapRow(firstTap + 2, 2), tapRow(firstTap + 2, 3))
                    let out = image + y * w
                    // The first and last t lack one neighbour tap each; the loop between is branch-free.
                    func edge(_ t: Int) {
                        out[2 * t] = a1[t] + b1[t] + (t > 0 ? a3[t - 1] + b3[t - 1] : 0)
                        out[2 * t + 1] = a2[t] + b2[t] + (t + 1 < ow ? a0[t + 1] + b0[t + 1] : 0)
                    }
                    edge(0)
                    if ow > 2 {
                        for t in 1..<(ow - 1) {
                            out[2 * t] = a1[t] + b1[t] + a3[t - 1] + b3[t - 1]
                            out[2 * t + 1] = a2[t] + b2[t] + a0[t + 1] + b0[t + 1]
                        }
                    }
                    if ow > 1 { edge(ow - 1) }
                }
            }
        }
    }
}

/// batch × C × L → C × (batch·L): puts the batch into the GEMM's column dimension.
func batchToColumns(_ x: UnsafePointer<Float>, batch: Int, channels: Int, grid: Int, into y: UnsafeMutablePointer<Float>) {
    Parallel.chunks(channels, cost: batch * grid) { range in
        for c in range {
            for n in 0..<batch {
                (y + c * batch * grid + n * grid).update(from: x + (n * channels + c) * grid, count: grid)
            }
        }
    }
}

/// C × (batch·L) → batch × C × L, adding `bias[c]` when given.
func columnsToBatch(_ x: UnsafePointer<Float>, batch: Int, channels: Int, grid: Int, bias: UnsafePointer<Float>?,
                    into y: UnsafeMutablePointer<Float>) {
    Parallel.chunks(channels, cost: batch * grid) { range in
        for c in range {
            let b = bias?[c] ?? 0
            for n in 0..<batch {
                let source = x + c * batch * grid + n * grid
                let target = y + (n * channels + c) * grid
                for i in 0..<grid { target[i] = source[i] + b }
            }
        }
    }
}

/// db[c] += Σ over n and the grid of dy[n, c, ·] (dy: batch × C × L).
func sumPerChannel(_ dy: UnsafePointer<Float>, batch: Int, channels: Int, grid: Int, into db: UnsafeMutablePointer<Float>) {
    for c in 0..<channels {
        var total: Float = 0
        for n in 0..<batch {
            let plane = dy + (n * channels + c) * grid
            for i in 0..<grid { total += plane[i] }
        }
        db[c] += total
    }
}
