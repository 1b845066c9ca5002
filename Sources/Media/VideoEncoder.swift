import CAV
import Foundation
import TensorStream
import Imaging

/// The video containers `VideoEncoder` writes.
public enum VideoFormat: String, CaseIterable, Sendable {
    case mp4   // H.264 (libx264), yuv420p
    case webm  // VP9 (libvpx-vp9), yuv420p
    case gif   // one median-cut palette for the whole clip
    case y4m   // raw yuv4mpeg, yuv420p

    /// The constant-quality level when none is given: each codec's usual default.
    var defaultCRF: Int? {
        switch self {
        case .mp4: return 23
        case .webm: return 31
        case .gif, .y4m: return nil
        }
    }
}

public struct VideoSettings: Sendable {
    /// Frames per second (fractional rates such as 29.97 are kept as a rational).
    public var fps: Double
    /// Constant-rate-factor quality (lower is better): x264 0...51, VP9 0...63. nil: the codec default.
    public var crf: Int?
    /// Integer upsampling factor, Lanczos.
    public var scale: Int
    /// The sound to put beside the frames (MP4 and WebM only), cut or padded to the video's length.
    public var soundtrack: Soundtrack?

    public init(fps: Double = 30, crf: Int? = nil, scale: Int = 1, soundtrack: Soundtrack? = nil) {
        self.fps = fps
        self.crf = crf
        self.scale = scale
        self.soundtrack = soundtrack
    }
}

/// Encodes RGB frames of one size into a video. Call `append` per frame, then `finish`; a file
/// destination is complete only after `finish` returns.
public final class VideoEncoder {
    public let format: VideoFormat
    /// The size of the frames `append` takes.
    public let width: Int, height: Int
    /// The size of the video: scaled, and rounded up to even for the 4:2:0 codecs (MP4, WebM).
    public let outputWidth: Int, outputHeight: Int
    public private(set) var frameCount = 0
    private let sink: FrameSink
    private let destinationName: String

    public init(format: VideoFormat, width: Int, height: Int, settings: VideoSettings,
                destination: VideoDestination) throws {
        let name = destination.name
        guard width > 0, height > 0 else { throw MediaError("bad frame size \(width)x\(height)", file: name) }
        guard settings.scale >= 1 else { throw MediaError("scale must be at least 1", file: name) }
        guard settings.fps.isFinite, settings.fps > 0, settings.fps <= 1000 else {
            throw MediaError("frame rate must be in (0, 1000], got \(settings.fps)", file: name)
        }
        if let crf = settings.crf {
            let range = format == .webm ? 0...63 : 0...51
            guard range.contains(crf) else {
                throw MediaError("crf \(crf) is outside \(range.lowerBound)...\(range.upperBound) for \(format.rawValue)",
                                 file: name)
            }
        }
        if settings.soundtrack != nil && !(format == .mp4 || format == .webm) {
            throw MediaError("\(format.rawValue) has no sound track (mp4 and webm have)", file: name)
        }
        self.format = format
        self.width = width
        self.height = height
        self.destinationName = name
        let evenSized = format == .mp4 || format == .webm
        outputWidth = evenSized ? evenCeiling(width * settings.scale) : width * settings.scale
        outputHeight = evenSized ? evenCeiling(height * settings.scale) : height * settings.scale
        let frameRate = av_d2q(settings.fps, 1 << 20)
        switch format {
        case .mp4, .webm:
            sink = try CodecSink(format: format, width: width, height: height, settings: settings,
                                 frameRate: frameRate, destination: destination)
        case .gif:
            sink = GIFSink(scale: settings.scale, frameRate: frameRate, destination: destination)
        case .y4m:
            sink = try Y4MSink(width: width, height: height, scale: settings.scale, frameRate: frameRate,
                               destination: destination)
        }
    }

    public func append(_ image: Image) throws {
        guard image.width == width, image.height == height, image.channels == 3 else {
            throw MediaError("frame \(frameCount) is \(image.width)x\(image.height)x\(image.channels), "
                             + "expected \(width)x\(height)x3", file: destinationName)
        }
        try sink.write(image, index: frameCount)
        frameCount += 1
    }

    public func finish() throws {
        guard frameCount > 0 else { throw MediaError("no frames to encode", file: destinationName) }
        try sink.finish()
    }

