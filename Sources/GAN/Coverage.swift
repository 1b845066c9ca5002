import Neural
import Perception

/// How the coverage objective (IMLE) sees a picture: a vector whose squared Euclidean distances are the
/// objective, so that the nearest-neighbour search over thousands of candidates is one matrix product.
///
/// The vector holds, side by side:
/// - pixels: the picture (values −1 … 1) averaged over 2 × 2, 4 × 4 and 8 × 8 blocks (levels down to 8
///   pixels a side), each level scaled by √(pixelWeight / (levels · 3 · side²)): colours and layout;
/// - perception (with a feature network): each map's channel vector at each position scaled to unit
///   length (LPIPS's normalisation, as `project` compares pictures), each map scaled by
///   √(perceptualWeight / (maps · positions)): edges and parts, not colour.
///
/// So |e(x) − e(t)|² = pixelWeight · mean over levels of the mean squared block difference
///                   + perceptualWeight · mean over maps of the mean over positions of |x̂ − t̂|².
public final class PictureEmbedding {
    public let resolution: Int
    public let features: FeaturePyramid?
    /// Length of one picture's vector.
    public let length: Int
    let poolFactors: [Int]
    private let pixelScales: [Float]
    private let perceptualWeight: Float
    private let mapGradients: [Tensor]
    private let imageGradient = Tensor(shape: [0])

    public init(resolution: Int, pixelWeight: Float, perceptualWeight: Float, features: FeaturePyramid?) {
        precondition(perceptualWeight == 0 || features != nil, "PictureEmbedding: a perceptual weight needs a feature network")
        self.resolution = resolution
        self.features = perceptualWeight > 0 ? features : nil
        self.perceptualWeight = perceptualWeight
        let factors = [2, 4, 8].filter { resolution / $0 >= 8 }
        poolFactors = factors
        pixelScales = factors.map { factor in
            let side = resolution / factor
            return (pixelWeight / Float(factors.count * 3 * side * side)).squareRoot()
        }
        var length = factors.reduce(0) { $0 + 3 * (resolution / $1) * (resolution / $1) }
        if let features = self.features {
            for (channels, stride) in zip(features.featureChannels, features.featureStrides) {
                length += channels * (resolution / stride) * (resolution / stride)
            }
        }
        self.length = length
        mapGradients = (self.features?.featureChannels ?? []).map { _ in Tensor(shape: [0]) }
    }

    // pictures: N × 3 × R × R → rows: N × length (row-major, into `rows`); returns the feature maps it
    // read (the network's, valid until its next call), for a gradient.
    @discardableResult
    public func embed(_ pictures: Tensor, into rows: UnsafeMutablePointer<Float>) -> [Tensor] {
        let count = pictures.shape[0]
        var offset = 0
        for (factor, scale) in zip(poolFactors, pixelScales) {
            offset += pool(pictures, factor: factor, scale: scale, into: rows + offset)
        }
        guard let features else { return [] }
        let maps = features.features(pictures)
        for map in maps {
            let (channels, plane) = (map.shape[1], map.shape[2] * map.shape[3])
            let scale = (perceptualWeight / Float(maps.count * plane)).squareRoot()
            for n in 0..<count {
                Self.unitChannels(map.data + n * channels * plane, channels: channels, plane: plane, scale: scale,
                                  into: rows + n * length + offset)
            }
            offset += channels * plane
        }
        return maps
    }

    /// The mean over the pictures of |e(pictures[n]) − targets[n]|² and its gradient with respect to the
    /// pictures (the embedding's own buffer): `scratch` holds N × length of the pictures' vectors after.
    public func loss(_ pictures: Tensor, targets: UnsafePointer<Float>, scratch: Tensor) -> (loss: Float, gradient: Tensor) {
        let count = pictures.shape[0]
        scratch.resize(to: [count, length])
        let maps = embed(pictures, into: scratch.data)
        // d = e − t, loss = Σ|d|² / N; from here `scratch` holds dL/de = 2d / N.
        var total: Double = 0
        for i in 0..<(count * length) {
            let difference = scratch.data[i] - targets[i]
            total += Double(difference * difference)
            scratch.data[i] = 2 * difference / Float(count)
        }
        imageGradient.resize(to: pictures.shape)
        imageGradient.fill(0)
        var offset = 0
        for (factor, scale) in zip(poolFactors, pixelScales) {
            offset += unpool(scratch, offset: offset, factor: factor, scale: scale, into: imageGradient)
        }
        if let features {
            for (index, map) in maps.enumerated() {
                let (channels, plane) = (map.shape[1], map.shape[2] * map.shape[3])
                let scale = (perceptualWeight / Float(maps.count * plane)).squareRoot()
                mapGradients[index].resize(to: map.shape)
                for n in 0..<count {
                    Self.unitChannelsGradient(map.data + n * channels * plane, channels: channels, plane: plane, scale: scale,
                                              outputGradient: scratch.data + n * length + offset,
                                              into: mapGradients[index].data + n * channels * plane)
                }
                offset += channels * plane
            }
            imageGradient.add(features.inputGradient(mapGradients))
        }
        return (Float(total / Double(count)), imageGradient)
    }

