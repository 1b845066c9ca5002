import Foundation

/// The taps of a 1-D resampling filter: for output sample i, inputs `first[i] ..< first[i] + count[i]`
/// weighted by `weights[offset[i] ...]`, the weights summing to one.
struct ResamplingTaps {
    var first: [Int] = []
    var count: [Int] = []
    var offset: [Int] = []
    var weights: [Float] = []

    /// Lanczos-3 taps mapping `inputSize` samples onto `outputSize`. When shrinking, the kernel is
    /// stretched by the ratio so every input sample contributes (that is what makes it antialiased).
    init(lanczos3From inputSize: Int, to outputSize: Int) {
        let ratio = Double(inputSize) / Double(outputSize)
        let stretch = max(ratio, 1)
        let support = 3 * stretch
        for i in 0..<outputSize {
            let centre = (Double(i) + 0.5) * ratio
            let lo = max(0, Int((centre - support).rounded(.down)))
            let hi = min(inputSize, Int((centre + support).rounded(.up)))
            var taps = [Double]()
            for j in lo..<hi {
                taps.append(Self.lanczos3((Double(j) + 0.5 - centre) / stretch))
            }
            let total = taps.reduce(0, +)
            first.append(lo)
            count.append(taps.count)
            offset.append(weights.count)
            // Normalising keeps a flat area flat even where the kernel is cut at the border.
            weights.append(contentsOf: taps.map { Float($0 / total) })
        }
    }

    static func lanczos3(_ x: Double) -> Double {
        if x == 0 { return 1 }
        guard abs(x) < 3 else { return 0 }
        let px = Double.pi * x
        return 3 * sin(px) * sin(px / 3) / (px * px)
    }
}

extension Image {
    /// The picture resampled to `newWidth` x `newHeight` with a separable Lanczos-3 filter,
    /// antialiased when shrinking; any ratio, either direction, any channel count.
    public func resized(width newWidth: Int, height newHeight: Int) -> Image {
        precondition(newWidth > 0 && newHeight > 0, "resize to an empty image")
        if newWidth == width && newHeight == height { return self }
        let horizontal = ResamplingTaps(lanczos3From: width, to: newWidth)
        let vertical = ResamplingTaps(lanczos3From: height, to: newHeight)
        let ch = channels
        // Columns first: whole rows are weighted and summed, a contiguous loop the compiler
        // vectorises, and it leaves only `newHeight` rows for the strided horizontal pass.
        let rowLength = width * ch
        var middle = [Float](repeating: 0, count: newHeight * rowLength)
        pixels.withUnsafeBufferPointer { source in
            middle.withUnsafeMutableBufferPointer { target in
                vertical.weights.withUnsafeBufferPointer { weights in
                    for y in 0..<newHeight {
                        let first = vertical.first[y], taps = vertical.count[y], w0 = vertical.offset[y]
                        let out = target.baseAddress! + y * rowLength
                        for t in 0..<taps {
                            let weight = weights[w0 + t]
                            let row = source.baseAddress! + (first + t) * rowLength
                            for i in 0..<rowLength { out[i] += weight * Float(row[i]) }
                        }
                    }
                }
            }
        }
        // Then rows, rounded and clamped back to bytes.
        var out = [UInt8](repeating: 0, count: newHeight * newWidth * ch)
        middle.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                horizontal.weights.withUnsafeBufferPointer { weights in
                    for y in 0..<newHeight {
                        let sourceRow = source.baseAddress! + y * rowLength
                        let targetRow = target.baseAddress! + y * newWidth * ch
                        for x in 0..<newWidth {
                            let first = horizontal.first[x], taps = horizontal.count[x], w0 = horizontal.offset[x]
                            for c in 0..<ch {
                                var sum: Float = 0
                                var at = sourceRow + first * ch + c
                                for t in 0..<taps {
                                    sum += weights[w0 + t] * at.pointee
                                    at += ch
                                }
                                targetRow[x * ch + c] = UInt8(min(max(sum.rounded(), 0), 255))
                            }
                        }
                    }
                }
            }
        }
        return Image(width: newWidth, height: newHeight, channels: ch, pixels: out)
    }
}
