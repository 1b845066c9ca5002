import Foundation
import Imaging
import Media
import XCTest

final class EncodeJobTests: XCTestCase {
    /// Writes straight to a temporary name and renames, like the tool's atomic files; records the names.
    private final class RecordingWriter {
        var finalPaths: [String] = []
        var temporaryPaths: [String] = []

        func write(_ path: String, _ body: (String) throws -> Void) throws -> () throws -> Void {
            let temporary = path + ".partial"
            XCTAssertTrue(FileManager.default.createFile(atPath: temporary, contents: nil))
            temporaryPaths.append(temporary)
            do {
                try body(temporary)
            } catch {
                try? FileManager.default.removeItem(atPath: temporary)
                throw error
            }
            return {
                XCTAssertEqual(rename(temporary, path), 0)
                self.finalPaths.append(path)
            }
        }
    }

    private func run(_ job: EncodeJob, frames: [Image], streamFPS: String? = nil,
                     writer: RecordingWriter = RecordingWriter()) throws -> EncodeSummary {
        var remaining = frames[...]
        return try job.run(input: "test-stream", streamFPS: streamFPS, nextFrame: { remaining.popFirst() },
                           writeFile: writer.write)
    }

    private func optionError(_ make: @autoclosure () throws -> EncodeJob) -> String {
        do {
            _ = try make()
            return "no error"
        } catch let error as EncodeOptionError {
            return error.description
        } catch {
            return "unexpected \(error)"
        }
    }

    func testFormatComesFromTheFlagThenTheExtensionThenTheDefault() throws {
        XCTAssertEqual(try EncodeJob(output: "clip.WEBM").format, .webm)
        XCTAssertEqual(try EncodeJob(output: "clip.bin", format: "gif").format, .gif)
        XCTAssertEqual(try EncodeJob(output: nil).format, .mp4)
        XCTAssertEqual(try EncodeJob(output: "-").output, nil)
        XCTAssertEqual(try EncodeJob(output: nil, grid: "3x2").format, .png)
        XCTAssertEqual(try EncodeJob(output: nil, grid: "3x2").grid, Grid(columns: 3, rows: 2))
        XCTAssertEqual(try EncodeJob(output: "frames/%05d.png").format, .png)
    }

    func testOptionMistakesAreUsageErrors() {
        XCTAssertTrue(optionError(try EncodeJob(output: "clip.avi")).contains("cannot tell the format"))
        XCTAssertTrue(optionError(try EncodeJob(output: nil, format: "mkv")).contains("unknown format 'mkv'"))
        XCTAssertTrue(optionError(try EncodeJob(output: "a.gif", crf: 20)).contains("--crf applies to mp4 and webm"))
        XCTAssertTrue(optionError(try EncodeJob(output: "a.mp4", crf: 52)).contains("0 to 51"))
        XCTAssertEqual(optionError(try EncodeJob(output: "a.webm", crf: 52)), "no error")
        XCTAssertTrue(optionError(try EncodeJob(output: "a.mp4", grid: "2x2")).contains("--grid writes a PNG"))
        XCTAssertTrue(optionError(try EncodeJob(output: nil, grid: "0x3")).contains("COLUMNSxROWS"))
        XCTAssertTrue(optionError(try EncodeJob(output: "f%03d.mp4")).contains("PNG files"))
        XCTAssertTrue(optionError(try EncodeJob(output: "f%d_%d.png")).contains("exactly one number field"))
        XCTAssertTrue(optionError(try EncodeJob(output: "f%s.png")).contains("exactly one number field"))
        XCTAssertTrue(optionError(try EncodeJob(output: "f%03d.png", grid: "2x2")).contains("--grid writes one PNG"))
        XCTAssertTrue(optionError(try EncodeJob(output: nil, scale: 0)).contains("--scale"))
        XCTAssertTrue(optionError(try EncodeJob(output: nil, fps: -1)).contains("--fps"))
    }

