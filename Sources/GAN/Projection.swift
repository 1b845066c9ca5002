import Foundation
import Neural
import Perception

/// How `Projector` searches for a picture's latent.
public struct ProjectionOptions: Sendable, Equatable {
    /// Adam steps on the latents after the best random start.
    public var steps: Int
    /// Adam's step size, for latents of norm √zDim.
    public var learningRate: Float
    /// Random latents the start is chosen from (the same for every picture, so a picture's latent never
    /// depends on the other pictures in the stream).
    public var candidates: Int
    /// Pictures optimised together (each on its own: G runs in eval mode, D has no batch statistics).
    public var batchSize: Int
    /// Weight of the pixel term against the perceptual one.
    public var pixelWeight: Float

    /// The defaults were measured on 92 photograph crops (64 px, a fastgan model of 1900 steps), counting
    /// the reconstructions nearer their own picture than any other (in `score`'s distance). On 31 of them:
    /// 100 steps at 0.05, 0.1 and 0.2 gave 84, 90 and 87 %; a pixel weight of 0.25 or 4 instead of 1 gave 84
    /// and 87 %; the best random start alone, 6 %. On all 92 at 0.1: 100 steps 89 %, 200 steps 91 %.
    public init(steps: Int = 200, learningRate: Float = 0.1, candidates: Int = 64, batchSize: Int = 16,
                pixelWeight: Float = 1) {
        (self.steps, self.learningRate, self.candidates, self.batchSize, self.pixelWeight)
            = (steps, learningRate, candidates, batchSize, pixelWeight)
    }
}

/// One picture's projection.
public struct Projection: Sendable, Equatable {
    /// The latent whose picture came nearest, of norm √zDim.
    public var latent: [Float]
    /// The projection's objective for that latent (`ProjectionDistance`), and for the best random start.
    public var loss: Float, startLoss: Float
    /// How far the reconstruction is from the picture: see `Projector.pictureDistance`.
    public var distance: Float, startDistance: Float
}

/// Finds latents whose pictures look like given pictures ("GAN inversion"): the best of a set of random
/// latents, then Adam on the latent through the frozen generator, minimising a perceptual distance (in
/// the maps of a `FeaturePyramid`) plus an L1 pixel distance between blurred versions; after each step
/// every latent is put back on the sphere of radius √zDim, the shell where the N(0, I) prior's latents
/// live, so that a walk between projected keys passes through pictures the model knows how to draw.
public final class Projector {
    public let generator: ImageGenerator
    public let features: FeaturePyramid
    public let options: ProjectionOptions

    public init(generator: ImageGenerator, features: FeaturePyramid, options: ProjectionOptions = ProjectionOptions()) {
        precondition(options.steps >= 0 && options.candidates >= 1 && options.batchSize >= 1, "bad projection options \(options)")
        (self.generator, self.features, self.options) = (generator, features, options)
    }

    /// What `project` reports per batch.
    public struct Event {
        /// Pictures finished before this batch, pictures in it, the step within it and its mean objective.
        public var done: Int, batch: Int, step: Int, meanLoss: Float
    }

    /// The projections of `pictures` (u8 H × W × 3 records at the model's resolution), in order,
    /// `options.batchSize` at a time. Random starts come from `seed`. When `shouldStop` turns true the
    /// batch under way is dropped and the finished ones are returned.
    public func project(_ pictures: [[UInt8]], seed: UInt64, shouldStop: () -> Bool = { false },
                        progress: (Event) -> Void = { _ in }) -> [Projection] {
        let candidates = Projector.onShell(Latents.random(count: options.candidates, zDim: generator.zDim, seed: seed),
                                           zDim: generator.zDim)
        var results: [Projection] = []
        for start in stride(from: 0, to: pictures.count, by: options.batchSize) {
            let batch = Array(pictures[start..<min(pictures.count, start + options.batchSize)])
            guard let projected = projectBatch(batch, candidates: candidates, shouldStop: shouldStop, progress: {
                progress(Event(done: start, batch: batch.count, step: $0, meanLoss: $1))
            }) else { break }
            results += projected
        }
        return results
    }