    /// Why the sound track's sound stopped early or skipped some of itself, if it did.
    public var soundDamage: String? { sink.soundDamage }
}

private protocol FrameSink {
    func write(_ image: Image, index: Int) throws
    func finish() throws
    var soundDamage: String? { get }
}

extension FrameSink {
    var soundDamage: String? { nil }
}

/// H.264 in MP4 or VP9 in WebM: RGB is scaled and converted to yuv420p in one swscale pass, like
/// ffmpeg's `-vf scale=...:flags=lanczos`. 4:2:0 needs even sizes, so an odd edge is padded by
/// repeating the last row or column.
private final class CodecSink: FrameSink {
    private let muxer: Muxer
    private let scaler: Scaler
    private let frame: OwnedFrame
    private let name: String
    private let soundtrack: SoundtrackWriter?
    private let frameRate: AVRational
    private var frameCount = 0

    init(format: VideoFormat, width: Int, height: Int, settings: VideoSettings, frameRate: AVRational,
         destination: VideoDestination) throws {
        name = destination.name
        self.frameRate = frameRate
        let scaledWidth = width * settings.scale, scaledHeight = height * settings.scale
        let codedWidth = evenCeiling(scaledWidth), codedHeight = evenCeiling(scaledHeight)
        var setup = Muxer.Setup(container: format.rawValue, codec: "", pixelFormat: AV_PIX_FMT_YUV420P,
                                width: codedWidth, height: codedHeight, frameRate: frameRate)
        let crf = String(settings.crf ?? format.defaultCRF ?? 0)
        switch format {
        case .mp4:
            setup.codec = "libx264"
            setup.codecOptions = ["crf": crf]
            // A seekable file gets its index at the front (plays while downloading); a pipe cannot be
            // rewound, so it gets self-contained fragments instead.
            if case .file = destination {
                setup.muxerOptions = ["movflags": "+faststart"]
            } else {
                setup.muxerOptions = ["movflags": "+frag_keyframe+empty_moov+default_base_moof"]
            }
        default:
            setup.codec = "libvpx-vp9"
            // row-mt uses both cores; cpu-used 2 is libvpx's usual good-quality/speed trade.
            setup.codecOptions = ["crf": crf, "row-mt": "1", "deadline": "good", "cpu-used": "2"]
        }
        // The sound is opened first: a file that is not sound fails before anything is written.
        let soundCodec = format == .mp4 ? "aac" : "libopus", file = destination.name
        soundtrack = try settings.soundtrack.map { try SoundtrackWriter($0, codec: soundCodec, file: file) }
        setup.audio = soundtrack?.stream
        muxer = try Muxer(setup, destination: destination)
        try soundtrack?.start(in: muxer)
        // Sliced over the cores as ffmpeg's scale filter does; it keeps the encoder fed on a busy machine.
        scaler = try Scaler(from: AV_PIX_FMT_RGB24, width: width, height: height,
                            to: AV_PIX_FMT_YUV420P, width: scaledWidth, height: scaledHeight, threads: 0)
        frame = try OwnedFrame(format: AV_PIX_FMT_YUV420P, width: codedWidth, height: codedHeight)
    }

    func write(_ image: Image, index: Int) throws {
        // The encoder may still hold the previous picture; get a private buffer before writing over it.
        try check(av_frame_make_writable(frame.pointer), "out of memory", file: name)
        try scaler.convert(image, into: frame.pointer)
        padLumaEdges(frame.pointer, contentWidth: scaler.width, contentHeight: scaler.height)
        frame.pointer.pointee.pts = Int64(index)
        try muxer.encode(frame.pointer)
        frameCount = index + 1
        try soundtrack?.advance(to: seconds(ofFrames: frameCount))
    }

    func finish() throws {
        try soundtrack?.finish(at: seconds(ofFrames: frameCount))
        try muxer.finish()
    }

    var soundDamage: String? { soundtrack?.damage }

    /// How long `frames` frames last.
    private func seconds(ofFrames frames: Int) -> Double {
        Double(frames) * Double(frameRate.den) / Double(frameRate.num)
    }
}

private func evenCeiling(_ n: Int) -> Int { (n + 1) & ~1 }

