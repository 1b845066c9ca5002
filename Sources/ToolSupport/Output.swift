import Foundation
import TensorStream

/// Whether a file descriptor is a terminal.
public func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

/// A file written under a temporary name in the same folder and renamed into place by `commit()`,
/// so a reader never sees half a file and a failure leaves the previous file (if any) intact.
public final class AtomicFile {
    public let path: String
    public let temporaryPath: String
    public let fd: Int32
    private var done = false

    private static let registryLock = NSLock()
    nonisolated(unsafe) private static var unfinished: Set<String> = []

    public init(path: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        self.path = path
        temporaryPath = folder + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        fd = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw ToolFailure("cannot write: \(String(cString: strerror(errno))): \(path)")
        }
        Self.registryLock.lock(); Self.unfinished.insert(temporaryPath); Self.registryLock.unlock()
    }

    deinit { if !done { abandon() } }

    /// A sink writing into the temporary file.
    public lazy var sink: ByteSink = FileDescriptorSink(fd: fd)

    /// Flushes to disk and renames into place.
    public func commit() throws {
        guard !done else { return }
        done = true
        Self.registryLock.lock(); Self.unfinished.remove(temporaryPath); Self.registryLock.unlock()
        defer { close(fd) }
        guard fsync(fd) == 0, rename(temporaryPath, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporaryPath)
            throw ToolFailure("cannot write: \(reason): \(path)")
        }
    }

    /// Removes the temporary file; the final name is untouched.
    public func abandon() {
        guard !done else { return }
        done = true
        Self.registryLock.lock(); Self.unfinished.remove(temporaryPath); Self.registryLock.unlock()
        close(fd)
        unlink(temporaryPath)
    }

    /// Removes every temporary file not yet committed (on a failure or a signal).
    static func removeUnfinished() {
        registryLock.lock(); defer { registryLock.unlock() }
        for path in unfinished { unlink(path) }
        unfinished.removeAll()
    }
}

/// Where a tool's binary output goes: a file given with `-o` (written atomically) or stdout,
/// which must not be a terminal.
public final class BinaryOutput {
    public let sink: ByteSink
    /// `-o`'s path, or `stdout`.
    public let name: String
    private let file: AtomicFile?

    /// `path` nil or `-` means stdout; refuses a terminal with a usage error.
    public init(path: String?, what: String = "binary data") throws {
        if let path, path != "-" {
            let file = try AtomicFile(path: path)
            self.file = file
            sink = file.sink
            name = path
        } else {
            guard !isTerminal(STDOUT_FILENO) else {
                throw UsageError("refusing to write \(what) to a terminal; redirect stdout or use -o FILE")
            }
            file = nil
            sink = FileDescriptorSink(fd: STDOUT_FILENO)
            name = "stdout"
        }
    }

    /// Puts a file output in place; nothing to do for stdout.
    public func commit() throws { try file?.commit() }
}

extension StreamReader {
    /// Opens a tool's input stream (a path, or stdin for nil or `-`), refusing to read a terminal.
    public static func open(_ path: String?) throws -> StreamReader {
        if path == nil || path == "-" {
            guard !isTerminal(STDIN_FILENO) else {
                throw UsageError("expected a tensor stream on stdin (a pipe or a file), not a terminal")
            }
        }
        return try StreamReader(path: path)
    }
}
