import Foundation
import TensorStream

/// The safetensors file format (https://huggingface.co/docs/safetensors), written and read strictly:
///
///     [8 bytes]  N, the header length, unsigned 64-bit little-endian
///     [N bytes]  a UTF-8 JSON object: {"__metadata__": {"key": "value", ...},
///                 "name": {"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end]}, ...}
///                padded with spaces so that the data starts on an 8-byte boundary
///     [rest]     the tensors' bytes, little-endian, row-major, back to back; offsets count from the
///                start of this section
///
/// Every tensor's byte range must match its dtype and shape, and the ranges must tile the data section
/// exactly: no overlap, no gap, nothing after the last one. Anything else is rejected on load, so a
/// truncated or tampered file never turns into a model.
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case f32 = "F32"
    case u8 = "U8"
    case i64 = "I64"

    public var byteCount: Int {
        switch self {
        case .f32: return 4
        case .u8: return 1
        case .i64: return 8
        }
    }
}

/// One tensor: dtype, shape and its raw little-endian bytes.
public struct SafetensorsTensor: Equatable, Sendable {
    public var dtype: SafetensorsDType
    public var shape: [Int]
    public var bytes: [UInt8]

    public var elementCount: Int { shape.reduce(1, *) }

    public init(dtype: SafetensorsDType, shape: [Int], bytes: [UInt8]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(bytes.count == shape.reduce(1, *) * dtype.byteCount, "byte count does not match shape \(shape)")
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// A float32 tensor of `shape` holding `values` (row-major).
    public init(floats values: [Float], shape: [Int]) {
        precondition(values.count == shape.reduce(1, *), "\(values.count) values for shape \(shape)")
        self.init(dtype: .f32, shape: shape, bytes: littleEndianBytes(of: values.map { $0.bitPattern }))
    }

    /// A 64-bit integer tensor; unsigned values (RNG states) are stored by bit pattern.
    public init(int64 values: [Int64], shape: [Int]) {
        precondition(values.count == shape.reduce(1, *), "\(values.count) values for shape \(shape)")
        self.init(dtype: .i64, shape: shape, bytes: littleEndianBytes(of: values.map { UInt64(bitPattern: $0) }))
    }

    /// The values of an F32 tensor.
    public func floats() throws -> [Float] {
        guard dtype == .f32 else { throw SafetensorsError.wrongDType(expected: .f32, found: dtype) }
        return hostIntegers(fromLittleEndian: bytes, as: UInt32.self).map(Float.init(bitPattern:))
    }

    /// The values of an I64 tensor.
    public func int64s() throws -> [Int64] {
        guard dtype == .i64 else { throw SafetensorsError.wrongDType(expected: .i64, found: dtype) }
        return hostIntegers(fromLittleEndian: bytes, as: UInt64.self).map(Int64.init(bitPattern:))
    }
}

public enum SafetensorsError: Error, Equatable, CustomStringConvertible {
    case truncated(String)
    case badHeader(String)
    case badTensor(name: String, reason: String)
    case badLayout(String)
    case wrongDType(expected: SafetensorsDType, found: SafetensorsDType)

    public var description: String {
        switch self {
        case .truncated(let why): return "truncated safetensors file: \(why)"
        case .badHeader(let why): return "bad safetensors header: \(why)"
        case .badTensor(let name, let why): return "bad tensor \(MessageText.quoted(name)): \(why)"
        case .badLayout(let why): return "bad safetensors data layout: \(why)"
        case .wrongDType(let expected, let found): return "expected dtype \(expected.rawValue), found \(found.rawValue)"
        }
    }
}

/// A whole safetensors file in memory: string metadata and named tensors.
public struct SafetensorsFile: Equatable, Sendable {
    public var metadata: [String: String]
    public var tensors: [String: SafetensorsTensor]

    /// Headers above this size are refused before parsing (a real header is a few kilobytes).
    public static let maximumHeaderLength = 16 << 20

    public init(metadata: [String: String] = [:], tensors: [String: SafetensorsTensor] = [:]) {
        self.metadata = metadata
        self.tensors = tensors
    }

