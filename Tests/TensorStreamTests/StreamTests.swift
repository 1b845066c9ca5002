import Foundation
import TensorStream
import PythonReference
import XCTest

final class StreamTests: XCTestCase {
    private func stream(_ header: StreamHeader, u8 records: [[UInt8]]) throws -> [UInt8] {
        let sink = MemorySink()
        let writer = try StreamWriter(header: header, to: sink)
        for record in records { try writer.write(record) }
        try writer.writeHeader()
        return sink.bytes
    }

    private func reader(_ bytes: [UInt8]) throws -> StreamReader {
        try StreamReader(from: MemorySource(bytes), name: "test.tns")
    }

    private func assertStreamError(_ bytes: [UInt8], _ expected: StreamError.Reason, at location: StreamError.Location,
                                   file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try reader(bytes).readAllBytes(), file: file, line: line) { error in
            guard let error = error as? StreamError else { return XCTFail("not a StreamError: \(error)", file: file, line: line) }
            XCTAssertEqual(error.reason, expected, file: file, line: line)
            XCTAssertEqual(error.location, location, file: file, line: line)
            XCTAssertEqual(error.source, "test.tns", file: file, line: line)
        }
    }

    func testU8RoundTripKeepsShapeMetadataAndRecords() throws {
        let header = StreamHeader.images(height: 2, width: 3, metadata: ["fps": "24", "source": "a b=c"])
        let records: [[UInt8]] = (0..<5).map { r in (0..<18).map { i in UInt8(truncatingIfNeeded: i * 7 + r * 31) } }
        let read = try reader(stream(header, u8: records))
        XCTAssertEqual(read.header, header)
        XCTAssertEqual(read.header.metadata["kind"], "image")
        XCTAssertEqual(try read.readAllBytes(), records)
        XCTAssertEqual(read.recordsRead, 5)
    }

    func testF32RoundTripIsBitExact() throws {
        let header = StreamHeader(dtype: .f32, shape: [4], metadata: ["kind": "latent"])
        let sink = MemorySink()
        let writer = try StreamWriter(header: header, to: sink)
        let records: [[Float]] = [[0, -1.5, .greatestFiniteMagnitude, .leastNonzeroMagnitude], [1e-30, 3, -0.0, 7]]
        for record in records { try writer.write(record) }
        let read = try reader(sink.bytes)
        XCTAssertEqual(read.header.dtype, .f32)
        var got: [[Float]] = []
        while let record = try read.nextFloats() { got.append(record) }
        XCTAssertEqual(got.map { $0.map(\.bitPattern) }, records.map { $0.map(\.bitPattern) })
    }

    func testHeaderOnlyStreamHasNoRecords() throws {
        let read = try reader(stream(.images(height: 4, width: 4), u8: []))
        XCTAssertNil(try read.nextBytes())
    }

    func testEmptyInputIsAnError() {
        XCTAssertThrowsError(try reader([])) { XCTAssertEqual(($0 as? StreamError)?.location, .header) }
    }

    func testNotAStream() {
        assertStreamError(Array("P6\n3 2\n255\n......".utf8), .notAStream, at: .header)
    }

    func testTruncationIsReportedWithTheRecordIndex() throws {
        let bytes = try stream(.images(height: 2, width: 2), u8: [[UInt8](repeating: 1, count: 12), [UInt8](repeating: 2, count: 12)])
        // Cut inside the second record's payload: 4 bytes header part, marker, 5 of 12 bytes.
        let recordLength = 4 + 12 + 4
        let cut = bytes.count - recordLength + 4 + 5
        assertStreamError(Array(bytes[..<cut]), .truncatedRecord(got: 5, expected: 12), at: .record(1))
        // Cut inside the header.
        assertStreamError(Array(bytes[..<10]), .truncatedHeader, at: .header)
    }

    func testCorruptionIsDetected() throws {
        let bytes = try stream(.images(height: 2, width: 2), u8: [[UInt8](repeating: 1, count: 12), [UInt8](repeating: 2, count: 12), [UInt8](repeating: 3, count: 12)])
        let headerLength = try StreamHeader.images(height: 2, width: 2).encoded().count
        var flipped = bytes
        flipped[headerLength + 20 + 4 + 3] ^= 0x10  // a payload byte of record 1
        assertStreamError(flipped, .checksumMismatch, at: .record(1))
        var badMarker = bytes
        badMarker[headerLength + 40] = UInt8(ascii: "X")  // record 2's marker
        assertStreamError(badMarker, .badMarker, at: .record(2))
    }

    func testConcatenatedStreamsReadAsOne() throws {
        let a = try stream(.images(height: 1, width: 2, metadata: ["source": "a"]), u8: [[1, 2, 3, 4, 5, 6]])
        let b = try stream(.images(height: 1, width: 2, metadata: ["source": "b"]), u8: [[7, 8, 9, 10, 11, 12], [0, 0, 0, 0, 0, 0]])
        let read = try reader(a + b)
        XCTAssertEqual(read.header.metadata["source"], "a")
        XCTAssertEqual(try read.readAllBytes(), [[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12], [0, 0, 0, 0, 0, 0]])
    }

    func testAnyNumberOfEmptyStreamsMayComeBetween() throws {
        let header = StreamHeader.images(height: 1, width: 2)
        let a = try stream(header, u8: [[1, 2, 3, 4, 5, 6]])
        let empties = try [UInt8](repeatElement(header.encoded(), count: 100_000).joined())
        let b = try stream(header, u8: [[7, 8, 9, 10, 11, 12]])
        XCTAssertEqual(try reader(a + empties + b).readAllBytes(), [[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]])
    }

    func testConcatenationOfDifferentShapesIsAClearError() throws {
        let a = try stream(.images(height: 1, width: 2), u8: [[1, 2, 3, 4, 5, 6]])
        let b = try stream(.images(height: 2, width: 1), u8: [[1, 2, 3, 4, 5, 6]])
        assertStreamError(a + b, .mismatchedConcatenation(expected: "1x2x3 u8", found: "2x1x3 u8"), at: .record(1))
        let message = "\(StreamError(.mismatchedConcatenation(expected: "1x2x3 u8", found: "2x1x3 u8"), at: .record(1), source: "stdin"))"
        XCTAssertEqual(message, "concatenated stream does not match (2x1x3 u8 after 1x2x3 u8): stdin record 1")
    }

    func testWrongRecordSizeAndDTypeAreRejectedOnWrite() throws {
        let writer = try StreamWriter(header: .images(height: 2, width: 2), to: MemorySink())
        XCTAssertThrowsError(try writer.write([UInt8](repeating: 0, count: 11)))
        XCTAssertThrowsError(try writer.write([Float](repeating: 0, count: 12)))
    }

    func testReaderRejectsTheWrongKindOfStream() throws {
        let header = StreamHeader(dtype: .f32, shape: [2, 2, 3])
        let sink = MemorySink()
        try StreamWriter(header: header, to: sink).writeHeader()
        let read = try reader(sink.bytes)
        XCTAssertThrowsError(try read.requireImages()) { error in
            XCTAssertEqual("\(error)", "expected an image stream (H x W x 3 u8), got 2x2x3 f32: test.tns header")
        }
    }

    func testBadHeadersAreRejected() throws {
        XCTAssertThrowsError(try StreamHeader(dtype: .u8, shape: []).encoded())
        XCTAssertThrowsError(try StreamHeader(dtype: .u8, shape: [0, 3]).encoded())
        XCTAssertThrowsError(try StreamHeader(dtype: .u8, shape: [1], metadata: ["a": "line\nbreak"]).encoded())
        var bytes = try StreamHeader(dtype: .u8, shape: [3]).encoded()
        bytes[5] = 9  // unknown dtype
        assertStreamError(bytes, .badHeader("unknown dtype code 9"), at: .header)
        bytes[4] = 2  // a future version
        assertStreamError(bytes, .unsupportedVersion(2), at: .header)

        // Dimensions whose product overflows 64 bits are refused, not multiplied.
        var huge = try StreamHeader(dtype: .u8, shape: [3, 3, 3]).encoded()
        let dims = try XCTUnwrap((0..<(huge.count - 12)).first { Array(huge[$0..<($0 + 12)]) == [3, 0, 0, 0, 3, 0, 0, 0, 3, 0, 0, 0] })
        for i in dims..<(dims + 12) { huge[i] = 0xFF }
        assertStreamError(huge, .badHeader("records of shape [4294967295, 4294967295, 4294967295] are too large"), at: .header)
    }

    /// Records larger than the reader's buffer take the direct path; small ones the buffered one.
    func testLargeRecordsThroughAPipe() throws {
        let header = StreamHeader.images(height: 256, width: 256)
        let records = (0..<3).map { r in [UInt8](repeating: UInt8(r + 1), count: header.recordByteCount) }
        let bytes = try stream(header, u8: records)
        let pipe = Pipe()
        let writer = Thread {
            try? pipe.fileHandleForWriting.write(contentsOf: Data(bytes))
            try? pipe.fileHandleForWriting.close()
        }
        writer.start()
        let read = try StreamReader(from: FileDescriptorSource(fd: pipe.fileHandleForReading.fileDescriptor), name: "pipe")
        XCTAssertEqual(try read.readAllBytes(), records)
    }

    /// The numpy reader printed in docs/tensor-stream.md reads what the writer wrote.
    func testDocumentedNumpyReaderReadsOurStream() throws {
        let doc = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/tensor-stream.md")
        let text = try String(contentsOf: doc, encoding: .utf8)
        guard let start = text.range(of: "```python\n"), let end = text.range(of: "```", range: start.upperBound..<text.endIndex) else {
            return XCTFail("docs/tensor-stream.md has no python block")
        }
        let pythonReader = String(text[start.upperBound..<end.lowerBound])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tns-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let records: [[UInt8]] = (0..<3).map { r in (0..<60).map { i in UInt8((i * 3 + r * 50) % 256) } }
        let a = try stream(.images(height: 4, width: 5, metadata: ["fps": "12"]), u8: Array(records[0..<2]))
        let b = try stream(.images(height: 4, width: 5), u8: [records[2]])
        try Data(a + b).write(to: dir.appendingPathComponent("s.tns"))
        try pythonReader.write(to: dir.appendingPathComponent("tns.py"), atomically: true, encoding: .utf8)
        let check = """
        from tns import read_stream
        header, records = read_stream(open('s.tns', 'rb'))
        assert header['shape'] == (4, 5, 3) and header['dtype'] == 'u8', header
        assert header['metadata']['fps'] == '12', header
        assert records.shape == (3, 4, 5, 3), records.shape
        print(int(records.astype('int64').sum()), int(records[2, 3, 4, 2]))
        """
        let printed = try runPython(["-c", check], directory: dir).output
        let sum: Int = records.joined().reduce(0) { $0 + Int($1) }
        XCTAssertEqual(printed.trimmingCharacters(in: .whitespacesAndNewlines), "\(sum) \(records[2][(3 * 5 + 4) * 3 + 2])")
    }
}
