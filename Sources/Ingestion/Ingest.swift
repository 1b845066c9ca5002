import Dispatch
import Foundation
import Imaging
import Media
import TensorStream

/// How `ingest` turns pictures into records.
public struct IngestOptions: Sendable {
    /// Width and height of every record.
    public var size = 64
    public var fit: SquareFit = .crop
    /// What transparent pixels and padding become.
    public var background: RGBColor = .white
    /// Pictures whose side that fills the square (the shorter for crop, the longer for pad) has
    /// fewer pixels are skipped; nil means half of `size`.
    public var minimumSize: Int?
    /// Drop exact duplicates and near duplicates (perceptual hashes within `dedupeThreshold` bits).
    public var dedupe = false
    public var dedupeThreshold = 6
    /// Add a mirrored copy after every kept picture.
    public var flip = false
    /// Shuffle the records with this seed (deterministic); nil keeps the input order.
    public var shuffleSeed: UInt64?
    /// Keep one video frame in `videoEvery`.
    public var videoEvery = 1

    public init() {}

    var effectiveMinimumSize: Int { minimumSize ?? size / 2 }
}

/// Why a file gave no picture.
public enum SkipReason: String, CaseIterable, Sendable, Comparable {
    case unreadable = "unreadable"
    case notAnImage = "not an image"
    case corrupt = "corrupt"
    case unsupported = "unsupported"
    case tooSmall = "too small"
    case tooLarge = "too large"

    public static func < (a: SkipReason, b: SkipReason) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// What an ingest run did; `description` is the summary line.
public struct IngestSummary: Sendable, CustomStringConvertible {
    /// Files (and videos) looked at.
    public var files = 0
    /// Records kept from files and video frames, not counting mirrored copies.
    public var kept = 0
    /// Of `kept`, how many came from video frames.
    public var videoFrames = 0
    public var flips = 0
    public var skipped: [SkipReason: Int] = [:]
    public var exactDuplicates = 0
    public var nearDuplicates = 0
    /// True when the run stopped early because `shouldStop` said so.
    public var interrupted = false

    public var records: Int { kept + flips }
    public var skippedTotal: Int { skipped.values.reduce(0, +) }

    /// `2 corrupt, 1 too small`.
    public var skippedBreakdown: String {
        skipped.keys.sorted().map { "\(skipped[$0]!) \($0.rawValue)" }.joined(separator: ", ")
    }

    public var description: String {
        var parts = ["kept \(kept)" + (videoFrames > 0 ? " (\(videoFrames) video frames)" : "")
                     + " from \(files) file" + (files == 1 ? "" : "s")]
        parts.append(skippedTotal == 0 ? "skipped 0" : "skipped \(skippedTotal) (\(skippedBreakdown))")
        parts.append("duplicates \(exactDuplicates + nearDuplicates) (\(exactDuplicates) exact, \(nearDuplicates) near)")
        parts.append("flips \(flips)")
        return parts.joined(separator: ", ") + ": \(records) records"
    }
}

/// A run that produced no record at all; the message says why.
public struct NoUsableImage: Error, CustomStringConvertible {
    public let summary: IngestSummary

