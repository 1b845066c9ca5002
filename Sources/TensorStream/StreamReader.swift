/// Reads a stream record by record, without seeking, so it works on pipes. Streams of the same
/// dtype and shape concatenated (`cat a.tns b.tns`) read as one; every record's marker and checksum
/// are checked, and errors name the record's index (counted from 0 across concatenated parts).
public final class StreamReader {
    /// The first header read; later concatenated headers must match its dtype and shape.
    public private(set) var header: StreamHeader
    /// The file name or `stdin`, for messages.
    public let sourceName: String
    /// Records returned so far.
    public private(set) var recordsRead = 0

    private let source: ByteSource
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    private var atEnd = false

    public init(from source: ByteSource, name: String = "stdin") throws {
        self.source = source
        self.sourceName = name
        self.buffer = [UInt8](repeating: 0, count: 1 << 16)
        // A stand-in until the real header is parsed (methods may run only once every property is set).
        self.header = StreamHeader(dtype: .u8, shape: [1])
        guard let parsed = try readHeader(firstInStream: true) else {
            throw StreamError(.io("empty input, no stream header"), at: .header, source: name)
        }
        self.header = parsed
    }

    /// Opens a file, or stdin for nil or `-`.
    public convenience init(path: String?) throws {
        if let path, path != "-" {
            try self.init(from: FileDescriptorSource(path: path), name: path)
        } else {
            try self.init(from: FileDescriptorSource(fd: 0), name: "stdin")
        }
    }

