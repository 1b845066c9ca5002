import Foundation
import XCTest

/// What a Python run printed, and how it ended.
public struct PythonRun {
    public var status: Int32
    public var output: String
    public var errors: String
}

/// Runs python3 with `arguments` (`["-c", script]`, or a script's path) in `directory`, `input` on its stdin:
/// the one way the tests launch Python (`numpyReference` is built on it). stdin is fed and stderr drained on
/// their own threads, so a large input or a chatty script cannot deadlock the pipes. Skips the test when
/// python3 or numpy is missing (scripts/setup installs numpy, not python3 itself); a script that fails
/// otherwise fails the test, with what it wrote to stderr.
@discardableResult
public func runPython(_ arguments: [String], input: Data = Data(), directory: URL? = nil) throws -> PythonRun {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3"] + arguments
    if let directory { process.currentDirectoryURL = directory }
    let collected = try runCollectingOutput(process, input: input)
    let run = PythonRun(status: collected.status, output: String(decoding: collected.stdout, as: UTF8.self),
                        errors: String(decoding: collected.stderr, as: UTF8.self))
    // env exits 127 when there is no python3.
    if run.status == 127 { throw XCTSkip("python3 is not available") }
    if run.errors.contains("No module named 'numpy'") { throw XCTSkip("numpy is not available") }
    XCTAssertEqual(run.status, 0, run.errors)
    return run
}

/// What a process wrote to stdout and stderr, and how it ended.
public struct ProcessOutput {
    public var status: Int32
    public var stdout: Data
    public var stderr: Data
}

/// Starts `process` (set up but not yet run) with `input` on its stdin and waits for it: the one way the tests
/// run a child process (Python here, the tools in ToolTests). stdin is fed and stderr drained on their own
/// threads, so a child that writes a lot before it reads, or stops without reading, cannot deadlock the pipes
/// (a write into a closed stdin fails quietly; the caller ignores SIGPIPE).
public func runCollectingOutput(_ process: Process, input: Data) throws -> ProcessOutput {
    let (stdin, stdout, stderr) = (Pipe(), Pipe(), Pipe())
    (process.standardInput, process.standardOutput, process.standardError) = (stdin, stdout, stderr)
    try process.run()
    let writer = Thread {
        try? stdin.fileHandleForWriting.write(contentsOf: input)
        try? stdin.fileHandleForWriting.close()
    }
    writer.start()
    final class Collected: @unchecked Sendable { var data = Data() }
    let errors = Collected()
    let reader = Thread { errors.data = stderr.fileHandleForReading.readDataToEndOfFile() }
    reader.start()
    let output = stdout.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    while !reader.isFinished { usleep(1000) }
    return ProcessOutput(status: process.terminationStatus, stdout: output, stderr: errors.data)
}
