import CPNG

// libpng's composite format macros (PNG_FORMAT_RGBA = COLOR | ALPHA, ...) do not reach Swift.
private let pngGray: png_uint_32 = 0
private let pngRGB = png_uint_32(PNG_FORMAT_FLAG_COLOR)
private let pngRGBA = png_uint_32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA)

/// Decodes a PNG of any kind libpng reads (gray, gray+alpha, palette with or without transparency,
/// RGB, RGBA, 1 to 16 bits per sample, interlaced or not) to 8-bit samples: 1 channel for gray,
/// 3 for colour, 4 (RGBA) whenever the file carries transparency. 16-bit samples without gamma
/// information are taken as sRGB, as almost every 16-bit PNG in the wild is.
public func decodePNG(_ data: [UInt8]) throws -> Image {
    var png = png_image()
    png.version = png_uint_32(PNG_IMAGE_VERSION)
    defer { png_image_free(&png) }
    let begun = data.withUnsafeBytes { png_image_begin_read_from_memory(&png, $0.baseAddress, $0.count) }
    guard begun != 0 else { throw ImagingError.corrupt(pngMessage(png)) }
    // libpng 1.6's simplified reader scrambles rows of interlaced 16-bit files when it narrows them
    // to 8 bits (pnggroup/libpng#853); such files are read at 16 bits and narrowed here instead.
    let wide = data.count > 28 && data[24] == 16 && data[28] == 1
    if !wide { png.flags |= png_uint_32(PNG_IMAGE_FLAG_16BIT_sRGB) }

    let hasAlpha = png.format & png_uint_32(PNG_FORMAT_FLAG_ALPHA) != 0
    let isColor = png.format & png_uint_32(PNG_FORMAT_FLAG_COLOR) != 0
    let channels: Int
    if hasAlpha {
        png.format = pngRGBA
        channels = 4
    } else if isColor {
        png.format = pngRGB
        channels = 3
    } else {
        png.format = pngGray
        channels = 1
    }
    let width = Int(png.width), height = Int(png.height)
    try DecodeLimits.check(width: width, height: height, bytesPerPixel: channels * (wide ? 2 : 1))
    if wide {
        png.format |= png_uint_32(PNG_FORMAT_FLAG_LINEAR)
        var samples = [UInt16](repeating: 0, count: width * height * channels)
        let finished = samples.withUnsafeMutableBytes {
            png_image_finish_read(&png, nil, $0.baseAddress, png_int_32(width * channels), nil)
        }
        guard finished != 0 else { throw ImagingError.corrupt(pngMessage(png)) }
        return narrowed(samples, width: width, height: height, channels: channels)
    }
    var pixels = [UInt8](repeating: 0, count: width * height * channels)
    let finished = pixels.withUnsafeMutableBytes {
        png_image_finish_read(&png, nil, $0.baseAddress, png_int_32(width * channels), nil)
    }
    guard finished != 0 else { throw ImagingError.corrupt(pngMessage(png)) }
    return Image(width: width, height: height, channels: channels, pixels: pixels)
}

/// 8-bit samples from libpng's 16-bit "linear" output. Without gamma information (and without the
/// sRGB flag) libpng leaves the file's samples as they are, except that colour is multiplied by alpha.
private func narrowed(_ samples: [UInt16], width: Int, height: Int, channels: Int) -> Image {
    var pixels = [UInt8](repeating: 0, count: samples.count)
    let colours = channels == 4 ? 3 : channels
    for pixel in 0..<width * height {
        let base = pixel * channels
        let alpha = channels == 4 ? UInt32(samples[base + 3]) : 65535
        for c in 0..<colours {
            let straight = alpha == 0 ? 0 : min(65535, (UInt32(samples[base + c]) * 65535 + alpha / 2) / alpha)
            pixels[base + c] = UInt8((straight * 255 + 32767) / 65535)
        }
        if channels == 4 { pixels[base + 3] = UInt8((alpha * 255 + 32767) / 65535) }
    }
    return Image(width: width, height: height, channels: channels, pixels: pixels)
}

/// Encodes a gray (1 channel), RGB (3) or RGBA (4) picture as an 8-bit PNG file.
public func encodePNG(_ image: Image) throws -> [UInt8] {
    let format: png_uint_32
    switch image.channels {
    case 1: format = pngGray
    case 3: format = pngRGB
    case 4: format = pngRGBA
    default: throw ImagingError.encodingFailed("PNG output takes 1, 3 or 4 channels, not \(image.channels)")
    }
    var png = png_image()
    png.version = png_uint_32(PNG_IMAGE_VERSION)
    png.width = png_uint_32(image.width)
    png.height = png_uint_32(image.height)
    png.format = format
    defer { png_image_free(&png) }
    let stride = png_int_32(image.rowBytes)
    // First ask for the size, then write into a buffer of exactly that size.
    var size: png_alloc_size_t = 0
    let sized = image.pixels.withUnsafeBytes {
        png_image_write_to_memory(&png, nil, &size, 0, $0.baseAddress, stride, nil)
    }
    guard sized != 0, size > 0 else { throw ImagingError.encodingFailed(pngMessage(png)) }
    var output = [UInt8](repeating: 0, count: Int(size))
    let written = output.withUnsafeMutableBytes { target in
        image.pixels.withUnsafeBytes {
            png_image_write_to_memory(&png, target.baseAddress, &size, 0, $0.baseAddress, stride, nil)
        }
    }
    guard written != 0 else { throw ImagingError.encodingFailed(pngMessage(png)) }
    return Array(output.prefix(Int(size)))
}

/// libpng's message for the last failure, kept in a fixed char array inside the png_image.
private func pngMessage(_ png: png_image) -> String {
    var copy = png.message
    let text = withUnsafeBytes(of: &copy) { raw in
        String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
    }
    return text.isEmpty ? "libpng failed" : text
}
