import CAV
import Foundation

/// A sound file to put beside a video's frames, and when it starts: `offset` seconds into the video (a
/// negative offset starts the video that far into the sound instead).
public struct Soundtrack: Equatable, Sendable {
    public var path: String
    public var offset: Double

    public init(path: String, offset: Double = 0) {
        self.path = path
        self.offset = offset
    }
}

/// The sound stream of a video being written: its encoder (AAC for MP4, Opus for WebM) and its stream in
/// the muxer.
final class SoundStream {
    struct Setup {
        var codec: String       // libavcodec encoder name: aac, libopus
        var sampleRate: Int
        var channels: Int
        var bitRate: Int
    }

    var encoder: UnsafeMutablePointer<AVCodecContext>!
    let stream: UnsafeMutablePointer<AVStream>
    let sampleRate: Int
    let channels: Int
    /// Samples (per channel) in each frame the encoder takes.
    let frameSize: Int
    /// Whether the encoder takes one plane per channel rather than interleaved samples.
    let planar: Bool
    /// Whether the last frame may be shorter than the others (else it is padded with silence).
    let smallLastFrame: Bool

    init(_ setup: Setup, in output: UnsafeMutablePointer<AVFormatContext>, file: String) throws {
        let (codec, stream, encoder) = try newEncodedStream(setup.codec, in: output, file: file)
        self.stream = stream
        self.encoder = encoder
        sampleRate = setup.sampleRate
        channels = setup.channels
        // Float samples, planar if the encoder takes them (AAC does), else interleaved (libopus).
        var formats: [AVSampleFormat] = []
        if var format = codec.pointee.sample_fmts {
            while format.pointee.rawValue >= 0 { formats.append(format.pointee); format += 1 }
        }
        guard let sampleFormat = [AV_SAMPLE_FMT_FLTP, AV_SAMPLE_FMT_FLT].first(where: formats.contains) else {
            throw MediaError("the \(setup.codec) encoder takes no float samples", file: file)
        }
        planar = sampleFormat == AV_SAMPLE_FMT_FLTP
        encoder.pointee.sample_fmt = sampleFormat
        encoder.pointee.sample_rate = Int32(setup.sampleRate)
        av_channel_layout_default(&encoder.pointee.ch_layout, Int32(setup.channels))
        encoder.pointee.bit_rate = Int64(setup.bitRate)
        encoder.pointee.time_base = AVRational(num: 1, den: Int32(setup.sampleRate))
        if output.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 {
            encoder.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER
        }
        try check(avcodec_open2(encoder, codec, nil), "cannot open the \(setup.codec) encoder", file: file)
        try check(avcodec_parameters_from_context(stream.pointee.codecpar, encoder), "cannot set up the sound stream",
                  file: file)
        stream.pointee.time_base = encoder.pointee.time_base
        frameSize = encoder.pointee.frame_size > 0 ? Int(encoder.pointee.frame_size) : 1024
        smallLastFrame = codec.pointee.capabilities & (AV_CODEC_CAP_SMALL_LAST_FRAME | AV_CODEC_CAP_VARIABLE_FRAME_SIZE) != 0
    }

    deinit { avcodec_free_context(&encoder) }
}

/// Writes a sound track in step with a video's frames: the sound of a file at its offset, cut at the end
/// of the video or padded with silence to it, in frames of the encoder's size. Made before the muxer (which
/// needs `stream` to make the sound stream), then `start`ed in it.
final class SoundtrackWriter {
    /// The rate of every sound track written: Opus knows no other, and AAC players all play it.
    static let sampleRate = 48_000

    /// The sound stream the muxer must have: `codec` at the sound track's rate, stereo (mono for a mono
    /// sound), at a bit rate that keeps music clean (AAC 160 kb/s stereo, 96 mono; Opus better at that).
    let stream: SoundStream.Setup
    private let decoder: AudioDecoder
    private var muxer: Muxer!
    private var sound: SoundStream!
    private let frame: OwnedFrame
    /// Samples placed on the video's time line (in `pending` or already encoded), per channel.
    private var placed = 0
    /// Samples encoded so far: the next frame's time stamp.
    private var encoded = 0
    /// Interleaved samples waiting for a whole frame.
    private var pending: [Float] = []
    /// Silence before the sound starts, and source samples to drop before it does (a negative offset).
    private let delay: Int
    private var skip: Int
    private var sourceEnded = false
    private let file: String

