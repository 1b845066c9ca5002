import Foundation
import TensorStream

/// Expands a tool's PATH arguments into the files to read, in a deterministic order: each argument
/// in turn; a directory becomes every regular file below it (hidden ones left out), sorted by path;
/// `-` becomes the newline-separated paths read from `standardInput` (each expanded the same way).
/// Paths that do not exist are kept, so reading them reports them as unreadable.
public func inputFiles(for arguments: [String], standardInput: () -> String = readStandardInput) -> [String] {
    var files: [String] = []
    var stdinUsed = false
    for argument in arguments {
        if argument == "-" {
            guard !stdinUsed else { continue }
            stdinUsed = true
            let listed = standardInput().split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
            for path in listed { files += expand(path) }
        } else {
            files += expand(argument)
        }
    }
    return files
}

/// All of stdin as text, keeping bytes that are not UTF-8 (see `FileSystemPath`): it lists file names,
/// one a line (or NUL-separated, as `find -print0` writes them).
public func readStandardInput() -> String {
    FileSystemPath.string(fromBytes: FileHandle.standardInput.readDataToEndOfFile().map { $0 == 0 ? 0x0A : $0 })
}

private func expand(_ path: String) -> [String] {
    var info = stat()
    guard FileSystemPath.withCString(path, { stat($0, &info) }) == 0, info.st_mode & S_IFMT == S_IFDIR else { return [path] }
    var found: [String] = []
    var visited: Set<[UInt64]> = []
    collect(path, info, into: &found, visited: &visited)
    return found.sorted(by: inByteOrder)
}

private func inByteOrder(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

/// The regular files below `folder` (whose stat is `info`), following links to folders as a user who
/// links a folder of pictures into a data set expects; each folder is read once, so a link back up
/// the tree ends. Hidden files and folders (.git, .DS_Store, editor backups) are not part of a data set.
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
