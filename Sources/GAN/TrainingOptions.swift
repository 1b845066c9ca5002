import Neural

/// The options of a training run: the one type the trainer, the tools and bench-engine share, and what a
/// checkpoint records (readable JSON in its metadata: `{"augment":["color","translation","cutout"],"batch":16,...}`).
public struct TrainingOptions: Codable, Equatable, Sendable {
    public typealias Loss = AdversarialLoss

    public enum Augmentation: String, Codable, CaseIterable, Sendable {
        case color, translation, cutout
    }

    /// What the generator learns from.
    public enum Objective: String, Codable, CaseIterable, Sendable {
        /// A discriminator's judgement (the loss, LeCam and augmentation below).
        case gan
        /// Coverage alone (`CoverageObjective`, IMLE): every training picture is pulled into the model; no
        /// discriminator is trained.
        case imle
        /// Coverage from the start, and from `adversarialStart` on a discriminator's judgement too, its
        /// weight ramped up over `adversarialRamp` steps while coverage holds the layouts.
        case imleGAN = "imle-gan"

        public var usesCoverage: Bool { self != .gan }

        /// The latent size `train` gives a new model: 16 for coverage alone, 128 otherwise. At 600 equal
        /// steps, z of 16 against 128 raised imle's 8×8 layout recall from 0.00 to 0.79 on Plato (z of 8: 0.75),
        /// from 0.06 to 0.12 on the butterflies and from 0.42 to 0.56 on photographs, and drew busts where
        /// 128 drew mostly blank grey: fewer dimensions leave less of the latent space that no training
        /// picture's latent ever reached, which random latents at sampling time fall into (see the README).
        public var defaultLatentSize: Int { self == .imle ? 16 : 128 }

        /// What `train` uses unless told otherwise: imle for fastgan (in equal-time runs on the butterflies it
        /// drew nameable butterflies where the GAN drew striped texture; see the README), gan for the others,
        /// whose point is their discriminator.
        public static func `default`(for architecture: Architecture) -> Objective {
            architecture == .fastgan ? .imle : .gan
        }
    }

    public var batch = 16
    /// The batch sizes a run accepts: the batch and every activation scale with it, so a mistyped
    /// `--batch 100000` would take gigabytes (a CPU trains best far below the bound anyway).
    public static let batchSizes = 1...256
    public var learningRate: Float = 2e-4
    public var loss = Loss.hinge
    /// DiffAugment's transforms, applied to real and fake pictures before D.
    public var augment: [Augmentation] = Augmentation.allCases
    /// Decay of G's moving average per step; 0: no average, `sample` and `walk` use G itself.
    public var emaDecay: Float = 0.999
    /// Weight of LeCam's regulariser on D (0: off).
    public var lecam: Float = 0
    public var objective = Objective.gan
    /// The coverage objective's distance and selection (imle and imle-gan).
    public var coverage = CoverageOptions()
    /// imle-gan: the steps of coverage alone before the discriminator joins, and the steps over which its
    /// weight then rises to 1.
    public var adversarialStart = 1000
    public var adversarialRamp = 500

    public init(batch: Int = 16, learningRate: Float = 2e-4, loss: Loss = .hinge, augment: [Augmentation] = Augmentation.allCases,
                emaDecay: Float = 0.999, lecam: Float = 0, objective: Objective = .gan, coverage: CoverageOptions = CoverageOptions(),
                adversarialStart: Int = 1000, adversarialRamp: Int = 500) {
        (self.batch, self.learningRate, self.loss, self.augment) = (batch, learningRate, loss, augment)
        (self.emaDecay, self.lecam, self.objective, self.coverage) = (emaDecay, lecam, objective, coverage)
        (self.adversarialStart, self.adversarialRamp) = (adversarialStart, adversarialRamp)
    }

    /// Whether training needs the pretrained feature network for its objective (see `Architecture.needsFeatureNetwork`).
    public var needsFeatureNetwork: Bool { objective.usesCoverage && coverage.perceptualWeight > 0 }

    /// What `train` uses for an architecture unless told otherwise: batch 16, hinge loss and no LeCam, as
    /// the architecture changes them (`ArchitectureDescriptor.applyTrainingDefaults`). All keep the
    /// learning rate of 0.0002 and all three augmentations: a rate of 0.0005 without cutout looked better on
    /// one set (Plato, 500 steps) but scored far worse on photographs (SWD 827 against 520) and collapsed
    /// the universe piece to grey clouds.
    ///
    /// With the coverage objective alone (imle): batch 16 and a learning rate of 0.001, a regression's
    /// (the GAN's 0.0002 drew only grey-green blur after 200 steps on the butterflies).
    public init(defaultsFor architecture: Architecture, objective: Objective = .gan) {
        architecture.descriptor.applyTrainingDefaults(to: &self)
        self.objective = objective
        if objective == .imle { (batch, learningRate) = (16, 1e-3) }
    }

