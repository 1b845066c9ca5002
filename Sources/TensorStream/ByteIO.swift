#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where stream bytes come from: a file descriptor (file or pipe) or memory.
public protocol ByteSource: AnyObject {
    /// Reads up to `buffer.count` bytes; returns 0 only at end of input.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// Where stream bytes go.
public protocol ByteSink: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws
}

/// Reads a file descriptor, retrying on EINTR; works the same on pipes and files (no seeking).
public final class FileDescriptorSource: ByteSource {
    public let fd: Int32
    private let closeOnDeinit: Bool

    public init(fd: Int32, closeOnDeinit: Bool = false) {
        self.fd = fd
        self.closeOnDeinit = closeOnDeinit
    }

    /// Opens `path` for reading.
    public convenience init(path: String) throws {
        let fd = FileSystemPath.withCString(path) { open($0, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else {
            throw StreamError(.io("cannot open: \(String(cString: strerror(errno)))"), at: .stream, source: path)
        }
        self.init(fd: fd, closeOnDeinit: true)
    }

    deinit { if closeOnDeinit { close(fd) } }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw StreamError(.io("read failed: \(String(cString: strerror(errno)))"), at: .stream)
        }
    }
}

/// Writes a file descriptor completely, retrying on EINTR and short writes.
public final class FileDescriptorSink: ByteSink {
    public let fd: Int32
    /// The file's name in messages (`stdout`, a path).
    public let name: String

    public init(fd: Int32, name: String) {
        self.fd = fd
        self.name = name
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n > 0 { offset += n; continue }
            if n < 0 && errno == EINTR { continue }
            throw StreamError(.io("write failed: \(String(cString: strerror(errno)))"), at: .stream, source: name)
        }
    }
}

/// Bytes in memory, for tests and for tools that build a stream before sending it.
public final class MemorySource: ByteSource {
    private let bytes: [UInt8]
    private var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - offset)
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
        offset += n
        return n
    }
}

/// Collects written bytes in memory.
public final class MemorySink: ByteSink {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public func write(_ bytes: UnsafeRawBufferPointer) throws { self.bytes += bytes }
}

/// Why a `RegularFile` could not be read: `strerror`'s words, or "not a regular file".
public struct FileReadError: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
    init(_ reason: String) { self.reason = reason }
    static func fromErrno() -> FileReadError { FileReadError(String(cString: strerror(errno))) }
}

/// A regular file opened for reading, for inputs that must be files (pictures, checkpoints). Never
/// blocks on a FIFO or a device: it is checked before it is opened (opening a FIFO waits for a writer),
/// and opened without waiting in case it was swapped in between. Its first bytes can be read on their
/// own, so a file is judged by its signature before its size costs any memory.
public final class RegularFile {
    public let fd: Int32
    /// The size when opened.
    public let size: Int

    public init(path: String) throws {
        var info = stat()
        guard FileSystemPath.withCString(path, { stat($0, &info) }) == 0 else { throw FileReadError.fromErrno() }
        guard info.st_mode & S_IFMT == S_IFREG else { throw FileReadError("not a regular file") }
        let fd = FileSystemPath.withCString(path) { open($0, O_RDONLY | O_CLOEXEC | O_NONBLOCK) }
        guard fd >= 0 else { throw FileReadError.fromErrno() }
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw FileReadError("not a regular file")
        }
        self.fd = fd
        size = Int(info.st_size)
    }

    deinit { close(fd) }

    /// Up to `count` bytes from `offset` (fewer only at the end of the file).
    public func read(_ count: Int, at offset: Int = 0) throws -> [UInt8] {
        var failure: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: max(0, count)) { buffer, filled in
            while filled < count {
                let got = pread(fd, buffer.baseAddress! + filled, count - filled, off_t(offset + filled))
                if got < 0 && errno == EINTR { continue }
                if got <= 0 { failure = got < 0 ? errno : 0; break }
                filled += got
            }
        }
        if failure != 0 { throw FileReadError(String(cString: strerror(failure))) }
        return bytes
    }

    /// The whole file as it was when opened (a file that shrank since gives what is left).
    public func readAll() throws -> [UInt8] { try read(size) }
}
