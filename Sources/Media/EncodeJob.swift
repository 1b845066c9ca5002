import Foundation
import Imaging
import TensorStream

/// What `encode` can write.
public enum EncodeFormat: String, CaseIterable, Sendable {
    case mp4, webm, gif, png, y4m

    var video: VideoFormat? { VideoFormat(rawValue: rawValue) }
}

/// A contact sheet's layout: `columns` x `rows` cells, filled left to right, top to bottom.
public struct Grid: Equatable, Sendable {
    public var columns: Int
    public var rows: Int

    public init(columns: Int, rows: Int) {
        self.columns = columns
        self.rows = rows
    }

    /// Parses `CxR`, e.g. `4x3`; nil unless both are whole numbers from 1 to 1000.
    public init?(_ text: String) {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let columns = Int(parts[0]), let rows = Int(parts[1]),
              (1...1000).contains(columns), (1...1000).contains(rows) else { return nil }
        self.init(columns: columns, rows: rows)
    }

    /// The most nearly square grid that holds `count` cells with no row left empty: 12x12 for 135.
    public static func fitting(_ count: Int) -> Grid {
        let columns = max(1, Int(Double(count).squareRoot().rounded(.up)))
        return Grid(columns: columns, rows: max(1, (count + columns - 1) / columns))
    }
}

/// A mistake in the options themselves, found before any frame is read (the tool exits 2).
public struct EncodeOptionError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// Stages a file: `body` fills a temporary path in the same folder; the returned commit moves the file to
/// `path`. When `body` throws, or the commit is dropped uncalled, nothing is left at `path` and its
/// previous file is untouched. The tool passes its atomic-file helper here.
public typealias AtomicFileWriter = (_ path: String, _ body: (_ temporaryPath: String) throws -> Void) throws
    -> () throws -> Void

/// What an encode did, for the tool's closing line.
public struct EncodeSummary: Sendable {
    public var framesRead: Int
    public var framesWritten: Int
    public var width: Int
    public var height: Int
    public var format: EncodeFormat
    /// The file, the first and last file of a sequence, or `stdout`.
    public var destination: String
    /// Why the sound track's sound stopped early or skipped some of itself, if it did.
    public var soundDamage: String?
}

/// `encode`'s whole job: the output format from the options, then the frame loop into a video, one PNG
/// (a still or a contact sheet), or a numbered PNG sequence.
public struct EncodeJob {
    public let format: EncodeFormat
    /// The output path; nil writes to stdout.
    public let output: String?
    public let grid: Grid?
    public let fps: Double?
    public let crf: Int?
    public let scale: Int
    /// The sound to put beside the frames.
    public let soundtrack: Soundtrack?
    private let sequence: FramePattern?

    /// The folder a numbered PNG sequence goes into (nil for one file or stdout; `.` stands for none).
    public var sequenceFolder: String? {
        guard sequence != nil, let output else { return nil }
        let folder = (output as NSString).deletingLastPathComponent
        return folder.isEmpty ? nil : folder
    }

    /// The largest contact sheet, in pixels (about 800 MB of RGB while it is built and encoded).
    static let largestSheet = 256_000_000
    /// The largest frame of a compressed video: H.264's and VP9's highest levels (6.2) stop at 8192x4352
    /// pixels, and past that libvpx takes gigabytes before it refuses the first frame.
    static let largestVideoFrame = 8192 * 4352

