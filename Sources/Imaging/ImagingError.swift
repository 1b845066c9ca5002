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
        case .tooLarge(let width, let height): return "image too large (\(width)x\(height))"
        case .encodingFailed(let why): return "cannot encode image (\(why))"
        }
    }
}

/// The most pixels a decoder will allocate for one picture (134 megapixels, far above any camera's),
/// so a forged header cannot make it allocate gigabytes.
let maximumDecodedPixels = 1 << 27

func checkDecodable(width: Int, height: Int) throws {
    guard width > 0, height > 0 else { throw ImagingError.corrupt("empty image \(width)x\(height)") }
    guard width.multipliedReportingOverflow(by: height).partialValue <= maximumDecodedPixels,
          width <= maximumDecodedPixels, height <= maximumDecodedPixels else {
        throw ImagingError.tooLarge(width: width, height: height)
    }
}