    func testFrameRateFromMetadataUnlessGiven() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let frames = Fixtures.gradientFrames(count: 4, width: 16, height: 16)
        let path = dir.appendingPathComponent("a.mp4").path
        _ = try run(EncodeJob(output: path), frames: frames, streamFPS: "30000/1001")
        XCTAssertEqual(try frameRate(path), "30000/1001")
        _ = try run(EncodeJob(output: path, fps: 8), frames: frames, streamFPS: "30000/1001")
        XCTAssertEqual(try frameRate(path), "8/1")
        _ = try run(EncodeJob(output: path), frames: frames)
        XCTAssertEqual(try frameRate(path), "30/1")
        XCTAssertThrowsError(try run(EncodeJob(output: path), frames: frames, streamFPS: "fast")) { error in
            XCTAssertEqual("\(error)", "the stream's fps metadata 'fast' is not a frame rate (use --fps): test-stream")
        }
    }

    private func frameRate(_ path: String) throws -> String {
        let probe = try Fixtures.run("/usr/bin/ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries",
                                                          "stream=r_frame_rate", "-of", "csv=p=0", path])
        return String(decoding: probe.output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func testVideoGoesThroughTheAtomicWriterAndErrorsNameTheFinalFile() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let path = dir.appendingPathComponent("clip.webm").path
        let writer = RecordingWriter()
        let summary = try run(EncodeJob(output: path, scale: 3), frames: Fixtures.gradientFrames(count: 3, width: 5, height: 5),
                              writer: writer)
        XCTAssertEqual(writer.finalPaths, [path])
        XCTAssertEqual([summary.framesRead, summary.framesWritten, summary.width, summary.height], [3, 3, 16, 16])
        XCTAssertEqual(try Fixtures.probe(path).frames, 3)

        // A frame of another size mid-stream fails the encode; the message names clip.mp4, not the temporary file.
        let bad = dir.appendingPathComponent("clip.mp4").path
        var frames = Fixtures.gradientFrames(count: 2, width: 8, height: 8)
        frames.append(Image(width: 9, height: 8))
        XCTAssertThrowsError(try run(EncodeJob(output: bad), frames: frames)) { error in
            XCTAssertEqual("\(error)", "frame 2 is 9x8x3, expected 8x8x3: \(bad)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: bad))
        XCTAssertThrowsError(try run(EncodeJob(output: bad), frames: [])) { error in
            XCTAssertEqual("\(error)", "no frames to encode: test-stream")
        }
    }

    func testSequenceNumbersFromOneAndGridLeavesEmptyCellsBlack() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let frames = Fixtures.gradientFrames(count: 3, width: 4, height: 4)
        let writer = RecordingWriter()
        let summary = try run(EncodeJob(output: dir.path + "/f%d.png", scale: 2), frames: frames, writer: writer)
        XCTAssertEqual(writer.finalPaths.map { URL(fileURLWithPath: $0).lastPathComponent }, ["f1.png", "f2.png", "f3.png"])
        XCTAssertEqual(summary.destination, "\(dir.path)/f1.png ... \(dir.path)/f3.png")
        let second = try decodePNG([UInt8](try Data(contentsOf: URL(fileURLWithPath: writer.finalPaths[1]))))
        XCTAssertEqual([second.width, second.height], [8, 8])

        let sheetPath = dir.appendingPathComponent("sheet.png").path
        let sheetSummary = try run(EncodeJob(output: sheetPath, grid: "2x2"), frames: frames)
        XCTAssertEqual([sheetSummary.framesRead, sheetSummary.framesWritten], [3, 3])
        let sheet = try decodePNG([UInt8](try Data(contentsOf: URL(fileURLWithPath: sheetPath))))
        XCTAssertEqual([sheet.width, sheet.height], [8, 8])
        XCTAssertEqual((0..<3).map { sheet[4, 0, $0] }, (0..<3).map { frames[1][0, 0, $0] })
        XCTAssertEqual((0..<3).map { sheet[0, 4, $0] }, (0..<3).map { frames[2][0, 0, $0] })
        XCTAssertEqual((0..<3).map { sheet[7, 7, $0] }, [0, 0, 0])
    }
}