    private enum CodingKeys: String, CodingKey {
        case batch, learningRate, loss, augment, emaDecay, lecam, objective, coverage, adversarialStart, adversarialRamp
    }

    /// Checkpoints written before LeCam existed have no `lecam`: it was off; before objectives, no
    /// `objective`: they were GANs.
    public init(from decoder: Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        batch = try values.decode(Int.self, forKey: .batch)
        learningRate = try values.decode(Float.self, forKey: .learningRate)
        loss = try values.decode(Loss.self, forKey: .loss)
        augment = try values.decode([Augmentation].self, forKey: .augment)
        emaDecay = try values.decode(Float.self, forKey: .emaDecay)
        lecam = try values.decodeIfPresent(Float.self, forKey: .lecam) ?? 0
        objective = try values.decodeIfPresent(Objective.self, forKey: .objective) ?? .gan
        if objective.usesCoverage {
            coverage = try values.decode(CoverageOptions.self, forKey: .coverage)
            adversarialStart = try values.decode(Int.self, forKey: .adversarialStart)
            adversarialRamp = try values.decode(Int.self, forKey: .adversarialRamp)
        }
    }

    /// A GAN's options are written as before objectives existed; the others add what they use.
    public func encode(to encoder: Encoder) throws {
        var values = encoder.container(keyedBy: CodingKeys.self)
        try values.encode(batch, forKey: .batch)
        try values.encode(learningRate, forKey: .learningRate)
        try values.encode(loss, forKey: .loss)
        try values.encode(augment, forKey: .augment)
        try values.encode(emaDecay, forKey: .emaDecay)
        try values.encode(lecam, forKey: .lecam)
        guard objective.usesCoverage else { return }
        try values.encode(objective, forKey: .objective)
        try values.encode(coverage, forKey: .coverage)
        try values.encode(adversarialStart, forKey: .adversarialStart)
        try values.encode(adversarialRamp, forKey: .adversarialRamp)
    }

    /// `color,translation`, or `none`; duplicates are dropped, order is kept canonical.
    public static func augmentList(_ text: String) throws -> [Augmentation] {
        if text == "none" { return [] }
        var chosen = Set<Augmentation>()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let augmentation = Augmentation(rawValue: item.trimmingCharacters(in: .whitespaces)) else {
                throw AugmentListError(item: String(item))
            }
            chosen.insert(augmentation)
        }
        return Augmentation.allCases.filter(chosen.contains)
    }

    /// DiffAugment's policy for `augment`.
    public var augmentPolicy: AugmentPolicy {
        var policy = AugmentPolicy.none
        for augmentation in augment {
            switch augmentation {
            case .color: policy.insert(.color)
            case .translation: policy.insert(.translation)
            case .cutout: policy.insert(.cutout)
            }
        }
        return policy
    }

    /// Adam's β1 and β2. Coverage alone is a regression: Adam's usual momentum (0.9, 0.999) rather than a
    /// GAN's (0.5, 0.99), whose short memory suits an opponent that keeps moving.
    public var adamBetas: (Float, Float) { objective == .imle ? (0.9, 0.999) : (0.5, 0.99) }

    /// The step from which a discriminator trains (nil: never, with coverage alone).
    public var discriminatorStart: Int? {
        switch objective {
        case .gan: 0
        case .imle: nil
        case .imleGAN: adversarialStart
        }
    }

    /// The adversarial term's weight in the step after `t` steps (0: neither D nor G sees it): off before
    /// `discriminatorStart`, then rising linearly to 1 over `adversarialRamp` steps (imle-gan only).
    public func adversarialWeight(afterSteps t: Int) -> Float {
        guard let start = discriminatorStart, t >= start else { return 0 }
        guard objective == .imleGAN, adversarialRamp > 0 else { return 1 }
        return min(1, Float(t - start + 1) / Float(adversarialRamp))
    }
}

public struct AugmentListError: Error, Equatable, CustomStringConvertible {
    public var item: String
    public var description: String { "'\(item)' is not one of color, translation, cutout (or none)" }
}
