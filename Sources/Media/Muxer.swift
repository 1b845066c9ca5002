import CAV
import Foundation
import TensorStream

/// Where encoded bytes go: a path (seekable, so MP4 can put its index first) or an open descriptor
/// that is written straight through (pipes: MP4 is then fragmented).
public enum VideoDestination: Sendable {
    case file(String)
    case stream(fd: Int32, name: String)

    var name: String {
        switch self {
        case .file(let path): return path
        case .stream(_, let name): return name
        }
    }
}

/// A video encoder, and a sound encoder when there is a sound track, feeding one muxer: frames in, a
/// finished container out.
final class Muxer {
    private var output: UnsafeMutablePointer<AVFormatContext>?
    private var encoder: UnsafeMutablePointer<AVCodecContext>?
    private let stream: UnsafeMutablePointer<AVStream>
    private let packet: Packet
    private let destination: VideoDestination
    private var customIO: UnsafeMutablePointer<AVIOContext>?
    private var closed = false
    /// The sound stream's encoder, when `Setup.audio` asked for one.
    private(set) var sound: SoundStream?

    struct Setup {
        var container: String          // libavformat muxer name: mp4, webm, gif
        var codec: String              // libavcodec encoder name: libx264, libvpx-vp9, gif
        var pixelFormat: AVPixelFormat
        var width: Int, height: Int
        var frameRate: AVRational
        var codecOptions: [String: String] = [:]
        var muxerOptions: [String: String] = [:]
        var audio: SoundStream.Setup?
    }

    init(_ setup: Setup, destination: VideoDestination) throws {
        _ = silenceLibav
        self.destination = destination
        let file = destination.name
        guard let packet = Packet() else { throw MediaError("out of memory", file: file) }
        self.packet = packet
        // A file name lets the MP4 muxer reopen the file for its faststart pass.
        var fileName: [CChar]? = nil
        if case .file(let path) = destination { fileName = fileURL(path) }
        try check(avformat_alloc_output_context2(&output, nil, setup.container, fileName),
                  "libavformat cannot write \(setup.container)", file: file)
        guard let output else { throw MediaError("libavformat cannot write \(setup.container)", file: file) }
        let (codec, stream, encoder) = try newEncodedStream(setup.codec, in: output, file: file)
        self.stream = stream
        self.encoder = encoder
        encoder.pointee.width = Int32(setup.width)
        encoder.pointee.height = Int32(setup.height)
        encoder.pointee.pix_fmt = setup.pixelFormat
        encoder.pointee.time_base = av_inv_q(setup.frameRate)
        encoder.pointee.framerate = setup.frameRate
        encoder.pointee.sample_aspect_ratio = AVRational(num: 1, den: 1)
        encoder.pointee.bit_rate = 0 // quality (crf) mode, never libavcodec's 200 kb/s default
        encoder.pointee.thread_count = 0 // one thread per core, as the ffmpeg command line does
        // swscale converts RGB with the BT.601 matrix in limited range; say so, so players invert it right.
        if setup.pixelFormat == AV_PIX_FMT_YUV420P {
            encoder.pointee.colorspace = AVCOL_SPC_SMPTE170M
            encoder.pointee.color_primaries = AVCOL_PRI_SMPTE170M
            encoder.pointee.color_trc = AVCOL_TRC_SMPTE170M
            encoder.pointee.color_range = AVCOL_RANGE_MPEG
        }
        if output.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 {
            encoder.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER
        }
        try withDictionary(setup.codecOptions) { options in
            try check(avcodec_open2(encoder, codec, options), "cannot open the \(setup.codec) encoder", file: file)
        }
        try check(avcodec_parameters_from_context(stream.pointee.codecpar, encoder),
                  "cannot set up the stream", file: file)
        stream.pointee.time_base = encoder.pointee.time_base
        stream.pointee.avg_frame_rate = setup.frameRate
        if let audio = setup.audio { sound = try SoundStream(audio, in: output, file: file) }

        switch destination {
        case .file(let path):
            try check(avio_open(&output.pointee.pb, fileURL(path), AVIO_FLAG_WRITE),
                      "cannot create the file", file: path)
        case .stream(let fd, _):
            customIO = try descriptorIO(fd, name: file)
            output.pointee.pb = customIO
            output.pointee.flags |= AVFMT_FLAG_CUSTOM_IO
        }
        try withDictionary(setup.muxerOptions) { options in
            try check(avformat_write_header(output, options), "cannot write the \(setup.container) header",
                      file: file)
        }
    }