    public var description: String {
        if summary.files == 0 { return "no usable image: no files found" }
        if summary.skippedTotal == summary.files {
            let files = summary.files == 1 ? "the only file was" : "all \(summary.files) files were"
            return "no usable image: \(files) skipped (\(summary.skippedBreakdown))"
        }
        return "no usable image among \(summary.files) files (\(summary.skippedBreakdown))"
    }
}

/// The stream header `ingest` writes for these inputs and options.
public func ingestHeader(inputs: [String], options: IngestOptions) -> StreamHeader {
    var metadata = ["source": StreamHeader.metadataValue(inputs.first ?? ""), "fit": options.fit.rawValue]
    if let seed = options.shuffleSeed { metadata["shuffle_seed"] = String(seed) }
    if options.flip { metadata["flip"] = "true" }
    return StreamHeader.images(height: options.size, width: options.size, metadata: metadata)
}

/// Reads `files`, cleans them and hands each record (a size x size RGB picture) to `emit`, in input
/// order unless shuffling. Files are decoded and resized on every core in ordered chunks; `check` sees
/// each path before it is read (and may throw to refuse it). Each skipped file is reported once through
/// `warn` (`reason: file`), progress through `progress(filesDone, filesTotal)` (total 0: not known).
/// Stops between chunks when `shouldStop` returns true (the summary says so). Throws `NoUsableImage`
/// when nothing was emitted, or what `emit`, `check` or reading the list of files throws.
@discardableResult
public func ingest(files: InputFiles, options: IngestOptions,
                   emit: (Image) throws -> Void,
                   check: (String) throws -> Void = { _ in },
                   warn: (String) -> Void = { _ in },
                   progress: (Int, Int) -> Void = { _, _ in },
                   shouldStop: () -> Bool = { false }) throws -> IngestSummary {
    try ingest(files: files, options: options, emitNamed: { image, _ in try emit(image) }, check: check, warn: warn,
               progress: progress, shouldStop: shouldStop)
}

/// `ingest(files:...)` handing each record over with its source: the file (`a.jpg`), a video's frame
/// (`clip.mp4 frame 12`, counted from 1) or a mirrored copy (`a.jpg mirrored`).
@discardableResult
public func ingest(files: InputFiles, options: IngestOptions,
                   emitNamed emit: (Image, String) throws -> Void,
                   check: (String) throws -> Void = { _ in },
                   warn: (String) -> Void = { _ in },
                   progress: (Int, Int) -> Void = { _, _ in },
                   shouldStop: () -> Bool = { false }) throws -> IngestSummary {
    var summary = IngestSummary()
    var cleaner = DatasetCleaner(options: options)
    var held: [(Image, String)] = []  // only when shuffling
    func keep(_ picture: Image, name: String) throws {
        let records = options.flip ? [(picture, name), (picture.flippedHorizontally(), name + " mirrored")] : [(picture, name)]
        summary.kept += 1
        summary.flips += records.count - 1
        if options.shuffleSeed != nil { held += records } else { try records.forEach(emit) }
    }
    // Each dropped duplicate is named, with the picture it repeats.
    func offer(_ prepared: PreparedPicture, name: String) throws {
        switch cleaner.admit(prepared, name: name) {
        case .keep:
            try keep(prepared.image, name: name)
        case .exactDuplicate(let kept):
            summary.exactDuplicates += 1
            warn("dropped as a copy of \(kept): \(name)")
        case .nearDuplicate(let kept):
            summary.nearDuplicates += 1
            warn("dropped as a near duplicate of \(kept): \(name)")
        }
    }

    while true {
        if shouldStop() {
            summary.interrupted = true
            break
        }
        let paths = try files.next(upTo: 64)
        if paths.isEmpty {
            summary.interrupted = shouldStop()  // a list on stdin ends early when a stop is asked for
            break
        }
        try paths.forEach(check)
        for (path, outcome) in zip(paths, prepareInParallel(paths, options: options)) where !summary.interrupted {
            summary.files += 1
            switch outcome {
            case .picture(let prepared):
                try offer(prepared, name: path)
            case .skipped(let reason, let why):
                summary.skipped[reason, default: 0] += 1
                warn("\(why): \(path)")
            case .video:
                var framesSeen = 0
                do {
                    try forEachVideoFrame(path: path, every: options.videoEvery) { frame in
                        // A long video is not one step: a stop request ends it between frames.
                        if shouldStop() { throw StopRequested() }
                        framesSeen += 1
                        // Every frame has the first one's size, so a too-small video stops here.
                        let prepared = try prepare(decoded: DecodedImage(image: frame, originalWidth: frame.width,
                                                                         originalHeight: frame.height),
                                                   options: options)
                        let before = summary.kept
                        try offer(prepared, name: "\(path) frame \(framesSeen)")
                        summary.videoFrames += summary.kept - before
                    }
                } catch is StopRequested {
                    summary.interrupted = true
                } catch let error as TooSmall {
                    summary.skipped[.tooSmall, default: 0] += 1
                    warn("\(error): \(path)")
                } catch let error as ImagingError where framesSeen == 0 {
                    summary.skipped[reason(for: error), default: 0] += 1  // frames past DecodeLimits
                    warn("\(error): \(path)")
                } catch let error as ImagingError {
                    warn("video ends early after \(framesSeen) frames (\(error)): \(path)")
                } catch let error as MediaError {
                    if framesSeen == 0 {
                        summary.skipped[.corrupt, default: 0] += 1
                        warn("\(error.what): \(path)")
                    } else {
                        warn("video ends early after \(framesSeen) frames (\(error.what)): \(path)")
                    }
                }
            }
        }
        progress(summary.files, files.count ?? 0)
        if summary.interrupted { break }
    }
    if let seed = options.shuffleSeed {
        var generator = SplitMix64(seed: seed)
        generator.shuffle(&held)
        try held.forEach(emit)
    }
    if summary.records == 0 && !summary.interrupted { throw NoUsableImage(summary: summary) }
    return summary
}

/// `ingest(files:...)` writing every record, with its source, to `writer` (which the caller finishes).
@discardableResult
public func ingest(files: InputFiles, options: IngestOptions, into writer: IngestStreamWriter,
                   check: (String) throws -> Void = { _ in },
                   warn: (String) -> Void = { _ in },
                   progress: (Int, Int) -> Void = { _, _ in },
                   shouldStop: () -> Bool = { false }) throws -> IngestSummary {
    try ingest(files: files, options: options, emitNamed: { try writer.write($0, source: $1) }, check: check,
               warn: warn, progress: progress, shouldStop: shouldStop)
}

/// The stream `ingest` writes, whose header names the source of every record (`sources`: a JSON array,
/// record i's source at place i), so "record i" can be traced to its file. The header comes before the
/// records, so they are held until `finish()`, up to `holding` bytes: a larger run streams on as it goes,
/// its header naming only its first input (`namesEverySource` is then false, and the tool says so).
public final class IngestStreamWriter {
    private let sink: ByteSink
    private var header: StreamHeader
    private let holding: Int
    private var held: [[UInt8]] = []
    private var heldBytes = 0
    private var sources: [String] = []
    private var writer: StreamWriter?
    /// Records written so far (held or not).
    public private(set) var records = 0

