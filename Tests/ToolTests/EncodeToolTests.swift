import Foundation
import Imaging
import TensorStream
import XCTest

/// `encode` end to end: the release binary on streams made here, checked with ffprobe and the PNG decoder.
final class EncodeToolTests: XCTestCase {
    /// Flat frames, each its own colour, so every frame (and every grid cell) can be told apart.
    private func colour(_ index: Int) -> [UInt8] {
        [UInt8((index * 53 + 20) % 256), UInt8((index * 97 + 60) % 256), UInt8((index * 31 + 200) % 256)]
    }

    private func stream(frames: Int, width: Int = 16, height: Int = 12, metadata: [String: String] = [:]) throws -> Data {
        let sink = MemorySink()
        let writer = try StreamWriter(header: .images(height: height, width: width, metadata: metadata), to: sink)
        for index in 0..<frames {
            try writer.write(Array((0..<(width * height)).map { _ in colour(index) }.joined()))
        }
        try writer.writeHeader()
        return Data(sink.bytes)
    }

    /// ffprobe's view of the first video stream (frames counted by decoding).
    private func probe(_ path: String) throws -> [String: Any] {
        let ffprobe = try ToolRunner.shell("ffprobe -v error -count_frames -select_streams v:0 -show_entries "
                                           + "stream=codec_name,width,height,nb_read_frames,r_frame_rate -of json '\(path)'")
        XCTAssertEqual(ffprobe.status, 0, ffprobe.stderr)
        let json = try JSONSerialization.jsonObject(with: ffprobe.stdout) as? [String: Any]
        return try XCTUnwrap((json?["streams"] as? [[String: Any]])?.first, "ffprobe cannot read \(path)")
    }

    private func summary(_ probe: [String: Any]) -> String {
        "\(probe["codec_name"] ?? "?") \(probe["width"] ?? "?")x\(probe["height"] ?? "?") "
            + "\(probe["nb_read_frames"] ?? "?") frames"
    }

    /// Top-level MP4 box types in order.
    private func atoms(_ data: Data) -> [String] {
        var found: [String] = [], offset = 0
        let bytes = [UInt8](data)
        while offset + 8 <= bytes.count {
            let size = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            found.append(String(decoding: bytes[offset + 4..<offset + 8], as: UTF8.self))
            guard size >= 8 else { break }
            offset += size
        }
        return found
    }

    private func contents(_ dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    }

