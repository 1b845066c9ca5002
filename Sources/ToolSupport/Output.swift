import Foundation
import TensorStream

/// Whether a file descriptor is a terminal.
public func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

/// A file written under a temporary name in the same folder and renamed into place by `commit()`,
/// so a reader never sees half a file and a failure leaves the previous file (if any) intact.
///
/// A symbolic link is followed: its target is replaced and the link stays. A path that names a
/// device, a pipe or a socket (`-o /dev/null`, a FIFO) is written directly, as a shell redirection
/// would: there is no file there to replace, and renaming over it would destroy it.
public final class AtomicFile {
    /// The name the user gave.
    public let path: String
    /// Where the bytes go until `commit()`: a temporary name beside the target, or the target itself
    /// when it is not a regular file.
    public let writePath: String
    public let fd: Int32
    /// The regular file `commit()` renames `writePath` to; nil when writing directly.
    private let target: String?
    private var done = false
    /// Whether `fd` is still open (`finishWriting()` closes it before the rename).
    private var descriptorOpen = true

    private static let registryLock = NSLock()
    nonisolated(unsafe) private static var unfinished: Set<String> = []

    public init(path: String) throws {
        self.path = path
        let resolved = Self.followingLinks(path)
        var status = stat()
        let exists = FileSystemPath.withCString(resolved, { stat($0, &status) }) == 0
        let kind = status.st_mode & S_IFMT
        if exists && kind == S_IFDIR {
            throw ToolFailure("cannot write: Is a directory: \(path)")
        }
        if exists && kind != S_IFREG {
            target = nil
            writePath = resolved
            fd = FileSystemPath.withCString(resolved) { open($0, O_WRONLY | O_CLOEXEC) }
        } else {
            let url = URL(fileURLWithPath: resolved)
            target = resolved
            let folder = url.deletingLastPathComponent().path
            Self.removeStaleTemporaries(in: folder, of: url.lastPathComponent)
            writePath = folder + "/" + Self.temporaryPrefix(of: url.lastPathComponent)
                + "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            fd = FileSystemPath.withCString(writePath) { open($0, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) }
        }
        guard fd >= 0 else {
            throw ToolFailure("cannot write: \(String(cString: strerror(errno))): \(path)")
        }
        if target != nil { Self.registryLock.lock(); Self.unfinished.insert(writePath); Self.registryLock.unlock() }
    }

    deinit { if !done { abandon() } }

    /// Whether the bytes go straight to the path (a device or a pipe), with no temporary file.
    var writesDirectly: Bool { target == nil }

    /// A sink writing into `writePath`.
    public lazy var sink: ByteSink = FileDescriptorSink(fd: fd, name: path)

    /// Flushes the bytes to disk and closes the file, leaving the rename to `commit()`: an output made
    /// of many files (a PNG sequence) is staged file by file, without a descriptor each, and put in
    /// place only once every file is whole.
    public func finishWriting() throws {
        guard descriptorOpen else { return }
        descriptorOpen = false
        let synced = target == nil || fsync(fd) == 0
        let reason = String(cString: strerror(errno))
        close(fd)
        guard synced else {
            abandon()
            throw ToolFailure("cannot write: \(reason): \(path)")
        }
    }

    /// Flushes to disk and renames into place (for a device or pipe: closes it).
    public func commit() throws {
        guard !done else { return }
        try finishWriting()
        done = true
        guard let target else { return }
        Self.registryLock.lock(); Self.unfinished.remove(writePath); Self.registryLock.unlock()
        guard FileSystemPath.withCString(writePath, { from in FileSystemPath.withCString(target) { rename(from, $0) } }) == 0 else {
            let reason = String(cString: strerror(errno))
            removeFile(writePath)
            throw ToolFailure("cannot write: \(reason): \(path)")
        }
    }

    /// Removes the temporary file; the final name is untouched.
    public func abandon() {
        guard !done else { return }
        done = true
        if descriptorOpen { close(fd); descriptorOpen = false }
        guard target != nil else { return }
        Self.registryLock.lock(); Self.unfinished.remove(writePath); Self.registryLock.unlock()
        removeFile(writePath)
    }