    /// Checks the options and settles the format: `format` if given, else `output`'s extension, else MP4
    /// (a PNG with `grid`). A `%05d`-style pattern in `output` asks for a PNG sequence. `audio` is a sound
    /// file for the video's sound track, starting `audioOffset` seconds into the video.
    public init(output: String?, format formatName: String? = nil, fps: Double? = nil, crf: Int? = nil,
                scale: Int = 1, grid gridText: String? = nil, audio: String? = nil, audioOffset: Double? = nil) throws {
        let output = output == "-" ? nil : output
        if let output, output.isEmpty { throw EncodeOptionError("the output path is empty") }
        guard (1...16).contains(scale) else { throw EncodeOptionError("--scale must be 1 to 16, got \(scale)") }
        if let fps, !StreamHeader.frameRates.contains(fps) {
            throw EncodeOptionError("--fps must be from \(StreamHeader.frameRates.lowerBound) to "
                                    + "\(StreamHeader.frameRates.upperBound), got \(fps)")
        }
        var grid: Grid?
        if let gridText {
            guard let parsed = Grid(gridText) else {
                throw EncodeOptionError("--grid wants COLUMNSxROWS such as 4x3, got '\(gridText)'")
            }
            grid = parsed
        }
        let sequence = try output.flatMap(FramePattern.init(parsing:))

        var format: EncodeFormat
        if let formatName {
            guard let named = EncodeFormat(rawValue: formatName.lowercased()) else {
                throw EncodeOptionError("unknown format '\(formatName)' (one of "
                                        + EncodeFormat.allCases.map(\.rawValue).joined(separator: ", ") + ")")
            }
            format = named
        } else if let output {
            let ext = URL(fileURLWithPath: output).pathExtension.lowercased()
            guard let fromName = EncodeFormat(rawValue: ext) else {
                throw EncodeOptionError("cannot tell the format from '\(output)'; name it .mp4, .webm, .gif, .png "
                                        + "or .y4m, or use --format")
            }
            format = fromName
        } else {
            format = grid == nil ? .mp4 : .png
        }

        if grid != nil && format != .png { throw EncodeOptionError("--grid writes a PNG, not \(format.rawValue)") }
        if sequence != nil && format != .png {
            throw EncodeOptionError("a numbered sequence ('\(output ?? "")') is written as PNG files, not \(format.rawValue)")
        }
        if sequence != nil && grid != nil {
            throw EncodeOptionError("--grid writes one PNG; drop the number pattern from -o")
        }
        if let crf {
            guard format == .mp4 || format == .webm else {
                throw EncodeOptionError("--crf applies to mp4 and webm, not \(format.rawValue)")
            }
            let range = format == .mp4 ? 0...51 : 0...63
            guard range.contains(crf) else {
                throw EncodeOptionError("--crf for \(format.rawValue) is \(range.lowerBound) to \(range.upperBound), got \(crf)")
            }
        }
        if let audio {
            guard format == .mp4 || format == .webm else {
                throw EncodeOptionError("--audio goes into mp4 (AAC) or webm (Opus); \(format.rawValue) has no sound")
            }
            guard !audio.isEmpty else { throw EncodeOptionError("the --audio path is empty") }
        }
        if let audioOffset {
            guard audio != nil else { throw EncodeOptionError("--audio-offset places the --audio; give --audio FILE") }
            guard audioOffset.isFinite, abs(audioOffset) <= 86_400 else {
                throw EncodeOptionError("--audio-offset must be a number of seconds, at most a day either way")
            }
        }
        self.format = format
        self.output = output
        self.grid = grid
        self.fps = fps
        self.crf = crf
        self.scale = scale
        self.sequence = sequence
        soundtrack = audio.map { Soundtrack(path: $0, offset: audioOffset ?? 0) }
    }