/// Fills the luma column/row beyond an odd content size with copies of the last one. swscale already
/// writes every chroma sample (it rounds chroma sizes up).
private func padLumaEdges(_ frame: UnsafeMutablePointer<AVFrame>, contentWidth: Int, contentHeight: Int) {
    guard let luma = frame.pointee.data.0 else { return }
    let stride = Int(frame.pointee.linesize.0), width = Int(frame.pointee.width)
    if contentWidth < width {
        for y in 0..<contentHeight { luma[y * stride + contentWidth] = luma[y * stride + contentWidth - 1] }
    }
    if contentHeight < Int(frame.pointee.height) {
        (luma + contentHeight * stride).update(from: luma + (contentHeight - 1) * stride, count: width)
    }
}

/// GIF: one palette for the whole clip needs every colour first, so each frame (at its input size)
/// waits in a temporary file until the end rather than in memory (900 frames of 256 x 256 would hold
/// 177 MB); then the frames are read back one at a time, upsampled again, mapped to the palette and encoded.
private final class GIFSink: FrameSink {
    private let upsampler: Upsampler
    private let frameRate: AVRational
    private let destination: VideoDestination
    private var frames: FrameSpill?
    private var histogram = ColorHistogram()

    init(scale: Int, frameRate: AVRational, destination: VideoDestination) {
        upsampler = Upsampler(factor: scale)
        self.frameRate = frameRate
        self.destination = destination
    }

    func write(_ image: Image, index: Int) throws {
        histogram.add(try upsampler.upsample(image))
        if frames == nil { frames = try FrameSpill(width: image.width, height: image.height, file: destination.name) }
        try frames!.append(image)
    }

    func finish() throws {
        guard let frames, frames.count > 0 else { return }
        let name = destination.name
        // 255 colours: the last entry stays transparent, so the encoder can leave unchanged pixels out.
        var mapper = PaletteMapper(palette: histogram.medianCutPalette(maxColors: 255))
        let width = frames.width * upsampler.factor, height = frames.height * upsampler.factor
        let muxer = try Muxer(Muxer.Setup(container: "gif", codec: "gif", pixelFormat: AV_PIX_FMT_PAL8,
                                          width: width, height: height, frameRate: frameRate),
                              destination: destination)
        let frame = try OwnedFrame(format: AV_PIX_FMT_PAL8, width: width, height: height)
        for index in 0..<frames.count {
            try check(av_frame_make_writable(frame.pointer), "out of memory", file: name)
            let indices = mapper.indices(of: try upsampler.upsample(try frames.frame(index)))
            guard let pixels = frame.pointer.pointee.data.0, let table = frame.pointer.pointee.data.1 else {
                throw MediaError("out of memory", file: name)
            }
            let stride = Int(frame.pointer.pointee.linesize.0)
            indices.withUnsafeBufferPointer { src in
                for y in 0..<height { (pixels + y * stride).update(from: src.baseAddress! + y * width, count: width) }
            }
            writePaletteTable(mapper.palette, into: table)
            frame.pointer.pointee.pts = Int64(index)
            try muxer.encode(frame.pointer)
        }
        try muxer.finish()
    }
}

/// RGB frames of one size parked in a temporary file (in $TMPDIR, else /tmp) that loses its name at
/// once, so nothing is left behind however the tool ends; read back by index.
private final class FrameSpill {
    let width: Int, height: Int
    private(set) var count = 0
    private let writeFD: Int32
    private let reader: RegularFile
    /// The output the frames are for, named in messages.
    private let file: String

    init(width: Int, height: Int, file: String) throws {
        let folder = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        var template = Array("\(folder)/.mnemosyne-frames-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else {
            throw MediaError("cannot make a temporary file in \(folder) (\(String(cString: strerror(errno))))", file: file)
        }
        let path = String(cString: template)
        defer { unlink(path) }
        do {
            reader = try RegularFile(path: path)
        } catch {
            close(fd)
            throw MediaError("cannot read back a temporary file in \(folder) (\(error))", file: file)
        }
        (self.width, self.height, self.writeFD, self.file) = (width, height, fd, file)
    }

    deinit { close(writeFD) }

    private var frameBytes: Int { width * height * 3 }

