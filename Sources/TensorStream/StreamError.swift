/// Why a stream could not be read or written, and where: `what: where` in one line,
/// e.g. `record 17 is truncated (40 of 12288 bytes): stdin record 17`.
public struct StreamError: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Reason: Equatable, Sendable {
        case notAStream
        case unsupportedVersion(UInt8)
        case badHeader(String)
        case truncatedHeader
        case truncatedRecord(got: Int, expected: Int)
        case badMarker
        case checksumMismatch
        case mismatchedConcatenation(expected: String, found: String)
        case unexpected(expected: String, found: String)
        case wrongRecordSize(got: Int, expected: Int)
        case io(String)
    }

    public enum Location: Equatable, Sendable {
        case header
        case record(Int)
        case stream
    }

    public var reason: Reason
    public var location: Location
    /// The file name, or `stdin`/`stdout`; empty when unknown.
    public var source: String
    /// For `notAStream`: what the bytes are instead, when they show it (a checkpoint, a PNG picture).
    public var foundKind: FileKind?

    public init(_ reason: Reason, at location: Location, source: String = "", foundKind: FileKind? = nil) {
        self.reason = reason
        self.location = location
        self.source = source
        self.foundKind = foundKind
    }

    public var what: String {
        switch reason {
        case .notAStream:
            if let foundKind, foundKind != .unknown { return "\(foundKind.name), not a tensor stream" }
            return "not a tensor stream (bad magic)"
        case .unsupportedVersion(let v): return "unsupported stream version \(v)"
        case .badHeader(let why): return "bad stream header: \(why)"
        case .truncatedHeader: return "stream header is truncated"
        case .truncatedRecord(let got, let expected): return "truncated record (\(got) of \(expected) bytes)"
        case .badMarker: return "corrupt stream (record marker missing)"
        case .checksumMismatch: return "corrupt record (checksum mismatch)"
        case .mismatchedConcatenation(let expected, let found):
            return "concatenated stream does not match (\(found) after \(expected))"
        case .unexpected(let expected, let found): return "expected \(expected), got \(found)"
        case .wrongRecordSize(let got, let expected): return "record of \(got) bytes, the header says \(expected)"
        case .io(let why): return why
        }
    }

    public var place: String {
        let name = source.isEmpty ? "stream" : source
        switch location {
        case .header: return "\(name) header"
        case .record(let index): return "\(name) record \(index)"
        case .stream: return name
        }
    }

    public var description: String { "\(what): \(place)" }
}
