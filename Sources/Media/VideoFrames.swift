import CAV
import Foundation
import Imaging
import TensorStream

/// Decodes the best video stream of a file (mp4, webm, mov, mkv, gif, ... whatever libavformat reads)
/// and calls `body` with every `every`-th frame as an upright RGB image (a stream's display rotation is
/// applied, as players do), in display order.
/// Throws a `MediaError` naming the file when it cannot be opened, has no video, or yields no frame, and
/// `ImagingError.tooLarge` when its frames pass `DecodeLimits` (checked before any frame is decoded).
public func forEachVideoFrame(path: String, every: Int, _ body: (Image) throws -> Void) throws {
    _ = silenceLibav
    guard every >= 1 else { throw MediaError("frame step must be at least 1, got \(every)", file: path) }
    let input = try DemuxedVideo(path: path)
    var index = 0
    try input.decodeFrames { frame in
        defer { index += 1 }
        if index % every == 0 { try body(input.rgbImage(of: frame)) }
    }
}

/// An opened container with its video decoder, freed together.
private final class DemuxedVideo {
    let path: String
    private var format: UnsafeMutablePointer<AVFormatContext>?
    private var decoder: UnsafeMutablePointer<AVCodecContext>?
    private let streamIndex: Int32
    private var scaler: Scaler?
    private var rgbFrame: OwnedFrame?
    /// How frames must be turned to be seen upright (phones store portrait video sideways).
    private let orientation: ExifOrientation

    init(path: String) throws {
        self.path = path
        var opened: UnsafeMutablePointer<AVFormatContext>?
        // Only the plain file, and only the containers of videos (those ingest recognises, and the y4m
        // encode writes): no demuxer that opens other files or URLs named inside this one (playlists,
        // concat lists, image sequences).
        try withDictionary(["protocol_whitelist": "file", "format_whitelist": "mov,matroska,avi,gif,yuv4mpegpipe"]) { options in
            try check(avformat_open_input(&opened, fileURL(path), nil, options), "cannot open video", file: path)
        }
        format = opened
        guard let format else { throw MediaError("cannot open video", file: path) }
        // The sizes the header declares (a GIF's screen, an MP4's track) are checked before anything is
        // decoded, and no decoder, not even those that find the stream layout, makes a larger frame.
        let streams = UnsafeBufferPointer(start: format.pointee.streams, count: Int(format.pointee.nb_streams))
        for case let stream? in streams {
            guard let declared = stream.pointee.codecpar, declared.pointee.codec_type == AVMEDIA_TYPE_VIDEO,
                  declared.pointee.width > 0 || declared.pointee.height > 0 else { continue }
            try DecodeLimits.check(width: Int(declared.pointee.width), height: Int(declared.pointee.height),
                                   bytesPerPixel: bytesPerDecodedPixel)
        }
        var decoderOptions = [OpaquePointer?](repeating: nil, count: streams.count)
        defer { for index in decoderOptions.indices { av_dict_free(&decoderOptions[index]) } }
        for index in decoderOptions.indices { av_dict_set_int(&decoderOptions[index], "max_pixels", largestFrame, 0) }
        try check(decoderOptions.withUnsafeMutableBufferPointer { avformat_find_stream_info(format, $0.baseAddress) },
                  "cannot read the stream layout", file: path)
        let (found, codec, stream, parameters) = try bestStream(of: AVMEDIA_TYPE_VIDEO, kind: "video", in: format, file: path)
        streamIndex = found
        orientation = displayOrientation(of: stream)
        decoder = avcodec_alloc_context3(codec)
        guard let decoder else { throw MediaError("out of memory", file: path) }
        try check(avcodec_parameters_to_context(decoder, parameters), "bad codec parameters", file: path)
        decoder.pointee.thread_count = 0 // one thread per core
        decoder.pointee.max_pixels = largestFrame
        try check(avcodec_open2(decoder, codec, nil), "cannot open the video decoder", file: path)
    }

    deinit {
        avcodec_free_context(&decoder)
        avformat_close_input(&format)
    }