    func append(_ image: Image) throws {
        do {
            try image.pixels.withUnsafeBytes { try writeAll(writeFD, $0) }
        } catch let error as POSIXWriteError {
            throw MediaError("cannot keep a frame in a temporary file (\(String(cString: strerror(error.code))))", file: file)
        }
        count += 1
    }

    func frame(_ index: Int) throws -> Image {
        let pixels = try reader.read(frameBytes, at: index * frameBytes)
        guard pixels.count == frameBytes else { throw MediaError("a frame kept in a temporary file is missing", file: file) }
        return Image(width: width, height: height, channels: 3, pixels: pixels)
    }
}

/// libav's PAL8 palette: 256 native-endian 0xAARRGGBB words; unused entries are fully transparent.
private func writePaletteTable(_ palette: [RGB], into table: UnsafeMutablePointer<UInt8>) {
    let words = UnsafeMutableRawPointer(table).bindMemory(to: UInt32.self, capacity: 256)
    for i in 0..<256 {
        guard i < palette.count else { words[i] = 0; continue }
        let c = palette[i]
        words[i] = 0xFF00_0000 | UInt32(c.r) << 16 | UInt32(c.g) << 8 | UInt32(c.b)
    }
}

/// yuv4mpeg: a text header, then "FRAME\n" and the three planes per frame (4:2:0, odd sizes allowed).
private final class Y4MSink: FrameSink {
    private let scaler: Scaler
    private let frame: OwnedFrame
    private let fd: Int32
    private let ownsDescriptor: Bool
    private var closed = false
    private let name: String

    init(width: Int, height: Int, scale: Int, frameRate: AVRational, destination: VideoDestination) throws {
        name = destination.name
        let scaledWidth = width * scale, scaledHeight = height * scale
        scaler = try Scaler(from: AV_PIX_FMT_RGB24, width: width, height: height,
                            to: AV_PIX_FMT_YUV420P, width: scaledWidth, height: scaledHeight)
        frame = try OwnedFrame(format: AV_PIX_FMT_YUV420P, width: scaledWidth, height: scaledHeight)
        switch destination {
        case .file(let path):
            fd = FileSystemPath.withCString(path) { open($0, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
            guard fd >= 0 else { throw MediaError("cannot create the file (\(String(cString: strerror(errno))))", file: path) }
            ownsDescriptor = true
        case .stream(let descriptor, _):
            fd = descriptor
            ownsDescriptor = false
        }
        // C420jpeg: centred chroma, what swscale produces; ffmpeg writes the same tag for yuv420p.
        try put(Array("YUV4MPEG2 W\(scaledWidth) H\(scaledHeight) F\(frameRate.num):\(frameRate.den) Ip A1:1 C420jpeg\n".utf8))
    }

    deinit { if ownsDescriptor, !closed { close(fd) } }

    func write(_ image: Image, index: Int) throws {
        try scaler.convert(image, into: frame.pointer)
        let chromaWidth = (scaler.width + 1) / 2, chromaHeight = (scaler.height + 1) / 2
        let planeSizes = [(scaler.width, scaler.height), (chromaWidth, chromaHeight), (chromaWidth, chromaHeight)]
        let data = planes(of: frame.pointer), rowStrides = strides(of: frame.pointer)
        var record = Array("FRAME\n".utf8)
        record.reserveCapacity(record.count + planeSizes.reduce(0) { $0 + $1.0 * $1.1 })
        for (plane, (width, height)) in planeSizes.enumerated() {
            guard let base = data[plane] else { continue }
            for y in 0..<height {
                record.append(contentsOf: UnsafeBufferPointer(start: base + y * Int(rowStrides[plane]), count: width))
            }
        }
        try put(record)
    }

    func finish() throws {
        guard ownsDescriptor, !closed else { return }
        closed = true
        if close(fd) != 0 { throw MediaError("cannot write (\(String(cString: strerror(errno))))", file: name) }
    }

    private func put(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try put($0) }
    }

    private func put(_ bytes: UnsafeRawBufferPointer) throws {
        do { try writeAll(fd, bytes) } catch let error as POSIXWriteError {
            throw MediaError("cannot write (\(String(cString: strerror(error.code))))", file: name)
        }
    }
}
