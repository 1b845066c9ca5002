import Foundation
import TensorStream
import ToolSupport
import XCTest

final class OutputTests: XCTestCase {
    private func folder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    private func entries(_ dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    }

    func testAtomicFileAppearsOnlyOnCommit() throws {
        let dir = try folder()
        let target = dir.appendingPathComponent("out.tns").path
        try Data("old".utf8).write(to: URL(fileURLWithPath: target))
        let file = try AtomicFile(path: target)
        try Array("new contents".utf8).withUnsafeBytes { try file.sink.write($0) }
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "old", "the final name is untouched before commit")
        XCTAssertEqual(try entries(dir).count, 2)
        try file.commit()
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "new contents")
        XCTAssertEqual(try entries(dir), ["out.tns"], "no temporary file is left")
    }

    func testAbandonedAtomicFileLeavesNothing() throws {
        let dir = try folder()
        let target = dir.appendingPathComponent("video.mp4").path
        do {
            let file = try AtomicFile(path: target)
            try Array("half".utf8).withUnsafeBytes { try file.sink.write($0) }
            // Dropped without commit, as when a tool throws halfway.
        }
        XCTAssertEqual(try entries(dir), [])
    }

    func testUnwritableFolderIsAOneLineFailure() {
        XCTAssertThrowsError(try AtomicFile(path: "/nonexistent-folder/x.tns")) { error in
            XCTAssertTrue("\(error)".hasSuffix(": /nonexistent-folder/x.tns"), "\(error)")
            XCTAssertFalse("\(error)".contains("\n"))
        }
    }

    func testBinaryOutputToAFileWritesAStreamAtomically() throws {
        let dir = try folder()
        let path = dir.appendingPathComponent("s.tns").path
        let output = try BinaryOutput(path: path)
        let writer = try StreamWriter(header: .images(height: 1, width: 1), to: output.sink)
        try writer.write([1, 2, 3] as [UInt8])
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        try output.commit()
        let reader = try StreamReader(path: path)
        XCTAssertEqual(try reader.readAllBytes(), [[1, 2, 3]])
    }

    func testDurations() {
        XCTAssertEqual(Progress.duration(12.4), "12s")
        XCTAssertEqual(Progress.duration(185), "3m05s")
        XCTAssertEqual(Progress.duration(3720), "1h02m")
    }
}
