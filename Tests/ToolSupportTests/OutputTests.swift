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

    func testAtomicFileReplacesALinksTargetAndKeepsTheLink() throws {
        let dir = try folder()
        let target = dir.appendingPathComponent("models/latest-real.ckpt")
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("old".utf8).write(to: target)
        let link = dir.appendingPathComponent("latest.ckpt").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "models/latest-real.ckpt")
        let file = try AtomicFile(path: link)
        try Array("new".utf8).withUnsafeBytes { try file.sink.write($0) }
        try file.commit()
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: link), "models/latest-real.ckpt")
        XCTAssertEqual(try String(contentsOf: target, encoding: .utf8), "new")
        XCTAssertEqual(try entries(target.deletingLastPathComponent()), ["latest-real.ckpt"])
    }

    func testAtomicFileWritesThroughAPipeInsteadOfReplacingIt() throws {
        // A FIFO stands for every path that is not a regular file (-o /dev/null, a named pipe).
        let dir = try folder()
        let fifo = dir.appendingPathComponent("pipe").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let received = LockedBytes()
        let reader = Thread {
            received.set(FileHandle(forReadingAtPath: fifo)?.readDataToEndOfFile() ?? Data())
        }
        reader.start()
        let file = try AtomicFile(path: fifo)
        try Array("through the pipe".utf8).withUnsafeBytes { try file.sink.write($0) }
        try file.commit()
        let deadline = Date().addingTimeInterval(10)
        while received.get() == nil && Date() < deadline { usleep(1_000) }
        XCTAssertEqual(received.get().map { String(decoding: $0, as: UTF8.self) }, "through the pipe")
        var status = stat()
        XCTAssertEqual(lstat(fifo, &status), 0)
        XCTAssertEqual(status.st_mode & S_IFMT, S_IFIFO, "the pipe is still a pipe, not a file renamed over it")
        XCTAssertEqual(try entries(dir), ["pipe"])
    }

    func testStaleTemporariesOfDeadProcessesAreRemovedOthersKept() throws {
        let dir = try folder()
        // A process id no process has now: a child that has exited and been reaped.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let dead = child.processIdentifier
        let names = [".out.mp4.tmp-\(dead)-12345", ".out.mp4.tmp-\(getpid())-777", ".other.mp4.tmp-\(dead)-1",
                     ".out.mp4.tmp-notes"]
        for name in names { XCTAssertTrue(FileManager.default.createFile(atPath: dir.appendingPathComponent(name).path, contents: nil)) }
        let file = try AtomicFile(path: dir.appendingPathComponent("out.mp4").path)
        try file.commit()
        XCTAssertEqual(try entries(dir), [".other.mp4.tmp-\(dead)-1", ".out.mp4.tmp-\(getpid())-777", ".out.mp4.tmp-notes",
                                          "out.mp4"],
                       "only the dead process's temporary of this name went; the running one's and others stay")
    }

    func testFilesStagedTogetherAppearOnlyWhenCommitted() throws {
        let dir = try folder()
        let old = dir.appendingPathComponent("00001.png").path
        try Data("old frame".utf8).write(to: URL(fileURLWithPath: old))
        var staged: [AtomicFile] = []
        for index in 1...3 {
            let file = try AtomicFile(path: dir.appendingPathComponent(String(format: "%05d.png", index)).path)
            try Array("frame \(index)".utf8).withUnsafeBytes { try file.sink.write($0) }
            try file.finishWriting()
            staged.append(file)
        }
        XCTAssertEqual(try String(contentsOfFile: old, encoding: .utf8), "old frame")
        XCTAssertEqual(try entries(dir).filter { !$0.hasPrefix(".") }, ["00001.png"])
        staged.removeAll()  // dropped uncommitted, as when the run fails or is interrupted
        XCTAssertEqual(try entries(dir), ["00001.png"], "the old frame stays, no temporary is left")
    }

    func testAtomicFileRefusesADirectoryBeforeWriting() throws {
        let dir = try folder()
        XCTAssertThrowsError(try AtomicFile(path: dir.path)) { error in
            XCTAssertEqual("\(error)", "cannot write: Is a directory: \(dir.path)")
        }
        XCTAssertEqual(try entries(dir), [])
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

    func testBinaryOutputCreatesItsTemporaryFileAtTheFirstWrite() throws {
        let dir = try folder()
        let output = try BinaryOutput(path: dir.appendingPathComponent("m.ckpt").path)
        XCTAssertEqual(try entries(dir), [], "nothing on disk while the tool works towards its output")
        try Array("weights".utf8).withUnsafeBytes { try output.sink.write($0) }
        XCTAssertEqual(try entries(dir).count, 1)
        try output.commit()
        XCTAssertEqual(try entries(dir), ["m.ckpt"])
        XCTAssertThrowsError(try BinaryOutput(path: dir.appendingPathComponent("missing/m.ckpt").path),
                             "an unwritable path is still refused at once")
    }

    func testDurations() {
        XCTAssertEqual(Progress.duration(12.4), "12s")
        XCTAssertEqual(Progress.duration(185), "3m05s")
        XCTAssertEqual(Progress.duration(3720), "1h02m")
    }

    /// The steps that get a line in a 2000-step run at 3.3 steps/s: each tenth, plus a line a minute.
    private func plainLines(total: Int, stepsPerSecond: Double) -> [Int] {
        var schedule = PlainLineSchedule()
        return (1...total).filter { schedule.due($0, of: total, at: Double($0) / stepsPerSecond) }
    }

    func testPlainProgressLinesComeEachTenthOrMinuteNeverTwiceInARow() {
        // Slower than a tenth a minute: a line a minute; the one just before a tenth stands for it.
        XCTAssertEqual(plainLines(total: 2000, stepsPerSecond: 3.3), Array(stride(from: 198, through: 1980, by: 198)))
        // Faster: the tenths, never two within 2 seconds.
        XCTAssertEqual(plainLines(total: 1000, stepsPerSecond: 20), Array(stride(from: 100, through: 1000, by: 100)))
        XCTAssertEqual(plainLines(total: 1000, stepsPerSecond: 200), [400, 800])
        // At any speed, lines are at least 5% of the work or a minute apart.
        for tenthsOfAStep in 5..<400 {
            let rate = Double(tenthsOfAStep) / 10
            let lines = plainLines(total: 2000, stepsPerSecond: rate)
            for (a, b) in zip(lines, lines.dropFirst()) {
                XCTAssertGreaterThanOrEqual(b - a, min(100, Int(60 * rate)) - 1, "at \(rate) steps/s: \(lines)")
            }
        }
    }
}

/// Bytes handed from a reader thread to the test.
private final class LockedBytes: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes: Data?
    func set(_ value: Data) { lock.lock(); bytes = value; lock.unlock() }
    func get() -> Data? { lock.lock(); defer { lock.unlock() }; return bytes }
}