    // MARK: Writing

    /// The JSON header (padded to a multiple of 8 bytes). Tensors are laid out in name order, so the
    /// same contents always give the same bytes.
    func headerBytes() -> [UInt8] {
        var json = "{"
        if !metadata.isEmpty {
            json += "\"__metadata__\":{"
            json += metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
                .joined(separator: ",")
            json += "}"
        }
        var offset = 0
        for name in tensors.keys.sorted() {
            let tensor = tensors[name]!
            if json.count > 1 { json += "," }
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            json += "\(jsonString(name)):{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(shape)],"
            json += "\"data_offsets\":[\(offset),\(offset + tensor.bytes.count)]}"
            offset += tensor.bytes.count
        }
        json += "}"
        var bytes = Array(json.utf8)
        while bytes.count % 8 != 0 { bytes.append(0x20) }
        return bytes
    }

    /// Writes the file as a sequence of chunks (header length, header, each tensor), so a large model
    /// never needs a second copy in memory.
    public func write(to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let header = headerBytes()
        try littleEndianBytes(of: [UInt64(header.count)]).withUnsafeBytes(sink)
        try header.withUnsafeBytes(sink)
        for name in tensors.keys.sorted() {
            try tensors[name]!.bytes.withUnsafeBytes(sink)
        }
    }

    /// The whole file as bytes.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        // Writing into an array cannot fail.
        try! write { out.append(contentsOf: $0) }
        return out
    }

    // MARK: Reading

    /// How many first bytes `checkPrefix` looks at: the header length and the header's first byte.
    public static let prefixLength = 9

    /// Checks a file's first bytes (`prefixLength` of them) against its size, so that a file of another
    /// kind is refused before it is read; returns where the data section starts.
    @discardableResult
    public static func checkPrefix(_ prefix: some Collection<UInt8>, fileSize: Int) throws -> Int {
        let bytes = Array(prefix.prefix(prefixLength))
        guard bytes.count >= 8 else {
            throw SafetensorsError.truncated("\(fileSize) bytes, shorter than the 8-byte header length")
        }
        let headerLength = bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard headerLength <= UInt64(maximumHeaderLength) else {
            throw SafetensorsError.badHeader("header length \(headerLength) is implausibly large")
        }
        guard headerLength >= 2 else { throw SafetensorsError.badHeader("header length \(headerLength) is too small") }
        let dataStart = 8 + Int(headerLength)
        guard dataStart <= fileSize else {
            throw SafetensorsError.truncated("header needs \(headerLength) bytes, file has \(fileSize - 8) after the length")
        }
        guard bytes[8] == UInt8(ascii: "{") else { throw SafetensorsError.badHeader("does not start with '{'") }
        return dataStart
    }