    /// Reads the next record's payload into `payload` (resized to `header.recordByteCount`);
    /// returns false at a clean end of stream.
    public func next(into payload: inout [UInt8]) throws -> Bool {
        var lead = [UInt8](repeating: 0, count: 4)
        // A concatenated stream's header may come before any record, and any number of empty streams
        // in a row: a loop, so a long run of headers cannot exhaust the stack.
        while true {
            let got = try fill(&lead, count: 4)
            if got == 0 { return false }
            guard got == 4 else { throw error(.truncatedRecord(got: got, expected: header.recordByteCount)) }
            guard lead == StreamHeader.magic else { break }
            try continueWithConcatenatedHeader()
        }
        guard lead == StreamWriter.recordMarker else { throw error(.badMarker) }
        let size = header.recordByteCount
        let gotPayload = try fillRecord(&payload, count: size)
        guard gotPayload == size else { throw error(.truncatedRecord(got: gotPayload, expected: size)) }
        var crcBytes = [UInt8](repeating: 0, count: 4)
        guard try fill(&crcBytes, count: 4) == 4 else { throw error(.truncatedRecord(got: size, expected: size + 4)) }
        let stored = crcBytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }
        let computed = payload.withUnsafeBytes { CRC32.checksum($0) }
        guard stored == computed else { throw error(.checksumMismatch) }
        recordsRead += 1
        return true
    }

    /// The next u8 record, or nil at the end.
    public func nextBytes() throws -> [UInt8]? {
        try require(.u8)
        var payload: [UInt8] = []
        return try next(into: &payload) ? payload : nil
    }

    /// The next f32 record, or nil at the end.
    public func nextFloats() throws -> [Float]? {
        try require(.f32)
        var payload: [UInt8] = []
        guard try next(into: &payload) else { return nil }
        return payload.withUnsafeBytes { raw in
            (0..<header.elementCount).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }

    /// Every remaining u8 record.
    public func readAllBytes() throws -> [[UInt8]] {
        var records: [[UInt8]] = []
        while let record = try nextBytes() { records.append(record) }
        return records
    }

    /// Throws a one-line error unless the records are of `dtype`.
    public func require(_ dtype: DType) throws {
        guard header.dtype == dtype else {
            throw StreamError(.unexpected(expected: "\(dtype) records", found: header.dtype.description),
                              at: .header, source: sourceName)
        }
    }

    /// Throws a one-line error unless the records are H×W×3 u8 images.
    public func requireImages() throws {
        guard header.dtype == .u8, header.shape.count == 3, header.shape[2] == 3 else {
            throw StreamError(.unexpected(expected: "an image stream (H x W x 3 u8)", found: header.shapeDescription),
                              at: .header, source: sourceName)
        }
    }

    // MARK: - Internals

    private func error(_ reason: StreamError.Reason) -> StreamError {
        StreamError(reason, at: .record(recordsRead), source: sourceName)
    }

    /// The header after a concatenation point (its magic already consumed) must match the first.
    private func continueWithConcatenatedHeader() throws {
        guard let next = try readHeader(firstInStream: false) else { throw error(.truncatedHeader) }
        guard next.isCompatible(with: header) else {
            throw error(.mismatchedConcatenation(expected: header.shapeDescription, found: next.shapeDescription))
        }
    }

    /// Parses a header; the magic is read here only for the first header. Nil on empty input.
    private func readHeader(firstInStream: Bool) throws -> StreamHeader? {
        let place: StreamError.Location = firstInStream ? .header : .record(recordsRead)
        func fail(_ reason: StreamError.Reason) -> StreamError { StreamError(reason, at: place, source: sourceName) }
        var fixed = [UInt8](repeating: 0, count: firstInStream ? 8 : 4)
        let got = try fill(&fixed, count: fixed.count)
        if got == 0 && firstInStream { return nil }
        guard got == fixed.count else { throw fail(.truncatedHeader) }
        if firstInStream {
            guard Array(fixed[0..<4]) == StreamHeader.magic else {
                // What the bytes are instead: the first read is still in the buffer.
                let seen = end >= fixed.count ? Array(buffer[0..<end]) : fixed
                throw StreamError(.notAStream, at: place, source: sourceName, foundKind: FileKind.sniff(seen))
            }
            fixed.removeFirst(4)
        }
        guard fixed[0] == StreamHeader.version else { throw fail(.unsupportedVersion(fixed[0])) }
        guard let dtype = DType(rawValue: fixed[1]) else { throw fail(.badHeader("unknown dtype code \(fixed[1])")) }
        let rank = Int(fixed[2])
        guard (1...StreamHeader.maxRank).contains(rank) else { throw fail(.badHeader("rank \(rank)")) }
        var rest = [UInt8](repeating: 0, count: 4 * rank + 4)
        guard try fill(&rest, count: rest.count) == rest.count else { throw fail(.truncatedHeader) }
        let words = rest.withUnsafeBytes { raw in
            (0...rank).map { Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
        let shape = Array(words[0..<rank])
        guard shape.allSatisfy({ $0 > 0 }) else { throw fail(.badHeader("shape \(shape) has a zero dimension")) }
        // Each dimension fits 32 bits, so a product past 2³¹ is caught before it can overflow 64 bits.
        var elements = 1
        for dimension in shape {
            elements *= dimension
            guard elements <= 1 << 31 else { throw fail(.badHeader("records of shape \(shape) are too large")) }
        }
        let metadataLength = words[rank]
        guard metadataLength <= 1 << 20 else { throw fail(.badHeader("metadata of \(metadataLength) bytes")) }
        var metadataBytes = [UInt8](repeating: 0, count: metadataLength)
        guard try fill(&metadataBytes, count: metadataLength) == metadataLength else { throw fail(.truncatedHeader) }
        guard let text = String(validating: metadataBytes, as: UTF8.self) else {
            throw fail(.badHeader("metadata is not UTF-8"))
        }
        var metadata: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { throw fail(.badHeader("metadata line without '='")) }
            metadata[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return StreamHeader(dtype: dtype, shape: shape, metadata: metadata)
    }

    /// Reads a record of `count` bytes into `payload` (resized to `count`); fewer only at end of input.
    /// A header may declare records of gigabytes, so a new size grows the buffer as the bytes arrive
    /// (doubling) rather than at once: a short or lying input costs only what it holds.
    private func fillRecord(_ payload: inout [UInt8], count: Int) throws -> Int {
        if payload.count == count { return try fill(&payload, count: count) }
        payload.removeAll(keepingCapacity: true)
        var got = 0
        while got < count {
            let piece = min(count - got, max(got, 1 << 20))
            payload.append(contentsOf: repeatElement(0, count: piece))
            let n = try fill(&payload, from: got, count: piece)
            got += n
            guard n == piece else { break }
        }
        return got
    }

    /// Reads the source; its errors name this stream (a path given as input may be a folder, say).
    private func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        do {
            return try source.read(into: buffer)
        } catch var error as StreamError where error.source.isEmpty {
            error.source = sourceName
            throw error
        }
    }

    /// Copies `count` bytes into `destination` from index `offset`; fewer only at end of input.
    private func fill(_ destination: inout [UInt8], from offset: Int = 0, count: Int) throws -> Int {
        let limit = offset + count
        var copied = offset
        while copied < limit {
            if start == end {
                if atEnd { break }
                if limit - copied >= buffer.count {
                    // Large records bypass the buffer.
                    let n = try destination.withUnsafeMutableBytes {
                        try read(into: UnsafeMutableRawBufferPointer(rebasing: $0[copied..<limit]))
                    }
                    if n == 0 { atEnd = true } else { copied += n }
                    continue
                }
                let n = try buffer.withUnsafeMutableBytes { try read(into: $0) }
                if n == 0 { atEnd = true; break }
                start = 0
                end = n
            }
            let n = min(limit - copied, end - start)
            destination.withUnsafeMutableBytes { out in
                buffer.withUnsafeBytes { out.baseAddress!.advanced(by: copied).copyMemory(from: $0.baseAddress! + start, byteCount: n) }
            }
            start += n
            copied += n
        }
        return copied - offset
    }
}