    /// Reads frames from `nextFrame` (nil at the end of the stream) and writes them. `input` names the
    /// stream in messages; `streamFPS` is its `fps` metadata, used when no fps was given. Files go through
    /// `writeFile`; `progress` hears the number of frames read so far.
    public func run(input: String, streamFPS: String?, nextFrame: @escaping () throws -> Image?,
                    writeFile: AtomicFileWriter, progress: @escaping (Int) -> Void = { _ in }) throws -> EncodeSummary {
        _ = silenceLibav
        let frames = FrameFeed(source: nextFrame, progress: progress)
        guard let first = try frames.peek() else { throw MediaError("no frames to encode", file: input) }
        let width = first.width * scale, height = first.height * scale
        var summary = EncodeSummary(framesRead: 0, framesWritten: 0, width: width, height: height,
                                    format: format, destination: output ?? "stdout")
        if let video = format.video {
            guard format == .y4m || width * height <= Self.largestVideoFrame else {
                throw MediaError("frames of \(width)x\(height) are too large for \(format.rawValue) (at most "
                                 + "\(Self.largestVideoFrame) pixels, such as 8192x4352)", file: input)
            }
            let settings = VideoSettings(fps: try fps ?? Self.frameRate(metadata: streamFPS, input: input) ?? 30,
                                         crf: crf, scale: scale, soundtrack: soundtrack)
            let encoder = try writeVideo(video, settings: settings, first: first, frames: frames,
                                         writeFile: writeFile)
            summary.framesWritten = encoder.frameCount
            summary.width = encoder.outputWidth
            summary.height = encoder.outputHeight
            summary.soundDamage = encoder.soundDamage
        } else if let sequence {
            let upsampler = Upsampler(factor: scale)
            // Every frame is staged, then all are put in place: a failed or interrupted run leaves neither
            // a run of frames that looks whole nor any loss among the files of an earlier run.
            var staged: [() throws -> Void] = []
            while let frame = try frames.next() {
                staged.append(try stagePNG(try upsampler.upsample(frame), to: sequence.path(for: staged.count + 1),
                                           writeFile: writeFile))
            }
            for commit in staged { try commit() }
            let index = staged.count
            summary.framesWritten = index
            summary.destination = index == 1 ? sequence.path(for: 1)
                                             : "\(sequence.path(for: 1)) ... \(sequence.path(for: index))"
        } else {
            if let grid, grid.columns * grid.rows * width * height > Self.largestSheet {
                throw MediaError("a \(grid.columns)x\(grid.rows) grid of \(width)x\(height) frames is too large "
                                 + "(at most \(Self.largestSheet / 1_000_000) million pixels)", file: output ?? "stdout")
            }
            let (picture, used) = try grid.map { try contactSheet($0, frames: frames) }
                ?? (try Upsampler(factor: scale).upsample(first), 1)
            while try frames.next() != nil {} // read to the end: the stream is still checked, the writer never sees a broken pipe
            try writePNG(picture, to: output, writeFile: writeFile)
            summary.framesWritten = used
            summary.width = picture.width
            summary.height = picture.height
        }
        summary.framesRead = frames.count
        return summary
    }

    /// Encodes every frame into a video file or stdout; returns the finished encoder.
    private func writeVideo(_ video: VideoFormat, settings: VideoSettings, first: Image,
                            frames: FrameFeed, writeFile: AtomicFileWriter) throws -> VideoEncoder {
        func encode(to destination: VideoDestination, shownAs name: String) throws -> VideoEncoder {
            do {
                let encoder = try VideoEncoder(format: video, width: first.width, height: first.height,
                                               settings: settings, destination: destination)
                while let frame = try frames.next() { try encoder.append(frame) }
                try encoder.finish()
                return encoder
            } catch var error as MediaError where error.file == destination.name {
                error.file = name // the user knows the final name, not the temporary one
                throw error
            }
        }
        if let output {
            var encoder: VideoEncoder?
            try writeFile(output) { temporaryPath in
                guard !isRegularFile(path: temporaryPath) else {
                    encoder = try encode(to: .file(temporaryPath), shownAs: output)
                    return
                }
                // A FIFO or a device cannot be rewound: it gets the stream a pipe on stdout gets.
                let fd = FileSystemPath.withCString(temporaryPath) { open($0, O_WRONLY | O_CLOEXEC) }
                guard fd >= 0 else { throw MediaError("cannot write (\(String(cString: strerror(errno))))", file: output) }
                defer { close(fd) }
                encoder = try encode(to: .stream(fd: fd, name: output), shownAs: output)
            }()
            guard let encoder else { throw MediaError("the output was not written", file: output) }
            return encoder
        }
        // A regular file on stdout that holds nothing yet can be rewritten, so MP4 gets its index in front
        // (libav reopens it by name for that, truncating it); a pipe, a file opened to append to (`>>`)
        // or one the shell already wrote into (`{ echo; encode; } > f`) gets a stream written as it comes.
        if isRegularFile(STDOUT_FILENO) && fcntl(STDOUT_FILENO, F_GETFL) & O_APPEND == 0
            && lseek(STDOUT_FILENO, 0, SEEK_CUR) == 0 {
            let encoder = try encode(to: .file("/dev/fd/\(STDOUT_FILENO)"), shownAs: "stdout")
            // The reopened file had its own offset: what the shell writes next must follow the video.
            lseek(STDOUT_FILENO, 0, SEEK_END)
            return encoder
        }
        return try encode(to: .stream(fd: STDOUT_FILENO, name: "stdout"), shownAs: "stdout")
    }

    /// The first columns x rows frames, upsampled and tiled; cells without a frame stay black.
    private func contactSheet(_ grid: Grid, frames: FrameFeed) throws -> (Image, Int) {
        let upsampler = Upsampler(factor: scale)
        var cells: [Image] = []
        while cells.count < grid.columns * grid.rows, let frame = try frames.next() {
            cells.append(try upsampler.upsample(frame))
        }
        return (Image.grid(cells, columns: grid.columns, rows: grid.rows), cells.count)
    }

