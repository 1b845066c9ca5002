/// Pictures to measure, as float planes: picture after picture, each its red, green and blue planes of
/// `height` rows of `width` values, in [0, 1] (u8 levels / 255).
public struct PictureSet: Sendable {
    public let count: Int
    public let height: Int
    public let width: Int
    public let values: [Float]

    /// From u8 RGB records, `height` × `width` × 3 each (as the image streams carry them).
    public init(records: [[UInt8]], height: Int, width: Int) {
        let plane = height * width
        precondition(records.allSatisfy { $0.count == plane * 3 }, "records are not \(height) x \(width) x 3")
        var values = [Float](repeating: 0, count: records.count * 3 * plane)
        for (index, record) in records.enumerated() {
            let base = index * 3 * plane
            for p in 0..<plane {
                for c in 0..<3 { values[base + c * plane + p] = Float(record[p * 3 + c]) * (1 / 255) }
            }
        }
        self.init(count: records.count, height: height, width: width, values: values)
    }

    /// From planes laid out as the type describes.
    public init(count: Int, height: Int, width: Int, values: [Float]) {
        precondition(count >= 0 && height > 0 && width > 0 && values.count == count * 3 * height * width,
                     "\(values.count) values are not \(count) pictures of 3 x \(height) x \(width)")
        self.count = count
        self.height = height
        self.width = width
        self.values = values
    }

    /// Values per picture.
    public var pictureSize: Int { 3 * height * width }

    /// `"64x64"`, as the tools write sizes.
    public var sizeDescription: String { "\(width)x\(height)" }
}
