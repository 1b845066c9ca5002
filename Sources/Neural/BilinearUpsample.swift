/// Bilinear upsampling by an integer factor, PyTorch's
/// `interpolate(x, scale_factor: s, mode: "bilinear", align_corners: false)`:
/// output pixel o reads source position (o + ½)/s − ½ (clamped at 0), blending its two neighbours
/// (the second clamped at the edge). x: N × C × H × W → N × C × sH × sW.
public final class BilinearUpsample: Layer {
    public let scale: Int
    private let output = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])
    private var inputShape: [Int] = []
    private var rows = BilinearTaps(source: 0, scale: 1), columns = BilinearTaps(source: 0, scale: 1)

    public init(scale: Int) {
        precondition(scale > 0)
        self.scale = scale
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.shape.count == 4, "BilinearUpsample got \(input.shape)")
        inputShape = input.shape
        let (planes, h, w) = (input.shape[0] * input.shape[1], input.shape[2], input.shape[3])
        if rows.source != h || rows.scale != scale { rows = BilinearTaps(source: h, scale: scale) }
        if columns.source != w || columns.scale != scale { columns = BilinearTaps(source: w, scale: scale) }
        output.resize(input.shape[0], input.shape[1], h * scale, w * scale)
        let (x, y, rows, columns) = (UnsafePointer(input.data), output.data, rows, columns)
        let (oh, ow) = (h * scale, w * scale)
        Parallel.chunks(planes, cost: 6 * oh * ow) { range in
            for p in range {
                let plane = x + p * h * w
                for oy in 0..<oh {
                    let (top, bottom) = (plane + rows.first[oy] * w, plane + rows.second[oy] * w)
                    let (wt, wb) = (rows.firstWeight[oy], rows.secondWeight[oy])
                    let target = y + (p * oh + oy) * ow
                    for ox in 0..<ow {
                        let (a, b) = (columns.first[ox], columns.second[ox])
                        let upper = wt * top[a] + wb * bottom[a], lower = wt * top[b] + wb * bottom[b]
                        target[ox] = columns.firstWeight[ox] * upper + columns.secondWeight[ox] * lower
                    }
                }
            }
        }
        return output
    }

    // dy: N × C × sH × sW → dx: N × C × H × W, every output pixel's gradient shared back onto its four sources
    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool, needsParameterGradients: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        let (planes, h, w) = (inputShape[0] * inputShape[1], inputShape[2], inputShape[3])
        let (oh, ow) = (h * scale, w * scale)
        precondition(outputGradient.count == planes * oh * ow, "BilinearUpsample backward: gradient \(outputGradient.shape)")
        inputGradient.resize(inputShape[0], inputShape[1], h, w)
        let (dy, dx, rows, columns) = (UnsafePointer(outputGradient.data), inputGradient.data, rows, columns)
        Parallel.chunks(planes, cost: 6 * oh * ow) { range in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: w) { scratch in
                let blended = scratch.baseAddress!
                for p in range {
                    let plane = dx + p * h * w
                    plane.update(repeating: 0, count: h * w)
                    for oy in 0..<oh {
                        // the row's gradient folded onto w source columns, then shared between two source rows
                        blended.update(repeating: 0, count: w)
                        let source = dy + (p * oh + oy) * ow
                        for ox in 0..<ow {
                            blended[columns.first[ox]] += columns.firstWeight[ox] * source[ox]
                            blended[columns.second[ox]] += columns.secondWeight[ox] * source[ox]
                        }
                        let (top, bottom) = (plane + rows.first[oy] * w, plane + rows.second[oy] * w)
                        let (wt, wb) = (rows.firstWeight[oy], rows.secondWeight[oy])
                        for i in 0..<w {
                            top[i] += wt * blended[i]
                            bottom[i] += wb * blended[i]
                        }
                    }
                }
            }
        }
        return inputGradient
    }
}

/// For each of `source · scale` output positions along one axis: its two source indices and their weights.
private struct BilinearTaps {
    let source, scale: Int
    let first, second: [Int]
    let firstWeight, secondWeight: [Float]

    init(source: Int, scale: Int) {
        (self.source, self.scale) = (source, scale)
        var (first, second, firstWeight, secondWeight) = ([Int](), [Int](), [Float](), [Float]())
        for o in 0..<(source * scale) {
            // PyTorch computes the position in float32 with the ratio 1/scale
            let position = max(0, (Float(o) + 0.5) / Float(scale) - 0.5)
            let lower = min(Int(position), max(0, source - 1))
            let fraction = position - Float(lower)
            first.append(lower)
            second.append(min(lower + 1, max(0, source - 1)))
            firstWeight.append(1 - fraction)
            secondWeight.append(fraction)
        }
        (self.first, self.second, self.firstWeight, self.secondWeight) = (first, second, firstWeight, secondWeight)
    }
}