    /// Reads every packet of the video stream and hands each decoded frame to `body`. A damaged packet
    /// is skipped (as players do); a file that yields no frame at all is an error, and so, once every
    /// frame it holds was handed over, is one that was damaged or ended before the frames it announces.
    func decodeFrames(_ body: (UnsafeMutablePointer<AVFrame>) throws -> Void) throws {
        guard let format, let decoder else { return }
        guard let packet = Packet(), let frame = OwnedFrame() else {
            throw MediaError("out of memory", file: path)
        }
        var decoded = 0, lastError: Int32 = 0, lastTimestamp = Int64.min
        func drain() throws {
            while true {
                let status = avcodec_receive_frame(decoder, frame.pointer)
                if status == avErrorAgain || status == avErrorEOF { return }
                if status < 0 { lastError = status; return }
                decoded += 1
                lastTimestamp = max(lastTimestamp, frame.pointer.pointee.best_effort_timestamp)
                defer { av_frame_unref(frame.pointer) }
                try body(frame.pointer)
            }
        }
        while true {
            let status = av_read_frame(format, packet.pointer)
            if status == avErrorEOF { break }
            if status < 0 { lastError = status; break }
            defer { av_packet_unref(packet.pointer) }
            guard packet.pointer.pointee.stream_index == streamIndex else { continue }
            let sent = avcodec_send_packet(decoder, packet.pointer)
            if sent < 0 && sent != avErrorAgain { lastError = sent; continue }
            try drain()
        }
        _ = avcodec_send_packet(decoder, nil) // flush the frames the decoder still holds
        try drain()
        if decoded == 0 {
            throw MediaError(lastError < 0 ? "no decodable video frame (\(avErrorText(lastError)))"
                                           : "no video frames", file: path)
        }
        if lastError < 0 { throw MediaError("damaged video data (\(avErrorText(lastError)))", file: path) }
        // A file cut short ends cleanly at a packet boundary; only what its header announces shows the
        // loss: a frame count (MP4), or a duration (WebM) that the last frame falls well short of.
        guard let stream = format.pointee.streams[Int(streamIndex)] else { return }
        let announced = Int(stream.pointee.nb_frames)
        if decoded < announced {
            throw MediaError("the video ends early: \(decoded) of its \(announced) frames could be read", file: path)
        }
        let duration = format.pointee.duration
        let rate = av_q2d(stream.pointee.r_frame_rate)
        if duration > 0 && lastTimestamp != Int64.min && rate > 0 {  // Int64.min: libav's AV_NOPTS_VALUE
            let lastFrameEnds = Double(lastTimestamp) * av_q2d(stream.pointee.time_base) + 1 / rate
            let announcedEnd = Double(duration) / Double(AV_TIME_BASE)
            if lastFrameEnds + 2 / rate < announcedEnd {
                throw MediaError(String(format: "the video ends early: frames stop at %.2f s of %.2f s",
                                        lastFrameEnds, announcedEnd), file: path)
            }
        }
    }

    /// The frame as a packed RGB image, honouring its YUV matrix and range tags.
    func rgbImage(of frame: UnsafeMutablePointer<AVFrame>) throws -> Image {
        let width = Int(frame.pointee.width), height = Int(frame.pointee.height)
        let pixelFormat = AVPixelFormat(rawValue: frame.pointee.format)
        guard width > 0, height > 0 else { throw MediaError("decoded a frame without a size", file: path) }
        try DecodeLimits.check(width: width, height: height, bytesPerPixel: bytesPerDecodedPixel)
        if scaler?.sourceWidth != width || scaler?.sourceHeight != height || scaler?.sourceFormat != pixelFormat {
            // Same size in and out: only the pixel format changes, so a cheap filter is exact enough.
            scaler = try Scaler(from: pixelFormat, width: width, height: height, to: AV_PIX_FMT_RGB24,
                                width: width, height: height,
                                flags: SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT)
            scaler?.setSourceColorimetry(of: frame)
            rgbFrame = try OwnedFrame(format: AV_PIX_FMT_RGB24, width: width, height: height)
        }
        guard let scaler, let rgbFrame else { throw MediaError("cannot convert a frame to RGB", file: path) }
        try scaler.convert(frame, into: rgbFrame.pointer)
        return Image(width: width, height: height, channels: 3,
                     pixels: rgbFrame.packedRows(width: width, height: height, bytesPerPixel: 3))
            .applying(orientation)
    }
}

/// The stream's display-matrix rotation as the turn that shows it upright, as players (and ffmpeg's
/// autorotate) do; quarter turns only, mirroring is ignored.
private func displayOrientation(of stream: UnsafeMutablePointer<AVStream>) -> ExifOrientation {
    var size = 0
    guard let matrix = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, &size), size >= 9 * 4 else {
        return .up
    }
    // The matrix's rotation, as libavutil's av_display_rotation_get reads it (display.h is not in our
    // module map): the first two columns' directions in 16.16 fixed point, counter-clockwise degrees.
    let m = UnsafeRawPointer(matrix).assumingMemoryBound(to: Int32.self)
    let (a, b, c, d) = (Double(m[0]), Double(m[1]), Double(m[3]), Double(m[4]))
    let counterClockwise = -atan2(b / hypot(b, d), a / hypot(a, c)) * 180 / .pi
    guard counterClockwise.isFinite else { return .up }
    switch (Int((counterClockwise / 90).rounded()) % 4 + 4) % 4 {
    case 1: return .rotatedCounterClockwise
    case 2: return .upsideDown
    case 3: return .rotatedClockwise
    default: return .up
    }
}

/// What a decoded frame may cost a pixel: decoders hand out up to 4 bytes (RGBA, a GIF's canvas).
private let bytesPerDecodedPixel = 4
/// The most pixels any decoder may give one frame (`AVCodecContext.max_pixels`).
private let largestFrame = Int64(DecodeLimits.bytes / bytesPerDecodedPixel)

/// An AVPacket freed with its owner.
final class Packet {
    let pointer: UnsafeMutablePointer<AVPacket>
    init?() {
        guard let packet = av_packet_alloc() else { return nil }
        pointer = packet
    }
    deinit {
        var packet: UnsafeMutablePointer<AVPacket>? = pointer
        av_packet_free(&packet)
    }
}
