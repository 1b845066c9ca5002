import Foundation
import TensorStream

/// A tool's PATH arguments as the files to read, handed out a few at a time in a deterministic order:
/// each argument in turn; a directory becomes every regular file below it (hidden ones left out), sorted
/// by path; `-` becomes the paths listed on stdin, one a line (or NUL-separated, as `find -print0`
/// writes them), each expanded the same way. Paths that do not exist are kept, so reading them reports
/// them as unreadable.
///
/// The list on stdin is read as it is needed, never whole: `yes /x | ingest -` or a stdin of zeros runs
/// in constant memory (until interrupted), and a line longer than any path (`ingest - < video.mp4`) is
/// an error, as is a stdin that cannot be read. While it waits for the list, `shouldStop` is asked ten
/// times a second; when it says stop, the list ends there.
public final class InputFiles {
    /// How many files there are, when known before they are read: nil when a list comes from stdin.
    public let count: Int?

    private var arguments: ArraySlice<String>
    private var ready: ArraySlice<String> = []
    private var list: PathList?
    private var standardInput: ByteSource?
    private let shouldStop: () -> Bool

    /// `standardInput` is read for a `-` argument (only the first: stdin can be read once).
    public init(arguments: [String], standardInput: ByteSource = FileDescriptorSource(fd: STDIN_FILENO),
                shouldStop: @escaping () -> Bool = { false }) {
        self.standardInput = standardInput
        self.shouldStop = shouldStop
        if arguments.contains("-") {
            self.arguments = arguments[...]
            count = nil
        } else {
            ready = arguments.flatMap(expand)[...]
            self.arguments = []
            count = ready.count
        }
    }

    /// The next files, at most `limit` of them; empty at the end.
    public func next(upTo limit: Int) throws -> [String] {
        while ready.count < limit, let more = try nextExpansion() { ready += more }
        let handed = ready.prefix(limit)
        ready = ready.dropFirst(handed.count)
        return Array(handed)
    }

    /// The files of the next argument or listed path; nil when everything was handed out.
    private func nextExpansion() throws -> [String]? {
        if let list {
            if let path = try list.nextPath() { return expand(path) }
            self.list = nil
        }
        guard let argument = arguments.popFirst() else { return nil }
        guard argument == "-" else { return expand(argument) }
        if let source = standardInput {
            list = PathList(source: source, shouldStop: shouldStop)
            standardInput = nil
        }
        return []
    }
}

/// Why the path list on stdin could not be read: `what: stdin`.
public struct PathListError: Error, CustomStringConvertible {
    public var what: String
    public var description: String { "\(what): stdin" }
}

/// Paths read one at a time from a list of lines, or of NUL-separated names when its first bytes hold a
/// NUL (`find -print0`: a name may then hold a line break); empty entries are skipped.
private final class PathList {
    /// A Linux path is at most PATH_MAX (4096) bytes: a longer line is not a path.
    static let longestLine = Int(PATH_MAX)

    private let source: ByteSource
    private let shouldStop: () -> Bool
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)
    private var start = 0, end = 0
    private var line: [UInt8] = []
    private var lineNumber = 0
    private var atEnd = false
    /// What ends an entry: a line break, or NUL in a NUL-separated list (decided by the first bytes read).
    private var separator: UInt8?

    init(source: ByteSource, shouldStop: @escaping () -> Bool) {
        self.source = source
        self.shouldStop = shouldStop
    }

    func nextPath() throws -> String? {
        while true {
            guard let bytes = try nextLine() else { return nil }
            if !bytes.isEmpty { return FileSystemPath.string(fromBytes: bytes) }
        }
    }

    private func nextLine() throws -> [UInt8]? {
        line.removeAll(keepingCapacity: true)
        while true {
            if start == end {
                guard !atEnd else { return line.isEmpty ? nil : line }
                try refill()
                continue
            }
            let byte = buffer[start]
            start += 1
            if byte == separator {
                lineNumber += 1
                return line
            }
            guard line.count < Self.longestLine else {
                throw PathListError(what: "line \(lineNumber + 1) of the path list is longer than any path "
                                    + "(\(Self.longestLine) bytes); expected one path a line")
            }
            line.append(byte)
        }
    }

    private func refill() throws {
        // Neither a pipe that stays silent (`sleep 60 | ingest -`) nor one of endless blank lines
        // (`ingest - < /dev/zero`) may keep a stop request waiting.
        var waiting = pollfd(fd: (source as? FileDescriptorSource)?.fd ?? -1, events: Int16(POLLIN), revents: 0)
        repeat {
            if shouldStop() {
                atEnd = true
                return
            }
        } while waiting.fd >= 0 && poll(&waiting, 1, 100) == 0
        let got: Int
        do {
            got = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
        } catch let error as StreamError {
            throw PathListError(what: "cannot read the path list: \(error.what)")
        }
        (start, end, atEnd) = (0, got, got == 0)
        if separator == nil && got > 0 { separator = buffer[0..<got].contains(0) ? 0 : 0x0A }
    }
}

private func expand(_ path: String) -> [String] {
    var info = stat()
    guard FileSystemPath.withCString(path, { stat($0, &info) }) == 0, info.st_mode & S_IFMT == S_IFDIR else { return [path] }
    var found: [String] = []
    // A link to a folder above the one given leads out of the data set, back up the tree: not followed.
    var visited = folders(above: path)
    collect(path, info, into: &found, visited: &visited)
    return found.sorted(by: inByteOrder)
}

/// The device and inode of every folder that holds `folder`, up to the file system's root.
private func folders(above folder: String) -> Set<[UInt64]> {
    var found: Set<[UInt64]> = []
    var current = folder
    var info = stat()
    while FileSystemPath.withCString(current + "/..", { stat($0, &info) }) == 0,
          found.insert([UInt64(info.st_dev), UInt64(info.st_ino)]).inserted {  // `/..` is `/`: the walk ends
        current += "/.."
    }
    return found
}

private func inByteOrder(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

/// The regular files below `folder` (whose stat is `info`), following links to folders as a user who
/// links a folder of pictures into a data set expects; each folder is read once, so a link back up
/// the tree ends (and one above the root, in `visited` from the start, is not followed). Hidden files and folders (.git, .DS_Store, editor backups) are not part of a data set.
private func collect(_ folder: String, _ info: stat, into found: inout [String], visited: inout Set<[UInt64]>) {
    guard visited.insert([UInt64(info.st_dev), UInt64(info.st_ino)]).inserted,
          let names = FileSystemPath.entries(of: folder) else { return }
    let prefix = folder.hasSuffix("/") ? folder : folder + "/"
    // Sorted, so which of two links to one folder reads it does not depend on the directory's order.
    for name in names.sorted(by: inByteOrder) where !name.hasPrefix(".") {
        let full = prefix + name
        var entry = stat()
        guard FileSystemPath.withCString(full, { stat($0, &entry) }) == 0 else {
            found.append(full)  // a dangling link: reading it reports it
            continue
        }
        switch entry.st_mode & S_IFMT {
        case S_IFDIR: collect(full, entry, into: &found, visited: &visited)
        case S_IFREG: found.append(full)
        default: break
        }
    }
}
