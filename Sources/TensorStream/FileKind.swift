import Foundation

/// What a file is, judged by its first bytes: the one place every tool asks, so each names a file given in
/// the wrong place by what it is (`imgs.tns is an image stream, not a checkpoint`) and `inspect` says the
/// same. Only signatures are read here; whether the file is whole is for its reader to find out.
public enum FileKind: Equatable, Sendable {
    /// A tensor stream of H×W×3 u8 pictures.
    case imageStream
    /// A tensor stream of f32 vectors (`kind=latent`, or any rank-1 f32 records): `project`'s latents.
    case latentStream
    /// Another tensor stream (its records described, `8x8 u8`).
    case otherStream(String)
    /// A mnemosyne checkpoint: safetensors whose metadata says `format=mnemosyne-gan`.
    case checkpoint
    /// A safetensors file that is not a mnemosyne checkpoint.
    case safetensors
    /// A picture `ingest` reads: PNG, JPEG (GIF counts as a video: it may move).
    case picture(String)
    /// A video or an animated picture, by its container: MP4, WebM, GIF, AVI, Y4M.
    case video(String)
    /// A sound file: WAV, MP3, Ogg, FLAC, M4A.
    case sound(String)
    case folder
    case empty
    /// No such file, or one that cannot be read (the reason).
    case unreadable(String)
    /// None of these.
    case unknown

    /// `an image stream`, `a checkpoint`, `a PNG picture`: as a sentence names it.
    public var name: String {
        switch self {
        case .imageStream: return "an image stream"
        case .latentStream: return "a latent stream"
        case .otherStream(let records): return "a tensor stream of \(records) records"
        case .checkpoint: return "a checkpoint"
        case .safetensors: return "a safetensors file that is not a mnemosyne checkpoint"
        case .picture(let format): return "a \(format) picture"
        case .video(let format): return "a video (\(format))"
        case .sound(let format): return "a sound (\(format))"
        case .folder: return "a folder"
        case .empty: return "an empty file"
        case .unreadable(let why): return "unreadable (\(why))"
        case .unknown: return "not a file mnemosyne knows"
        }
    }

    /// A short name for scripts (`inspect --json`): image-stream, latent-stream, stream, checkpoint,
    /// safetensors, picture, video, sound, folder, empty, unreadable, unknown.
    public var key: String {
        switch self {
        case .imageStream: return "image-stream"
        case .latentStream: return "latent-stream"
        case .otherStream: return "stream"
        case .checkpoint: return "checkpoint"
        case .safetensors: return "safetensors"
        case .picture: return "picture"
        case .video: return "video"
        case .sound: return "sound"
        case .folder: return "folder"
        case .empty: return "empty"
        case .unreadable: return "unreadable"
        case .unknown: return "unknown"
        }
    }

    /// Whether `ingest` makes pictures of it.
    public var isIngestible: Bool {
        switch self {
        case .picture, .video, .folder: return true
        default: return false
        }
    }

    /// How many first bytes `sniff` needs to tell every kind apart (a checkpoint's metadata may come late in
    /// its JSON header, so `of(path:)` reads the whole header of a safetensors file itself).
    public static let prefixLength = 4096

    /// The kind of the file at `path` (a folder, a missing file, or a regular file by its first bytes).
    /// A FIFO or a device is never opened (that could wait forever): it is `unreadable`.
    public static func of(path: String) -> FileKind {
        var info = stat()
        guard FileSystemPath.withCString(path, { stat($0, &info) }) == 0 else {
            return .unreadable(String(cString: strerror(errno)))
        }
        if info.st_mode & S_IFMT == S_IFDIR { return .folder }
        let file: RegularFile
        do { file = try RegularFile(path: path) } catch { return .unreadable("\(error)") }
        do {
            let prefix = try file.read(prefixLength)
            if prefix.starts(with: StreamHeader.magic) {
                // The whole header, however long its metadata.
                guard let reader = try? StreamReader(path: path) else { return .otherStream("unreadable") }
                return kind(of: reader.header)
            }
            if let length = safetensorsHeaderLength(prefix), 8 + length <= file.size {
                // The whole JSON header, so the metadata is found wherever it lies in it.
                return safetensorsKind(header: try file.read(length, at: 8))
            }
            return sniff(prefix)
        } catch {
            return .unreadable("\(error)")
        }
    }

