import Foundation
import XCTest

/// Runs `script` in python3 with `cases` as JSON on its stdin and decodes the rows of numbers it prints:
/// the independent float64 reference that numpy cross-checks compare against. Skips the test when
/// python3 or numpy is missing (scripts/setup installs numpy, not python3 itself).
public func numpyReference(script: String, cases: some Encodable) throws -> [[Double]] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script]
    let (input, output, errors) = (Pipe(), Pipe(), Pipe())
    (process.standardInput, process.standardOutput, process.standardError) = (input, output, errors)
    try process.run()
    let payload = try JSONEncoder().encode(cases)
    // Written from another thread: a large payload would otherwise fill the pipe while stdout waits unread.
    let writer = Thread { input.fileHandleForWriting.write(payload); try? input.fileHandleForWriting.close() }
    writer.start()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    // env exits 127 when there is no python3.
    if process.terminationStatus == 127 { throw XCTSkip("python3 is not available") }
    if message.contains("No module named 'numpy'") { throw XCTSkip("numpy is not available") }
    XCTAssertEqual(process.terminationStatus, 0, message)
    return try JSONDecoder().decode([[Double]].self, from: data)
}
