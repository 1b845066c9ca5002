import Foundation

/// The adversarial losses on D's logits.
///
/// - hinge: L_D = mean(relu(m − D(real))) + mean(relu(m + D(fake))), L_G = −mean(D(fake)), margin m = 1.
/// - random-hinge: the hinge with a margin drawn per logit from U[0.8, 1) in every step (FastGAN's),
///   so D never settles exactly on the margin; the trainer draws the margins.
/// - logistic (non-saturating): L_D = mean(softplus(−D(real))) + mean(softplus(D(fake))),
///   L_G = mean(softplus(−D(fake))).
public enum AdversarialLoss: String, Codable, Sendable, CaseIterable {
    case hinge
    case logistic
    case randomHinge = "random-hinge"

    /// Fills `margins` (one per logit) with random-hinge's U[0.8, 1) margins.
    public static func drawRandomMargins(_ margins: Tensor, rng: inout RNG) {
        for i in 0..<margins.count { margins[i] = 0.8 + 0.2 * rng.uniform() }
    }

    /// D's loss for `logits` whose first `realCount` entries are real and the rest fake; `margins` holds
    /// the hinges' margins, one per logit (nil: 1). Writes dL/dlogit into `gradient` (resized to the
    /// logits' shape).
    public func discriminatorLoss(logits: Tensor, realCount: Int, gradient: Tensor, margins: Tensor? = nil) -> Float {
        let fakeCount = logits.count - realCount
        precondition(realCount > 0 && fakeCount > 0, "discriminator loss needs real and fake logits")
        if gradient.shape != logits.shape { gradient.resize(to: logits.shape) }
        var realLoss: Double = 0, fakeLoss: Double = 0
        let (realWeight, fakeWeight) = (1 / Float(realCount), 1 / Float(fakeCount))
        precondition(margins == nil || margins!.count == logits.count, "one margin per logit")
        for i in 0..<logits.count {
            let x = logits.data[i]
            let isReal = i < realCount
            switch self {
            case .hinge, .randomHinge:
                let m = margins?[i] ?? 1
                if isReal {
                    realLoss += Double(max(0, m - x)); gradient.data[i] = x < m ? -realWeight : 0
                } else {
                    fakeLoss += Double(max(0, m + x)); gradient.data[i] = x > -m ? fakeWeight : 0
                }
            case .logistic:
                if isReal {
                    realLoss += softplus(-x); gradient.data[i] = -realWeight * sigmoid(-x)
                } else {
                    fakeLoss += softplus(x); gradient.data[i] = fakeWeight * sigmoid(x)
                }
            }
        }
        return Float(realLoss / Double(realCount) + fakeLoss / Double(fakeCount))
    }

    /// G's loss for the logits of fakes; writes dL/dlogit into `gradient`.
    public func generatorLoss(logits: Tensor, gradient: Tensor) -> Float {
        precondition(logits.count > 0)
        if gradient.shape != logits.shape { gradient.resize(to: logits.shape) }
        let weight = 1 / Float(logits.count)
        var loss: Double = 0
        for i in 0..<logits.count {
            let x = logits.data[i]
            switch self {
            case .hinge, .randomHinge:
                loss -= Double(x); gradient.data[i] = -weight
            case .logistic:
                loss += softplus(-x); gradient.data[i] = -weight * sigmoid(-x)
            }
        }
        return Float(loss / Double(logits.count))
    }
}

/// log(1 + eˣ) without overflow.
func softplus(_ x: Float) -> Double {
    let d = Double(x)
    return d > 0 ? d + log1p(exp(-d)) : log1p(exp(d))
}

func sigmoid(_ x: Float) -> Float {
    let d = Double(x)
    return Float(d >= 0 ? 1 / (1 + exp(-d)) : exp(d) / (1 + exp(d)))
}

/// Mean |p − t| over all elements (the L1 reconstruction loss). Writes dL/dp = sign(p − t) / count
/// into `gradient` (resized to p's shape; 0 where p = t).
public func meanAbsoluteError(_ prediction: Tensor, _ target: Tensor, gradient: Tensor) -> Float {
    precondition(prediction.count == target.count && prediction.count > 0,
                 "meanAbsoluteError: \(prediction.shape) against \(target.shape)")
    gradient.resize(like: prediction)
    let (p, t, g) = (UnsafePointer(prediction.data), UnsafePointer(target.data), gradient.data)
    let weight = 1 / Float(prediction.count)
    var total: Double = 0
    for i in 0..<prediction.count {
        let difference = p[i] - t[i]
        total += Double(abs(difference))
        g[i] = difference > 0 ? weight : (difference < 0 ? -weight : 0)
    }
    return Float(total / Double(prediction.count))
}
