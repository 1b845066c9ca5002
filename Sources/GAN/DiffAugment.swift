import Neural

/// Which DiffAugment transforms to apply (Zhao et al., "Differentiable Augmentation for
/// Data-Efficient GAN Training"): the same random transform family on real and fake images, with
/// gradients flowing through it to G.
public struct AugmentPolicy: OptionSet, Codable, Hashable, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Brightness (+U[−0.5, 0.5)), saturation (×U[0, 2) around the pixel's channel mean),
    /// contrast (×U[0.5, 1.5) around the image mean).
    public static let color = AugmentPolicy(rawValue: 1)
    /// Shift by whole pixels, up to 1/8 of the size each way, zeros shifted in.
    public static let translation = AugmentPolicy(rawValue: 2)
    /// Zero a square of half the size at a random centre (clipped at the border).
    public static let cutout = AugmentPolicy(rawValue: 4)

    public static let all: AugmentPolicy = [.color, .translation, .cutout]
    public static let none: AugmentPolicy = []
}

/// DiffAugment on a batch N × C × H × W, per-sample random choices from the engine RNG, drawn
/// in this order: brightness, saturation, contrast for every sample, then row and column shifts,
/// then cutout row and column centres. `backward` is the exact adjoint of the last `forward`
/// (all three transforms are linear in the pixels once the random choices are fixed).
public final class DiffAugment {
    public let policy: AugmentPolicy
    private var brightness: [Float] = [], saturation: [Float] = [], contrast: [Float] = []
    private var shiftRows: [Int] = [], shiftColumns: [Int] = []
    private var cutoutRows: [Int] = [], cutoutColumns: [Int] = []
    private var shape: (n: Int, c: Int, h: Int, w: Int) = (0, 0, 0, 0)
    private let output = Tensor(shape: [0])
    private let scratch = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])

    public init(policy: AugmentPolicy = .all) { self.policy = policy }

    public func forward(_ input: Tensor, rng: inout RNG) -> Tensor {
        precondition(input.shape.count == 4, "DiffAugment got \(input.shape)")
        let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        shape = (n, c, h, w)
        drawChoices(&rng)
        output.resize(n, c, h, w)
        output.data.update(from: input.data, count: input.count)
        if policy.contains(.color) { applyColor(output, adjoint: false) }
        if policy.contains(.translation) {
            scratch.resize(n, c, h, w)
            translate(output, into: scratch, sign: 1)
            output.data.update(from: scratch.data, count: output.count)
        }
        if policy.contains(.cutout) { applyCutout(output) }
        return output
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let (n, c, h, w) = shape
        precondition(outputGradient.count == n * c * h * w, "DiffAugment backward: gradient \(outputGradient.shape)")
        inputGradient.resize(n, c, h, w)
        inputGradient.data.update(from: outputGradient.data, count: outputGradient.count)
        if policy.contains(.cutout) { applyCutout(inputGradient) }
        if policy.contains(.translation) {
            scratch.resize(n, c, h, w)
            translate(inputGradient, into: scratch, sign: -1)
            inputGradient.data.update(from: scratch.data, count: inputGradient.count)
        }
        if policy.contains(.color) { applyColor(inputGradient, adjoint: true) }
        return inputGradient
    }

    private func drawChoices(_ rng: inout RNG) {
        let (n, _, h, w) = shape
        func fresh<T: Numeric>(_ array: inout [T]) {
            if array.count != n { array = Array(repeating: 0, count: n) }
        }
        if policy.contains(.color) {
            fresh(&brightness); fresh(&saturation); fresh(&contrast)
            for i in 0..<n { brightness[i] = rng.uniform() - 0.5 }
            for i in 0..<n { saturation[i] = rng.uniform() * 2 }
            for i in 0..<n { contrast[i] = rng.uniform() + 0.5 }
        }
        if policy.contains(.translation) {
            fresh(&shiftRows); fresh(&shiftColumns)
            let (maxRows, maxColumns) = (Int(Float(h) * 0.125 + 0.5), Int(Float(w) * 0.125 + 0.5))
            for i in 0..<n { shiftRows[i] = rng.integer(below: 2 * maxRows + 1) - maxRows }
            for i in 0..<n { shiftColumns[i] = rng.integer(below: 2 * maxColumns + 1) - maxColumns }
        }
        if policy.contains(.cutout) {
            fresh(&cutoutRows); fresh(&cutoutColumns)
            let (sizeH, sizeW) = cutoutSize
            for i in 0..<n { cutoutRows[i] = rng.integer(below: h + 1 - sizeH % 2) }
            for i in 0..<n { cutoutColumns[i] = rng.integer(below: w + 1 - sizeW % 2) }
        }
    }

    private var cutoutSize: (Int, Int) { (Int(Float(shape.h) * 0.5 + 0.5), Int(Float(shape.w) * 0.5 + 0.5)) }

    /// Brightness, saturation, contrast; or, with `adjoint`, their transposes in reverse order:
    /// for y = s·(x − mean x) + mean x the adjoint is s·g + (1 − s)·mean g.
    private func applyColor(_ t: Tensor, adjoint: Bool) {
        let (n, c, h, w) = shape
        let grid = h * w
        let data = t.data
        Parallel.chunks(n, cost: 8 * c * grid) { samples in
            for sample in samples {
                let image = data + sample * c * grid
                func contrastStep() {
                    var total: Double = 0
                    for i in 0..<(c * grid) { total += Double(image[i]) }
                    let mean = Float(total / Double(c * grid))
                    let factor = contrast[sample]
                    for i in 0..<(c * grid) { image[i] = (image[i] - mean) * factor + mean }
                }
                func saturationStep() {
                    let factor = saturation[sample]
                    for p in 0..<grid {
                        var total: Float = 0
                        for channel in 0..<c { total += image[channel * grid + p] }
                        let mean = total / Float(c)
                        for channel in 0..<c { image[channel * grid + p] = (image[channel * grid + p] - mean) * factor + mean }
                    }
                }
                if adjoint {
                    contrastStep(); saturationStep()   // brightness adds a constant: its adjoint is the identity
                } else {
                    let shift = brightness[sample]
                    for i in 0..<(c * grid) { image[i] += shift }
                    saturationStep(); contrastStep()
                }
            }
        }
    }

    /// sign +1: y[i, j] = x[i + dy, j + dx] (zero outside); sign −1: the adjoint, x[i, j] = g[i − dy, j − dx].
    private func translate(_ source: Tensor, into target: Tensor, sign: Int) {
        let (n, c, h, w) = shape
        Parallel.chunks(n, cost: 2 * c * h * w) { samples in
            for sample in samples {
                let (dy, dx) = (sign * shiftRows[sample], sign * shiftColumns[sample])
                for channel in 0..<c {
                    let offset = (sample * c + channel) * h * w
                    let (from, to) = (source.data + offset, target.data + offset)
                    // Columns j with j + dx inside the image: [first, end).
                    let (first, end) = (min(w, max(0, -dx)), max(0, min(w, w - dx)))
                    for i in 0..<h {
                        let row = to + i * w
                        let si = i + dy
                        guard si >= 0 && si < h && first < end else {
                            row.update(repeating: 0, count: w)
                            continue
                        }
                        row.update(repeating: 0, count: first)
                        (row + first).update(from: from + si * w + first + dx, count: end - first)
                        (row + end).update(repeating: 0, count: w - end)
                    }
                }
            }
        }
    }

    /// Zeroes each sample's square (its own adjoint).
    private func applyCutout(_ t: Tensor) {
        let (n, c, h, w) = shape
        let (sizeH, sizeW) = cutoutSize
        Parallel.chunks(n, cost: c * h * w / 4) { samples in
            for sample in samples {
                let rows = max(0, cutoutRows[sample] - sizeH / 2)..<min(h, cutoutRows[sample] - sizeH / 2 + sizeH)
                let columns = max(0, cutoutColumns[sample] - sizeW / 2)..<min(w, cutoutColumns[sample] - sizeW / 2 + sizeW)
                for channel in 0..<c {
                    let plane = t.data + (sample * c + channel) * h * w
                    for i in rows { (plane + i * w + columns.lowerBound).update(repeating: 0, count: columns.count) }
                }
            }
        }
    }
}