    /// Writes each picture's block averages (times `scale`) into its row; returns the values per picture.
    private func pool(_ pictures: Tensor, factor: Int, scale: Float, into rows: UnsafeMutablePointer<Float>) -> Int {
        let (count, size) = (pictures.shape[0], resolution)
        let side = size / factor
        let cellScale = scale / Float(factor * factor)
        for n in 0..<count {
            let row = rows + n * length
            for c in 0..<3 {
                let plane = pictures.data + (n * 3 + c) * size * size
                for y in 0..<side {
                    for x in 0..<side {
                        var sum: Float = 0
                        for i in 0..<factor { for j in 0..<factor { sum += plane[(y * factor + i) * size + x * factor + j] } }
                        row[(c * side + y) * side + x] = sum * cellScale
                    }
                }
            }
        }
        return 3 * side * side
    }

    /// The gradient of a pooled level (from `rowGradients` at `offset`) spread back over its blocks.
    private func unpool(_ rowGradients: Tensor, offset: Int, factor: Int, scale: Float, into gradient: Tensor) -> Int {
        let (count, size) = (gradient.shape[0], resolution)
        let side = size / factor
        let cellScale = scale / Float(factor * factor)
        for n in 0..<count {
            let row = rowGradients.data + n * length + offset
            for c in 0..<3 {
                let plane = gradient.data + (n * 3 + c) * size * size
                for y in 0..<side {
                    for x in 0..<side {
                        let share = row[(c * side + y) * side + x] * cellScale
                        for i in 0..<factor { for j in 0..<factor { plane[(y * factor + i) * size + x * factor + j] += share } }
                    }
                }
            }
        }
        return 3 * side * side
    }

    // x: C × P (one picture's map) → u = scale · x / (|x|+ε) per position, C × P
    static func unitChannels(_ x: UnsafePointer<Float>, channels: Int, plane: Int, scale: Float,
                             into u: UnsafeMutablePointer<Float>) {
        for p in 0..<plane {
            var squares: Float = 0
            for c in 0..<channels { squares += x[c * plane + p] * x[c * plane + p] }
            let factor = scale / (squares.squareRoot() + 1e-6)
            for c in 0..<channels { u[c * plane + p] = x[c * plane + p] * factor }
        }
    }

    // du: C × P → dx = scale/(|x|+ε) · (du − x (x·du) / (|x| (|x|+ε))), C × P
    static func unitChannelsGradient(_ x: UnsafePointer<Float>, channels: Int, plane: Int, scale: Float,
                                     outputGradient du: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>) {
        for p in 0..<plane {
            var squares: Float = 0, projection: Float = 0
            for c in 0..<channels {
                squares += x[c * plane + p] * x[c * plane + p]
                projection += x[c * plane + p] * du[c * plane + p]
            }
            let norm = squares.squareRoot()
            let inverse = 1 / (norm + 1e-6)
            let radial = norm > 0 ? projection * inverse / norm : 0
            for c in 0..<channels { dx[c * plane + p] = scale * inverse * (du[c * plane + p] - x[c * plane + p] * radial) }
        }
    }
}

/// The options of the coverage objective.
public struct CoverageOptions: Codable, Equatable, Sendable {
    /// Weight of the pixel part of the distance (block averages: colour and layout).
    public var pixelWeight: Float = 1
    /// Weight of the perceptual part (EfficientNet-Lite0's unit-normalised maps: edges and parts); 0 needs
    /// no feature network. At 0.1 the perceptual part outweighed the pixels in choosing each picture's
    /// latent and the samples kept to muted grounds: in 600 steps, 0.03 raised 8×8 layout recall from 0.11
    /// to 0.38 on `synth butterfly`, 0.19 to 0.32 on `synth tectonics` and 0.79 to 0.86 on `synth plato`.
    public var perceptualWeight: Float = 0.03
    /// Random latents drawn per training picture at each selection (a shared pool of candidates × pictures).
    public var candidates: Int = 16
    /// Steps between two selections.
    public var reselectEvery: Int = 100
    /// Candidates nearer a picture than `margin` × the median distance from a training picture to its
    /// nearest other one are passed over (Rejection-Sampling IMLE, Vashist et al. 2024): the model is pulled
    /// towards every picture but never onto it, and a picture already drawn that closely rests until the
    /// next selection. 0: plain IMLE.
    public var margin: Float = 0

