import Foundation
import CJPEG
import CJPEGShim

/// How small a decoder may make a picture while decoding it. JPEG can decode at 1/2, 1/4 or 1/8 of
/// the stored size almost for free (scaled IDCT), which is most of the cost when a 1024-pixel photo
/// becomes a 64-pixel sample; the hint says how much detail the caller still needs.
public enum SizeHint: Sendable, Equatable {
    /// Every stored pixel.
    case full
    /// The shorter side must keep at least this many pixels (centre crop to a square).
    case shorterSide(atLeast: Int)
    /// The longer side must keep at least this many pixels (padding to a square).
    case longerSide(atLeast: Int)
}

/// A decoded picture (upright, EXIF orientation applied) and the upright size of the original,
/// which can be larger than the picture when a `SizeHint` let the decoder scale it down.
public struct DecodedImage: Sendable {
    public var image: Image
    public var originalWidth: Int
    public var originalHeight: Int

    public init(image: Image, originalWidth: Int, originalHeight: Int) {
        self.image = image
        self.originalWidth = originalWidth
        self.originalHeight = originalHeight
    }
}

/// Decodes a PNG or a JPEG, recognised by its first bytes.
public func decodeImage(_ data: [UInt8], hint: SizeHint = .full) throws -> DecodedImage {
    switch FileFormat(sniffing: data) {
    case .png:
        let image = try decodePNG(data)
        return DecodedImage(image: image, originalWidth: image.width, originalHeight: image.height)
    case .jpeg:
        return try decodeJPEG(data, hint: hint)
    case .video:
        throw ImagingError.unsupported("a video or animation, not a still image")
    case nil:
        throw ImagingError.unknownFormat
    }
}

/// Decodes a baseline or progressive JPEG: gray stays 1 channel, YCbCr/RGB become RGB, and CMYK or
/// YCCK (Adobe's inverted convention when an Adobe marker is present) are converted to RGB. The EXIF
/// orientation is applied. Damaged data (including a truncated file) is an error, never a crash.
public func decodeJPEG(_ data: [UInt8], hint: SizeHint = .full) throws -> DecodedImage {
    // libjpeg keeps pointers to these between calls, so they live at fixed heap addresses.
    let info = UnsafeMutablePointer<jpeg_decompress_struct>.allocate(capacity: 1)
    info.initialize(to: jpeg_decompress_struct())
    let failure = UnsafeMutablePointer<mnj_error>.allocate(capacity: 1)
    failure.initialize(to: mnj_error())
    defer {
        jpeg_destroy_decompress(info)
        info.deallocate()
        failure.deallocate()
    }
    func check(_ status: Int32) throws {
        if status == 0 { throw ImagingError.corrupt(message(of: failure)) }
    }
    try check(mnj_create_decompress(info, failure))
    // Nothing libjpeg allocates may pass the cap either (it has no backing store, so it refuses).
    info.pointee.mem.pointee.max_memory_to_use = DecodeLimits.bytes
    return try data.withUnsafeBufferPointer { bytes in
        try check(mnj_mem_src(info, bytes.baseAddress, UInt(bytes.count)))
        try check(mnj_save_markers(info, Int32(JPEG_APP0 + 1), 0xFFFF))
        try check(mnj_read_header(info))

        let storedColor = info.pointee.jpeg_color_space
        let channels: Int
        switch storedColor {
        case JCS_GRAYSCALE:
            info.pointee.out_color_space = JCS_GRAYSCALE
            channels = 1
        case JCS_CMYK, JCS_YCCK:
            info.pointee.out_color_space = JCS_CMYK
            channels = 4
        case JCS_RGB, JCS_YCbCr:
            info.pointee.out_color_space = JCS_RGB
            channels = 3
        default:
            throw ImagingError.unsupported("JPEG colour space \(storedColor.rawValue)")
        }
        let orientation = exifOrientation(info) ?? .up
        let storedWidth = Int(info.pointee.image_width), storedHeight = Int(info.pointee.image_height)
        if info.pointee.progressive_mode != 0 {
            // A progressive file keeps every coefficient of the stored picture (2 bytes each) while it
            // decodes, whatever scale it is decoded at.
            let components = UnsafeBufferPointer(start: info.pointee.comp_info, count: Int(info.pointee.num_components))
            let blocks = components.reduce(0) { $0 + Int($1.width_in_blocks) * Int($1.height_in_blocks) }
            guard blocks * 64 * 2 <= DecodeLimits.bytes else {
                throw ImagingError.tooLarge(width: storedWidth, height: storedHeight)
            }
        }
        let eighths = scaleInEighths(width: storedWidth, height: storedHeight, hint: hint)
        info.pointee.scale_num = UInt32(eighths)
        info.pointee.scale_denom = 8
        if eighths < 8 {
            // The picture will be shrunk further anyway: the fast IDCT and plain chroma upsampling
            // lose nothing visible at that size and save a good part of the decoding time.
            info.pointee.dct_method = JDCT_IFAST
            info.pointee.do_fancy_upsampling = 0
        }

        try check(mnj_start_decompress(info))
        let width = Int(info.pointee.output_width), height = Int(info.pointee.output_height)
        try DecodeLimits.check(width: width, height: height, bytesPerPixel: channels)
        guard Int(info.pointee.output_components) == channels else {
            throw ImagingError.unsupported("JPEG with \(info.pointee.output_components) output components")
        }
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        try pixels.withUnsafeMutableBufferPointer { target in
            let rowBytes = width * channels
            var rows = [UnsafeMutablePointer<JSAMPLE>?](repeating: nil, count: 16)
            while info.pointee.output_scanline < info.pointee.output_height {
                let line = Int(info.pointee.output_scanline)
                let batch = min(rows.count, height - line)
                for i in 0..<batch { rows[i] = target.baseAddress! + (line + i) * rowBytes }
                var read: JDIMENSION = 0
                try rows.withUnsafeMutableBufferPointer {
                    try check(mnj_read_scanlines(info, $0.baseAddress, JDIMENSION(batch), &read))
                }
                if read == 0 { throw ImagingError.corrupt("no scanlines decoded") }
            }
        }
        try check(mnj_finish_decompress(info))
        if failure.pointee.damaged != 0 { throw ImagingError.corrupt(message(of: failure)) }

        var image = Image(width: width, height: height, channels: channels, pixels: pixels)
        if channels == 4 {
            image = rgbFromCMYK(image, adobeInverted: info.pointee.saw_Adobe_marker != 0)
        }
        image = image.applying(orientation)
        return DecodedImage(image: image,
                            originalWidth: orientation.swapsAxes ? storedHeight : storedWidth,
                            originalHeight: orientation.swapsAxes ? storedWidth : storedHeight)
    }
}

