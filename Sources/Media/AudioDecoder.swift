import CAV
import Foundation
import TensorStream

/// The sound of any file libavformat reads (WAV, FLAC, MP3, Ogg Vorbis or Opus, M4A, the audio track of a
/// video): its best audio stream, decoded, mixed down to `channels` and resampled to `sampleRate`, handed out
/// as interleaved Float samples (full scale ±1) a block at a time, so a file of any length is read in a little
/// memory.
///
/// Mixing and resampling are libswresample's, FFmpeg's own: it takes every sample format and channel
/// layout the decoders produce (8-bit to double, packed or planar, mono to 7.1 and beyond), mixes channels
/// down with the standard matrices, and low-pass filters before it resamples. A resampler of our own would
/// have had to do all three.
///
/// A damaged packet is skipped, as players do; a stream that cannot be read to its end stops there, and
/// `damage` says why. A file with no audio stream, or whose stream yields no sample at all, is an error.
public final class AudioDecoder {
    public let path: String
    public let sampleRate: Int
    /// The channels handed out: the source's, or fewer when it has more than the decoder was asked for.
    public let channels: Int
    /// The stream's own rate and channel count, as its header gives them.
    public let sourceSampleRate: Int
    public let sourceChannels: Int
    /// Sample frames (one sample of every channel) handed out so far.
    public private(set) var framesRead = 0
    /// Why the sound stopped before the file's end or skipped a packet, once it has; nil for a clean read.
    public private(set) var damage: String?

    /// Rates below this are refused: they hold nothing audible, and resampling one sample a second to
    /// tens of thousands would only interpolate silence.
    public static let lowestSampleRate = 1000
    /// The most channels libswresample mixes (SWR_CH_MAX).
    public static let channelLimit = 64

    private var format: UnsafeMutablePointer<AVFormatContext>?
    private var decoder: UnsafeMutablePointer<AVCodecContext>?
    private let streamIndex: Int32
    private let packet: Packet
    private let frame: OwnedFrame
    private var resampler: Resampler?
    /// Converted samples not yet handed out, from `pendingStart` on.
    private var pending: [Float] = []
    private var pendingStart = 0
    /// The file has no more packets: the decoder is being emptied.
    private var flushing = false
    /// The decoder is empty too: what remains is in the resampler and `pending`.
    private var decoderDone = false
    private var resamplerDrained = false
    private var decodedFrames = 0

    /// Opens `path` to hand out its sound at `sampleRate` in at most `channels` channels (1: mono; 2: stereo,
    /// or mono when the source is mono).
    public init(path: String, sampleRate: Int, channels mostChannels: Int) throws {
        _ = silenceLibav
        precondition(sampleRate > 0 && (1...2).contains(mostChannels), "an output of 1 or 2 channels at a positive rate")
        self.path = path
        self.sampleRate = sampleRate
        guard let packet = Packet(), let frame = OwnedFrame() else { throw MediaError("out of memory", file: path) }
        self.packet = packet
        self.frame = frame
        var opened: UnsafeMutablePointer<AVFormatContext>?
        // A plain file whatever its name says (see `fileURL`), read by the file protocol only.
        try withDictionary(["protocol_whitelist": "file"]) { options in
            try check(avformat_open_input(&opened, fileURL(path), nil, options), "cannot open as sound", file: path)
        }
        format = opened
        guard let format else { throw MediaError("cannot open as sound", file: path) }
        try check(avformat_find_stream_info(format, nil), "cannot read the stream layout", file: path)
        let (found, codec, stream, parameters) = try bestStream(of: AVMEDIA_TYPE_AUDIO, kind: "audio", in: format, file: path)
        streamIndex = found
        sourceSampleRate = Int(parameters.pointee.sample_rate)
        sourceChannels = Int(parameters.pointee.ch_layout.nb_channels)
        try Self.checkSource(rate: sourceSampleRate, channels: sourceChannels, file: path)
        // 0: not in the header; the decoded frames will have as many as they have.
        channels = sourceChannels == 0 ? mostChannels : min(sourceChannels, mostChannels)
        decoder = avcodec_alloc_context3(codec)
        guard let decoder else { throw MediaError("out of memory", file: path) }
        try check(avcodec_parameters_to_context(decoder, parameters), "bad codec parameters", file: path)
        decoder.pointee.pkt_timebase = stream.pointee.time_base
        try check(avcodec_open2(decoder, codec, nil), "cannot open the audio decoder", file: path)
    }