    public init() {}

    public static let candidateRange = 1...256
}

/// Implicit Maximum Likelihood Estimation (Li & Malik 2018) as a training objective: every training picture
/// gets the latent, of a pool of random candidates, whose picture is nearest to it (`PictureEmbedding`'s
/// distance), and the generator is pulled to draw that picture from that latent. A GAN's generator may
/// ignore a training picture; this one cannot, since every picture has a latent that answers for it.
///
/// The selection is redone every `reselectEvery` steps over the whole set: the candidates are drawn from
/// the trainer's random source, drawn by G in eval mode 32 at a time, and compared with every picture at
/// once (the distance is a squared Euclidean one, so the comparison is a matrix product).
public final class CoverageObjective {
    public let options: CoverageOptions
    public let embedding: PictureEmbedding
    public let pictureCount: Int
    public let zDim: Int
    /// The selected latent of every training picture (pictureCount × zDim, row-major).
    public private(set) var latents: [Float]
    /// Each picture's distance to its selected candidate at the last selection.
    public private(set) var selectedDistances: [Float]
    /// The training pictures' vectors (pictureCount × length) and their squared norms.
    private let targets: [Float]
    private let targetNorms: [Float]
    /// The squared distance below which a candidate is too near its picture (see `CoverageOptions.margin`).
    public let rejectedBelow: Float
    /// Whether each picture had a candidate at the last selection (false: all were too near, it rests).
    public private(set) var hasSelection: [Bool]
    private var drawnIndices: [Int] = []
    private let candidateInput = Tensor(shape: [0])
    private let candidateRows = Tensor(shape: [0])
    private let products = Tensor(shape: [0])
    private let batchLatents = Tensor(shape: [0])
    private let batchTargets = Tensor(shape: [0])
    private let scratch = Tensor(shape: [0])

    /// The pretrained network the perceptual distance looks through: EfficientNet-Lite0 from where
    /// `scripts/setup` put it, at the pictures' own size (upsampled ×2 as `project` and the projected
    /// discriminator see them, it cost three times as much per step for no better pictures on 64-pixel butterflies).
    public static func loadFeatureNetwork() throws -> FeaturePyramid {
        try EfficientNetLite0.loadDefault(inputScale: 1)
    }

    /// `pictures`: the training set as N × 3 × R × R in [−1, 1], embedded once here.
    public init(options: CoverageOptions, pictures: Tensor, zDim: Int, features: FeaturePyramid?) {
        self.options = options
        self.zDim = zDim
        let pictureCount = pictures.shape[0]
        self.pictureCount = pictureCount
        let embedding = PictureEmbedding(resolution: pictures.shape[2], pixelWeight: options.pixelWeight,
                                         perceptualWeight: options.perceptualWeight, features: features)
        self.embedding = embedding
        let length = embedding.length
        var targets = [Float](repeating: 0, count: pictureCount * length)
        let chunk = Tensor(shape: [0])
        for start in stride(from: 0, to: pictureCount, by: 32) {
            let n = min(32, pictureCount - start)
            let size = 3 * pictures.shape[2] * pictures.shape[3]
            chunk.resize(n, 3, pictures.shape[2], pictures.shape[3])
            chunk.data.update(from: pictures.data + start * size, count: n * size)
            targets.withUnsafeMutableBufferPointer { _ = embedding.embed(chunk, into: $0.baseAddress! + start * length) }
        }
        self.targets = targets
        targetNorms = (0..<pictureCount).map { i in (0..<length).reduce(Float(0)) { $0 + targets[i * length + $1] * targets[i * length + $1] } }
        latents = [Float](repeating: 0, count: pictureCount * zDim)
        selectedDistances = [Float](repeating: .infinity, count: pictureCount)
        hasSelection = [Bool](repeating: false, count: pictureCount)
        let typical = CoverageObjective.medianNearestDistance(targets, norms: targetNorms, count: pictureCount, length: length)
        rejectedBelow = (options.margin * typical) * (options.margin * typical)
    }

