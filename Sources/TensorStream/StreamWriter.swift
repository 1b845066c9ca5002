/// Writes a stream: the header once, then each record framed as marker + payload + CRC-32.
public final class StreamWriter {
    /// Four bytes before every record's payload.
    public static let recordMarker: [UInt8] = Array("REC:".utf8)

    public let header: StreamHeader
    public private(set) var recordsWritten = 0
    private let sink: ByteSink
    private var headerWritten = false

    /// Nothing is written until the first record (or `writeHeader()`), so a tool that fails before
    /// producing anything leaves its output empty.
    public init(header: StreamHeader, to sink: ByteSink) throws {
        _ = try header.encoded()
        self.header = header
        self.sink = sink
    }

    /// Writes the header now; records call this themselves.
    public func writeHeader() throws {
        guard !headerWritten else { return }
        let bytes = try header.encoded()
        try bytes.withUnsafeBytes { try sink.write($0) }
        headerWritten = true
    }

    /// Writes one record of exactly `header.recordByteCount` bytes.
    public func write(_ payload: UnsafeRawBufferPointer) throws {
        guard payload.count == header.recordByteCount else {
            throw StreamError(.wrongRecordSize(got: payload.count, expected: header.recordByteCount),
                              at: .record(recordsWritten))
        }
        try writeHeader()
        try Self.recordMarker.withUnsafeBytes { try sink.write($0) }
        try sink.write(payload)
        var crc = CRC32.checksum(payload).littleEndian
        try withUnsafeBytes(of: &crc) { try sink.write($0) }
        recordsWritten += 1
    }

    /// Writes a u8 record.
    public func write(_ record: [UInt8]) throws {
        try checkDType(.u8)
        try record.withUnsafeBytes { try write($0) }
    }

    /// Writes an f32 record (little-endian on every machine this runs on).
    public func write(_ record: [Float]) throws {
        try checkDType(.f32)
        try record.withUnsafeBytes { try write($0) }
    }

    private func checkDType(_ dtype: DType) throws {
        guard header.dtype == dtype else {
            throw StreamError(.unexpected(expected: "\(header.dtype) records", found: "\(dtype)"),
                              at: .record(recordsWritten))
        }
    }
}
