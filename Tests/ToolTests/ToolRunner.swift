import Foundation
import PythonReference
import Perception
import XCTest

/// Runs the release binaries that `scripts/setup` builds, as a user would: bytes on stdin,
/// stdout and stderr captured, exit status returned. Every end-to-end test goes through here.
struct ToolResult {
    var status: Int32
    var stdout: Data
    var stderr: String
}

enum ToolRunner {
    /// The package root: three levels above this file (Tests/ToolTests/ToolRunner.swift).
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The folder of the release binaries (`MNEMOSYNE_BIN` overrides it).
    static let binDirectory: URL = {
        if let dir = ProcessInfo.processInfo.environment["MNEMOSYNE_BIN"] {
            return URL(fileURLWithPath: dir)
        }
        return packageRoot.appendingPathComponent(".build/release")
    }()

    /// Skips a test that needs EfficientNet-Lite0's weights when `scripts/setup` has not fetched them
    /// (it does on CI, so there these tests run).
    static func requireFeatureNetwork() throws {
        let path = EfficientNetLite0.defaultWeightsPath()
        guard FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("no EfficientNet-Lite0 weights at \(path): run scripts/setup")
        }
    }

    /// A tool that cannot be tested: missing, or older than the sources it is built from.
    struct BinaryProblem: Error, CustomStringConvertible {
        var description: String
    }

    /// Path of a tool's binary. A test fails (it is not skipped: a suite that tested nothing must not pass) when
    /// the binary is missing or, for this checkout's own release build, when a file of `Sources/` changed
    /// after the last build: it would test stale code. (Not `Package.swift`: a change to the test targets
    /// relinks no tool, so the build would stay "older" for good.) `MNEMOSYNE_BIN` names binaries to take as
    /// they are.
    static func path(of tool: String) throws -> String {
        let url = binDirectory.appendingPathComponent(tool)
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw BinaryProblem(description: "\(tool) is not built at \(url.path): run scripts/setup (or swift build -c release)")
        }
        if ProcessInfo.processInfo.environment["MNEMOSYNE_BIN"] == nil, let (source, changed) = newestSource,
           let built = newestBinary, built < changed {
            throw BinaryProblem(description: "the release build is older than \(source): rebuild it (swift build -c release)")
        }
        return url.path
    }

    /// When the last release build linked a tool. A build relinks only the tools a change reaches, so the
    /// newest of them tells whether the checkout was built since its last change.
    static var newestBinary: Date? {
        ["ingest", "encode", "train", "sample", "walk", "synth", "score", "project", "inspect", "bench-engine"]
            .compactMap { modificationDate(binDirectory.appendingPathComponent($0).path) }.max()
    }

    /// The most recently changed file the tools are built from, and when.
    static let newestSource: (String, Date)? = {
        let root = packageRoot.path
        var newest: (String, Date)?
        let files = FileManager.default.enumerator(atPath: root + "/Sources")
        while let file = files?.nextObject() as? String {
            guard let date = modificationDate(root + "/Sources/" + file) else { continue }
            if newest == nil || date > newest!.1 { newest = ("Sources/" + file, date) }
        }
        return newest
    }()

    private static func modificationDate(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }

    /// Runs `tool args...` with `stdin` (nil: an empty stdin), in `directory` if given.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String] = [], stdin: Data? = nil,
                    directory: URL? = nil, environment: [String: String] = [:]) throws -> ToolResult {
        try launch(executable: path(of: tool), arguments: arguments, stdin: stdin ?? Data(),
                   directory: directory, environment: environment)
    }

    /// Runs a shell script (bash -o pipefail) with the release binaries first on PATH.
    @discardableResult
    static func shell(_ script: String, directory: URL? = nil, environment: [String: String] = [:]) throws -> ToolResult {
        _ = try path(of: "ingest")
        let path = binDirectory.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        return try launch(executable: "/bin/bash", arguments: ["-o", "pipefail", "-c", script], stdin: Data(),
                          directory: directory, environment: environment.merging(["PATH": path]) { a, _ in a })
    }

    /// A tool that stops at its arguments leaves stdin unread: feeding it must fail with EPIPE, not kill the
    /// test process, whichever suite runs first.
    private static let pipeSignalIgnored: Void = { signal(SIGPIPE, SIG_IGN) }()

    private static func launch(executable: String, arguments: [String], stdin: Data, directory: URL?,
                               environment: [String: String]) throws -> ToolResult {
        _ = pipeSignalIgnored
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let run = try runCollectingOutput(process, input: stdin)
        return ToolResult(status: run.status, stdout: run.stdout, stderr: String(decoding: run.stderr, as: UTF8.self))
    }

    /// A fresh temporary folder, removed when the test ends.
    static func temporaryDirectory(_ test: XCTestCase) throws -> URL {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("mnemosyne-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }
}