    /// The median over the rows of the distance to the nearest other row (0 for fewer than two).
    static func medianNearestDistance(_ rows: [Float], norms: [Float], count: Int, length: Int) -> Float {
        guard count > 1 else { return 0 }
        var products = [Float](repeating: 0, count: count * count)
        rows.withUnsafeBufferPointer { r in
            products.withUnsafeMutableBufferPointer { rowDotProducts(r.baseAddress!, rows: count, r.baseAddress!, rows: count, length: length, into: $0.baseAddress!) }
        }
        let nearest = (0..<count).map { i in
            (0..<count).filter { $0 != i }.map { j in max(0, norms[i] + norms[j] - 2 * products[i * count + j]) }.min()!.squareRoot()
        }.sorted()
        return count % 2 == 1 ? nearest[count / 2] : (nearest[count / 2 - 1] + nearest[count / 2]) / 2
    }

    /// Whether the step after `steps` steps starts with a selection.
    public func selectsBefore(step steps: Int) -> Bool { steps % options.reselectEvery == 0 }

    /// Draws `candidates × pictureCount` latents from `rng`, draws their pictures with `generator` in eval
    /// mode, and gives every training picture its nearest candidate.
    public func select(generator: Layer, rng: inout RNG) {
        let length = embedding.length
        let total = options.candidates * pictureCount
        var best = [Float](repeating: .infinity, count: pictureCount)
        var chosen = [Float](repeating: 0, count: pictureCount * zDim)
        for start in stride(from: 0, to: total, by: 32) {
            let n = min(32, total - start)
            candidateInput.resize(n, zDim, 1, 1)
            rng.fillNormal(candidateInput.buffer)
            let images = generator.infer(candidateInput)
            candidateRows.resize(to: [n, length])
            embedding.embed(images, into: candidateRows.data)
            products.resize(to: [pictureCount, n])
            targets.withUnsafeBufferPointer {
                rowDotProducts($0.baseAddress!, rows: pictureCount, candidateRows.data, rows: n, length: length, into: products.data)
            }
            for j in 0..<n {
                var norm: Float = 0
                for k in 0..<length { norm += candidateRows.data[j * length + k] * candidateRows.data[j * length + k] }
                for i in 0..<pictureCount {
                    let distance = targetNorms[i] + norm - 2 * products.data[i * n + j]
                    if distance < best[i] && distance >= rejectedBelow {
                        best[i] = distance
                        for k in 0..<zDim { chosen[i * zDim + k] = candidateInput.data[j * zDim + k] }
                    }
                }
            }
        }
        latents = chosen
        selectedDistances = best.map { max(0, $0) }
        hasSelection = best.map(\.isFinite)
    }

    /// The objective on training pictures `indices`: G (in training mode) draws their selected latents,
    /// and the gradient of `weight` × the mean distance to the pictures is added to G's parameter
    /// gradients. Returns the mean distance.
    public func accumulateGradients(generator: Layer, indices allIndices: [Int], weight: Float = 1) -> Float {
        drawnIndices.removeAll(keepingCapacity: true)
        for index in allIndices where hasSelection[index] { drawnIndices.append(index) }
        let indices = drawnIndices
        guard !indices.isEmpty else { return 0 }
        let length = embedding.length
        batchLatents.resize(indices.count, zDim, 1, 1)
        batchTargets.resize(to: [indices.count, length])
        for (row, index) in indices.enumerated() {
            latents.withUnsafeBufferPointer { (batchLatents.data + row * zDim).update(from: $0.baseAddress! + index * zDim, count: zDim) }
            targets.withUnsafeBufferPointer { (batchTargets.data + row * length).update(from: $0.baseAddress! + index * length, count: length) }
        }
        let images = generator.forward(batchLatents, training: true)
        let (loss, gradient) = embedding.loss(images, targets: batchTargets.data, scratch: scratch)
        if weight != 1 { gradient.scale(by: weight) }
        generator.backward(gradient, needsInputGradient: false, needsParameterGradients: true)
        return loss
    }

    /// The state a resume needs: the selected latents (the candidates they came from are gone), and which
    /// pictures have one.
    public func stateTensors() -> [(String, Tensor)] {
        [("coverage.latents", Tensor(shape: [pictureCount, zDim], scalars: latents)),
         ("coverage.selected", Tensor(shape: [pictureCount], scalars: hasSelection.map { $0 ? 1 : 0 }))]
    }

    public func loadState(_ named: [String: Tensor]) throws {
        guard let saved = named["coverage.latents"], saved.shape == [pictureCount, zDim], saved.buffer.allSatisfy(\.isFinite) else {
            throw NeuralError.invalidState("coverage.latents")
        }
        guard let selected = named["coverage.selected"], selected.shape == [pictureCount],
              selected.buffer.allSatisfy({ $0 == 0 || $0 == 1 }) else {
            throw NeuralError.invalidState("coverage.selected")
        }
        latents = saved.scalars
        hasSelection = selected.scalars.map { $0 == 1 }
    }
}
