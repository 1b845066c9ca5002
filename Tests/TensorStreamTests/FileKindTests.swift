import Foundation
import TensorStream
import XCTest

/// Every tool names a file by what `FileKind` finds in its first bytes.
final class FileKindTests: XCTestCase {
    func stream(_ header: StreamHeader) throws -> [UInt8] {
        let sink = MemorySink()
        try StreamWriter(header: header, to: sink).writeHeader()
        return sink.bytes
    }

    /// A safetensors file's first bytes: the JSON header's length, then the header.
    func safetensors(metadata: [String: String]) throws -> [UInt8] {
        let json = try JSONSerialization.data(withJSONObject: ["__metadata__": metadata], options: [.sortedKeys])
        let length = UInt64(json.count)
        return (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) } + [UInt8](json)
    }

    func testStreamsByTheirRecords() throws {
        XCTAssertEqual(FileKind.sniff(try stream(.images(height: 8, width: 8))), .imageStream)
        XCTAssertEqual(FileKind.sniff(try stream(StreamHeader(dtype: .f32, shape: [16], metadata: ["kind": "latent"]))), .latentStream)
        XCTAssertEqual(FileKind.sniff(try stream(StreamHeader(dtype: .u8, shape: [8, 8]))), .otherStream("8x8 u8"))
    }

    func testCheckpointsAndOtherSafetensors() throws {
        XCTAssertEqual(FileKind.sniff(try safetensors(metadata: ["format": "mnemosyne-gan"])), .checkpoint)
        XCTAssertEqual(FileKind.sniff(try safetensors(metadata: ["format": "pt"])), .safetensors)
    }

    func testPicturesVideosAndSounds() {
        XCTAssertEqual(FileKind.sniff([0x89] + Array("PNG\r\n\u{1A}\n".utf8) + [0, 0]), .picture("PNG"))
        XCTAssertEqual(FileKind.sniff([0xFF, 0xD8, 0xFF, 0xE0]), .picture("JPEG"))
        XCTAssertEqual(FileKind.sniff(Array("GIF89a".utf8)), .video("GIF"))
        XCTAssertEqual(FileKind.sniff([0, 0, 0, 0x20] + Array("ftypisom".utf8)), .video("MP4"))
        XCTAssertEqual(FileKind.sniff([0x1A, 0x45, 0xDF, 0xA3] + Array("....webm".utf8)), .video("WebM"))
        XCTAssertEqual(FileKind.sniff(Array("RIFF\u{0}\u{0}\u{0}\u{0}WAVEfmt ".utf8)), .sound("WAV"))
        XCTAssertEqual(FileKind.sniff(Array("ID3\u{4}".utf8)), .sound("MP3"))
    }

    func testNoneOfThem() {
        XCTAssertEqual(FileKind.sniff([]), .empty)
        XCTAssertEqual(FileKind.sniff(Array("hello, world\n".utf8)), .unknown)
        // A length that is not plausible is no safetensors file.
        XCTAssertEqual(FileKind.sniff([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0] + Array("{}".utf8)), .unknown)
    }

    func testFilesAndFolders() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kind-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        XCTAssertEqual(FileKind.of(path: dir.path), .folder)
        XCTAssertEqual(FileKind.of(path: dir.appendingPathComponent("missing").path).key, "unreadable")
        // A long metadata does not hide a stream's records.
        let long = dir.appendingPathComponent("long.tns")
        try Data(try stream(.images(height: 4, width: 4, metadata: ["note": String(repeating: "x", count: 20_000)]))).write(to: long)
        XCTAssertEqual(FileKind.of(path: long.path), .imageStream)
        // Nor does a checkpoint's, wherever its format key lies in a header of many tensors.
        let checkpoint = dir.appendingPathComponent("m.ckpt")
        try Data(try safetensors(metadata: ["a": String(repeating: "y", count: 20_000), "format": "mnemosyne-gan"])).write(to: checkpoint)
        XCTAssertEqual(FileKind.of(path: checkpoint.path), .checkpoint)
    }

    /// A stream reader given something else says what it is.
    func testTheReaderNamesWhatItGotInstead() throws {
        XCTAssertThrowsError(try StreamReader(from: MemorySource(try safetensors(metadata: ["format": "mnemosyne-gan"])), name: "stdin")) {
            XCTAssertEqual(($0 as? StreamError)?.foundKind, .checkpoint)
            XCTAssertEqual("\($0)", "a checkpoint, not a tensor stream: stdin header")
        }
    }
}