/// The smallest n in 1...8 such that decoding at n/8 of the stored size still satisfies `hint`.
func scaleInEighths(width: Int, height: Int, hint: SizeHint) -> Int {
    let side: Int, wanted: Int
    switch hint {
    case .full: return 8
    case .shorterSide(let atLeast): (side, wanted) = (min(width, height), atLeast)
    case .longerSide(let atLeast): (side, wanted) = (max(width, height), atLeast)
    }
    // libjpeg rounds scaled sizes up.
    return (1...8).first { (side * $0 + 7) / 8 >= wanted } ?? 8
}

private func exifOrientation(_ info: UnsafeMutablePointer<jpeg_decompress_struct>) -> ExifOrientation? {
    var marker = info.pointee.marker_list
    while let current = marker {
        if Int32(current.pointee.marker) == JPEG_APP0 + 1, let data = current.pointee.data {
            let payload = Array(UnsafeBufferPointer(start: data, count: Int(current.pointee.data_length)))
            if let orientation = ExifOrientation(exifSegment: payload) { return orientation }
        }
        marker = current.pointee.next
    }
    return nil
}

/// RGB from 4-channel CMYK samples. Adobe applications store the inks inverted (255 = no ink).
private func rgbFromCMYK(_ cmyk: Image, adobeInverted: Bool) -> Image {
    var rgb = [UInt8](repeating: 0, count: cmyk.width * cmyk.height * 3)
    for i in 0..<cmyk.width * cmyk.height {
        var ink = (0..<4).map { UInt32(cmyk.pixels[4 * i + $0]) }
        if !adobeInverted { ink = ink.map { 255 - $0 } }
        // With inverted samples, each colour is (1 - ink) * (1 - black) scaled to 0...255.
        for c in 0..<3 { rgb[3 * i + c] = UInt8((ink[c] * ink[3] + 127) / 255) }
    }
    return Image(width: cmyk.width, height: cmyk.height, channels: 3, pixels: rgb)
}

private func message(of failure: UnsafeMutablePointer<mnj_error>) -> String {
    let text = withUnsafeBytes(of: &failure.pointee.message) { raw in
        String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
    }
    return text.isEmpty ? "libjpeg failed" : text
}

