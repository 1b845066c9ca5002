/// Conversions between the streams' u8 pictures (height x width x 3, rows top to bottom) and the
/// engine's float batches (N x 3 x H x W in [-1, 1]).
public enum Pixels {
    /// Writes one u8 HWC picture into image `index` of an NCHW float batch, mapping 0...255 to -1...1,
    /// mirrored left-right when `flip` is set.
    public static func loadImage(_ record: UnsafeBufferPointer<UInt8>, size: Int, flip: Bool,
                                 into batch: UnsafeMutablePointer<Float>, index: Int) {
        let plane = size * size
        let base = batch + index * 3 * plane
        for y in 0..<size {
            for x in 0..<size {
                let sourceX = flip ? size - 1 - x : x
                let source = (y * size + sourceX) * 3
                let target = y * size + x
                for c in 0..<3 {
                    base[c * plane + target] = Float(record[source + c]) * (2.0 / 255.0) - 1
                }
            }
        }
    }

    /// The pictures of an NCHW float batch in [-1, 1] as u8 HWC records, back to back; values outside
    /// the range are clipped and rounded to the nearest level.
    public static func bytes(fromBatch floats: [Float], count: Int, size: Int) -> [UInt8] {
        precondition(floats.count == count * 3 * size * size, "batch of \(floats.count) values is not \(count) images")
        let plane = size * size
        var out = [UInt8](repeating: 0, count: floats.count)
        for n in 0..<count {
            let image = n * 3 * plane
            for p in 0..<plane {
                for c in 0..<3 {
                    let value = (floats[image + c * plane + p] + 1) * 127.5
                    out[image + p * 3 + c] = value.isNaN ? 0 : UInt8(max(0, min(255, value.rounded())))
                }
            }
        }
        return out
    }

    /// The same pictures as `bytes(fromBatch:count:size:)`, one u8 HWC record each.
    public static func records(fromBatch floats: [Float], count: Int, size: Int) -> [[UInt8]] {
        let all = bytes(fromBatch: floats, count: count, size: size)
        let recordSize = size * size * 3
        return (0..<count).map { Array(all[($0 * recordSize)..<(($0 + 1) * recordSize)]) }
    }
}