    private func writePNG(_ image: Image, to path: String?, writeFile: AtomicFileWriter) throws {
        guard let path else {
            try writeBytes(try encodePNG(image), to: STDOUT_FILENO, name: "stdout")
            return
        }
        try stagePNG(image, to: path, writeFile: writeFile)()
    }

    /// Writes `image` as a PNG under a temporary name; the returned commit puts it at `path`.
    private func stagePNG(_ image: Image, to path: String, writeFile: AtomicFileWriter) throws -> () throws -> Void {
        let bytes = try encodePNG(image)
        return try writeFile(path) { temporaryPath in
            let fd = FileSystemPath.withCString(temporaryPath) { open($0, O_WRONLY | O_TRUNC | O_CLOEXEC) }
            guard fd >= 0 else { throw MediaError("cannot write (\(String(cString: strerror(errno))))", file: path) }
            defer { close(fd) }
            try writeBytes(bytes, to: fd, name: path)
        }
    }

    /// The stream's `fps` metadata as a number: `30`, `29.97` or `30000/1001`; nil when absent.
    static func frameRate(metadata: String?, input: String) throws -> Double? {
        guard let text = metadata?.trimmingCharacters(in: .whitespaces) else { return nil }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        let value: Double?
        if parts.count == 2, let num = Double(parts[0]), let den = Double(parts[1]), den != 0 {
            value = num / den
        } else {
            value = Double(text)
        }
        guard let value, StreamHeader.frameRates.contains(value) else {
            throw MediaError("the stream's fps metadata \(MessageText.quoted(text)) is not a frame rate (use --fps)", file: input)
        }
        return value
    }
}

/// The stream's frames, counted and reported as they are read; the first can be looked at before the
/// loop that consumes it.
private final class FrameFeed {
    private let source: () throws -> Image?
    private let progress: (Int) -> Void
    private var peeked: Image?
    private(set) var count = 0

    init(source: @escaping () throws -> Image?, progress: @escaping (Int) -> Void) {
        self.source = source
        self.progress = progress
    }

    func peek() throws -> Image? {
        if peeked == nil { peeked = try read() }
        return peeked
    }

    func next() throws -> Image? {
        if let frame = peeked {
            peeked = nil
            return frame
        }
        return try read()
    }

    private func read() throws -> Image? {
        guard let frame = try source() else { return nil }
        count += 1
        progress(count)
        return frame
    }
}

/// A `-o` name with one printf-style number field (`%d`, `%05d`): frame N goes to the name with N in it.
struct FramePattern {
    let prefix: String, suffix: String, digits: Int

    /// Nil when `text` has no `%`; an error when its `%` fields are not exactly one `%d` / `%0Nd`.
    init?(parsing text: String) throws {
        guard let percent = text.firstIndex(of: "%") else { return nil }
        var cursor = text.index(after: percent)
        var digitText = ""
        while cursor < text.endIndex, text[cursor].isASCII, text[cursor].isNumber {
            digitText.append(text[cursor])
            cursor = text.index(after: cursor)
        }
        guard cursor < text.endIndex, text[cursor] == "d", digitText.count <= 2,
              !text[text.index(after: cursor)...].contains("%") else {
            throw EncodeOptionError("'\(text)' needs exactly one number field such as %05d")
        }
        prefix = String(text[..<percent])
        suffix = String(text[text.index(after: cursor)...])
        digits = Int(digitText) ?? 0
    }

    func path(for number: Int) -> String {
        let plain = String(number)
        return prefix + String(repeating: "0", count: max(0, digits - plain.count)) + plain + suffix
    }
}

private func isRegularFile(_ fd: Int32) -> Bool {
    var info = stat()
    return fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
}

private func isRegularFile(path: String) -> Bool {
    var info = stat()
    return FileSystemPath.withCString(path) { stat($0, &info) } == 0 && (info.st_mode & S_IFMT) == S_IFREG
}

private func writeBytes(_ bytes: [UInt8], to fd: Int32, name: String) throws {
    do {
        try bytes.withUnsafeBytes { try writeAll(fd, $0) }
    } catch let error as POSIXWriteError {
        throw MediaError("cannot write (\(String(cString: strerror(error.code))))", file: name)
    }
}
