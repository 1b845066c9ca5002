import Foundation
import Perception
import XCTest

/// The README is a test: every ```sh block runs, in order, in one empty folder with the release binaries
/// on PATH, as a newcomer would type them. Two reductions keep it to seconds, and the README says so:
/// `--steps N` becomes `--steps 2`, and the Makefile runs with PROFILE=tiny (its outputs in the folder).
/// ```bash blocks are what CI itself runs (`scripts/test`); they must contain nothing else.
final class ReadmeTests: XCTestCase {
    private var readme: String {
        get throws { try String(contentsOf: ToolRunner.packageRoot.appendingPathComponent("README.md"), encoding: .utf8) }
    }

    /// The lines of every fenced block tagged `tag`, block by block.
    private func blocks(_ tag: String, in text: String) -> [[String]] {
        var result: [[String]] = [], current: [String]?
        for line in text.components(separatedBy: "\n") {
            if let block = current {
                if line.hasPrefix("```") {
                    result.append(block)
                    current = nil
                } else {
                    current = block + [line]
                }
            } else if line == "```" + tag {
                current = []
            }
        }
        return result
    }

    func testShellBlocksRunAsWritten() throws {
        let commands = blocks("sh", in: try readme).flatMap { $0 }
        XCTAssertGreaterThan(commands.count, 15, "the README lost its examples")
        let dir = try ToolRunner.temporaryDirectory(self)
        // `make -C pipelines` as from the repository's top folder.
        try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("pipelines"),
                                                   withDestinationURL: ToolRunner.packageRoot.appendingPathComponent("pipelines"))
        // A resumed run must go past the run it continues.
        let reduced = commands.map {
            $0.replacingOccurrences(of: #"--steps [0-9]+"#, with: $0.contains("--resume") ? "--steps 3" : "--steps 2",
                                    options: .regularExpression)
        }
        let script = """
            set -e
            export PROFILE=tiny OUT="$PWD/gallery-out" MNEMOSYNE_BIN='\(ToolRunner.binDirectory.path)'
            \(reduced.joined(separator: "\n"))
            """
        // The tour goes to ~/mnemosyne-tour: a home of its own here, with the feature network's weights where
        // the tools would find them at home.
        let checkoutBefore = try checkoutStatus()
        let weights = URL(fileURLWithPath: EfficientNetLite0.defaultWeightsPath()).deletingLastPathComponent().path
        let result = try ToolRunner.shell(script, directory: dir, environment: [
            "HOME": dir.path, "MNEMOSYNE_DATA": ProcessInfo.processInfo.environment["MNEMOSYNE_DATA"] ?? weights])
        XCTAssertEqual(result.status, 0, "README commands failed:\n\(result.stderr.suffix(3000))")
        guard result.status == 0 else { return }
        XCTAssertEqual(try checkoutStatus(), checkoutBefore, "the README's commands wrote into the checkout")
        let tour = dir.appendingPathComponent("mnemosyne-tour")

        // PNG sequences count from 1, as ffmpeg's do.
        let files = ["imgs/00001.png", "imgs/00135.png", "plato.ckpt", "grid.png", "out.mp4", "david/00015.png",
                     "david.ckpt", "david.mp4", "david-score.json", "echo.ckpt", "imgs.tns", "named.png", "loop.gif",
                     "my-pictures/ocean/00040.png", "memories.tns", "found.png", "memories.mp4", "song.mp3", "song.mp4",
                     "song.webm", "song.tsv", "run.ckpt", "longer.ckpt"]
        for file in files {
            XCTAssertTrue(FileManager.default.fileExists(atPath: tour.appendingPathComponent(file).path), "no \(file)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: tour.appendingPathComponent("imgs/00136.png").path))
        // The resume command continues the run it names, from its pictures.
        let resumed = try String(decoding: Data(contentsOf: tour.appendingPathComponent("longer.ckpt")).prefix(4096), as: UTF8.self)
        XCTAssertTrue(resumed.contains(#""step":"3""#), "longer.ckpt is not the run resumed to step 3")
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: tour.appendingPathComponent("previews").path).isEmpty)
        XCTAssertEqual(try probe(tour.appendingPathComponent("out.mp4")), "h264,256,256,300", "the first video is upscaled")
        XCTAssertEqual(try probe(tour.appendingPathComponent("david.mp4")), "h264,256,256,300")
        // 12 seconds of sound at 30 fps, with the sound beside the frames.
        XCTAssertEqual(try probe(tour.appendingPathComponent("song.mp4")), "h264,64,64,360")
        let expected: [(String, [String])] = [("song.mp4", ["h264", "aac"]), ("song.webm", ["vp9", "opus"])]
        for (video, codecs) in expected {
            let streams = try ToolRunner.shell("ffprobe -v error -show_entries stream=codec_name -of csv=p=0 \(video)",
                                               directory: tour)
            XCTAssertEqual(String(decoding: streams.stdout, as: UTF8.self).split(separator: "\n").map(String.init), codecs)
        }
        // The last block cleans the gallery's outputs away.
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("gallery-out").path))
    }

    func testBashBlocksAreOnlyWhatCIRuns() throws {
        let lines = blocks("bash", in: try readme).flatMap { $0 }
        XCTAssertEqual(lines, ["scripts/test"])
        let ci = try String(contentsOf: ToolRunner.packageRoot.appendingPathComponent(".ci/run"), encoding: .utf8)
        XCTAssertTrue(ci.contains("scripts/test"))
    }

    func testEveryToolIsShownInTheTour() throws {
        let commands = blocks("sh", in: try readme).flatMap { $0 }.joined(separator: "\n")
        for tool in ["ingest", "synth", "train", "sample", "walk", "encode", "score", "project", "inspect", "make -C pipelines"] {
            XCTAssertTrue(commands.contains(tool), "no example of \(tool)")
        }
        // The Makefile's one setting outside its parameters is documented where the gallery is.
        XCTAssertTrue(try readme.contains("`MNEMOSYNE_BIN=FOLDER` uses the tools in that folder"))
        // The two pipelines of the design card, verbatim.
        XCTAssertTrue(commands.contains("ingest imgs/ | train --steps 2000 > plato.ckpt"))
        XCTAssertTrue(commands.contains("walk plato.ckpt --n 300 | encode --scale 4 > out.mp4"))
        XCTAssertTrue(commands.contains("walk plato.ckpt --audio song.mp3 --fps 30 | encode --audio song.mp3 -o song.mp4"))
    }

    /// What git sees in the checkout, ignored files included: the README's commands must leave it as it was.
    private func checkoutStatus() throws -> String {
        let result = try ToolRunner.shell("git -C '\(ToolRunner.packageRoot.path)' status --porcelain --ignored")
        return String(decoding: result.stdout, as: UTF8.self)
    }

    /// `codec,width,height,frames` of a video's first stream.
    private func probe(_ video: URL) throws -> String {
        let result = try ToolRunner.shell("ffprobe -v error -count_frames -select_streams v:0 "
            + "-show_entries stream=codec_name,width,height,nb_read_frames -of csv=p=0 '\(video.path)'")
        return String(decoding: result.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
