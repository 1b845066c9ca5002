/// Pictures to measure, as float planes: picture after picture, each its red, green and blue planes of
/// `height` rows of `width` values, in [0, 1] (u8 levels / 255).
public struct PictureSet: Sendable {
    public private(set) var count: Int
    public let height: Int
    public let width: Int
    public private(set) var values: [Float]

    /// From u8 RGB records, `height` × `width` × 3 each (as the image streams carry them).
    public init(records: [[UInt8]], height: Int, width: Int) {
        self.init(count: 0, height: height, width: width, values: [])
        values.reserveCapacity(records.count * pictureSize)
        for record in records { append(record: record) }
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

    /// Adds one u8 RGB record (`height` × `width` × 3): a set read or drawn picture by picture is held
    /// once, as planes, never also as records.
    public mutating func append(record: [UInt8]) {
        let plane = height * width
        precondition(record.count == plane * 3, "a record of \(record.count) bytes is not \(height) x \(width) x 3")
        let base = values.count
        values.append(contentsOf: repeatElement(0, count: 3 * plane))
        values.withUnsafeMutableBufferPointer { target in
            for p in 0..<plane {
                for c in 0..<3 { target[base + c * plane + p] = Float(record[p * 3 + c]) * (1 / 255) }
            }
        }
        count += 1
    }

    /// Values per picture.
    public var pictureSize: Int { 3 * height * width }

    /// `"64x64"`, as the tools write sizes.
    public var sizeDescription: String { "\(width)x\(height)" }
}