/// How `encodeJPEG` stores the colours.
public enum JPEGColorModel: Sendable {
    /// Gray for 1-channel pictures, YCbCr for RGB.
    case standard
    /// CMYK inks, inverted as Adobe applications write them, with an Adobe marker.
    case adobeCMYK
    /// The same inks transformed to YCCK (Adobe transform 2), as Photoshop writes CMYK JPEGs.
    case adobeYCCK
}

/// Encodes a gray or RGB picture as a JPEG, optionally tagged with an EXIF orientation (the pixels
/// are stored as given), stored as CMYK/YCCK, or arithmetic-coded (SOF9). The project reads JPEGs;
/// this writer exists so tests can make every kind the reader must handle.
public func encodeJPEG(_ image: Image, quality: Int = 90, colorModel: JPEGColorModel = .standard,
                       orientation: ExifOrientation = .up, arithmetic: Bool = false) throws -> [UInt8] {
    let source = image.channels == 1 && colorModel == .standard ? image : image.flattened()
    let samples: Image
    switch colorModel {
    case .standard: samples = source
    case .adobeCMYK, .adobeYCCK: samples = invertedCMYK(fromRGB: source)
    }

    let info = UnsafeMutablePointer<jpeg_compress_struct>.allocate(capacity: 1)
    info.initialize(to: jpeg_compress_struct())
    let failure = UnsafeMutablePointer<mnj_error>.allocate(capacity: 1)
    failure.initialize(to: mnj_error())
    var buffer: UnsafeMutablePointer<UInt8>? = nil
    var size: UInt = 0
    defer {
        jpeg_destroy_compress(info)
        info.deallocate()
        failure.deallocate()
        free(buffer)
    }
    func check(_ status: Int32) throws {
        if status == 0 { throw ImagingError.encodingFailed(message(of: failure)) }
    }
    try check(mnj_create_compress(info, failure))
    jpeg_mem_dest(info, &buffer, &size)
    info.pointee.image_width = JDIMENSION(samples.width)
    info.pointee.image_height = JDIMENSION(samples.height)
    info.pointee.input_components = Int32(samples.channels)
    info.pointee.in_color_space = samples.channels == 1 ? JCS_GRAYSCALE : samples.channels == 3 ? JCS_RGB : JCS_CMYK
    try check(mnj_set_defaults(info, Int32(min(max(quality, 1), 100))))
    switch colorModel {
    case .standard: break
    case .adobeCMYK: try check(mnj_set_colorspace(info, JCS_CMYK))
    case .adobeYCCK: try check(mnj_set_colorspace(info, JCS_YCCK))
    }
    info.pointee.arith_code = arithmetic ? 1 : 0
    try check(mnj_start_compress(info))
    if orientation != .up {
        let segment = orientation.exifSegment
        try check(mnj_write_marker(info, Int32(JPEG_APP0 + 1), segment, UInt32(segment.count)))
    }
    var pixels = samples.pixels
    try pixels.withUnsafeMutableBufferPointer { rows in
        for y in 0..<samples.height {
            var row: UnsafeMutablePointer<JSAMPLE>? = rows.baseAddress! + y * samples.rowBytes
            try check(mnj_write_scanlines(info, &row, 1))
        }
    }
    try check(mnj_finish_compress(info))
    guard let buffer else { throw ImagingError.encodingFailed("libjpeg wrote nothing") }
    return Array(UnsafeBufferPointer(start: buffer, count: Int(size)))
}

/// Inverted CMYK (255 = no ink) for an RGB picture, the inverse of `rgbFromCMYK(adobeInverted: true)`.
private func invertedCMYK(fromRGB rgb: Image) -> Image {
    var out = [UInt8](repeating: 0, count: rgb.width * rgb.height * 4)
    for i in 0..<rgb.width * rgb.height {
        let r = Int(rgb.pixels[3 * i]), g = Int(rgb.pixels[3 * i + 1]), b = Int(rgb.pixels[3 * i + 2])
        let brightest = max(r, g, b)  // 255 - black ink
        for (c, value) in [r, g, b].enumerated() {
            out[4 * i + c] = brightest == 0 ? 255 : UInt8((value * 255 + brightest / 2) / brightest)
        }
        out[4 * i + 3] = UInt8(brightest)
    }
    return Image(width: rgb.width, height: rgb.height, channels: 4, pixels: out)
}
