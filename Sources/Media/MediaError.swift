/// A failure reading or writing a video, worded for a one-line message: what went wrong, then the file.
public struct MediaError: Error, CustomStringConvertible, Equatable, Sendable {
    public var what: String
    public var file: String

    public init(_ what: String, file: String) {
        self.what = what
        self.file = file
    }

    public var description: String { file.isEmpty ? what : "\(what): \(file)" }
}
