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
