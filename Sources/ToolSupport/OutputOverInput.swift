import Foundation
import TensorStream

/// Refuses a run whose output would replace one of its inputs (`sample s.ckpt -o s.ckpt`, `train x.tns
/// -o x.tns`, `train -o x.tns < x.tns`) with a usage error, before anything is read: the output is
/// written under a temporary name and renamed over the file, so the run would read its input whole and
/// then destroy it. Files are compared by device and inode after following links, so another name for the
/// same file (a link, `./x`, a hard link) is caught too. `-` names stdin among the inputs and stdout
/// among the outputs; nil entries (options not given) are skipped. Only regular files can be replaced:
/// devices and pipes (`-o /dev/null`) never match.
public func refuseOutputOverInput(outputs: [String?], inputs: [String?]) throws {
    let inputFiles = inputs.compactMap { $0 }.compactMap { RegularFileIdentity($0, standard: STDIN_FILENO) }
    for case let output? in outputs {
        guard let identity = RegularFileIdentity(output, standard: STDOUT_FILENO),
              inputFiles.contains(identity) else { continue }
        throw UsageError("the output is also an input and would replace it; write to another file: "
                         + (output == "-" ? "stdout" : output))
    }
}

/// The device and inode of a regular file: the file a path (or `-`, the standard descriptor) names,
/// whatever name it is reached by.
struct RegularFileIdentity: Equatable {
    let device: UInt64
    let inode: UInt64

    /// Nil when `path` names no regular file (it does not exist yet, or is a device or a pipe).
    init?(_ path: String, standard descriptor: Int32) {
        var info = stat()
        let found = path == "-" ? fstat(descriptor, &info) : FileSystemPath.withCString(path) { stat($0, &info) }
        guard found == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}
