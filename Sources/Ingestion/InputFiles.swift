import Foundation

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

/// All of stdin as text.
public func readStandardInput() -> String {
    String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
}

private func expand(_ path: String) -> [String] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue,
          let walker = FileManager.default.enumerator(atPath: path) else {
        return [path]
    }
    let prefix = path.hasSuffix("/") ? path : path + "/"
    var found: [String] = []
    while let relative = walker.nextObject() as? String {
        let full = prefix + relative
        // Hidden files and folders (.git, .DS_Store, editor backups) are not part of a data set.
        if (relative as NSString).lastPathComponent.hasPrefix(".") {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: full, isDirectory: &isFolder), isFolder.boolValue { walker.skipDescendants() }
            continue
        }
        var info = stat()
        if stat(full, &info) == 0, info.st_mode & S_IFMT == S_IFREG { found.append(full) }
    }
    return found.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
}
