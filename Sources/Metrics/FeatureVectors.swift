import Neural
import Perception

/// One vector per picture, row after row: a feature network's pooled features (what Fréchet distance,
/// KID, precision and recall and the feature-space near-copies are measured in), or a thumbnail's values
/// (what the layout measures are measured in).
public struct FeatureVectors: Sendable {
    public let count: Int
    /// Values per picture (the network's `pooledChannels`).
    public let length: Int
    public let values: [Float]

    /// The vectors at `indices`, in that order.
    func subset(_ indices: [Int]) -> FeatureVectors {
        FeatureVectors(count: indices.count, length: length,
                       values: indices.flatMap { values[($0 * length)..<(($0 + 1) * length)] })
    }

    public init(count: Int, length: Int, values: [Float]) {
        precondition(count >= 0 && length > 0 && values.count == count * length,
                     "\(values.count) values are not \(count) vectors of \(length)")
        (self.count, self.length, self.values) = (count, length, values)
    }

    /// The pooled features of `pictures` through `network`, `batchSize` pictures at a time through one
    /// input tensor (the network keeps its own buffers from batch to batch).
    public init(_ pictures: PictureSet, through network: FeaturePyramid, batchSize: Int = 16) {
        precondition(batchSize > 0)
        let (length, plane) = (network.pooledChannels, pictures.pictureSize)
        var values = [Float](repeating: 0, count: pictures.count * length)
        let batch = Tensor(shape: [0, 3, pictures.height, pictures.width])
        for start in stride(from: 0, to: pictures.count, by: batchSize) {
            let n = min(batchSize, pictures.count - start)
            batch.resize(n, 3, pictures.height, pictures.width)
            // The network takes the generator's range, [-1, 1].
            pictures.values.withUnsafeBufferPointer { source in
                for i in 0..<(n * plane) { batch.data[i] = 2 * source[start * plane + i] - 1 }
            }
            let pooled = network.pooledFeatures(batch)
            precondition(pooled.shape == [n, length], "pooled features of shape \(pooled.shape), not [\(n), \(length)]")
            values.withUnsafeMutableBufferPointer { target in
                (target.baseAddress! + start * length).update(from: pooled.data, count: n * length)
            }
        }
        self.init(count: pictures.count, length: length, values: values)
    }
}
