import Foundation

/// Creates the folder `path` (and its parents) if it is missing, so that a file in the way or a folder the
/// tool may not write into is a one-line error before the work, not after it: `cannot use the preview
/// folder: Not a directory: afile`. `called` names the folder in that message.
public func makeFolder(_ path: String, called: String) throws {
    do {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    } catch {
        // Foundation's error is a multi-line dump; the system's reason is in its underlying error.
        let reason: String
        if let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError,
           underlying.domain == NSPOSIXErrorDomain {
            reason = String(cString: strerror(Int32(underlying.code)))
        } else {
            var info = stat()
            reason = stat(path, &info) == 0 ? "Not a directory" : "cannot create it"
        }
        throw ToolFailure("cannot use \(called): \(reason): \(path)")
    }
    guard access(path, W_OK) == 0 else {
        throw ToolFailure("cannot use \(called): \(String(cString: strerror(errno))): \(path)")
    }
}
