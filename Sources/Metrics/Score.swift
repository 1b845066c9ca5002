import Foundation
import Perception

/// Why two picture sets cannot be scored.
public enum ScoreError: Error, Equatable, CustomStringConvertible {
    public enum Role: String, Sendable { case training, samples }

    case sizesDiffer(training: String, samples: String)
    case tooSmall(size: String, smallest: Int)
    case tooFew(Role, count: Int, needed: Int)
    case trainingAlike
    case featuresAlike

    public var description: String {
        switch self {
        case let .sizesDiffer(training, samples):
            return "pictures differ in size: training \(training), samples \(samples)"
        case let .tooSmall(size, smallest):
            return "pictures of \(size) are too small to score; they need at least \(smallest)x\(smallest)"
        case let .tooFew(role, count, needed):
            return "\(role.rawValue): \(count) picture\(count == 1 ? "" : "s"), at least \(needed) are needed"
        case .trainingAlike:
            return "most training pictures are identical: there is no spread to measure against"
        case .featuresAlike:
            return "the feature network sees most training pictures as the same: there is no spread to measure against"
        }
    }

    /// Throws `tooFew` for the first of the two sets with fewer than `needed` pictures.
    static func requireAtLeast(_ needed: Int, training: Int, samples: Int) throws {
        for (role, count) in [(Role.training, training), (.samples, samples)] where count < needed {
            throw tooFew(role, count: count, needed: needed)
        }
    }

    /// Which set the problem is in (nil: both).
    public var role: Role? {
        switch self {
        case .sizesDiffer, .tooSmall: return nil
        case let .tooFew(role, _, _): return role
        case .trainingAlike, .featuresAlike: return .training
        }
    }
}

/// A model's samples measured against its training pictures: how alike (sliced Wasserstein distance per
/// pyramid level), whether their layout is the pictures' (on thumbnails), how many near-copies, how varied.
public struct Score: Codable, Sendable, Equatable {
    public var height: Int
    public var width: Int
    public var trainingCount: Int
    public var sampleCount: Int
    public var seed: UInt64
    /// Finest level first, each times 1000; lower is closer to the training pictures.
    public var slicedWasserstein: [SlicedWasserstein.Level]
    public var slicedWassersteinAverage: Double
    /// Needs no feature network, so it is always there.
    public var layout: LayoutScore
    public var memorisation: Memorisation
    public var diversity: Diversity
    /// Measured in the feature network's pooled features; nil without a network.
    public var features: FeatureScore?

    /// Measures `samples` against `training` (pictures of one size, at least 16 × 16, at least four in
    /// each set); the same `seed` gives the same figures.
    public init(training: PictureSet, samples: PictureSet, seed: UInt64, featureNetwork: FeaturePyramid? = nil,
                slicedWasserstein measure: SlicedWasserstein = SlicedWasserstein()) throws {
        guard training.height == samples.height && training.width == samples.width else {
            throw ScoreError.sizesDiffer(training: training.sizeDescription, samples: samples.sizeDescription)
        }
        guard min(training.height, training.width) >= measure.smallestSide else {
            throw ScoreError.tooSmall(size: training.sizeDescription, smallest: measure.smallestSide)
        }
        // First, as it refuses sets too small for its manifolds (fewer than four) before any other work.
        layout = try LayoutScore(training: training, samples: samples, seed: seed)

        let (comparedTraining, comparedSamples) = (PictureDistances.compared(training), PictureDistances.compared(samples))
        let trainingDistances = PictureDistances.between(comparedTraining, comparedTraining)
        guard let memorisation = Memorisation(toTraining: PictureDistances.between(comparedSamples, comparedTraining),
                                              trainingDistances: trainingDistances,
                                              samples: samples.count, training: training.count),
              let diversity = Diversity(sampleDistances: PictureDistances.between(comparedSamples, comparedSamples),
                                        samples: samples.count, trainingDistances: trainingDistances,
                                        training: training.count)
        else { throw ScoreError.trainingAlike }

        height = training.height
        width = training.width
        trainingCount = training.count
        sampleCount = samples.count
        self.seed = seed
        slicedWasserstein = measure.levels(training, samples, seed: seed)
        slicedWassersteinAverage = slicedWasserstein.map(\.distance).reduce(0, +) / Double(slicedWasserstein.count)
        self.memorisation = memorisation
        self.diversity = diversity
        features = try featureNetwork.map { try FeatureScore(training: training, samples: samples, network: $0, seed: seed) }
    }