    func testMP4FileWithFPSFromMetadataAndScale() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let out = dir.appendingPathComponent("clip.mp4").path
        let result = try ToolRunner.run("encode", ["--scale", "2", "--crf", "20", "-o", out],
                                        stdin: try stream(frames: 9, metadata: ["fps": "12"]))
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.isEmpty)
        XCTAssertTrue(result.stderr.contains("wrote 9 frames 32x24 mp4"), result.stderr)
        let info = try probe(out)
        XCTAssertEqual(summary(info), "h264 32x24 9 frames")
        XCTAssertEqual(info["r_frame_rate"] as? String, "12/1")
        let boxes = atoms(try Data(contentsOf: URL(fileURLWithPath: out)))
        XCTAssertLessThan(try XCTUnwrap(boxes.firstIndex(of: "moov")), try XCTUnwrap(boxes.firstIndex(of: "mdat")))
        XCTAssertEqual(try contents(dir), ["clip.mp4"], "no temporary file left")
    }

    func testStdoutPipeGetsFragmentedMP4AndRegularFileGetsFaststart() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let piped = try ToolRunner.run("encode", ["--fps", "25"], stdin: try stream(frames: 6))
        XCTAssertEqual(piped.status, 0, piped.stderr)
        let pipedBoxes = atoms(piped.stdout)
        XCTAssertEqual(Array(pipedBoxes.prefix(2)), ["ftyp", "moov"])
        XCTAssertTrue(pipedBoxes.contains("moof"), "\(pipedBoxes)")
        let pipedPath = dir.appendingPathComponent("piped.mp4")
        try piped.stdout.write(to: pipedPath)
        XCTAssertEqual(summary(try probe(pipedPath.path)), "h264 16x12 6 frames")

        // stdout redirected to a regular file, as `encode < in.tns > out.mp4` does.
        let input = dir.appendingPathComponent("in.tns"), output = dir.appendingPathComponent("out.mp4")
        try stream(frames: 6).write(to: input)
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try ToolRunner.path(of: "encode"))
        process.arguments = ["-q", input.path]
        process.standardOutput = try FileHandle(forWritingTo: output)
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        let boxes = atoms(try Data(contentsOf: output))
        XCTAssertFalse(boxes.contains("moof"), "\(boxes)")
        XCTAssertLessThan(try XCTUnwrap(boxes.firstIndex(of: "moov")), try XCTUnwrap(boxes.firstIndex(of: "mdat")))
        XCTAssertEqual(summary(try probe(output.path)), "h264 16x12 6 frames")

        // Appended to (`>>`), the file keeps what it held and gets the stream after it.
        let log = dir.appendingPathComponent("log.mp4")
        try Data("kept".utf8).write(to: log)
        let appended = try ToolRunner.shell("encode -q '\(input.path)' >> '\(log.path)'")
        XCTAssertEqual(appended.status, 0, appended.stderr)
        let bytes = try Data(contentsOf: log)
        XCTAssertEqual(bytes.prefix(4), Data("kept".utf8))
        XCTAssertEqual(Array(atoms(bytes.dropFirst(4)).prefix(2)), ["ftyp", "moov"])
    }

    func testOtherVideoFormatsByExtensionAndFlag() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let input = try stream(frames: 5, width: 15, height: 9)
        for (file, arguments, expected) in [
            ("a.webm", [String](), "vp9 16x10 5 frames"),
            ("a.gif", [], "gif 15x9 5 frames"),
            ("a.y4m", [], "rawvideo 15x9 5 frames"),
            ("a.video", ["--format", "webm"], "vp9 16x10 5 frames"),
        ] {
            let out = dir.appendingPathComponent(file).path
            let result = try ToolRunner.run("encode", arguments + ["-o", out], stdin: input)
            XCTAssertEqual(result.status, 0, "\(file): \(result.stderr)")
            XCTAssertEqual(summary(try probe(out)), expected, file)
            let size = expected.split(separator: " ")[1]
            XCTAssertTrue(result.stderr.contains("wrote 5 frames \(size)"), result.stderr)
        }
    }

    func testGridWritesOneContactSheet() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let out = dir.appendingPathComponent("sheet.png").path
        let result = try ToolRunner.run("encode", ["--grid", "4x3", "--scale", "2", "-o", out],
                                        stdin: try stream(frames: 10, width: 8, height: 6))
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("wrote 10 frames 64x36 png"), result.stderr)
        let sheet = try decodePNG([UInt8](try Data(contentsOf: URL(fileURLWithPath: out))))
        XCTAssertEqual([sheet.width, sheet.height], [64, 36])
        for cell in 0..<12 {
            let x = (cell % 4) * 16 + 8, y = (cell / 4) * 12 + 6
            let expected = cell < 10 ? colour(cell) : [0, 0, 0]
            XCTAssertEqual((0..<3).map { sheet[x, y, $0] }, expected, "cell \(cell)")
        }
    }

    func testPNGSequenceAndSinglePNG() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let frames = dir.appendingPathComponent("frames")
        try FileManager.default.createDirectory(at: frames, withIntermediateDirectories: true)
        let result = try ToolRunner.run("encode", ["-o", frames.path + "/f_%03d.png"], stdin: try stream(frames: 4))
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try contents(frames), ["f_001.png", "f_002.png", "f_003.png", "f_004.png"])
        for index in 0..<4 {
            let file = frames.appendingPathComponent(String(format: "f_%03d.png", index + 1))
            let image = try decodePNG([UInt8](try Data(contentsOf: file)))
            XCTAssertEqual([image.width, image.height], [16, 12])
            XCTAssertEqual((0..<3).map { image[5, 5, $0] }, colour(index))
        }

        let still = try ToolRunner.run("encode", ["--format", "png"], stdin: try stream(frames: 3))
        XCTAssertEqual(still.status, 0, still.stderr)
        let image = try decodePNG([UInt8](still.stdout))
        XCTAssertEqual((0..<3).map { image[0, 0, $0] }, colour(0))
        XCTAssertTrue(still.stderr.contains("wrote 1 frame 16x12 png to stdout (read 3)"), still.stderr)
    }

    func testBadInputFailsCleanlyAndLeavesNoFile() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let out = dir.appendingPathComponent("out.mp4").path
        let whole = try stream(frames: 5)

        let truncated = try ToolRunner.run("encode", ["-o", out], stdin: whole.prefix(whole.count - 100))
        XCTAssertEqual(truncated.status, 1)
        // The last record (marker, 576 payload bytes, CRC) loses its CRC and 96 payload bytes.
        XCTAssertEqual(truncated.stderr.split(separator: "\n").last, "encode: truncated record (480 of 576 bytes): stdin record 4")

        let floats = MemorySink()
        let floatWriter = try StreamWriter(header: StreamHeader(dtype: .f32, shape: [12, 16, 3]), to: floats)
        try floatWriter.write([Float](repeating: 0.5, count: 12 * 16 * 3))
        let wrongType = try ToolRunner.run("encode", ["-o", out], stdin: Data(floats.bytes))
        XCTAssertEqual(wrongType.status, 1)
        XCTAssertTrue(wrongType.stderr.hasPrefix("encode: expected an image stream"), wrongType.stderr)

        let empty = try ToolRunner.run("encode", ["-o", out], stdin: try stream(frames: 0))
        XCTAssertEqual(empty.status, 1)
        XCTAssertEqual(empty.stderr, "encode: no frames to encode: stdin\n")

        let unwritable = dir.appendingPathComponent("missing/out.mp4").path
        let cannotWrite = try ToolRunner.run("encode", ["-o", unwritable], stdin: whole)
        XCTAssertEqual(cannotWrite.status, 1)
        XCTAssertTrue(cannotWrite.stderr.hasPrefix("encode: cannot write"), cannotWrite.stderr)
        XCTAssertTrue(cannotWrite.stderr.hasSuffix(unwritable + "\n"), cannotWrite.stderr)

        // Nor does a PNG sequence or a contact sheet of a stream that breaks partway.
        let cut = whole.prefix(whole.count - 100)
        for pattern in ["frame%03d.png", "sheet.png"] {
            let path = dir.appendingPathComponent(pattern).path
            let broken = try ToolRunner.run("encode", ["-o", path] + (pattern == "sheet.png" ? ["--grid", "3x2"] : []), stdin: cut)
            XCTAssertEqual(broken.status, 1, broken.stderr)
        }
        let huge = try ToolRunner.run("encode", ["-o", dir.appendingPathComponent("huge.png").path, "--grid", "1000x1000",
                                                 "--scale", "16"], stdin: whole)
        XCTAssertEqual(huge.status, 1, huge.stderr)
        XCTAssertEqual(huge.stderr.split(separator: "\n").count, 1, huge.stderr)
        XCTAssertTrue(huge.stderr.hasPrefix("encode: a 1000x1000 grid of 256x192 frames is too large"), huge.stderr)

        XCTAssertEqual(try contents(dir), [], "a failed encode leaves nothing behind")
    }

    func testHelpShowsAnExamplePipeline() throws {
        let result = try ToolRunner.run("encode", ["--help"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(String(decoding: result.stdout, as: UTF8.self).contains("walk plato.ckpt --n 300 | encode"))
    }

    func testInterruptLeavesNoFileBehind() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try ToolRunner.path(of: "encode"))
        process.arguments = ["-q", "-o", dir.appendingPathComponent("clip.mp4").path]
        let input = Pipe()
        process.standardInput = input
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Some frames, then the stream stays open as if a slow generator were still producing.
        try input.fileHandleForWriting.write(contentsOf: try stream(frames: 3))
        let deadline = Date().addingTimeInterval(10)
        while try contents(dir).isEmpty && Date() < deadline { usleep(10_000) }
        XCTAssertEqual(try contents(dir).count, 1, "the temporary file exists while encoding")
        XCTAssertFalse(try contents(dir).contains("clip.mp4"))
        // Interrupt as a user would, again if needed: the tool's signal handler is registered
        // asynchronously and may not be listening yet on a busy machine.
        let giveUp = Date().addingTimeInterval(10)
        while process.isRunning && Date() < giveUp {
            process.interrupt()
            usleep(200_000)
        }
        process.waitUntilExit()
        try? input.fileHandleForWriting.close()
        XCTAssertEqual(process.terminationStatus, 130)
        XCTAssertEqual(try contents(dir), [], "neither the final file nor the temporary one is left")
    }

    func testUsageMistakesExitTwo() throws {
        let input = try stream(frames: 2)
        for arguments in [["-o", "clip.avi"], ["--crf", "20", "-o", "a.gif"], ["--grid", "4by3", "-o", "s.png"],
                          ["--grid", "2x2", "-o", "s.mp4"], ["--scale", "0"], ["-o", "f_%d_%d.png"],
                          ["--no-such-option"]] {
            let result = try ToolRunner.run("encode", arguments, stdin: input)
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
            XCTAssertTrue(result.stdout.isEmpty)
        }
    }
}