    deinit {
        avcodec_free_context(&decoder)
        avformat_close_input(&format)
    }

    /// Appends up to `count` sample frames (`count` x `channels` values) to `samples` and returns how many
    /// it appended: fewer than `count` only at the end of the sound, then 0.
    @discardableResult
    public func read(_ count: Int, into samples: inout [Float]) throws -> Int {
        let wanted = count * channels
        while pending.count - pendingStart < wanted && !resamplerDrained { try decodeMore() }
        let available = min(wanted, pending.count - pendingStart)
        samples.append(contentsOf: pending[pendingStart..<(pendingStart + available)])
        pendingStart += available
        if pendingStart >= 1 << 16 && pendingStart * 2 >= pending.count {
            pending.removeFirst(pendingStart)
            pendingStart = 0
        }
        framesRead += available / channels
        return available / channels
    }

    /// One step of decoding: a frame out of the decoder into `pending`, or a packet into the decoder, or
    /// (at the end) the resampler's last samples.
    private func decodeMore() throws {
        guard let format, let decoder else { return }
        if decoderDone {
            if let resampler { try resampler.drain(into: &pending) }
            resamplerDrained = true
            if decodedFrames == 0 {
                throw MediaError(damage.map { "no decodable sound (\($0))" } ?? "no sound in the file", file: path)
            }
            return
        }
        let status = avcodec_receive_frame(decoder, frame.pointer)
        if status == 0 {
            defer { av_frame_unref(frame.pointer) }
            try convert(frame.pointer)
            return
        }
        if status == avErrorEOF || (flushing && status != avErrorAgain) {
            decoderDone = true
            return
        }
        if status != avErrorAgain { damage = "damaged audio data (\(avErrorText(status)))" }
        guard !flushing else { return }
        let read = av_read_frame(format, packet.pointer)
        if read < 0 {
            if read != avErrorEOF { damage = "the sound cannot be read to its end (\(avErrorText(read)))" }
            flushing = true
            _ = avcodec_send_packet(decoder, nil)
            return
        }
        defer { av_packet_unref(packet.pointer) }
        guard packet.pointer.pointee.stream_index == streamIndex else { return }
        let sent = avcodec_send_packet(decoder, packet.pointer)
        if sent < 0 && sent != avErrorAgain { damage = "damaged audio data (\(avErrorText(sent)))" }
    }

    /// Resamples a decoded frame into `pending`, setting up the resampler for its format (again when the
    /// stream changes rate or layout midway, after emptying the old one).
    private func convert(_ decoded: UnsafeMutablePointer<AVFrame>) throws {
        let rate = Int(decoded.pointee.sample_rate), count = Int(decoded.pointee.ch_layout.nb_channels)
        try Self.checkSource(rate: rate, channels: count, file: path)
        if resampler?.accepts(decoded) != true {
            try resampler?.drain(into: &pending)
            resampler = try Resampler(from: decoded, toRate: sampleRate, channels: channels, file: path)
        }
        try resampler!.convert(decoded, into: &pending)
        decodedFrames += 1
    }

    private static func checkSource(rate: Int, channels: Int, file: String) throws {
        // 0: not in the header; the decoded frames say.
        if rate != 0 && rate < lowestSampleRate {
            throw MediaError("its sample rate of \(rate) Hz is too low for sound (at least \(lowestSampleRate) Hz)", file: file)
        }
        if channels > channelLimit {
            throw MediaError("it has \(channels) audio channels (at most \(channelLimit) can be mixed)", file: file)
        }
    }
}

