/// The one check of a run's options: `train`'s parser runs it on the command line's options, and loading
/// a checkpoint runs it on the options the file records, so a resumed run cannot take what the command
/// line refuses (an EMA decay of 2, a learning rate of 0).
extension TrainingOptions {
    /// An option out of its range: which one, and the rule it breaks.
    public struct InvalidOption: Error, Equatable, CustomStringConvertible {
        public enum Option: String, Sendable {
            case batch, learningRate, emaDecay, lecam
            case perceptualWeight, pixelWeight, candidates, reselectEvery, margin, adversarialStart, adversarialRamp

            /// `train`'s flag for the option.
            public var flag: String {
                switch self {
                case .batch: return "--batch"
                case .learningRate: return "--lr"
                case .emaDecay: return "--ema"
                case .lecam: return "--lecam"
                case .perceptualWeight: return "--perceptual"
                case .pixelWeight: return "pixelWeight"
                case .candidates: return "--candidates"
                case .reselectEvery: return "--reselect-every"
                case .margin: return "--margin"
                case .adversarialStart: return "--adversarial-start"
                case .adversarialRamp: return "--adversarial-ramp"
                }
            }
        }

        public var option: Option
        public var value: String
        /// `must be a positive number`.
        public var rule: String

        /// As a checkpoint's options name it: `training option emaDecay 2.0 must be in [0, 1)`.
        public var description: String { "training option \(option.rawValue) \(value) \(rule)" }
        /// As the command line names it: `--ema must be in [0, 1)`.
        public var commandLineDescription: String { "\(option.flag) \(rule)" }
    }

    /// Throws `InvalidOption` for the first option out of its range.
    public func validate() throws {
        func require(_ valid: Bool, _ option: InvalidOption.Option, _ value: CustomStringConvertible,
                     _ rule: String) throws {
            guard valid else { throw InvalidOption(option: option, value: value.description, rule: rule) }
        }
        try require(Self.batchSizes.contains(batch), .batch, batch,
                    "must be from \(Self.batchSizes.lowerBound) to \(Self.batchSizes.upperBound)")
        try require(learningRate > 0 && learningRate.isFinite, .learningRate, learningRate, "must be a positive number")
        try require(emaDecay >= 0 && emaDecay < 1, .emaDecay, emaDecay, "must be in [0, 1)")
        try require(lecam >= 0 && lecam.isFinite, .lecam, lecam, "must be 0 or more")
        try require(coverage.perceptualWeight >= 0 && coverage.perceptualWeight.isFinite, .perceptualWeight,
                    coverage.perceptualWeight, "must be 0 or more")
        try require(coverage.pixelWeight >= 0 && coverage.pixelWeight.isFinite, .pixelWeight, coverage.pixelWeight,
                    "must be 0 or more")
        try require(CoverageOptions.candidateRange.contains(coverage.candidates), .candidates, coverage.candidates,
                    "must be from \(CoverageOptions.candidateRange.lowerBound) to \(CoverageOptions.candidateRange.upperBound)")
        try require(coverage.reselectEvery >= 1, .reselectEvery, coverage.reselectEvery, "must be at least 1")
        try require(coverage.margin >= 0 && coverage.margin < 10, .margin, coverage.margin, "must be from 0 to 10")
        try require(adversarialStart >= 0, .adversarialStart, adversarialStart, "must be 0 or more")
        try require(adversarialRamp >= 0, .adversarialRamp, adversarialRamp, "must be 0 or more")
    }
}
