/// Element-wise arithmetic the hand-written blocks need (skip connections, excitation gates, crops).
/// Loops are plain and branch-free so they vectorise; large ones are split over the workers.
extension Tensor {
    /// self += other (equal element counts).
    public func add(_ other: Tensor) {
        add(other, scaledBy: 1)
    }

    /// self += s · other (equal element counts).
    public func add(_ other: Tensor, scaledBy s: Float) {
        precondition(other.count == count, "add: \(other.shape) to \(shape)")
        let (x, y) = (UnsafePointer(other.data), data)
        Parallel.chunks(count, cost: 2) { range in
            for i in range { y[i] += s * x[i] }
        }
    }

    /// self = a + b, resized to a's shape (b must have as many elements).
    public func add(_ a: Tensor, _ b: Tensor) {
        precondition(a.count == b.count, "add: \(a.shape) + \(b.shape)")
        resize(like: a)
        let (x, z, y) = (UnsafePointer(a.data), UnsafePointer(b.data), data)
        Parallel.chunks(count, cost: 2) { range in
            for i in range { y[i] = x[i] + z[i] }
        }
    }

    /// self *= s.
    public func scale(by s: Float) {
        let y = data
        Parallel.chunks(count, cost: 1) { range in
            for i in range { y[i] *= s }
        }
    }

    // a: N × C × H × W, gate: N × C × 1 × 1 → self = a ⊙ gate (the gate broadcast over H × W): N × C × H × W
    public func multiply(_ a: Tensor, byChannelGate gate: Tensor) {
        precondition(a.shape.count == 4 && gate.count == a.shape[0] * a.shape[1], "channel gate \(gate.shape) for \(a.shape)")
        resize(like: a)
        let grid = a.shape[2] * a.shape[3]
        let (x, g, y) = (UnsafePointer(a.data), UnsafePointer(gate.data), data)
        Parallel.chunks(gate.count, cost: grid) { planes in
            for plane in planes {
                let (source, target, factor) = (x + plane * grid, y + plane * grid, g[plane])
                for i in 0..<grid { target[i] = source[i] * factor }
            }
        }
    }

    /// Gradients of y = a ⊙ gate (see `multiply(_:byChannelGate:)`): da = dy ⊙ gate (N × C × H × W) and
    /// dgate[n, c] = Σ over H × W of dy ⊙ a (N × C × 1 × 1). Writes both (no accumulation), resizing them.
    public static func channelGateGradients(outputGradient dy: Tensor, input a: Tensor, gate: Tensor,
                                            inputGradient: Tensor, gateGradient: Tensor) {
        precondition(a.shape.count == 4 && dy.count == a.count && gate.count == a.shape[0] * a.shape[1],
                     "channel gate gradients: dy \(dy.shape), input \(a.shape), gate \(gate.shape)")
        inputGradient.resize(like: a)
        gateGradient.resize(a.shape[0], a.shape[1], 1, 1)
        let grid = a.shape[2] * a.shape[3]
        let (dyData, x, g) = (UnsafePointer(dy.data), UnsafePointer(a.data), UnsafePointer(gate.data))
        let (dx, dg) = (inputGradient.data, gateGradient.data)
        Parallel.chunks(gate.count, cost: 2 * grid) { planes in
            for plane in planes {
                let (gradient, source, target) = (dyData + plane * grid, x + plane * grid, dx + plane * grid)
                let factor = g[plane]
                for i in 0..<grid { target[i] = gradient[i] * factor }
                dg[plane] = dot(gradient, source, grid)
            }
        }
    }

