import Foundation

/// The element type of a stream's records.
public enum DType: UInt8, Sendable, CustomStringConvertible {
    case u8 = 1
    case f32 = 2

    /// Bytes per element.
    public var size: Int { self == .u8 ? 1 : 4 }

    public var description: String { self == .u8 ? "u8" : "f32" }
}

/// What every record of a stream shares: element type, shape, and free key/value metadata
/// (`fps`, `kind=image|latent`, `source`, ...). Byte layout: docs/tensor-stream.md.
public struct StreamHeader: Equatable, Sendable {
    public static let magic: [UInt8] = Array("MTNS".utf8)
    public static let version: UInt8 = 1
    public static let maxRank = 8
    /// The frame rates an `fps` metadata value may give: what a video encoder can time (a frame per
    /// 100 s at the slowest) and what a viewer can show.
    public static let frameRates = 0.01...1000.0

    public var dtype: DType
    /// The shape of one record; images are height × width × channels (RGB: 3).
    public var shape: [Int]
    /// Metadata, written sorted by key so equal headers give equal bytes.
    public var metadata: [String: String]

    public init(dtype: DType, shape: [Int], metadata: [String: String] = [:]) {
        self.dtype = dtype
        self.shape = shape
        self.metadata = metadata
    }

    /// A header for images of `height` × `width` RGB u8 pixels.
    public static func images(height: Int, width: Int, metadata: [String: String] = [:]) -> StreamHeader {
        var metadata = metadata
        if metadata["kind"] == nil { metadata["kind"] = "image" }
        return StreamHeader(dtype: .u8, shape: [height, width, 3], metadata: metadata)
    }

    /// `text` made fit for a metadata value: a line break (a file name may hold one) written as `\n`,
    /// as a value is one line.
    public static func metadataValue(_ text: String) -> String {
        text.replacingOccurrences(of: "\r", with: "\\r").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// Elements in one record.
    public var elementCount: Int { shape.reduce(1, *) }

    /// Bytes of one record's payload.
    public var recordByteCount: Int { elementCount * dtype.size }

    /// `64x64x3 u8`, as messages show it.
    public var shapeDescription: String {
        shape.map(String.init).joined(separator: "x") + " " + dtype.description
    }

    /// The header's bytes, validated: throws for a shape or metadata the format cannot hold.
    public func encoded() throws -> [UInt8] {
        guard (1...Self.maxRank).contains(shape.count) else {
            throw StreamError(.badHeader("rank \(shape.count) is outside 1...\(Self.maxRank)"), at: .header)
        }
        guard shape.allSatisfy({ $0 > 0 && $0 <= Int(UInt32.max) }) else {
            throw StreamError(.badHeader("shape \(shape) has a dimension outside 1...\(UInt32.max)"), at: .header)
        }
        var text = ""
        for key in metadata.keys.sorted() {
            let value = metadata[key]!
            guard !key.isEmpty, !key.contains("="), !key.contains("\n"), !value.contains("\n") else {
                throw StreamError(.badHeader("metadata key or value not allowed: \(key)"), at: .header)
            }
            text += "\(key)=\(value)\n"
        }
        let metadataBytes = Array(text.utf8)
        var bytes = Self.magic
        bytes += [Self.version, dtype.rawValue, UInt8(shape.count), 0]
        for dimension in shape { bytes.appendLittleEndian(UInt32(dimension)) }
        bytes.appendLittleEndian(UInt32(metadataBytes.count))
        bytes += metadataBytes
        return bytes
    }

    /// Whether records of `other` can follow records of `self` in one stream.
    public func isCompatible(with other: StreamHeader) -> Bool {
        dtype == other.dtype && shape == other.shape
    }
}

extension Array where Element == UInt8 {
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}