    /// Opens the sound of `soundtrack`, to be encoded by `codec` into the video `file`.
    init(_ soundtrack: Soundtrack, codec: String, file: String) throws {
        decoder = try AudioDecoder(path: soundtrack.path, sampleRate: Self.sampleRate, channels: 2)
        stream = SoundStream.Setup(codec: codec, sampleRate: Self.sampleRate, channels: decoder.channels,
                                   bitRate: decoder.channels == 1 ? 96_000 : 160_000)
        guard let frame = OwnedFrame() else { throw MediaError("out of memory", file: file) }
        self.frame = frame
        self.file = file
        let offset = Int((soundtrack.offset * Double(Self.sampleRate)).rounded())
        delay = max(0, offset)
        skip = max(0, -offset)
    }

    /// Writes into `muxer`'s sound stream from now on.
    func start(in muxer: Muxer) throws {
        guard let sound = muxer.sound, sound.channels == stream.channels else {
            throw MediaError("cannot set up the sound stream", file: file)
        }
        self.muxer = muxer
        self.sound = sound
        frame.pointer.pointee.format = sound.encoder.pointee.sample_fmt.rawValue
        frame.pointer.pointee.sample_rate = Int32(sound.sampleRate)
        frame.pointer.pointee.nb_samples = Int32(sound.frameSize)
        try check(av_channel_layout_copy(&frame.pointer.pointee.ch_layout, &sound.encoder.pointee.ch_layout),
                  "out of memory", file: file)
        try check(av_frame_get_buffer(frame.pointer, 0), "out of memory", file: file)
    }

    /// Places the sound up to `seconds` into the video and encodes every whole frame of it.
    func advance(to seconds: Double) throws {
        let target = Int((seconds * Double(Self.sampleRate)).rounded())
        let channels = sound.channels
        while placed < target {
            let wanted = min(target - placed, 1 << 14)
            if placed < delay || sourceEnded {
                let silent = placed < delay ? min(wanted, delay - placed) : wanted
                pending += repeatElement(0, count: silent * channels)
                placed += silent
            } else {
                while skip > 0 {
                    var dropped: [Float] = []
                    let count = try decoder.read(min(skip, 1 << 14), into: &dropped)
                    if count == 0 { break }
                    skip -= count
                }
                let count = try decoder.read(wanted, into: &pending)
                if count < wanted { sourceEnded = true }
                placed += count
            }
            while pending.count >= sound.frameSize * channels { try encodeFrame(samples: sound.frameSize) }
        }
    }

    /// Places the sound up to `seconds`, the video's end, and encodes the rest of it.
    func finish(at seconds: Double) throws {
        try advance(to: seconds)
        let rest = pending.count / sound.channels
        guard rest > 0 else { return }
        if !sound.smallLastFrame { pending += repeatElement(0, count: (sound.frameSize - rest) * sound.channels) }
        try encodeFrame(samples: sound.smallLastFrame ? rest : sound.frameSize)
    }

    /// Why the sound stopped early or skipped some of itself, if it did.
    var damage: String? { decoder.damage }

    /// Encodes the first `samples` of `pending`.
    private func encodeFrame(samples: Int) throws {
        let channels = sound.channels
        try check(av_frame_make_writable(frame.pointer), "out of memory", file: file)
        frame.pointer.pointee.nb_samples = Int32(samples)
        frame.pointer.pointee.pts = Int64(encoded)
        pending.withUnsafeBufferPointer { source in
            if sound.planar {
                for channel in 0..<channels {
                    guard let plane = frame.pointer.pointee.extended_data[channel] else { continue }
                    let out = UnsafeMutableRawPointer(plane).assumingMemoryBound(to: Float.self)
                    for i in 0..<samples { out[i] = source[i * channels + channel] }
                }
            } else if let plane = frame.pointer.pointee.extended_data[0] {
                UnsafeMutableRawPointer(plane).assumingMemoryBound(to: Float.self)
                    .update(from: source.baseAddress!, count: samples * channels)
            }
        }
        pending.removeFirst(samples * channels)
        encoded += samples
        try muxer.encodeSound(frame.pointer)
    }
}
