import Foundation
import TensorStream
import XCTest

/// Streams and files made to hurt: each costs only what it holds, and nothing blocks.
final class HostileStreamTests: XCTestCase {
    func peakMemory() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }

    func testAHugeDeclaredRecordCostsOnlyTheBytesThatArrive() throws {
        // 26754 x 26754 x 3 u8: a 2.1 GB record, of which 10 bytes follow.
        var bytes = try StreamHeader.images(height: 26754, width: 26754).encoded()
        bytes += StreamWriter.recordMarker + [UInt8](repeating: 7, count: 10)
        let before = peakMemory()
        let reader = try StreamReader(from: MemorySource(bytes), name: "big.tns")
        XCTAssertThrowsError(try reader.readAllBytes()) { error in
            guard case .truncatedRecord(let got, let expected)? = (error as? StreamError)?.reason else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(got, 10)
            XCTAssertEqual(expected, 26754 * 26754 * 3)
        }
        XCTAssertLessThan(peakMemory() - before, 64 << 20)
    }

    func testRecordsOfEverySizeStillReadWhole() throws {
        // Sizes around the growth steps of the record buffer.
        for size in [1, 65_535, 65_536, (1 << 20) + 1, 3 << 20] {
            let sink = MemorySink()
            let writer = try StreamWriter(header: StreamHeader(dtype: .u8, shape: [size]), to: sink)
            let records = (0..<2).map { r in (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ r) } }
            for record in records { try writer.write(record) }
            XCTAssertEqual(try StreamReader(from: MemorySource(sink.bytes)).readAllBytes(), records, "\(size)")
        }
    }

    func testALineBreakInAFileNameIsEscapedForTheMetadata() throws {
        let name = "new\nline\r.png"
        XCTAssertThrowsError(try StreamHeader.images(height: 1, width: 1, metadata: ["source": name]).encoded())
        let header = StreamHeader.images(height: 1, width: 1, metadata: ["source": StreamHeader.metadataValue(name)])
        let sink = MemorySink()
        try StreamWriter(header: header, to: sink).writeHeader()
        XCTAssertEqual(try StreamReader(from: MemorySource(sink.bytes)).header.metadata["source"], #"new\nline\r.png"#)
    }

    func testPathsThatAreNotUTF8KeepTheirBytes() throws {
        let samples: [[UInt8]] = [Array("plain/ascii.png".utf8), Array("café/üñí.jpg".utf8), [0x63, 0x61, 0x66, 0xE9, 0x2E, 0x6A],
                                  [0xFF, 0xFE, 0x80], [0xE2, 0x82], Array("a".utf8) + [0xC3] + Array("b".utf8)]
        for bytes in samples {
            let path = FileSystemPath.string(fromBytes: bytes)
            XCTAssertEqual(FileSystemPath.bytes(of: path).dropLast().map { UInt8(bitPattern: $0) }, bytes, "\(bytes)")
        }
        XCTAssertEqual(FileSystemPath.string(fromBytes: Array("café".utf8)), "café", "valid UTF-8 stays as it is")
        XCTAssertEqual(FileSystemPath.displayed(FileSystemPath.string(fromBytes: [0x63, 0xE9])), "c\\xE9")
        // A real file of such a name is listed, found and opened.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("names-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let name: [UInt8] = [0x6F, 0x6C, 0xE9, 0x2E, 0x62, 0x69, 0x6E]
        let raw = Array(dir.path.utf8) + [0x2F] + name + [0]
        let fd = raw.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT, 0o644) } }
        XCTAssertGreaterThanOrEqual(fd, 0)
        XCTAssertEqual(write(fd, [1, 2, 3] as [UInt8], 3), 3)
        close(fd)
        let listed = try XCTUnwrap(FileSystemPath.entries(of: dir.path))
        XCTAssertEqual(listed, [FileSystemPath.string(fromBytes: name)])
        XCTAssertEqual(try RegularFile(path: dir.path + "/" + listed[0]).readAll(), [1, 2, 3])
    }

    func testRegularFileRefusesAFIFOWithoutWaitingAndReadsItsFirstBytes() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("f.jpg").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        XCTAssertThrowsError(try RegularFile(path: fifo)) { XCTAssertEqual("\($0)", "not a regular file") }
        XCTAssertThrowsError(try RegularFile(path: dir.path)) { XCTAssertEqual("\($0)", "not a regular file") }
        XCTAssertThrowsError(try RegularFile(path: dir.appendingPathComponent("none").path)) {
            XCTAssertEqual("\($0)", "No such file or directory")
        }
        let path = dir.appendingPathComponent("a.bin").path
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data([1, 2, 3, 4, 5])))
        let file = try RegularFile(path: path)
        XCTAssertEqual(file.size, 5)
        XCTAssertEqual(try file.read(3), [1, 2, 3])
        XCTAssertEqual(try file.read(16), [1, 2, 3, 4, 5])
        XCTAssertEqual(try file.readAll(), [1, 2, 3, 4, 5])
    }
}