    public init(inputs: [String], options: IngestOptions, to sink: ByteSink, holding: Int = 256 << 20) {
        self.sink = sink
        header = ingestHeader(inputs: inputs, options: options)
        self.holding = holding
    }

    /// Whether the header names every record's source (false once the records passed `holding` bytes).
    public var namesEverySource: Bool { writer == nil || header.metadata["sources"] != nil }

    public func write(_ image: Image, source: String) throws {
        records += 1
        if let writer { return try writer.write(image.pixels) }
        held.append(image.pixels)
        heldBytes += image.pixels.count
        sources.append(source)
        if heldBytes > holding { try start(namingSources: false) }
    }

    /// Writes the header (naming the sources, when every record was held) and the held records.
    public func finish() throws {
        if writer == nil { try start(namingSources: true) }
        try writer!.writeHeader()
    }

    private func start(namingSources: Bool) throws {
        // Metadata holds at most 1 MB: a list longer than half of it is not written.
        if namingSources, let data = try? JSONSerialization.data(withJSONObject: sources, options: [.withoutEscapingSlashes]),
           data.count <= 512 << 10 {
            header.metadata["sources"] = String(decoding: data, as: UTF8.self)
        }
        let writer = try StreamWriter(header: header, to: sink)
        for record in held { try writer.write(record) }
        held = []
        sources = []
        self.writer = writer
    }
}

/// A record ready to be kept, with what deduplication compares.
struct PreparedPicture {
    var image: Image
    var contentHash: UInt64
    var perceptualHash: PerceptualHash
}

enum Outcome {
    case picture(PreparedPicture)
    case skipped(SkipReason, String)
    case video
}

/// Reads, decodes, squares and hashes `paths` on every core; results in the order of `paths`.
func prepareInParallel(_ paths: [String], options: IngestOptions) -> [Outcome] {
    var outcomes = [Outcome?](repeating: nil, count: paths.count)
    outcomes.withUnsafeMutableBufferPointer { slots in
        let slots = slots  // each iteration writes only its own slot
        DispatchQueue.concurrentPerform(iterations: paths.count) { index in
            slots[index] = prepare(path: paths[index], options: options)
        }
    }
    return outcomes.map { $0! }
}

func prepare(path: String, options: IngestOptions) -> Outcome {
    // The first bytes decide; only a picture is read whole.
    let file: RegularFile, signature: [UInt8]
    do {
        file = try RegularFile(path: path)
        signature = try file.read(16)
    } catch {
        return .skipped(.unreadable, "cannot read (\(error))")
    }
    switch FileFormat(sniffing: signature) {
    case nil:
        return .skipped(.notAnImage, signature.isEmpty ? "empty file" : "not an image or video")
    case .video:
        return .video
    case .png, .jpeg:
        guard file.size <= largestPictureFile else {
            return .skipped(.tooLarge, "too large (a file of \(file.size >> 20) MB, at most \(largestPictureFile >> 20) MB)")
        }
        let hint: SizeHint = options.fit == .crop ? .shorterSide(atLeast: options.size) : .longerSide(atLeast: options.size)
        do {
            return .picture(try prepare(decoded: try decodeImage(try file.readAll(), hint: hint), options: options))
        } catch let error as ImagingError {
            return .skipped(reason(for: error), error.description)
        } catch let error as TooSmall {
            return .skipped(.tooSmall, error.description)
        } catch {
            return .skipped(.corrupt, "\(error)")
        }
    }
}

private struct StopRequested: Error {}

struct TooSmall: Error, CustomStringConvertible {
    var width: Int, height: Int, minimum: Int
    var description: String { "too small (\(width)x\(height), minimum \(minimum))" }
}

/// Squares and hashes one decoded picture; throws `TooSmall` below the minimum size.
func prepare(decoded: DecodedImage, options: IngestOptions) throws -> PreparedPicture {
    let (w, h) = (decoded.originalWidth, decoded.originalHeight)
    let side = options.fit == .crop ? min(w, h) : max(w, h)
    guard side >= options.effectiveMinimumSize else {
        throw TooSmall(width: w, height: h, minimum: options.effectiveMinimumSize)
    }
    let square = decoded.image.squared(size: options.size, fit: options.fit, background: options.background)
    return PreparedPicture(image: square, contentHash: fnv1a(square.pixels),
                           perceptualHash: options.dedupe ? PerceptualHash(of: square) : PerceptualHash(bits: 0))
}

private func reason(for error: ImagingError) -> SkipReason {
    switch error {
    case .unknownFormat: return .notAnImage
    case .corrupt: return .corrupt
    case .unsupported: return .unsupported
    case .tooLarge: return .tooLarge
    case .encodingFailed: return .corrupt
    }
}

/// 64-bit FNV-1a: equal pictures have equal hashes (a collision of different ones is vanishingly rare).
func fnv1a(_ bytes: [UInt8]) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    return hash
}

