import CDirectConvolution

/// The copies of the direct kernels (Sources/CDirectConvolution): the same loops compiled for three
/// instruction sets, the best one the CPU has chosen at load time.
public enum DirectKernels: Int, CaseIterable, Sendable {
    /// Plain C for the baseline target (any CPU).
    case baseline
    /// AVX2 + FMA: vectors of 8 in 16 registers.
    case avx2
    /// AVX-512VL: vectors of 8 in 32 registers (the sums never spill).
    case avx512
}

/// Direct convolution for FastGAN's dense layers: 3 × 3 at stride 1, padding 1 (the up-sampling blocks,
/// D's 3 × 3 layers) and 4 × 4 at stride 2, padding 1 (D's down-sampling), on outputs whose width is a
/// multiple of 8. These layers are narrow (8–128 channels) on maps up to 64 × 64, where im2col writes
/// nine or sixteen copies of the input and OpenBLAS packs them once more before a GEMM with only 8–128
/// rows: the work is then bound by that memory traffic. These kernels read a zero-bordered copy of the
/// input instead (one pass) and hold eight output channels × eight (or sixteen) pixels in registers, so
/// each input load feeds eight multiply-adds.
///
/// One forward kernel serves all: y[row, x] = Σ over channels and taps of w · image[row · rowLength + x
/// + tap offset]. 3 × 3: the padded input, nine taps. 4 × 4 / 2: the padded input cut into its four
/// (row, column) parity phases (space-to-depth: 4·C channels at half the size), then a 2 × 2 convolution,
/// four taps. Input gradients: 3 × 3 is the same kernel on the padded output gradient with the filters
/// transposed and turned by 180°; 4 × 4 / 2 gives each parity phase of dx a 2 × 2 convolution of the
/// padded output gradient with four of the sixteen taps. The 3 × 3 weight gradient keeps the sums of
/// four output channels × one kernel row in registers over the whole batch.
enum DirectConvolution {
    enum Shape { case kernel3, kernel4Stride2 }

    /// The shape of direct kernel that takes this convolution, if any.
    static func shape(of g: ConvGeometry, groups: Int) -> Shape? {
        guard groups == 1 && g.padding == 1 && g.outWidth % 8 == 0 && g.outHeight > 0 else { return nil }
        if g.kernel == 3 && g.stride == 1 && ConvolutionTuning.direct3x3 { return .kernel3 }
        // Fewer than 8 input channels (D's stem on RGB) would leave most of the input gradient's block of
        // 8 channels empty: im2col + GEMM measured faster there.
        if g.kernel == 4 && g.stride == 2 && g.height % 2 == 0 && g.width % 2 == 0 && g.channels >= Int(MDC_BLOCK)
            && ConvolutionTuning.direct4x4Stride2 {
            return .kernel4Stride2
        }
        return nil
    }

    static var kernels: DirectKernels {
        get { DirectKernels(rawValue: Int(mdc_instruction_set())) ?? .baseline }
        set { mdc_use_instruction_set(Int32(newValue.rawValue)) }
    }

    static var supportedKernels: [DirectKernels] {
        DirectKernels.allCases.filter { $0.rawValue <= Int(mdc_supported_instruction_set()) }
    }

    /// Blocks of `MDC_BLOCK` output channels.
    static func blocks(_ channels: Int) -> Int { (channels + Int(MDC_BLOCK) - 1) / Int(MDC_BLOCK) }

    /// Floats of packed weights for `targets` output channels over `sources` input channels and `taps` taps.
    static func packedCount(targets: Int, sources: Int, taps: Int) -> Int { blocks(targets) * sources * taps * Int(MDC_BLOCK) }

    /// packed[b][s][t][o] = weight(b·8 + o, s, t), zero past `targets`: the kernel's layout.
    static func pack(targets: Int, sources: Int, taps: Int, into packed: UnsafeMutablePointer<Float>,
                     _ weight: (_ target: Int, _ source: Int, _ tap: Int) -> Float) {
        let block = Int(MDC_BLOCK)
        for b in 0..<blocks(targets) {
            for s in 0..<sources {
                for t in 0..<taps {
                    let row = packed + ((b * sources + s) * taps + t) * block
                    for o in 0..<block { row[o] = b * block + o < targets ? weight(b * block + o, s, t) : 0 }
                }
            }
        }
    }