    /// The kind that `prefix`, the first bytes of a file or a pipe, shows.
    public static func sniff(_ prefix: [UInt8]) -> FileKind {
        if prefix.isEmpty { return .empty }
        func starts(_ signature: [UInt8], at offset: Int = 0) -> Bool {
            prefix.count >= offset + signature.count && Array(prefix[offset..<(offset + signature.count)]) == signature
        }
        func ascii(_ text: String, at offset: Int = 0) -> Bool { starts(Array(text.utf8), at: offset) }
        if starts(StreamHeader.magic) { return streamKind(prefix) }
        if let length = safetensorsHeaderLength(prefix) {
            return safetensorsKind(header: Array(prefix[8..<min(prefix.count, 8 + length)]))
        }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .picture("PNG") }
        if starts([0xFF, 0xD8, 0xFF]) { return .picture("JPEG") }
        if ascii("GIF87a") || ascii("GIF89a") { return .video("GIF") }
        if ascii("ftyp", at: 4) {
            let brand = prefix.count >= 12 ? String(decoding: prefix[8..<12], as: UTF8.self) : ""
            if ["M4A ", "M4B ", "M4P "].contains(brand) { return .sound("M4A") }
            return .video(brand.hasPrefix("qt") ? "QuickTime" : "MP4")
        }
        if starts([0x1A, 0x45, 0xDF, 0xA3]) { return .video(contains(prefix, "webm") ? "WebM" : "Matroska") }
        if ascii("RIFF") && ascii("AVI ", at: 8) { return .video("AVI") }
        if ascii("RIFF") && ascii("WAVE", at: 8) { return .sound("WAV") }
        if ascii("YUV4MPEG2") { return .video("Y4M") }
        if ascii("OggS") { return .sound("Ogg") }
        if ascii("fLaC") { return .sound("FLAC") }
        if ascii("ID3") || isMPEGAudioFrame(prefix) { return .sound("MP3") }
        return .unknown
    }

    /// Whether `prefix` starts with an MPEG audio frame header: the sync bits, a layer, and a bit rate and sample
    /// rate that are not the reserved values.
    static func isMPEGAudioFrame(_ prefix: [UInt8]) -> Bool {
        guard prefix.count >= 3, prefix[0] == 0xFF, prefix[1] & 0xE0 == 0xE0 else { return false }
        return (prefix[1] >> 1) & 3 != 0 && prefix[2] >> 4 != 0xF && (prefix[2] >> 2) & 3 != 3
    }

    /// A stream's kind from its header (in `prefix`); a header cut short is still a stream, of unknown records.
    static func streamKind(_ prefix: [UInt8]) -> FileKind {
        guard let reader = try? StreamReader(from: MemorySource(prefix), name: "") else { return .otherStream("unreadable") }
        return kind(of: reader.header)
    }

    /// The kind of a stream with this header.
    public static func kind(of header: StreamHeader) -> FileKind {
        if header.dtype == .u8, header.shape.count == 3, header.shape[2] == 3 { return .imageStream }
        if header.dtype == .f32, header.shape.count == 1 || header.metadata["kind"] == "latent" { return .latentStream }
        return .otherStream(header.shapeDescription)
    }

    /// The JSON header's length when `prefix` starts as a safetensors file does: an 8-byte little-endian
    /// length of at most 100 MB, then `{`.
    static func safetensorsHeaderLength(_ prefix: [UInt8]) -> Int? {
        guard prefix.count >= 9, prefix[8] == UInt8(ascii: "{") else { return nil }
        let length = prefix[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard length >= 2, length <= 100_000_000 else { return nil }
        return Int(length)
    }

    /// A checkpoint when the JSON header's metadata says so (found as text when the header is cut short).
    static func safetensorsKind(header: [UInt8]) -> FileKind {
        if let object = try? JSONSerialization.jsonObject(with: Data(header)) as? [String: Any] {
            let format = (object["__metadata__"] as? [String: Any])?["format"] as? String
            return format == "mnemosyne-gan" ? .checkpoint : .safetensors
        }
        return contains(header, "\"mnemosyne-gan\"") ? .checkpoint : .safetensors
    }

    private static func contains(_ bytes: [UInt8], _ text: String) -> Bool {
        let needle = Array(text.utf8)
        guard bytes.count >= needle.count else { return false }
        return (0...(bytes.count - needle.count)).contains { bytes[$0..<($0 + needle.count)].elementsEqual(needle) }
    }
}