    /// Parses and validates a whole file; only the tensors whose names `keeping` accepts are copied out
    /// (all by default), so a reader that needs a few of them holds no second copy of the rest.
    public init(bytes: [UInt8], keeping: (String) -> Bool = { _ in true }) throws {
        let dataStart = try Self.checkPrefix(bytes.prefix(Self.prefixLength), fileSize: bytes.count)
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: Data(bytes[8..<dataStart]), options: [])
        } catch {
            throw SafetensorsError.badHeader("not valid JSON")
        }
        guard let entries = root as? [String: Any] else { throw SafetensorsError.badHeader("not a JSON object") }

        var metadata: [String: String] = [:]
        var ranges: [(name: String, begin: Int, end: Int, dtype: SafetensorsDType, shape: [Int])] = []
        for (name, value) in entries {
            if name == "__metadata__" {
                guard let map = value as? [String: Any] else {
                    throw SafetensorsError.badHeader("__metadata__ is not an object")
                }
                for (key, item) in map {
                    guard let text = item as? String else {
                        throw SafetensorsError.badHeader("__metadata__ value for \(MessageText.quoted(key)) is not a string")
                    }
                    metadata[key] = text
                }
                continue
            }
            guard let info = value as? [String: Any] else {
                throw SafetensorsError.badTensor(name: name, reason: "entry is not an object")
            }
            guard let dtypeName = info["dtype"] as? String else {
                throw SafetensorsError.badTensor(name: name, reason: "missing dtype")
            }
            guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
                throw SafetensorsError.badTensor(name: name, reason: "unsupported dtype \(MessageText.quoted(dtypeName))")
            }
            guard let shape = nonNegativeIntegers(info["shape"]) else {
                throw SafetensorsError.badTensor(name: name, reason: "shape is not a list of non-negative integers")
            }
            guard let offsets = nonNegativeIntegers(info["data_offsets"]), offsets.count == 2 else {
                throw SafetensorsError.badTensor(name: name, reason: "data_offsets is not two non-negative integers")
            }
            guard offsets[0] <= offsets[1] else {
                throw SafetensorsError.badTensor(name: name, reason: "data_offsets end before they begin")
            }
            var elements = 1
            for dimension in shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
                guard !overflow else { throw SafetensorsError.badTensor(name: name, reason: "shape \(shape) is too large") }
                elements = product
            }
            let (expected, overflow) = elements.multipliedReportingOverflow(by: dtype.byteCount)
            guard !overflow, offsets[1] - offsets[0] == expected else {
                throw SafetensorsError.badTensor(
                    name: name, reason: "\(offsets[1] - offsets[0]) bytes do not fit shape \(shape) of \(dtype.rawValue)")
            }
            ranges.append((name, offsets[0], offsets[1], dtype, shape))
        }

        // The ranges must tile the data section: sorted by start, each begins where the last ended.
        let dataLength = bytes.count - dataStart
        ranges.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var cursor = 0
        for range in ranges {
            if range.begin < cursor {
                throw SafetensorsError.badLayout("tensor \(MessageText.quoted(range.name)) overlaps the one before it")
            }
            if range.begin > cursor {
                throw SafetensorsError.badLayout("gap of \(range.begin - cursor) bytes before tensor \(MessageText.quoted(range.name))")
            }
            if range.end > dataLength {
                throw SafetensorsError.truncated(
                    "tensor \(MessageText.quoted(range.name)) ends at byte \(range.end) of a \(dataLength)-byte data section")
            }
            cursor = range.end
        }
        guard cursor == dataLength else {
            throw SafetensorsError.badLayout("\(dataLength - cursor) unexpected bytes after the last tensor")
        }

        var tensors: [String: SafetensorsTensor] = [:]
        for range in ranges where keeping(range.name) {
            tensors[range.name] = SafetensorsTensor(
                dtype: range.dtype, shape: range.shape,
                bytes: Array(bytes[(dataStart + range.begin)..<(dataStart + range.end)]))
        }
        self.init(metadata: metadata, tensors: tensors)
    }
}

// MARK: Helpers

/// Integers from a JSON array, nil unless every element is a whole, non-negative number.
private func nonNegativeIntegers(_ value: Any?) -> [Int]? {
    guard let array = value as? [Any] else { return nil }
    var result: [Int] = []
    for element in array {
        // JSONSerialization hands back booleans as NSNumbers of type "c" (char); they are not dimensions.
        guard let number = element as? NSNumber, String(cString: number.objCType) != "c" else { return nil }
        let double = number.doubleValue
        guard double >= 0, double <= 9.0e15, double == double.rounded() else { return nil }
        result.append(number.intValue)
    }
    return result
}

/// A JSON string literal with the escapes JSON requires.
private func jsonString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

func littleEndianBytes<T: FixedWidthInteger>(of values: [T]) -> [UInt8] {
    let little = values.map { $0.littleEndian }
    return little.withUnsafeBytes { Array($0) }
}

func hostIntegers<T: FixedWidthInteger>(fromLittleEndian bytes: [UInt8], as: T.Type) -> [T] {
    let count = bytes.count / MemoryLayout<T>.size
    var values = [T](repeating: 0, count: count)
    values.withUnsafeMutableBytes { destination in
        bytes.withUnsafeBytes { source in
            destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[0..<(count * MemoryLayout<T>.size)]))
        }
    }
    return values.map { T(littleEndian: $0) }
}
