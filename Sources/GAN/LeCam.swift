import Neural

/// LeCam regularisation (Tseng et al., "Regularizing Generative Adversarial Networks under Limited
/// Data", CVPR 2021): keeps D's logits for real pictures from drifting far above the moving average of
/// its fake logits, and those for fakes from falling far below the average of its real ones,
/// R = mean(relu(D(real) − α_F)²) + mean(relu(α_R − D(fake))²), with α_R, α_F moving averages (decay
/// 0.99) of the mean real and fake logits, updated before R is measured. With little data D otherwise
/// learns to tell every training picture apart and its gradients stop teaching G.
public struct LeCam: Equatable, Sendable {
    public var realAverage: Float = 0
    public var fakeAverage: Float = 0
    public static let decay: Float = 0.99

    public init() {}

    /// Updates the averages from `logits` (the first `realCount` real, the rest fake), adds
    /// weight · dR/dlogit into `gradient` (already the logits' shape) and returns weight · R.
    public mutating func apply(logits: Tensor, realCount: Int, weight: Float, gradient: Tensor) -> Float {
        let fakeCount = logits.count - realCount
        precondition(realCount > 0 && fakeCount > 0 && gradient.count == logits.count)
        var realSum: Double = 0, fakeSum: Double = 0
        for i in 0..<realCount { realSum += Double(logits[i]) }
        for i in realCount..<logits.count { fakeSum += Double(logits[i]) }
        realAverage = Self.decay * realAverage + (1 - Self.decay) * Float(realSum / Double(realCount))
        fakeAverage = Self.decay * fakeAverage + (1 - Self.decay) * Float(fakeSum / Double(fakeCount))
        var realPenalty: Double = 0, fakePenalty: Double = 0
        for i in 0..<logits.count {
            let excess = i < realCount ? max(0, logits[i] - fakeAverage) : max(0, realAverage - logits[i])
            if i < realCount {
                realPenalty += Double(excess * excess)
                gradient[i] += weight * 2 * excess / Float(realCount)
            } else {
                fakePenalty += Double(excess * excess)
                gradient[i] -= weight * 2 * excess / Float(fakeCount)
            }
        }
        return weight * Float(realPenalty / Double(realCount) + fakePenalty / Double(fakeCount))
    }
}
