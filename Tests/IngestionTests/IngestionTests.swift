import Foundation
import Imaging
import Ingestion
import TensorStream
import XCTest

/// The Ingestion library on real files in a temporary folder, without the tool around it.
final class IngestionTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("ingestion-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    @discardableResult
    private func file(_ name: String, _ bytes: [UInt8]) throws -> String {
        let url = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
        return url.path
    }

    private func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// Unrelated pictures for each `kind`: thirty overlapping rectangles of random colours. Like a
    /// photograph (and unlike plain stripes) they have detail at every scale, which is what a
    /// perceptual hash is made for.
    private func pattern(_ kind: Int, width: Int = 96, height: Int = 72) -> Image {
        var state = UInt64(kind + 1) &* 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        var image = Image(width: width, height: height)
        for _ in 0..<30 {
            let x0 = next(width), y0 = next(height)
            let x1 = min(width, x0 + 4 + next(width / 2)), y1 = min(height, y0 + 4 + next(height / 2))
            let colour = (0..<3).map { _ in UInt8(next(256)) }
            for y in y0..<y1 { for x in x0..<x1 { for c in 0..<3 { image[x, y, c] = colour[c] } } }
        }
        return image
    }

    private func run(_ files: [String], _ options: IngestOptions) throws -> (records: [Image], warnings: [String], summary: IngestSummary) {
        var records: [Image] = [], warnings: [String] = []
        let summary = try ingest(files: InputFiles(arguments: files), options: options, emit: { records.append($0) },
                                 warn: { warnings.append($0) })
        return (records, warnings, summary)
    }

    func testFoldersExpandSortedWithoutHiddenFiles() throws {
        for name in ["b/2.png", "b/10.png", "B.png", "a.png", ".hidden.png", ".git/objects/x", "b/.DS_Store"] {
            try file(name, [0])
        }
        let root = folder.path
        XCTAssertEqual(try files([root]), ["B.png", "a.png", "b/10.png", "b/2.png"].map { root + "/" + $0 })
        // Arguments keep their order; a missing path is passed on (to be reported as unreadable).
        XCTAssertEqual(try files([path("b"), path("a.png"), path("nope.jpg")]),
                       [path("b/10.png"), path("b/2.png"), path("a.png"), path("nope.jpg")])
        // `-` reads one path per line (blank lines ignored), only once.
        let listed = try files(["-", path("a.png"), "-"], stdin: "\(path("B.png"))\n\n\(path("b"))\n")
        XCTAssertEqual(listed, [path("B.png"), path("b/10.png"), path("b/2.png"), path("a.png")])
        // A list holding NUL is NUL-separated, and a line break is then part of a name.
        XCTAssertEqual(try files(["-"], stdin: "\(path("new\nline.png"))\0\(path("b"))\0"),
                       [path("new\nline.png"), path("b/10.png"), path("b/2.png")])
    }

    /// Every file `arguments` name, with `stdin` as the list `-` reads.
    func files(_ arguments: [String], stdin: String = "") throws -> [String] {
        let list = InputFiles(arguments: arguments, standardInput: MemorySource(Array(stdin.utf8)))
        var all: [String] = []
        while case let more = try list.next(upTo: 3), !more.isEmpty { all += more }
        return all
    }

    // Issue 18, item 3: the list on stdin is read as it is needed, and what is not a list is an error.
    func testAPathListIsReadAsAStreamAndBounded() throws {
        // An endless list hands out its first paths without reading on.
        final class Endless: ByteSource {
            var bytesRead = 0
            func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
                for i in 0..<buffer.count { buffer[i] = i % 3 == 2 ? 0x0A : 0x78 }
                bytesRead += buffer.count
                return buffer.count
            }
        }
        let endless = Endless()
        let list = InputFiles(arguments: ["-"], standardInput: endless)
        XCTAssertNil(list.count)
        XCTAssertEqual(try list.next(upTo: 4), ["xx", "xx", "xx", "xx"])
        XCTAssertLessThanOrEqual(endless.bytesRead, 1 << 16)
        // A stop request ends a list of endless blank lines.
        final class Zeros: ByteSource {
            func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
                buffer.initializeMemory(as: UInt8.self, repeating: 0)
                return buffer.count
            }
        }
        var asked = 0
        let zeros = InputFiles(arguments: ["-"], standardInput: Zeros(), shouldStop: { asked += 1; return asked > 5 })
        XCTAssertEqual(try zeros.next(upTo: 64), [])
        // A line longer than any path, and a stdin that cannot be read, are errors naming stdin.
        XCTAssertThrowsError(try files(["-"], stdin: String(repeating: "y", count: 5000))) { error in
            XCTAssertEqual("\(error)", "line 1 of the path list is longer than any path (4096 bytes); expected one path a line: stdin")
        }
        let folder = FileSystemPath.withCString(self.folder.path) { open($0, O_RDONLY) }
        defer { close(folder) }
        XCTAssertThrowsError(try InputFiles(arguments: ["-"], standardInput: FileDescriptorSource(fd: folder)).next(upTo: 1)) {
            XCTAssertEqual("\($0)", "cannot read the path list: read failed: Is a directory: stdin")
        }
    }

    func testLinkedFoldersAreFollowedOnceAndLoopsEnd() throws {
        for name in ["set/own.png", "elsewhere/linked.png"] { try file(name, [0]) }
        let links = [("set/more", "../elsewhere"), ("set/loop", ".."), ("set/gone.png", "missing.png")]
        for (link, target) in links {
            try FileManager.default.createSymbolicLink(atPath: path(link), withDestinationPath: target)
        }
        // A link to a folder above the one given leads out of the data set: it is not followed, while a
        // link to a folder elsewhere is.
        XCTAssertEqual(try files([path("set")]),
                       [path("set/gone.png"), path("set/more/linked.png"), path("set/own.png")])
    }

    func testSkippedFilesAreWarnedOnceAndCountedByReason() throws {
        let good = try file("good.png", try encodePNG(pattern(0)))
        let jpeg = try encodeJPEG(pattern(1))
        let broken = try file("broken.jpg", Array(jpeg.prefix(jpeg.count / 3)))
        let text = try file("readme.md", Array("# notes".utf8))
        let empty = try file("empty.png", [])
        let small = try file("small.png", try encodePNG(pattern(2, width: 12, height: 30)))
        let missing = path("missing.png")
        var options = IngestOptions()
        options.size = 32
        let (records, warnings, summary) = try run([good, broken, text, empty, small, missing], options)
        XCTAssertEqual(records.count, 1)
        XCTAssertEqual([records[0].width, records[0].height, records[0].channels], [32, 32, 3])
        XCTAssertEqual(warnings.count, 5)
        for (warning, name) in zip(warnings, [broken, text, empty, small, missing]) {
            XCTAssertTrue(warning.hasSuffix(": " + name), warning)
        }
        XCTAssertTrue(warnings[0].hasPrefix("corrupt image"), warnings[0])
        XCTAssertTrue(warnings[3].hasPrefix("too small (12x30, minimum 16)"), warnings[3])
        XCTAssertEqual(summary.files, 6)
        XCTAssertEqual(summary.kept, 1)
        XCTAssertEqual(summary.skipped, [.corrupt: 1, .notAnImage: 2, .tooSmall: 1, .unreadable: 1])
        XCTAssertTrue(summary.description.hasPrefix("kept 1 from 6 files, skipped 5 (1 unreadable, 2 not an image, 1 corrupt, 1 too small)"),
                      summary.description)
    }

    /// Files are judged by their first bytes before their size costs memory, and a FIFO is never waited on.
    func testHugeFilesAndFIFOsAreSkippedWithoutBeingRead() throws {
        let good = try file("good.png", try encodePNG(pattern(0)))
        // Sparse files: a 40 GB "JPEG" (a JPEG signature, then nothing) and 2 GB of text.
        let bigPicture = try file("big.jpg", [0xFF, 0xD8, 0xFF, 0xE0])
        XCTAssertEqual(truncate(bigPicture, 40 << 30), 0)
        let bigText = try file("big.txt", Array("just words ".utf8))
        XCTAssertEqual(truncate(bigText, 2 << 30), 0)
        let fifo = path("f.jpg")
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let before = usage.ru_maxrss
        var options = IngestOptions()
        options.size = 32
        let (records, warnings, summary) = try run([good, bigPicture, bigText, fifo], options)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        XCTAssertLessThan(usage.ru_maxrss - before, 200 << 10, "kilobytes of peak memory")
        XCTAssertEqual(records.count, 1)
        XCTAssertEqual(summary.skipped, [.tooLarge: 1, .notAnImage: 1, .unreadable: 1])
        XCTAssertTrue(warnings[0].hasPrefix("too large"), warnings[0])
        XCTAssertTrue(warnings[2].contains("not a regular file"), warnings[2])
    }

    /// Crop measures the shorter side against the minimum, pad the longer one.
    func testMinimumSizeFollowsTheFit() throws {
        let banner = try file("banner.png", try encodePNG(pattern(0, width: 100, height: 20)))
        var options = IngestOptions()
        options.size = 64
        XCTAssertThrowsError(try run([banner], options)) { error in
            XCTAssertEqual("\(error)", "no usable image: the only file was skipped (1 too small)")
        }
        options.fit = .pad
        XCTAssertEqual(try run([banner], options).records.count, 1)
        options.fit = .crop
        options.minimumSize = 20
        XCTAssertEqual(try run([banner], options).records.count, 1)
    }

    func testDedupeKeepsTheFirstOfEachGroup() throws {
        let a = try file("a.png", try encodePNG(pattern(0)))
        let b = try file("b.png", try encodePNG(pattern(1)))
        let aAgain = try file("a-again.png", try encodePNG(pattern(0)))
        let aJPEG = try file("a.jpg", try encodeJPEG(pattern(0).resized(width: 80, height: 60), quality: 70))
        let c = try file("c.png", try encodePNG(pattern(2)))
        var options = IngestOptions()
        options.size = 32
        XCTAssertEqual(try run([a, b, aAgain, aJPEG, c], options).records.count, 5)
        options.dedupe = true
        let (records, warnings, summary) = try run([a, b, aAgain, aJPEG, c], options)
        XCTAssertEqual(records.count, 3)
        XCTAssertEqual([summary.exactDuplicates, summary.nearDuplicates], [1, 1])
        // Each dropped picture is named, with the one it repeats.
        XCTAssertEqual(warnings, ["dropped as a copy of \(a): \(aAgain)", "dropped as a near duplicate of \(a): \(aJPEG)"])
        let alone = try run([a], options).records[0]
        XCTAssertEqual(records[0], alone)
    }

    func testFlipAndSeededShuffle() throws {
        let files = try (0..<4).map { try file("p\($0).png", try encodePNG(pattern($0))) }
        var options = IngestOptions()
        options.size = 16
        options.flip = true
        let ordered = try run(files, options)
        XCTAssertEqual(ordered.records.count, 8)
        XCTAssertEqual(ordered.summary.flips, 4)
        XCTAssertEqual(ordered.records[1], ordered.records[0].flippedHorizontally())
        options.shuffleSeed = 42
        let shuffled = try run(files, options).records
        XCTAssertEqual(try run(files, options).records, shuffled)
        XCTAssertNotEqual(shuffled, ordered.records)
        XCTAssertEqual(Set(shuffled.map(\.pixels)), Set(ordered.records.map(\.pixels)))
        options.shuffleSeed = 43
        XCTAssertNotEqual(try run(files, options).records, shuffled)
    }

    func testStopsWhenAsked() throws {
        let files = try (0..<3).map { try file("p\($0).png", try encodePNG(pattern($0))) }
        var emitted = 0
        let summary = try ingest(files: InputFiles(arguments: files), options: IngestOptions(), emit: { _ in emitted += 1 }, shouldStop: { true })
        XCTAssertTrue(summary.interrupted)
        XCTAssertEqual(emitted, 0)
    }

    /// A stop request also ends a long video between frames, keeping the frames already read.
    func testStopsInsideAVideo() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/ffmpeg") else { throw XCTSkip("no ffmpeg") }
        let clip = path("clip.mp4")
        let maker = Process()
        maker.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        maker.arguments = ["-v", "error", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10", "-t", "2",
                           "-pix_fmt", "yuv420p", clip]
        try maker.run()
        maker.waitUntilExit()
        XCTAssertEqual(maker.terminationStatus, 0)
        var asked = 0, emitted = 0
        var options = IngestOptions()
        options.size = 16
        // Asked once before the chunk, then before each frame: the third frame is never read.
        let summary = try ingest(files: InputFiles(arguments: [clip]), options: options, emit: { _ in emitted += 1 },
                                 shouldStop: { asked += 1; return asked > 3 })
        XCTAssertTrue(summary.interrupted)
        XCTAssertEqual(emitted, 2)
        XCTAssertEqual(summary.videoFrames, 2)
    }

    func testWritesAStream() throws {
        let files = try (0..<2).map { try file("p\($0).png", try encodePNG(pattern($0))) }
        var options = IngestOptions()
        options.size = 24
        let sink = MemorySink()
        let writer = IngestStreamWriter(inputs: [folder.path], options: options, to: sink)
        let summary = try ingest(files: InputFiles(arguments: files), options: options, into: writer)
        try writer.finish()
        XCTAssertEqual(summary.records, 2)
        let reader = try StreamReader(from: MemorySource(sink.bytes))
        XCTAssertEqual(reader.header.shape, [24, 24, 3])
        XCTAssertEqual(reader.header.metadata["source"], folder.path)
        XCTAssertEqual(reader.header.metadata["kind"], "image")
        XCTAssertEqual(try reader.readAllBytes().count, 2)
    }

    /// `ingest a.png b.png` used to name only a.png: record i's source is at place i of `sources`, through
    /// skipped files and mirrored copies.
    func testEveryRecordNamesItsSource() throws {
        let a = try file("a.png", try encodePNG(pattern(0)))
        let broken = try file("broken.png", [0x89, 0x50, 0x4E, 0x47])
        let c = try file("c.png", try encodePNG(pattern(2)))
        var options = IngestOptions()
        options.size = 16
        options.flip = true
        let sink = MemorySink()
        let writer = IngestStreamWriter(inputs: [a, broken, c], options: options, to: sink)
        try ingest(files: InputFiles(arguments: [a, broken, c]), options: options, into: writer)
        try writer.finish()
        XCTAssertTrue(writer.namesEverySource)
        let header = try StreamReader(from: MemorySource(sink.bytes)).header
        let sources = try JSONSerialization.jsonObject(with: Data((header.metadata["sources"] ?? "").utf8)) as? [String]
        XCTAssertEqual(sources, [a, a + " mirrored", c, c + " mirrored"])

        // Past what the writer holds, the stream goes on without the list (and says so).
        let large = MemorySink()
        let streaming = IngestStreamWriter(inputs: [a], options: options, to: large, holding: 1000)
        try ingest(files: InputFiles(arguments: [a, c]), options: options, into: streaming)
        try streaming.finish()
        XCTAssertFalse(streaming.namesEverySource)
        let reader = try StreamReader(from: MemorySource(large.bytes))
        XCTAssertNil(reader.header.metadata["sources"])
        XCTAssertEqual(try reader.readAllBytes().count, 4)
    }

    func testNoFilesIsAnError() {
        XCTAssertThrowsError(try run([], IngestOptions())) { error in
            XCTAssertEqual("\(error)", "no usable image: no files found")
        }
    }
}
