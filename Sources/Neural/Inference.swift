/// A layer that is, in eval mode, a per-channel affine map y = scale[c] · x + shift[c]: BatchNorm2d with its
/// running statistics, noise injection (which passes x through). A convolution before it in a stack applies
/// the map in the pass that writes its own output when the stack runs `infer` (see `ChannelAffineFusing`).
public protocol ChannelAffineInEval: Layer {
    /// Composes this layer's eval map after (scale, shift) over `channels` channels:
    /// scale ← s · scale, shift ← s · shift + t.
    func composeEvalMap(scale: UnsafeMutablePointer<Float>, shift: UnsafeMutablePointer<Float>, channels: Int)
}

/// A layer whose eval forward can also do, in the passes it makes anyway, what the layers around it in a
/// stack would do in passes of their own: a nearest up-sampling of its input (an `Upsample` before it) and a
/// per-channel affine map of its output (the `ChannelAffineInEval` layers after it). Only `infer` fuses, so
/// the layers it stands for keep their own forward and backward for training.
public protocol ChannelAffineFusing: Layer {
    /// Whether `infer(_:upsampling:outputScale:outputShift:)` can run now (spectral norm can wrap a layer
    /// that cannot).
    var fusesInEval: Bool { get }
    /// Whether it takes an up-sampled input (false: `upsampling` is always 1).
    var fusesUpsampling: Bool { get }
    /// The channels of its output, which the affine map covers.
    var outputChannels: Int { get }
    // x: N × C × H × W → y = scale[o] · layer(upsample_s(x))[o] + shift[o]: N × out × Ho × Wo (of the up-sampled
    // input sH × sW), eval, no backward after it
    func infer(_ input: Tensor, upsampling: Int, outputScale: UnsafePointer<Float>, outputShift: UnsafePointer<Float>) -> Tensor
}

/// One step of `Sequential.infer`: one layer's `infer`, or a fused run of layers — [Upsample] → a
/// `ChannelAffineFusing` layer → the `ChannelAffineInEval` layers after it — in one call of the fusing layer.
struct InferenceStep {
    /// The stack's layers this step stands for.
    let layers: Range<Int>
    let fusing: ChannelAffineFusing?
    let upsampling: Int
    let followers: [ChannelAffineInEval]

    /// The steps for `layers`, fusing only where no map inside a run is tapped (`tapped(k)`: map k, the input of
    /// layer k, is a tap).
    static func plan(_ layers: [Layer], tapped: (Int) -> Bool) -> [InferenceStep] {
        var steps: [InferenceStep] = []
        var index = 0
        while index < layers.count {
            var start = index, upsampling = 1
            if let upsample = layers[index] as? Upsample, index + 1 < layers.count, !tapped(index + 1),
               let next = layers[index + 1] as? ChannelAffineFusing, next.fusesInEval, next.fusesUpsampling {
                (start, upsampling) = (index + 1, upsample.scale)
            }
            guard let fusing = layers[start] as? ChannelAffineFusing, fusing.fusesInEval else {
                steps.append(InferenceStep(layers: index..<index + 1, fusing: nil, upsampling: 1, followers: []))
                index += 1
                continue
            }
            var end = start + 1
            var followers: [ChannelAffineInEval] = []
            while end < layers.count, !tapped(end), let follower = layers[end] as? ChannelAffineInEval {
                followers.append(follower)
                end += 1
            }
            if upsampling == 1 && followers.isEmpty {
                steps.append(InferenceStep(layers: index..<index + 1, fusing: nil, upsampling: 1, followers: []))
            } else {
                steps.append(InferenceStep(layers: index..<end, fusing: fusing, upsampling: upsampling, followers: followers))
            }
            index = steps.last!.layers.upperBound
        }
        return steps
    }
}

/// y[n, c, ·] = scale[c] · (y[n, c, ·] + bias[c]) + shift[c] in place, for y: batch × C × L (no bias: 0): a fused
/// affine map on a path that cannot apply it while writing y.
func applyChannelAffine(_ y: UnsafeMutablePointer<Float>, batch: Int, channels: Int, grid: Int, bias: UnsafePointer<Float>?,
                        scale: UnsafePointer<Float>, shift: UnsafePointer<Float>) {
    Parallel.chunks(batch * channels, cost: 2 * grid) { planes in
        for p in planes {
            let c = p % channels
            let (a, b) = (scale[c], scale[c] * (bias?[c] ?? 0) + shift[c])
            let plane = y + p * grid
            for i in 0..<grid { plane[i] = a * plane[i] + b }
        }
    }
}