    /// The root mean square difference of two pictures' values (0 to 1) with both averaged down to at most
    /// 32 pixels a side (fine texture a model cannot copy does not count): 0 for the same picture; about
    /// 0.3 between unrelated photographs. Close to `score`'s distance, which blurs with a binomial filter.
    public static func pictureDistance(_ a: [UInt8], _ b: [UInt8], size: Int) -> Float {
        precondition(a.count == size * size * 3 && b.count == a.count, "pictureDistance: records of \(size)x\(size) pictures expected")
        let factor = max(1, size / 32)
        let side = size / factor
        var total: Float = 0
        for y in 0..<side {
            for x in 0..<side {
                for c in 0..<3 {
                    var difference = 0
                    for i in 0..<factor {
                        for j in 0..<factor {
                            let index = ((y * factor + i) * size + x * factor + j) * 3 + c
                            difference += Int(a[index]) - Int(b[index])
                        }
                    }
                    let mean = Float(difference) / Float(factor * factor * 255)
                    total += mean * mean
                }
            }
        }
        return (total / Float(side * side * 3)).squareRoot()
    }

    /// Each latent (zDim values, back to back) scaled to norm √zDim.
    static func onShell(_ latents: [Float], zDim: Int) -> [Float] {
        var result = latents
        let radius = Float(zDim).squareRoot()
        for start in stride(from: 0, to: result.count, by: zDim) {
            var squares: Float = 0
            for i in start..<(start + zDim) { squares += result[i] * result[i] }
            let scale = radius / max(squares.squareRoot(), 1e-12)
            for i in start..<(start + zDim) { result[i] *= scale }
        }
        return result
    }

    /// Projects one batch; nil when stopped.
    private func projectBatch(_ pictures: [[UInt8]], candidates: [Float], shouldStop: () -> Bool,
                              progress: (Int, Float) -> Void) -> [Projection]? {
        let (count, zDim, size) = (pictures.count, generator.zDim, generator.resolution)
        let targets = Tensor(shape: [count, 3, size, size])
        for (index, picture) in pictures.enumerated() {
            picture.withUnsafeBufferPointer { Pixels.loadImage($0, size: size, flip: false, into: targets.data, index: index) }
        }
        let distance = ProjectionDistance(targets: targets, features: features, pixelWeight: options.pixelWeight)
        let network = generator.generator

        // The start: for each picture, the candidate nearest to it.
        var startLosses = [Float](repeating: .infinity, count: count)
        var starts = [Int](repeating: 0, count: count)
        let candidateCount = candidates.count / zDim
        let input = Tensor(shape: [0])
        for first in stride(from: 0, to: candidateCount, by: options.batchSize) {
            let n = min(options.batchSize, candidateCount - first)
            input.resize(n, zDim, 1, 1)
            candidates.withUnsafeBufferPointer { input.data.update(from: $0.baseAddress! + first * zDim, count: n * zDim) }
            let images = network.infer(input)
            let maps = features.features(images)
            for picture in 0..<count {
                for candidate in 0..<n {
                    let loss = distance.loss(images: images, maps: maps, sample: candidate, target: picture)
                    if loss < startLosses[picture] { (startLosses[picture], starts[picture]) = (loss, first + candidate) }
                }
            }
            if shouldStop() { return nil }
        }

        // Adam on the latents, keeping each picture's best (step 0 scores the starts, the last step only scores).
        let latents = Parameter(Tensor(shape: [count, zDim, 1, 1]))
        for (picture, candidate) in starts.enumerated() {
            for i in 0..<zDim { latents.value.data[picture * zDim + i] = candidates[candidate * zDim + i] }
        }
        var best = latents.value.scalars
        var bestLosses = startLosses
        let optimizer = Adam(parameters: [("z", latents)], learningRate: options.learningRate)
        for step in 0...options.steps {
            let images = network.forward(latents.value, training: false)
            let maps = features.features(images)
            let last = step == options.steps
            let (losses, imageGradient) = distance.losses(images: images, maps: maps, gradient: !last)
            for picture in 0..<count where losses[picture] < bestLosses[picture] {
                bestLosses[picture] = losses[picture]
                for i in 0..<zDim { best[picture * zDim + i] = latents.value.data[picture * zDim + i] }
            }
            guard let imageGradient else { break }
            let latentGradient = network.backward(imageGradient, needsInputGradient: true, needsParameterGradients: false)!
            latents.gradient.assign(latentGradient)
            optimizer.step()
            let moved = Projector.onShell(latents.value.scalars, zDim: zDim)
            moved.withUnsafeBufferPointer { latents.value.data.update(from: $0.baseAddress!, count: moved.count) }
            progress(step + 1, losses.reduce(0, +) / Float(count))
            if shouldStop() { return nil }
        }

        let startLatents = starts.flatMap { Array(candidates[($0 * zDim)..<(($0 + 1) * zDim)]) }
        let reconstructions = generator.images(latents: best, count: count)
        let startPictures = generator.images(latents: startLatents, count: count)
        let recordSize = size * size * 3
        return (0..<count).map { picture in
            let range = (picture * recordSize)..<((picture + 1) * recordSize)
            return Projection(latent: Array(best[(picture * zDim)..<((picture + 1) * zDim)]),
                              loss: bestLosses[picture], startLoss: startLosses[picture],
                              distance: Projector.pictureDistance(Array(reconstructions[range]), pictures[picture], size: size),
                              startDistance: Projector.pictureDistance(Array(startPictures[range]), pictures[picture], size: size))
        }
    }
}