    // source: N × C × H × W → self = source[:, :, top ..< top + height, left ..< left + width]: N × C × height × width
    public func crop(_ source: Tensor, top: Int, left: Int, height: Int, width: Int) {
        precondition(source.shape.count == 4 && top >= 0 && left >= 0 && height >= 0 && width >= 0
                     && top + height <= source.shape[2] && left + width <= source.shape[3],
                     "crop \(height)×\(width) at (\(top), \(left)) of \(source.shape)")
        let (planes, h, w) = (source.shape[0] * source.shape[1], source.shape[2], source.shape[3])
        resize(source.shape[0], source.shape[1], height, width)
        let (x, y) = (UnsafePointer(source.data), data)
        Parallel.chunks(planes, cost: height * width) { range in
            for plane in range {
                for row in 0..<height {
                    (y + (plane * height + row) * width).update(from: x + plane * h * w + (top + row) * w + left, count: width)
                }
            }
        }
    }

    // gradient: N × C × h × w → self[:, :, top ..< top + h, left ..< left + w] += gradient (the adjoint of crop;
    // self keeps its shape)
    public func addUncropped(_ gradient: Tensor, top: Int, left: Int) {
        precondition(shape.count == 4 && gradient.shape.count == 4 && gradient.shape[0] == shape[0]
                     && gradient.shape[1] == shape[1] && top >= 0 && left >= 0
                     && top + gradient.shape[2] <= shape[2] && left + gradient.shape[3] <= shape[3],
                     "addUncropped: \(gradient.shape) at (\(top), \(left)) into \(shape)")
        let (planes, h, w) = (shape[0] * shape[1], shape[2], shape[3])
        let (height, width) = (gradient.shape[2], gradient.shape[3])
        let (x, y) = (UnsafePointer(gradient.data), data)
        Parallel.chunks(planes, cost: height * width) { range in
            for plane in range {
                for row in 0..<height {
                    let (source, target) = (x + (plane * height + row) * width, y + plane * h * w + (top + row) * w + left)
                    for i in 0..<width { target[i] += source[i] }
                }
            }
        }
    }

    /// Channel `channel` of self (N × C × H × W) = source (N × 1 × H × W): stacks per-scale maps.
    public func setChannel(_ channel: Int, from source: Tensor) {
        let (n, channels, plane) = (shape[0], shape[1], shape[2] * shape[3])
        precondition(shape.count == 4 && channel < channels && source.count == n * plane, "setChannel: \(source.shape) into \(shape)")
        for sample in 0..<n { (data + (sample * channels + channel) * plane).update(from: source.data + sample * plane, count: plane) }
    }

    /// self = channel `channel` of source (N × C × H × W), as N × 1 × H × W.
    public func takeChannel(_ channel: Int, of source: Tensor) {
        let s = source.shape
        precondition(s.count == 4 && channel < s[1], "takeChannel \(channel) of \(s)")
        let plane = s[2] * s[3]
        resize(s[0], 1, s[2], s[3])
        for sample in 0..<s[0] { (data + sample * plane).update(from: source.data + (sample * s[1] + channel) * plane, count: plane) }
    }

    /// Takes `other`'s shape, through the allocation-free 4-D resize when it is 4-D.
    func resize(like other: Tensor) {
        let s = other.shape
        if s.count == 4 {
            resize(s[0], s[1], s[2], s[3])
        } else if shape != s {
            resize(to: s)
        }
    }
}

/// Σ a[i]·b[i] with eight partial sums, so the loop vectorises (a single float sum must keep its order).
@inline(__always)
func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
    sumOf(count) { a[$0] * b[$0] }
}

/// Σ term(i) for i in 0..<count, with eight partial sums so the loop vectorises.
@inline(__always)
func sumOf(_ count: Int, _ term: (Int) -> Float) -> Float {
    var partial: SIMD8<Float> = .zero
    let whole = count & ~7
    var i = 0
    while i < whole {
        partial += SIMD8(term(i), term(i + 1), term(i + 2), term(i + 3), term(i + 4), term(i + 5), term(i + 6), term(i + 7))
        i += 8
    }
    var total = partial.sum()
    while i < count {
        total += term(i)
        i += 1
    }
    return total
}