/// One libswresample context: frames of one sample format, rate and channel layout in, interleaved Float
/// samples at the output rate and channel count out.
private final class Resampler {
    private let context: OpaquePointer
    private let inputFormat: Int32, inputRate: Int32
    private var inputLayout = AVChannelLayout()
    private let channels: Int
    private let file: String

    init(from frame: UnsafeMutablePointer<AVFrame>, toRate rate: Int, channels: Int, file: String) throws {
        self.channels = channels
        self.file = file
        inputFormat = frame.pointee.format
        inputRate = frame.pointee.sample_rate
        let count = frame.pointee.ch_layout.nb_channels
        guard count > 0 else { throw MediaError("a stream of sound without channels", file: file) }
        // A layout that only counts its channels (a WAV without a speaker mask) is read as the usual one.
        if frame.pointee.ch_layout.order == AV_CHANNEL_ORDER_UNSPEC || av_channel_layout_check(&frame.pointee.ch_layout) == 0 {
            av_channel_layout_default(&inputLayout, count)
        } else {
            try check(av_channel_layout_copy(&inputLayout, &frame.pointee.ch_layout), "out of memory", file: file)
        }
        var outputLayout = AVChannelLayout()
        av_channel_layout_default(&outputLayout, Int32(channels))
        defer { av_channel_layout_uninit(&outputLayout) }
        var made: OpaquePointer?
        let status = swr_alloc_set_opts2(&made, &outputLayout, AV_SAMPLE_FMT_FLT, Int32(rate), &inputLayout,
                                         AVSampleFormat(rawValue: inputFormat), inputRate, 0, nil)
        guard status >= 0, let made else {
            av_channel_layout_uninit(&inputLayout)
            throw MediaError("cannot convert its sound (\(avErrorText(status)))", file: file)
        }
        guard swr_init(made) >= 0 else {
            var owned: OpaquePointer? = made
            swr_free(&owned)
            av_channel_layout_uninit(&inputLayout)
            throw MediaError("cannot convert sound of \(count) channels at \(inputRate) Hz", file: file)
        }
        context = made
    }

    deinit {
        var owned: OpaquePointer? = context
        swr_free(&owned)
        av_channel_layout_uninit(&inputLayout)
    }

    /// Whether `frame` has the format, rate and layout this resampler was made for.
    func accepts(_ frame: UnsafeMutablePointer<AVFrame>) -> Bool {
        frame.pointee.format == inputFormat && frame.pointee.sample_rate == inputRate
            && (frame.pointee.ch_layout.order == AV_CHANNEL_ORDER_UNSPEC
                ? frame.pointee.ch_layout.nb_channels == inputLayout.nb_channels
                : av_channel_layout_compare(&frame.pointee.ch_layout, &inputLayout) == 0)
    }

    func convert(_ frame: UnsafeMutablePointer<AVFrame>, into samples: inout [Float]) throws {
        let input = UnsafeMutableRawPointer(frame.pointee.extended_data)?.assumingMemoryBound(to: UnsafePointer<UInt8>?.self)
        try run(input: input, count: frame.pointee.nb_samples, into: &samples)
    }

    /// Appends the samples still held back by the filter.
    func drain(into samples: inout [Float]) throws {
        while try run(input: nil, count: 0, into: &samples) > 0 {}
    }

    @discardableResult
    private func run(input: UnsafeMutablePointer<UnsafePointer<UInt8>?>?, count: Int32,
                     into samples: inout [Float]) throws -> Int {
        let capacity = Int(swr_get_out_samples(context, count))
        guard capacity > 0 else { return 0 }
        let start = samples.count
        samples.append(contentsOf: repeatElement(0, count: capacity * channels))
        let produced = samples.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var output: UnsafeMutablePointer<UInt8>? = UnsafeMutableRawPointer(buffer.baseAddress! + start)
                .assumingMemoryBound(to: UInt8.self)
            return swr_convert(context, &output, Int32(capacity), input, count)
        }
        guard produced >= 0 else {
            samples.removeLast(capacity * channels)
            throw MediaError("cannot convert its sound (\(avErrorText(produced)))", file: file)
        }
        samples.removeLast((capacity - Int(produced)) * channels)
        return Int(produced)
    }
}