    // x: batch × C × H × W → padded: batch × C × (sH + 2) × (sW + 2), x up-sampled by s (nearest; 1: as it is)
    // with a zero border of one pixel
    static func pad(_ x: UnsafePointer<Float>, batch: Int, channels: Int, height: Int, width: Int, upsampling s: Int = 1,
                    into padded: UnsafeMutablePointer<Float>) {
        let (outHeight, outWidth) = (height * s, width * s)
        let (rowLength, plane) = (outWidth + 2, (outHeight + 2) * (outWidth + 2))
        Parallel.chunks(batch * channels, cost: plane) { planes in
            for p in planes {
                let (source, target) = (x + p * height * width, padded + p * plane)
                target.update(repeating: 0, count: rowLength)
                for row in 0..<outHeight {
                    let line = target + (row + 1) * rowLength
                    line[0] = 0
                    if s == 1 {
                        (line + 1).update(from: source + row * width, count: width)
                    } else if row % s == 0 {
                        let sourceRow = source + row / s * width
                        for column in 0..<width {
                            let value = sourceRow[column]
                            for copy in 0..<s { line[1 + column * s + copy] = value }
                        }
                    } else {
                        (line + 1).update(from: line + 1 - rowLength, count: outWidth)   // the row above, already up-sampled
                    }
                    line[outWidth + 1] = 0
                }
                (target + (outHeight + 1) * rowLength).update(repeating: 0, count: rowLength)
            }
        }
    }

    // x: batch × C × H × W (H, W even) → phases: batch × 4C × (H/2 + 1) × (W/2 + 1),
    // phases[n, 4c + 2py + px, r, j] = x padded by one pixel at (2r + py, 2j + px)
    static func spaceToDepth(_ x: UnsafePointer<Float>, batch: Int, channels: Int, height: Int, width: Int,
                             into phases: UnsafeMutablePointer<Float>) {
        let (rows, columns) = (height / 2 + 1, width / 2 + 1)
        Parallel.chunks(batch * channels, cost: 4 * rows * columns) { planes in
            for p in planes {
                let source = x + p * height * width
                for phase in 0..<4 {
                    let (py, px) = (phase / 2, phase % 2)
                    let target = phases + (p * 4 + phase) * rows * columns
                    for r in 0..<rows {
                        let y = 2 * r + py - 1
                        let line = target + r * columns
                        guard y >= 0 && y < height else { line.update(repeating: 0, count: columns); continue }
                        for j in 0..<columns {
                            let column = 2 * j + px - 1
                            line[j] = column >= 0 && column < width ? source[y * width + column] : 0
                        }
                    }
                }
            }
        }
    }

    // phases: 4 × batch × C × Ho × Wo (phase 2py + px) → dx: batch × C × 2Ho × 2Wo, dx[.., 2m + py, 2j + px]
    static func interleave(_ phases: UnsafePointer<Float>, batch: Int, channels: Int, height: Int, width: Int,
                           into dx: UnsafeMutablePointer<Float>) {
        let (phaseSize, grid) = (batch * channels * height * width, height * width)
        Parallel.chunks(batch * channels, cost: 4 * grid) { planes in
            for p in planes {
                let target = dx + p * 4 * grid
                for phase in 0..<4 {
                    let (py, px) = (phase / 2, phase % 2)
                    let source = phases + phase * phaseSize + p * grid
                    for m in 0..<height {
                        let line = target + (2 * m + py) * 2 * width + px
                        for j in 0..<width { line[2 * j] = source[m * width + j] }
                    }
                }
            }
        }
    }

    /// y = the kernel over `image` (batch × channels × plane) into batch × out × height × width, with the
    /// side² taps of a side × side window whose first tap is at (rowBase, columnBase) from the output pixel.
    static func convolve(_ image: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int, rowLength: Int,
                         side: Int, rowBase: Int = 0, columnBase: Int = 0, height: Int, width: Int,
                         packed: UnsafePointer<Float>, out: Int, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>) {
        let taps = side * side
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: taps) { offsets in
            for t in 0..<taps { offsets[t] = Int32((rowBase + t / side) * rowLength + columnBase + t % side) }
            let offsetList = UnsafePointer(offsets.baseAddress!)
            let blockCount = blocks(out)
            Parallel.chunks(batch * blockCount, cost: taps * channels * Int(MDC_BLOCK) * height * width) { tasks in
                for task in tasks {
                    mdc_convolve(image, Int32(channels), Int32(plane), Int32(rowLength), Int32(taps), offsetList,
                                 Int32(height), Int32(width), packed, Int32(out), bias, Int32(task / blockCount),
                                 Int32(task % blockCount), y)
                }
            }
        }
    }

    // padded x: batch × C × (H + 2) × (W + 2), dy: batch × out × H × W → dw (out × C × 3 × 3) +=
    static func weightGradient(_ padded: UnsafePointer<Float>, batch: Int, channels: Int, height: Int, width: Int,
                               outputGradient dy: UnsafePointer<Float>, out: Int, into dw: UnsafeMutablePointer<Float>) {
        // Each worker owns whole output channels: every sum runs in one fixed order.
        Parallel.chunks(out, cost: 9 * channels * batch * height * width) { range in
            mdc_conv3x3_weight_gradient(padded, Int32(channels), Int32(height), Int32(width), dy, Int32(out), Int32(batch),
                                        Int32(range.lowerBound), Int32(range.upperBound), dw)
        }
    }
}
