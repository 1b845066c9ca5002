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
        XCTAssertEqual(MessageText.escaped(FileSystemPath.string(fromBytes: [0x63, 0xE9])), "c\\xE9")
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

    // Issue 18, item 15: a name holding a character of the block that carries bytes (U+10FF80...U+10FFFF)
    // read back as other bytes. Every byte value, alone and after every lead byte, and every character of
    // that block, survives the trip, and a real file of each name is listed and opened.
    func testEveryByteValueInANameSurvivesTheRoundTrip() throws {
        var names: [[UInt8]] = (1...255).map { [0x61, UInt8($0), 0x62] }
        names += (0xC0...0xFF).flatMap { lead in (0x80...0xBF).map { [UInt8(lead), UInt8($0)] } }
        names += (0x80...0xFF).map { Array(String(Unicode.Scalar(0x10_FF00 + UInt32($0))!).utf8) + [0x2E, 0x6D] }
        names.append(Array("x\u{10FF80}y\u{10FFFF}".utf8) + [0xF4, 0x8F, 0xBE])
        for bytes in names {
            let path = FileSystemPath.string(fromBytes: bytes)
            XCTAssertEqual(FileSystemPath.bytes(of: path).dropLast().map { UInt8(bitPattern: $0) }, bytes, "\(bytes)")
        }
        XCTAssertEqual(MessageText.escaped(FileSystemPath.string(fromBytes: Array("x\u{10FF80}".utf8))), "x\\xF4\\x8F\\xBE\\x80")

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bytes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let fileNames = names.filter { !$0.contains(0x2F) && $0 != [0x2E] && $0 != [0x2E, 0x2E] }
        for (index, name) in fileNames.enumerated() {
            let raw = Array(dir.path.utf8) + [0x2F] + name + [0]
            let fd = raw.withUnsafeBufferPointer {
                $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT | O_EXCL, 0o644) }
            }
            XCTAssertGreaterThanOrEqual(fd, 0, "\(name)")
            var number = UInt32(index)
            XCTAssertEqual(write(fd, &number, 4), 4)
            close(fd)
        }
        let listed = try XCTUnwrap(FileSystemPath.entries(of: dir.path))
        XCTAssertEqual(Set(listed), Set(fileNames.map { FileSystemPath.string(fromBytes: $0) }))
        for (index, name) in fileNames.enumerated() {
            let bytes = try RegularFile(path: dir.path + "/" + FileSystemPath.string(fromBytes: name)).readAll()
            XCTAssertEqual(bytes, withUnsafeBytes(of: UInt32(index)) { Array($0) }, "\(name)")
        }
    }

    // Issue 18, item 14: one escaping for every message.
    func testMessagesEscapeControlCharactersAndCutQuotedContent() {
        XCTAssertEqual(MessageText.escaped("a\u{1B}[2Jb\nc\td\u{7F}\u{9B}e\u{202E}f"),
                       #"a\x1B[2Jb\nc\td\x7F\u{9B}e\u{202E}f"#)
        XCTAssertEqual(MessageText.escaped("café, 東京 and 🌊 stay"), "café, 東京 and 🌊 stay")
        XCTAssertEqual(MessageText.quoted("fastgan"), "'fastgan'")
        let long = String(repeating: "\u{1B}", count: 100_000)
        let quoted = MessageText.quoted(long)
        XCTAssertEqual(quoted, "'" + String(repeating: "\\x1B", count: MessageText.quotedLength) + "…' (100000 characters)")
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