/// Decides which pictures a data set keeps when deduplicating: the first of each group of equal or
/// perceptually near pictures, in the order they are offered.
struct DatasetCleaner {
    /// A duplicate names the kept picture it repeats.
    enum Verdict: Equatable { case keep, exactDuplicate(of: String), nearDuplicate(of: String) }

    let options: IngestOptions
    private var exact: [UInt64: String] = [:]
    private var perceptual: [(hash: PerceptualHash, name: String)] = []

    init(options: IngestOptions) { self.options = options }

    /// Whether the picture called `name` (a file, or a video's frame) is kept.
    mutating func admit(_ picture: PreparedPicture, name: String) -> Verdict {
        guard options.dedupe else { return .keep }
        if let kept = exact[picture.contentHash] { return .exactDuplicate(of: kept) }
        let threshold = options.dedupeThreshold
        if let kept = perceptual.first(where: { $0.hash.distance(to: picture.perceptualHash) <= threshold }) {
            return .nearDuplicate(of: kept.name)
        }
        exact[picture.contentHash] = name
        perceptual.append((picture.perceptualHash, name))
        return .keep
    }
}

/// Picture files above this size are skipped unread as too large: a file is read whole to be decoded,
/// and one larger than the most a decoded picture may take (`DecodeLimits`) holds a picture past it
/// (or is not what it says). So a worker holds at most about twice `DecodeLimits.bytes`.
let largestPictureFile = DecodeLimits.bytes

/// SplitMix64 (Steele, Lea and Flood): a tiny, well-mixed generator, enough for a reproducible shuffle.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Fisher-Yates, written out so the order does not depend on the standard library's version.
    mutating func shuffle<T>(_ items: inout [T]) {
        guard items.count > 1 else { return }
        for i in stride(from: items.count - 1, to: 0, by: -1) {
            items.swapAt(i, Int(next() % UInt64(i + 1)))
        }
    }
}
