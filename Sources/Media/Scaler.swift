import CAV
import Imaging

/// One swscale conversion between two fixed geometries and pixel formats.
final class Scaler {
    private let context: OpaquePointer
    let sourceFormat: AVPixelFormat, sourceWidth: Int, sourceHeight: Int
    let width: Int, height: Int

    /// Lanczos: the quality upsampling `--scale` promises. Exactly ffmpeg's `scale=W:H:flags=lanczos`
    /// (the frames come out bit-identical), so encodes compare like for like with the ffmpeg command line.
    static let upsamplingFlags = SWS_LANCZOS

    /// `threads` above 1 (0: one per core) lets swscale slice each picture over worker threads.
    init(from sourceFormat: AVPixelFormat, width sourceWidth: Int, height sourceHeight: Int,
         to format: AVPixelFormat, width: Int, height: Int, flags: Int32 = Scaler.upsamplingFlags,
         threads: Int = 1) throws {
        guard let context = sws_alloc_context() else { throw MediaError("out of memory", file: "") }
        let options = UnsafeMutableRawPointer(context)
        for (name, value) in [("srcw", sourceWidth), ("srch", sourceHeight), ("src_format", Int(sourceFormat.rawValue)),
                              ("dstw", width), ("dsth", height), ("dst_format", Int(format.rawValue)),
                              ("sws_flags", Int(flags)), ("threads", threads)] {
            av_opt_set_int(options, name, Int64(value), 0)
        }
        guard sws_init_context(context, nil, nil) >= 0 else {
            sws_freeContext(context)
            throw MediaError("cannot convert \(sourceWidth)x\(sourceHeight) to \(width)x\(height)", file: "")
        }
        self.context = context
        self.sourceFormat = sourceFormat
        self.sourceWidth = sourceWidth
        self.sourceHeight = sourceHeight
        self.width = width
        self.height = height
    }

    deinit { sws_freeContext(context) }

    /// Converts a packed RGB image into `frame`'s buffers (at least width x height).
    func convert(_ image: Image, into frame: UnsafeMutablePointer<AVFrame>) throws {
        precondition(image.width == sourceWidth && image.height == sourceHeight && image.channels == 3)
        guard let source = av_frame_alloc() else { throw MediaError("out of memory", file: "") }
        defer {
            var owned: UnsafeMutablePointer<AVFrame>? = source
            av_frame_free(&owned)
        }
        source.pointee.width = Int32(sourceWidth)
        source.pointee.height = Int32(sourceHeight)
        source.pointee.format = AV_PIX_FMT_RGB24.rawValue
        source.pointee.linesize.0 = Int32(image.rowBytes)
        try image.pixels.withUnsafeBufferPointer { rgb in
            // swscale copies a frame it does not own, so pointing it at our array is safe.
            source.pointee.data.0 = UnsafeMutablePointer(mutating: rgb.baseAddress)
            try convert(source, into: frame)
        }
    }

    /// Converts a frame (any pixel format swscale knows) into `frame`'s buffers, which may be larger
    /// than the output (an even-sized encoder frame around an odd picture).
    func convert(_ source: UnsafeMutablePointer<AVFrame>, into frame: UnsafeMutablePointer<AVFrame>) throws {
        guard let view = av_frame_alloc() else { throw MediaError("out of memory", file: "") }
        defer {
            var owned: UnsafeMutablePointer<AVFrame>? = view
            av_frame_free(&owned)
        }
        // swscale wants a destination of exactly its output size: a second reference to the same buffers.
        try check(av_frame_ref(view, frame), "cannot convert a frame", file: "")
        view.pointee.width = Int32(width)
        view.pointee.height = Int32(height)
        try check(sws_scale_frame(context, view, source), "cannot convert a frame", file: "")
    }

    /// Tells swscale the YUV matrix and range of the source (decoding) from the frame's tags.
    func setSourceColorimetry(of frame: UnsafeMutablePointer<AVFrame>) {
        var inverseTable: UnsafeMutablePointer<Int32>?, table: UnsafeMutablePointer<Int32>?
        var sourceRange: Int32 = 0, range: Int32 = 0, brightness: Int32 = 0, contrast: Int32 = 0, saturation: Int32 = 0
        guard sws_getColorspaceDetails(context, &inverseTable, &sourceRange, &table, &range,
                                       &brightness, &contrast, &saturation) >= 0 else { return }
        let matrix = frame.pointee.colorspace == AVCOL_SPC_BT709 ? SWS_CS_ITU709 : SWS_CS_DEFAULT
        if frame.pointee.color_range == AVCOL_RANGE_JPEG { sourceRange = 1 }
        _ = sws_setColorspaceDetails(context, sws_getCoefficients(matrix), sourceRange, table, range,
                                     brightness, contrast, saturation)
    }
}

/// A frame with its own buffers (libav's alignment), freed with the owner.
final class OwnedFrame {
    let pointer: UnsafeMutablePointer<AVFrame>

    /// A frame without buffers, for a decoder to fill.
    init?() {
        guard let frame = av_frame_alloc() else { return nil }
        pointer = frame
    }

    init(format: AVPixelFormat, width: Int, height: Int) throws {
        guard let frame = av_frame_alloc() else { throw MediaError("out of memory", file: "") }
        frame.pointee.format = format.rawValue
        frame.pointee.width = Int32(width)
        frame.pointee.height = Int32(height)
        pointer = frame
        try check(av_frame_get_buffer(frame, 0), "cannot allocate a \(width)x\(height) frame", file: "")
    }

    deinit {
        var frame: UnsafeMutablePointer<AVFrame>? = pointer
        av_frame_free(&frame)
    }

    /// Copies a packed 8-bit frame (RGB24, GRAY8, PAL8 indices) row by row into a tight array.
    func packedRows(width: Int, height: Int, bytesPerPixel: Int) -> [UInt8] {
        let rowBytes = width * bytesPerPixel, stride = Int(pointer.pointee.linesize.0)
        var out = [UInt8](repeating: 0, count: rowBytes * height)
        guard let base = pointer.pointee.data.0 else { return out }
        out.withUnsafeMutableBufferPointer { dst in
            for y in 0..<height {
                (dst.baseAddress! + y * rowBytes).update(from: base + y * stride, count: rowBytes)
            }
        }
        return out
    }
}

/// Upsamples RGB images by an integer factor with Lanczos, reusing one swscale context per input size.
final class Upsampler {
    let factor: Int
    private var scaler: Scaler?
    private var frame: OwnedFrame?

    init(factor: Int) { self.factor = factor }

    /// The image scaled by `factor` (the image itself when the factor is 1).
    func upsample(_ image: Image) throws -> Image {
        guard factor > 1 else { return image }
        let width = image.width * factor, height = image.height * factor
        if scaler?.sourceWidth != image.width || scaler?.sourceHeight != image.height {
            scaler = try Scaler(from: AV_PIX_FMT_RGB24, width: image.width, height: image.height,
                                to: AV_PIX_FMT_RGB24, width: width, height: height)
            frame = try OwnedFrame(format: AV_PIX_FMT_RGB24, width: width, height: height)
        }
        guard let scaler, let frame else { return image }
        try scaler.convert(image, into: frame.pointer)
        return Image(width: width, height: height, channels: 3,
                     pixels: frame.packedRows(width: width, height: height, bytesPerPixel: 3))
    }
}