    /// Pretty-printed JSON with sorted keys (the same score, the same bytes).
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }

    /// A table for people; `samplesName` and `trainingName` say where each set came from.
    public func table(samplesName: String, trainingName: String) -> String {
        func figure(_ value: Double) -> String { String(format: "%.2f", value) }
        func share(_ count: Int, _ share: Double) -> String { String(format: "%d (%.1f%%)", count, 100 * share) }
        func row(_ label: String, _ cells: String...) -> String {
            var line = label.padding(toLength: 36, withPad: " ", startingAt: 0)
            for (index, cell) in cells.enumerated() {
                // A cell wider than its column still gets two spaces before the next one.
                line += index == cells.count - 1 ? cell : cell.padding(toLength: max(14, cell.count + 2), withPad: " ", startingAt: 0)
            }
            return line
        }
        var lines = [
            "\(sampleCount) samples (\(samplesName)) against \(trainingCount) training pictures (\(trainingName)), "
                + "\(width)x\(height), seed \(seed)",
            "",
            "sliced Wasserstein distance x1000 (lower: closer to the training pictures)",
        ]
        for (index, level) in slicedWasserstein.enumerated() {
            let scale = index == 0 ? " (fine detail)" : (index == slicedWasserstein.count - 1 ? " (colours, coarse shapes)" : "")
            lines.append(row("  \(level.width)x\(level.height)\(scale)", figure(level.distance)))
        }
        func copying(_ memorisation: Memorisation) -> [String] {
            let trainingCopies = Int((memorisation.trainingNearCopyShare * Double(trainingCount)).rounded())
            return [
                row("  near-copies", share(memorisation.nearCopies.count, memorisation.nearCopyShare),
                    share(trainingCopies, memorisation.trainingNearCopyShare)),
                row("  nearest-neighbour ratio (median)", figure(memorisation.medianRatio),
                    figure(memorisation.trainingMedianRatio)),
            ]
        }
        lines += [row("  average", figure(slicedWassersteinAverage)), "",
                  row("layout on thumbnails (k = \(layout.neighbours))", "samples", "training pictures among themselves")]
        for level in layout.levels {
            let side = "\(level.side)x\(level.side)"
            lines += [
                row("  \(side) precision", figure(level.precision), level.trainingPrecision.map(figure) ?? "-"),
                row("  \(side) recall", figure(level.recall), level.trainingRecall.map(figure) ?? "-"),
                row("  \(side) nearest-neighbour ratio", level.nearestNeighbourRatio.map(figure) ?? "-",
                    level.trainingNearestNeighbourRatio.map(figure) ?? "-"),
            ]
        }
        lines += ["", row("memorisation", "samples", "training pictures among themselves")]
        lines += copying(memorisation)
        lines += [
            "",
            "diversity (1: as varied as the training pictures, 0: one picture)",
            row("  spread ratio", figure(diversity.ratio)),
            "",
        ]
        guard let features else {
            lines.append("feature measures (Fréchet distance, KID, precision, recall, near-copies in features) "
                         + "need the feature network: run scripts/setup")
            return lines.joined(separator: "\n") + "\n"
        }
        func kid(_ distance: KernelInceptionDistance) -> String {
            String(format: "%.2f ± %.2f", distance.mean, distance.deviation)
        }
        let k = "k = \(features.neighbours)"
        lines += [
            row("in features (\(features.length) per picture)", "samples", "training pictures among themselves"),
            row("  Fréchet distance", figure(features.frechetDistance), features.trainingFrechetDistance.map(figure) ?? "-"),
            row("  KID x1000", kid(features.kernelInceptionDistance), kid(features.trainingKernelInceptionDistance)),
            row("  precision (\(k))", figure(features.precision), features.trainingPrecision.map(figure) ?? "-"),
            row("  recall (\(k))", figure(features.recall), features.trainingRecall.map(figure) ?? "-"),
        ]
        lines += copying(features.memorisation)
        return lines.joined(separator: "\n") + "\n"
    }
}