    deinit {
        if let output, !closed {
            if customIO == nil { avio_closep(&output.pointee.pb) }
        }
        if let customIO {
            av_free(customIO.pointee.buffer)
            var io: UnsafeMutablePointer<AVIOContext>? = customIO
            avio_context_free(&io)
        }
        avcodec_free_context(&encoder)
        avformat_free_context(output)
    }

    /// Sends one frame (nil: end of stream) and writes every packet the encoder has ready.
    func encode(_ frame: UnsafeMutablePointer<AVFrame>?) throws {
        guard let encoder else { return }
        try send(frame, to: encoder, stream: stream)
    }

    /// Sends one frame of sound (nil: end of the sound) to the sound stream, and writes its packets.
    func encodeSound(_ frame: UnsafeMutablePointer<AVFrame>?) throws {
        guard let sound else { return }
        try send(frame, to: sound.encoder, stream: sound.stream)
    }

    private func send(_ frame: UnsafeMutablePointer<AVFrame>?, to encoder: UnsafeMutablePointer<AVCodecContext>,
                      stream: UnsafeMutablePointer<AVStream>) throws {
        guard let output else { return }
        let file = destination.name
        try check(avcodec_send_frame(encoder, frame), "the encoder refused a frame", file: file)
        while true {
            let status = avcodec_receive_packet(encoder, packet.pointer)
            if status == avErrorAgain || status == avErrorEOF { return }
            try check(status, "encoding failed", file: file)
            av_packet_rescale_ts(packet.pointer, encoder.pointee.time_base, stream.pointee.time_base)
            packet.pointer.pointee.stream_index = stream.pointee.index
            // Takes the packet's reference whether or not it succeeds; interleaves the streams by time.
            try check(av_interleaved_write_frame(output, packet.pointer), "cannot write", file: file)
        }
    }

    /// Drains the encoders, writes the container's trailer (the MP4 index) and closes the output.
    func finish() throws {
        guard let output, !closed else { return }
        let file = destination.name
        try encode(nil)
        if sound != nil { try encodeSound(nil) }
        try check(av_write_trailer(output), "cannot finish the file", file: file)
        closed = true
        if customIO != nil {
            avio_flush(output.pointee.pb)
            try check(output.pointee.pb.pointee.error, "cannot write", file: file)
        } else {
            try check(avio_closep(&output.pointee.pb), "cannot write", file: file)
        }
    }
}

/// A write-only AVIOContext over a descriptor (a pipe): libav cannot seek in it, so muxers stream.
private func descriptorIO(_ fd: Int32, name: String) throws -> UnsafeMutablePointer<AVIOContext> {
    let size = 1 << 16
    guard let buffer = av_malloc(size)?.assumingMemoryBound(to: UInt8.self),
          let io = avio_alloc_context(buffer, Int32(size), 1, UnsafeMutableRawPointer(bitPattern: Int(fd) + 1),
                                      nil, writeToDescriptor, nil)
    else { throw MediaError("out of memory", file: name) }
    io.pointee.seekable = 0
    return io
}

/// AVIOContext's write callback; the opaque pointer carries the descriptor plus one (so 0 is not nil).
private let writeToDescriptor: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<UInt8>?, Int32) -> Int32 = {
    opaque, buffer, size in
    guard let buffer else { return 0 }
    let fd = Int32(truncatingIfNeeded: Int(bitPattern: opaque) - 1)
    do {
        try writeAll(fd, UnsafeRawBufferPointer(start: buffer, count: Int(size)))
        return size
    } catch let error as POSIXWriteError {
        return -error.code
    } catch {
        return -EIO
    }
}
