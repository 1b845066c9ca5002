import Foundation
import Imaging
import TensorStream
import XCTest

/// End to end: the release `ingest` binary on folders of real files.
final class IngestToolTests: XCTestCase {
    private func records(_ data: Data) throws -> (StreamHeader, [[UInt8]]) {
        let reader = try StreamReader(from: MemorySource([UInt8](data)))
        return (reader.header, try reader.readAllBytes())
    }

    private func write(_ bytes: [UInt8], _ name: String, in folder: URL) throws {
        let url = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }

    /// Runs ffmpeg (a test-only fixture maker), failing the test when it fails.
    private func ffmpeg(_ arguments: [String], in folder: URL) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/ffmpeg") else { throw XCTSkip("no ffmpeg") }
        let result = try ToolRunner.shell("ffmpeg -v error -y " + arguments.map { "'\($0)'" }.joined(separator: " "),
                                          directory: folder)
        XCTAssertEqual(result.status, 0, result.stderr)
    }

    /// Distinct solid colours, one per file.
    private let colours: [[UInt8]] = (0..<10).map { (i: Int) -> [UInt8] in
        [UInt8(20 * i + 10), UInt8(250 - 23 * i), UInt8((i * 97) % 256)]
    }

    private func solid(_ colour: [UInt8], width: Int, height: Int) -> Image {
        Image(width: width, height: height, channels: 3, pixels: Array((0..<width * height).map { _ in colour }.joined()))
    }

    /// Ten files (PNGs and JPEGs of different sizes, in a subfolder too), one of them a truncated JPEG:
    /// nine records in sorted-path order, one warning naming the broken file, and a summary.
    func testFolderWithOneCorruptFile() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        for index in 0..<10 {
            let picture = solid(colours[index], width: 80 + 13 * index, height: 70 + 7 * index)
            let name = String(format: "%02d", index)
            if index == 6 {
                let jpeg = try encodeJPEG(picture)
                try write(Array(jpeg.prefix(jpeg.count / 2)), "photos/\(name)-broken.jpg", in: dir)
            } else if index % 2 == 0 {
                try write(try encodePNG(picture), "photos/\(name).png", in: dir)
            } else {
                try write(try encodeJPEG(picture, quality: 95), "photos/more/\(name).jpg", in: dir)
            }
        }
        let result = try ToolRunner.run("ingest", ["photos", "--size", "16"], directory: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        let (header, pictures) = try records(result.stdout)
        XCTAssertEqual(header.shape, [16, 16, 3])
        XCTAssertEqual(header.metadata["kind"], "image")
        XCTAssertEqual(header.metadata["source"], "photos")
        XCTAssertEqual(pictures.count, 9)
        let warnings = result.stderr.split(separator: "\n").filter { $0.contains("warning") }
        XCTAssertEqual(warnings.count, 1, result.stderr)
        XCTAssertTrue(warnings.first?.hasSuffix("photos/06-broken.jpg") ?? false, result.stderr)
        XCTAssertTrue(result.stderr.contains("kept 9 from 10 files, skipped 1 (1 corrupt)"), result.stderr)
        // Sorted paths: 00..08.png first ("more" sorts after the digits), then more/01..09.jpg.
        let order = [0, 2, 4, 8, 1, 3, 5, 7, 9]
        for (picture, index) in zip(pictures, order) {
            let means = (0..<3).map { c in Double(stride(from: c, to: picture.count, by: 3).reduce(0) { $0 + Int(picture[$1]) }) / 256 }
            for c in 0..<3 { XCTAssertEqual(means[c], Double(colours[index][c]), accuracy: 3, "file \(index)") }
        }
    }

    /// The numpy reader from docs/tensor-stream.md reads ingest's output to the same pixels.
    func testStreamReadsBackWithNumpy() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        for index in 0..<3 { try write(try encodePNG(solid(colours[index], width: 40, height: 30)), "p\(index).png", in: dir) }
        let result = try ToolRunner.run("ingest", ["--size", "8", "-o", "set.tns", "."], directory: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        let doc = try String(contentsOf: ToolRunner.packageRoot.appendingPathComponent("docs/tensor-stream.md"), encoding: .utf8)
        guard let start = doc.range(of: "```python\n"), let end = doc.range(of: "```", range: start.upperBound..<doc.endIndex) else {
            return XCTFail("docs/tensor-stream.md has no python block")
        }
        try String(doc[start.upperBound..<end.lowerBound]).write(to: dir.appendingPathComponent("tns.py"), atomically: true, encoding: .utf8)
        let check = try ToolRunner.shell("""
            python3 -c 'import tns; h, r = tns.read_stream(open("set.tns", "rb")); \
            print(h["metadata"]["kind"], r.shape, *[int(v) for v in r[:, 3, 5, :].flatten()])'
            """, directory: dir)
        XCTAssertEqual(check.status, 0, check.stderr)
        let expected = "image (3, 8, 8, 3) " + colours[0..<3].flatMap { $0 }.map(String.init).joined(separator: " ")
        XCTAssertEqual(check.stdout.trimmingText, expected)
    }

    func testDedupeDropsExactAndNearCopies() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        try ffmpeg(["-f", "lavfi", "-i", "testsrc=size=320x240", "-frames:v", "1", "a.png"], in: dir)
        try ffmpeg(["-f", "lavfi", "-i", "mandelbrot=size=300x300", "-frames:v", "1", "b.png"], in: dir)
        try ffmpeg(["-f", "lavfi", "-i", "smptebars=size=320x240", "-frames:v", "1", "c.png"], in: dir)
        // A near copy of a: smaller and recompressed as JPEG; an exact copy of b under another name.
        try ffmpeg(["-i", "a.png", "-vf", "scale=200:150", "-q:v", "8", "a-small.jpg"], in: dir)
        try FileManager.default.copyItem(at: dir.appendingPathComponent("b.png"), to: dir.appendingPathComponent("b-copy.png"))

        let plain = try ToolRunner.run("ingest", ["."], directory: dir)
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertEqual(try records(plain.stdout).1.count, 5)
        let deduped = try ToolRunner.run("ingest", ["--dedupe", "."], directory: dir)
        XCTAssertEqual(deduped.status, 0, deduped.stderr)
        XCTAssertEqual(try records(deduped.stdout).1.count, 3)
        XCTAssertTrue(deduped.stderr.contains("duplicates 2 (1 exact, 1 near)"), deduped.stderr)
        // A zero threshold keeps the near copy.
        let strict = try ToolRunner.run("ingest", ["--dedupe", "--dedupe-threshold", "0", "."], directory: dir)
        XCTAssertEqual(try records(strict.stdout).1.count, 4)
    }

    func testVideoFramesEveryN() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        // 20 frames of 10 fps: --every 5 keeps frames 0, 5, 10, 15.
        try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=96x64:rate=10", "-t", "2", "-pix_fmt", "yuv420p", "clip.mp4"], in: dir)
        try write(try encodePNG(solid(colours[1], width: 32, height: 32)), "still.png", in: dir)
        let result = try ToolRunner.run("ingest", ["--every", "5", "--size", "32", "clip.mp4", "still.png"], directory: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        let (_, pictures) = try records(result.stdout)
        XCTAssertEqual(pictures.count, 5)
        XCTAssertEqual(Set(pictures[0..<4]).count, 4, "the kept frames differ (testsrc2 moves)")
        XCTAssertEqual(pictures[4], solid(colours[1], width: 32, height: 32).pixels)
        XCTAssertTrue(result.stderr.contains("(4 video frames)"), result.stderr)

        // An animated GIF is a video too (`encode -o loop.gif` makes them).
        try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10", "-t", "1", "clip.gif"], in: dir)
        let gif = try ToolRunner.run("ingest", ["--size", "32", "clip.gif"], directory: dir)
        XCTAssertEqual(gif.status, 0, gif.stderr)
        XCTAssertEqual(try records(gif.stdout).1.count, 10, gif.stderr)
    }

    func testFlipShuffleAndStdinList() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        var picture = solid([0, 0, 0], width: 24, height: 24)
        for y in 0..<24 { for x in 0..<12 { picture[x, y, 0] = 255 } }  // left half red
        try write(try encodePNG(picture), "left.png", in: dir)
        for index in 0..<5 { try write(try encodePNG(solid(colours[index], width: 24, height: 24)), "s\(index).png", in: dir) }

        let flipped = try ToolRunner.run("ingest", ["--size", "24", "--flip", "left.png"], directory: dir)
        let (_, pair) = try records(flipped.stdout)
        XCTAssertEqual(pair.count, 2)
        XCTAssertEqual(pair[0][0], 255)
        XCTAssertEqual(pair[1][0], 0, "the copy is mirrored")
        XCTAssertEqual(pair[1][23 * 3], 255)

        let list = Data("s3.png\ns1.png\n\ns4.png\n".utf8)
        let listed = try ToolRunner.run("ingest", ["--size", "8", "-"], stdin: list, directory: dir)
        XCTAssertEqual(listed.status, 0, listed.stderr)
        XCTAssertEqual(try records(listed.stdout).1.map { Array($0.prefix(3)) }, [3, 1, 4].map { colours[$0] })

        let arguments = ["--size", "8", "--shuffle", "--seed", "7", "--flip", "."]
        let first = try ToolRunner.run("ingest", arguments, directory: dir)
        let again = try ToolRunner.run("ingest", arguments, directory: dir)
        let other = try ToolRunner.run("ingest", ["--size", "8", "--shuffle", "--seed", "8", "--flip", "."], directory: dir)
        let ordered = try ToolRunner.run("ingest", ["--size", "8", "--flip", "."], directory: dir)
        XCTAssertEqual(first.stdout, again.stdout)
        let shuffled = try records(first.stdout).1, inOrder = try records(ordered.stdout).1
        XCTAssertEqual(shuffled.count, 12)
        XCTAssertEqual(shuffled.sorted { $0.lexicographicallyPrecedes($1) }, inOrder.sorted { $0.lexicographicallyPrecedes($1) })
        XCTAssertNotEqual(shuffled, inOrder)
        XCTAssertNotEqual(try records(other.stdout).1, shuffled)
    }

    func testPadAndBackground() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        // A wide, half-transparent picture: pad to a square on blue.
        let rgba = Image(width: 40, height: 20, channels: 4,
                         pixels: Array((0..<800).map { _ in [255, 0, 0, 0] as [UInt8] }.joined()))
        try write(try encodePNG(rgba), "clear.png", in: dir)
        let result = try ToolRunner.run("ingest", ["--size", "10", "--fit", "pad", "--background", "0000ff", "clear.png"],
                                        directory: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        let (_, pictures) = try records(result.stdout)
        XCTAssertEqual(pictures, [Array((0..<100).map { _ in [0, 0, 255] as [UInt8] }.joined())])
    }

    func testNothingUsableExitsOne() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("empty"), withIntermediateDirectories: true)
        let empty = try ToolRunner.run("ingest", ["empty"], directory: dir)
        XCTAssertEqual(empty.status, 1)
        XCTAssertTrue(empty.stdout.isEmpty)
        XCTAssertEqual(empty.stderr.trimmingText, "ingest: no usable image: no files found")

        try write(try encodePNG(solid([1, 2, 3], width: 10, height: 10)), "tiny.png", in: dir)
        try write(Array("not a picture".utf8), "notes.txt", in: dir)
        let useless = try ToolRunner.run("ingest", ["tiny.png", "notes.txt", "missing.jpg", "-o", "out.tns"], directory: dir)
        XCTAssertEqual(useless.status, 1)
        XCTAssertTrue(useless.stderr.contains("too small (10x10, minimum 32): tiny.png"), useless.stderr)
        XCTAssertTrue(useless.stderr.contains("missing.jpg"), useless.stderr)
        XCTAssertTrue(useless.stderr.hasSuffix(
            "ingest: no usable image: all 3 files were skipped (1 unreadable, 1 not an image, 1 too small)\n"), useless.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out.tns").path))
        let contents = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        XCTAssertFalse(contents.contains { $0.hasPrefix(".out.tns") }, "no temporary file left: \(contents)")
    }

    func testAFullDiskIsOneLineNamingTheOutput() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        try write(try encodePNG(solid([200, 30, 30], width: 64, height: 64)), "red.png", in: dir)
        for (arguments, name) in [(["-o", "/dev/full"], "/dev/full"), ([], "stdout")] {
            let result = try ToolRunner.shell("ingest red.png -q \(arguments.joined(separator: " ")) > /dev/full", directory: dir)
            XCTAssertEqual(result.status, 1, result.stderr)
            XCTAssertEqual(result.stderr, "ingest: write failed: No space left on device: \(name)\n")
        }
    }

    /// The issue's end-to-end check: generated JPEGs and PNGs -> ingest -> encode MP4 -> ffprobe.
    func testIngestThenEncodeMakesAVideo() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=5", "-frames:v", "4", "-q:v", "3", "shot%d.jpg"], in: dir)
        try ffmpeg(["-f", "lavfi", "-i", "mandelbrot=size=120x160:rate=5", "-frames:v", "3", "frame%d.png"], in: dir)
        let result = try ToolRunner.shell("""
            ingest . --size 48 | encode -o out.mp4
            ffprobe -v error -count_frames -select_streams v:0               -show_entries stream=codec_name,width,height,nb_read_frames -of csv=p=0 out.mp4
            """, directory: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout.trimmingText, "h264,48,48,7")
    }

    func testHelpShowsAPipeline() throws {
        let help = try ToolRunner.run("ingest", ["--help"])
        XCTAssertEqual(help.status, 0, help.stderr)
        XCTAssertTrue(String(decoding: help.stdout, as: UTF8.self).contains("ingest photos/ | train"))
    }

    func testUsageErrors() throws {
        for arguments in [[String](), ["--background", "blue", "x"], ["--fit", "stretch", "x"], ["--size", "0", "x"]] {
            let result = try ToolRunner.run("ingest", arguments)
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
            XCTAssertTrue(result.stderr.hasPrefix("ingest: "), result.stderr)
        }
    }
}

private extension Data {
    var trimmingText: String { String(decoding: self, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
}

private extension String {
    var trimmingText: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