/// The objective a projection minimises between generated pictures and target pictures, per picture:
///
/// perceptual: the mean over the feature maps of the mean over map pixels of |f̂(x) − f̂(t)|², where f̂ is
/// the map's channel vector at a pixel scaled to unit length (LPIPS's normalisation, without its learnt
/// weights), so every map counts alike whatever its scale; 0 to 4.
/// pixel: the mean over the levels of the mean absolute difference of the pictures (values −1 to 1)
/// averaged over 2 × 2, 4 × 4 and 8 × 8 blocks (down to 8 pixels a side): the colours and layout, not
/// the fine texture the perceptual term judges.
final class ProjectionDistance {
    private let features: FeaturePyramid
    private let pixelWeight: Float
    /// The targets' maps, unit length per pixel.
    private let targetMaps: [Tensor]
    /// The targets averaged over each level's blocks.
    private let targetLevels: [Tensor]
    private let factors: [Int]
    private let mapGradients: [Tensor]
    private let imageGradient = Tensor(shape: [0])

    init(targets: Tensor, features: FeaturePyramid, pixelWeight: Float) {
        self.features = features
        self.pixelWeight = pixelWeight
        let size = targets.shape[2]
        factors = [2, 4, 8].filter { size / $0 >= 8 }
        targetMaps = features.features(targets).map { map in
            let copy = map.copy()
            ProjectionDistance.normalizeChannels(copy)
            return copy
        }
        targetLevels = factors.map { AvgPool2d(kernel: $0).forward(targets, training: false).copy() }
        mapGradients = targetMaps.map { _ in Tensor(shape: [0]) }
    }

    /// The objective between generated picture `sample` (of `images`, with their `maps`) and target `target`.
    func loss(images: Tensor, maps: [Tensor], sample: Int, target: Int) -> Float {
        evaluate(images: images, maps: maps, sample: sample, target: target, withGradient: false)
    }

    /// The objective of every generated picture against the target of the same index and, with `gradient`,
    /// the gradient of their sum with respect to `images` (the distance's own buffer).
    func losses(images: Tensor, maps: [Tensor], gradient: Bool) -> (losses: [Float], gradient: Tensor?) {
        let count = images.shape[0]
        guard gradient else {
            return ((0..<count).map { evaluate(images: images, maps: maps, sample: $0, target: $0, withGradient: false) }, nil)
        }
        for (mapGradient, map) in zip(mapGradients, maps) { mapGradient.resize(to: map.shape) }
        imageGradient.resize(to: images.shape)
        imageGradient.fill(0)
        let losses = (0..<count).map { evaluate(images: images, maps: maps, sample: $0, target: $0, withGradient: true) }
        imageGradient.add(features.inputGradient(mapGradients))
        return (losses, imageGradient)
    }

