/// Why a picture could not be read or written. Each case names a reason a data-set cleaner can
/// count; `description` is one line suitable for a tool's warning.
public enum ImagingError: Error, Equatable, CustomStringConvertible {
    /// The bytes start with no signature we know.
    case unknownFormat
    /// A known format whose data is damaged or truncated; the library's own words.
    case corrupt(String)
    /// A well-formed picture this code does not handle (e.g. an odd JPEG colour space).
    case unsupported(String)
    /// Decoding would need more memory than a data-set picture reasonably can.
    case tooLarge(width: Int, height: Int)
    /// Writing failed (the encoder's own words).
    case encodingFailed(String)

    public var description: String {
        switch self {
        case .unknownFormat: return "not a PNG or JPEG image"
        case .corrupt(let why): return "corrupt image (\(why))"
        case .unsupported(let why): return "unsupported image (\(why))"
        case .tooLarge(let width, let height):
            return "image too large to decode (\(width)x\(height); at most \(DecodeLimits.bytes >> 20) MB decoded, "
                + "\(DecodeLimits.side) pixels a side)"
        case .encodingFailed(let why): return "cannot encode image (\(why))"
        }
    }
}

/// What one decoded picture may cost. Every decoder checks it before it allocates (PNG and JPEG here,
/// libav's video and GIF frames in Media), so a forged header of a few bytes cannot make it allocate
/// gigabytes or decode for minutes.
public enum DecodeLimits {
    /// Bytes of one decoded picture at the decoder's own depth (16-bit samples count two): 128 MiB, a
    /// 44-megapixel RGB picture, an 8K video frame at 4 bytes a pixel.
    public static let bytes = 128 << 20
    /// The longest side, in pixels (JPEG's own limit is 65500).
    public static let side = 1 << 16

    /// Throws `ImagingError.corrupt` for an empty picture and `ImagingError.tooLarge` for one past the limits.
    public static func check(width: Int, height: Int, bytesPerPixel: Int) throws {
        guard width > 0, height > 0 else { throw ImagingError.corrupt("empty image \(width)x\(height)") }
        guard width <= side, height <= side, width * height <= bytes / bytesPerPixel else {
            throw ImagingError.tooLarge(width: width, height: height)
        }
    }
}
