import CDirectConvolution

/// Direct 3 × 3 convolution at stride 1, padding 1 (FastGAN's up-sampling blocks, D's 3 × 3 layers),
/// for widths that are a multiple of 8. Its layers are narrow (8–128 channels) on maps up to 64 × 64,
/// where im2col writes nine copies of the input and OpenBLAS packs them once more before a GEMM with
/// only 8–128 rows: the work is then bound by that memory traffic. These kernels read a zero-bordered
/// copy of the input instead (one pass), and hold eight output channels × eight pixels in registers,
/// so each input load feeds eight multiply-adds. The C kernels (Sources/CDirectConvolution) use AVX2 +
/// FMA where the CPU has them. The input gradient is the same kernel on the padded output gradient with
/// the filters transposed and turned by 180°; the weight gradient keeps the nine taps' sums of one
/// (output, input) channel pair in registers over the whole batch.
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

enum DirectConvolution {
    static func applies(to g: ConvGeometry, groups: Int) -> Bool {
        groups == 1 && g.kernel == 3 && g.stride == 1 && g.padding == 1 && g.width % 8 == 0 && g.height > 0
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

    /// Floats of the packed weights for `out` output channels over `channels` input channels.
    static func packedCount(out: Int, channels: Int) -> Int { blocks(out) * channels * 9 * Int(MDC_BLOCK) }

    // x: batch × C × H × W → padded: batch × C × (H + 2) × (W + 2), a zero border of one pixel
    static func pad(_ x: UnsafePointer<Float>, batch: Int, channels: Int, height: Int, width: Int,
                    into padded: UnsafeMutablePointer<Float>) {
        let (rowLength, plane) = (width + 2, (height + 2) * (width + 2))
        Parallel.chunks(batch * channels, cost: plane) { planes in
            for p in planes {
                let (source, target) = (x + p * height * width, padded + p * plane)
                target.update(repeating: 0, count: rowLength)
                for row in 0..<height {
                    let line = target + (row + 1) * rowLength
                    line[0] = 0
                    (line + 1).update(from: source + row * width, count: width)
                    line[width + 1] = 0
                }
                (target + (height + 1) * rowLength).update(repeating: 0, count: rowLength)
            }
        }
    }

    /// packed[b][c][tap][o] = w[b·8 + o][c][tap] (zero past the last output channel), for the forward;
    /// `forInputGradient`: w[c][b·8 + o][8 − tap] with the roles of the channels swapped (the filters
    /// transposed and turned by 180°). weight: out × in × 3 × 3.
    static func pack(_ weight: UnsafePointer<Float>, out: Int, in inChannels: Int, forInputGradient: Bool,
                     into packed: UnsafeMutablePointer<Float>) {
        let block = Int(MDC_BLOCK)
        let (targets, sources) = forInputGradient ? (inChannels, out) : (out, inChannels)
        for b in 0..<blocks(targets) {
            for c in 0..<sources {
                for tap in 0..<9 {
                    let row = packed + ((b * sources + c) * 9 + tap) * block
                    for o in 0..<block {
                        let target = b * block + o
                        guard target < targets else { row[o] = 0; continue }
                        row[o] = forInputGradient ? weight[(c * inChannels + target) * 9 + 8 - tap]
                            : weight[(target * inChannels + c) * 9 + tap]
                    }
                }
            }
        }
    }

    // padded: batch × C × (H + 2) × (W + 2) → y: batch × out × H × W (+ bias)
    static func forward(_ padded: UnsafePointer<Float>, batch: Int, channels: Int, height: Int, width: Int,
                        packed: UnsafePointer<Float>, out: Int, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>) {
        let blockCount = blocks(out)
        Parallel.chunks(batch * blockCount, cost: 9 * channels * Int(MDC_BLOCK) * height * width) { tasks in
            for task in tasks {
                mdc_conv3x3_forward(padded, Int32(channels), Int32(height), Int32(width), packed, Int32(out), bias,
                                    Int32(task / blockCount), Int32(task % blockCount), y)
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