    /// The objective; with `withGradient`, also writes the sample's map gradients into `mapGradients`
    /// and adds its pixel gradient to `imageGradient`.
    private func evaluate(images: Tensor, maps: [Tensor], sample: Int, target: Int, withGradient: Bool) -> Float {
        var perceptual: Float = 0
        let mapWeight = 1 / Float(maps.count)
        for (index, map) in maps.enumerated() {
            let (channels, plane) = (map.shape[1], map.shape[2] * map.shape[3])
            let x = map.data + sample * channels * plane
            let t = targetMaps[index].data + target * channels * plane
            let g = withGradient ? mapGradients[index].data + sample * channels * plane : nil
            let pixelWeight = mapWeight / Float(plane)
            for p in 0..<plane {
                var squares: Float = 0
                for c in 0..<channels { squares += x[c * plane + p] * x[c * plane + p] }
                let norm = squares.squareRoot()
                let scale = 1 / (norm + 1e-6)
                var sum: Float = 0, projection: Float = 0
                for c in 0..<channels {
                    let difference = x[c * plane + p] * scale - t[c * plane + p]
                    sum += difference * difference
                    projection += difference * x[c * plane + p]
                }
                perceptual += pixelWeight * sum
                guard let g else { continue }
                // d/dx of |x/(|x|+ε) − t|²: (2/(|x|+ε)) (d − x (x·d) / (|x| (|x|+ε))), d the difference.
                let radial = norm > 0 ? projection * scale / norm : 0
                for c in 0..<channels {
                    let difference = x[c * plane + p] * scale - t[c * plane + p]
                    g[c * plane + p] = 2 * pixelWeight * scale * (difference - x[c * plane + p] * radial)
                }
            }
        }

        var pixel: Float = 0
        let levelWeight = pixelWeight / Float(factors.count)
        let size = images.shape[2]
        for (level, factor) in factors.enumerated() {
            let side = size / factor
            let target = targetLevels[level].data + target * 3 * side * side
            let image = images.data + sample * 3 * size * size
            let cellWeight = levelWeight / Float(3 * side * side)
            let gradient = withGradient ? imageGradient.data + sample * 3 * size * size : nil
            for c in 0..<3 {
                for y in 0..<side {
                    for x in 0..<side {
                        var sum: Float = 0
                        for i in 0..<factor {
                            for j in 0..<factor { sum += image[(c * size + y * factor + i) * size + x * factor + j] }
                        }
                        let difference = sum / Float(factor * factor) - target[(c * side + y) * side + x]
                        pixel += cellWeight * abs(difference)
                        guard let gradient else { continue }
                        let share = cellWeight * (difference > 0 ? 1 : difference < 0 ? -1 : 0) / Float(factor * factor)
                        for i in 0..<factor {
                            for j in 0..<factor { gradient[(c * size + y * factor + i) * size + x * factor + j] += share }
                        }
                    }
                }
            }
        }
        return perceptual + pixel
    }

    /// Every pixel's channel vector scaled to unit length (as `evaluate` scales the generated maps).
    private static func normalizeChannels(_ map: Tensor) {
        let (count, channels, plane) = (map.shape[0], map.shape[1], map.shape[2] * map.shape[3])
        for n in 0..<count {
            let x = map.data + n * channels * plane
            for p in 0..<plane {
                var squares: Float = 0
                for c in 0..<channels { squares += x[c * plane + p] * x[c * plane + p] }
                let scale = 1 / (squares.squareRoot() + 1e-6)
                for c in 0..<channels { x[c * plane + p] *= scale }
            }
        }
    }
}
