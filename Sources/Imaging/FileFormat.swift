/// What a file holds, judged by its first bytes (never by its name).
public enum FileFormat: Equatable, Sendable {
    case png
    case jpeg
    /// A container that libav reads as a sequence of frames (MP4/MOV, Matroska/WebM, AVI, GIF).
    case video

    /// The format whose signature `prefix` starts with, or nil. Sixteen bytes are enough.
    public init?(sniffing prefix: some Collection<UInt8>) {
        let bytes = Array(prefix.prefix(16))
        func starts(_ signature: [UInt8], at offset: Int = 0) -> Bool {
            bytes.count >= offset + signature.count && Array(bytes[offset..<offset + signature.count]) == signature
        }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            self = .png
        } else if starts([0xFF, 0xD8, 0xFF]) {
            self = .jpeg
        } else if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8))
                    || starts([0x1A, 0x45, 0xDF, 0xA3])  // EBML: Matroska and WebM
                    || (starts(Array("RIFF".utf8)) && starts(Array("AVI ".utf8), at: 8))
                    || ["ftyp", "moov", "mdat", "wide", "free", "skip"].contains(where: { starts(Array($0.utf8), at: 4) }) {
            self = .video
        } else {
            return nil
        }
    }
}
