import Neural
import Perception

/// The samples measured against the training pictures in a feature network's pooled features: Fréchet
/// distance, KID, precision and recall, and near-copies. Beside each figure whose size depends on the
/// set itself, the training pictures' own: KID and precision and recall between two random halves of
/// them (what a model as good as another handful of your pictures would get), near-copies of each
/// training picture among the others.
public struct FeatureScore: Codable, Sendable, Equatable {
    /// Values per feature vector.
    public var length: Int
    /// Lower is closer; biased upwards for small sets, so compare it at equal sample counts only.
    public var frechetDistance: Double
    /// Between the two halves of the training pictures of KID's first halving: their own figure, which runs
    /// higher than the samples' would at the same closeness (half as many pictures on each side). Nil when
    /// a half has fewer than two pictures.
    public var trainingFrechetDistance: Double?
    public var kernelInceptionDistance: KernelInceptionDistance
    /// Between two halves of the training pictures, drawn anew for each subset.
    public var trainingKernelInceptionDistance: KernelInceptionDistance
    /// The k of the k-nearest-neighbour manifolds.
    public var neighbours: Int
    public var precision: Double
    public var recall: Double
    /// One half of the training pictures against the other, averaged over KID's random halvings; nil when
    /// a half has no more than `neighbours` pictures.
    public var trainingPrecision: Double?
    public var trainingRecall: Double?
    /// By the rule of the pixel near-copies, in features (root mean square differences of feature values).
    public var memorisation: Memorisation

    /// The pictures through `network`, then measured; the same `seed` gives the same figures.
    public init(training: PictureSet, samples: PictureSet, network: FeaturePyramid, seed: UInt64,
                neighbours: Int = 3, subsets: Int = 100, largestSubset: Int = 1000) throws {
        try self.init(training: FeatureVectors(training, through: network), samples: FeatureVectors(samples, through: network),
                      seed: seed, neighbours: neighbours, subsets: subsets, largestSubset: largestSubset)
    }

    /// Measures feature vectors (more than `neighbours`, and at least four, in each set). KID's subsets are
    /// as large as half the training set, or the samples when fewer, up to `largestSubset`.
    public init(training: FeatureVectors, samples: FeatureVectors, seed: UInt64,
                neighbours: Int = 3, subsets: Int = 100, largestSubset: Int = 1000) throws {
        precondition(neighbours > 0 && subsets > 0 && largestSubset >= 2)
        try ScoreError.requireAtLeast(PrecisionRecall.fewestVectors(neighbours: neighbours), training: training.count,
                                      samples: samples.count)
        let products = VectorProducts(training: training, samples: samples)
        let (trainingRows, sampleRows) = (Array(products.trainingRows), Array(products.sampleRows))
        guard let memorisation = Memorisation(
            toTraining: products.distances(from: products.sampleRows, to: products.trainingRows),
            trainingDistances: products.distances(from: products.trainingRows, to: products.trainingRows),
            samples: samples.count, training: training.count)
        else { throw ScoreError.featuresAlike }

        // Subsets of the samples as large as half the training pictures, so that the samples' figure
        // and the training pictures' own (half against half) are estimates at the same size.
        var random = RNG(seed: seed)
        let size = min(training.count / 2, samples.count, largestSubset)
        kernelInceptionDistance = KernelInceptionDistance(subsets: subsets, subsetSize: size, products: products) {
            (shuffled(training.count, &random).prefix(size).map { trainingRows[$0] },
             shuffled(samples.count, &random).prefix(size).map { sampleRows[$0] })
        }
        var halvings: [Halving] = []
        trainingKernelInceptionDistance = KernelInceptionDistance(subsets: subsets, subsetSize: size, products: products) {
            halvings.append(Halving(training: training.count, size: size, &random))
            return (halvings.last!.first, halvings.last!.second)
        }
        let manifolds = PrecisionRecall(products, neighbours: neighbours, halvings: halvings)
        (precision, recall) = (manifolds.precision, manifolds.recall)
        (trainingPrecision, trainingRecall) = (manifolds.trainingPrecision, manifolds.trainingRecall)
        length = training.length
        frechetDistance = FrechetDistance.between(training, samples)
        trainingFrechetDistance = halvings.first.flatMap { halving in
            halving.first.count < 2 ? nil
                : FrechetDistance.between(training.subset(halving.first), training.subset(halving.second))
        }
        self.neighbours = neighbours
        self.memorisation = memorisation
    }
}