    /// Removes every temporary file not yet committed (on a failure or a signal).
    static func removeUnfinished() {
        registryLock.lock(); defer { registryLock.unlock() }
        for path in unfinished { removeFile(path) }
        unfinished.removeAll()
    }

    /// Temporary files of `name` are `.NAME.tmp-PID-RANDOM`: hidden, and traceable to their process.
    static func temporaryPrefix(of name: String) -> String { ".\(name).tmp-" }

    /// Removes the temporary files of `name` in `folder` whose process is gone (killed with SIGKILL, or
    /// crashed), which no cleanup of theirs could remove. One of a running process, even another
    /// tool's writing the same name, is left alone.
    static func removeStaleTemporaries(in folder: String, of name: String) {
        let prefix = temporaryPrefix(of: name)
        guard let names = FileSystemPath.entries(of: folder) else { return }
        for entry in names where entry.hasPrefix(prefix) {
            let fields = entry.dropFirst(prefix.count).split(separator: "-")
            guard fields.count == 2, let pid = pid_t(fields[0]), pid > 0, UInt32(fields[1]) != nil,
                  kill(pid, 0) == -1 && errno == ESRCH else { continue }
            removeFile(folder + "/" + entry)
        }
    }

    /// The path a chain of symbolic links ends at (which need not exist yet); `path` when it is no link.
    static func followingLinks(_ path: String) -> String {
        var current = path
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        for _ in 0..<40 {  // the kernel's own limit on links in a chain
            let length = FileSystemPath.withCString(current) { readlink($0, &buffer, buffer.count - 1) }
            guard length > 0 else { return current }
            let link = FileSystemPath.string(fromBytes: buffer[0..<length].map { UInt8(bitPattern: $0) })
            current = link.hasPrefix("/") ? link : URL(fileURLWithPath: current).deletingLastPathComponent().path + "/" + link
        }
        return current
    }
}

/// Removes the file at `path` (by its file-system bytes); a file already gone is no error.
private func removeFile(_ path: String) {
    _ = FileSystemPath.withCString(path) { unlink($0) }
}

/// Where a tool's binary output goes: a file given with `-o` (written atomically) or stdout,
/// which must not be a terminal.
public final class BinaryOutput {
    public let sink: ByteSink
    /// `-o`'s path, or `stdout`.
    public let name: String
    private let file: LateFile?

    /// `path` nil or `-` means stdout; refuses a terminal with a usage error.
    public init(path: String?, what: String = "binary data") throws {
        if let path, path != "-" {
            let file = try LateFile(path: path)
            self.file = file
            sink = file
            name = path
        } else {
            guard !isTerminal(STDOUT_FILENO) else {
                throw UsageError("refusing to write \(what) to a terminal; redirect stdout or use -o FILE")
            }
            file = nil
            sink = FileDescriptorSink(fd: STDOUT_FILENO, name: "stdout")
            name = "stdout"
        }
    }

    /// Puts a file output in place; nothing to do for stdout.
    public func commit() throws { try file?.commit() }
}

/// An `AtomicFile` whose temporary file is created at the first write, not when the tool starts: a
/// run killed beyond any cleanup (SIGKILL, a crash) before its output began, such as a long `train`,
/// leaves no temporary file behind. Whether the path can be written is still checked at once.
private final class LateFile: ByteSink {
    private let path: String
    private var file: AtomicFile?

    init(path: String) throws {
        self.path = path
        let probe = try AtomicFile(path: path)
        // A device or a pipe is written directly, with no temporary file: keep it open from the start.
        if probe.writesDirectly { file = probe } else { probe.abandon() }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws { try opened().sink.write(bytes) }

    func commit() throws { try opened().commit() }

    private func opened() throws -> AtomicFile {
        if let file { return file }
        let file = try AtomicFile(path: path)
        self.file = file
        return file
    }
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
