import Foundation
import XCTest

/// What every tool promises (../shared/design.md): --help with an example pipeline and exit 0,
/// usage mistakes as one line and exit 2, runtime errors as one line naming the input and exit 1.
final class ConventionsTests: XCTestCase {
    static let tools = ["ingest", "encode", "train", "sample", "walk", "synth", "score", "project", "inspect"]

    func testHelpShowsAnExamplePipelineAndExitsZero() throws {
        for tool in Self.tools {
            let help = try ToolRunner.run(tool, ["--help"])
            XCTAssertEqual(help.status, 0, "\(tool) --help: \(help.stderr)")
            let text = String(decoding: help.stdout, as: UTF8.self)
            XCTAssertTrue(text.contains("USAGE"), "\(tool) --help has no usage section")
            XCTAssertTrue(text.contains("|") || text.contains(">"), "\(tool) --help shows no example pipeline")
        }
    }

    /// argument-parser wraps help to lines of at most 79 characters; prose written with longer lines comes out ragged
    /// (a full line, then a stub of a few words, then a full line again).
    func testHelpProseIsWrappedOnce() throws {
        for tool in Self.tools {
            let text = String(decoding: try ToolRunner.run(tool, ["--help"]).stdout, as: UTF8.self)
            let overview = text.components(separatedBy: "\nUSAGE:")[0]
            for paragraph in overview.components(separatedBy: "\n\n") {
                let lines = paragraph.split(separator: "\n").filter { !$0.hasPrefix(" ") }
                for (line, next) in zip(lines, lines.dropFirst()) where line.count + 1 + (next.split(separator: " ").first?.count ?? 0) < 80 {
                    XCTFail("\(tool) --help: a line breaks early: '\(line)' / '\(next)'")
                }
            }
        }
    }

    /// Binary to a terminal is refused (as gzip does), and so is waiting for a stream typed on one; script(1)
    /// gives each tool a terminal for stdin, stdout and stderr.
    func testNoToolWritesBinaryToOrReadsAStreamFromATerminal() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let setUp = try ToolRunner.shell("synth ocean --n 4 --size 32 -q -o pictures.tns && "
            + "train pictures.tns --steps 1 --width 2 --z-dim 4 --batch 2 -q -o model.ckpt", directory: dir)
        XCTAssertEqual(setUp.status, 0, setUp.stderr)
        let writers = ["ingest pictures.tns", "encode pictures.tns", "train pictures.tns --steps 1", "sample model.ckpt",
                       "walk model.ckpt --n 2", "synth ocean --n 1", "project model.ckpt pictures.tns --steps 1"]
        let readers = ["encode -o out.mp4", "train --steps 1 -o out.ckpt", "score model.ckpt"]
        for command in writers + readers {
            let result = try ToolRunner.shell("script -qec '\(command)' /dev/null", directory: dir)
            let screen = String(decoding: result.stdout, as: UTF8.self)
            let tool = command.split(separator: " ")[0]
            XCTAssertEqual(result.status, 2, "\(command): \(screen)")
            let expected = writers.contains(command) ? "\(tool): refusing to write " : "\(tool): expected a tensor stream on stdin"
            XCTAssertTrue(screen.hasPrefix(expected), "\(command): \(screen.debugDescription)")
            XCTAssertEqual(screen.split(separator: "\n").count, 1, "\(command): \(screen.debugDescription)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["model.ckpt", "pictures.tns"])
    }

    /// The options declared once in ToolSupport: every tool writes to `-o` or `--output`, is silent with `-q`,
    /// and says the version its checkpoints record.
    func testEveryToolTakesTheSharedOptions() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let setUp = try ToolRunner.shell("synth ocean --n 4 --size 32 -q -o pictures.tns && "
            + "train pictures.tns --steps 1 --width 2 --z-dim 4 --batch 2 -q -o model.ckpt && "
            + "encode pictures.tns -q -o picture.png", directory: dir)
        XCTAssertEqual(setUp.status, 0, setUp.stderr)
        let runs = [
            "ingest": "ingest picture.png", "encode": "encode pictures.tns --format y4m",
            "train": "train pictures.tns --steps 1 --width 2 --z-dim 4 --batch 2", "sample": "sample model.ckpt --n 2",
            "walk": "walk model.ckpt --n 2", "synth": "synth ocean --n 1", "score": "score model.ckpt pictures.tns --n 4",
            "project": "project model.ckpt pictures.tns --steps 1", "inspect": "inspect model.ckpt pictures.tns",
        ]
        XCTAssertEqual(Set(runs.keys), Set(Self.tools))
        var versions: Set<String> = []
        for tool in Self.tools {
            for (flag, quiet) in [("-o", "-q"), ("--output", "--quiet")] {
                let out = "\(tool)\(flag).out"
                let result = try ToolRunner.shell("\(runs[tool]!) \(flag) \(out) \(quiet)", directory: dir)
                XCTAssertEqual(result.status, 0, "\(tool) \(flag): \(result.stderr)")
                XCTAssertTrue(result.stdout.isEmpty, "\(tool) \(flag) wrote to stdout")
                XCTAssertEqual(result.stderr, "", "\(tool) \(quiet) is not quiet")
                let written = try Data(contentsOf: dir.appendingPathComponent(out))
                XCTAssertFalse(written.isEmpty, "\(tool) \(flag) wrote nothing")
            }
            let version = try ToolRunner.run(tool, ["--version"])
            XCTAssertEqual(version.status, 0, "\(tool) --version: \(version.stderr)")
            versions.insert(String(decoding: version.stdout, as: UTF8.self))
            let help = String(decoding: try ToolRunner.run(tool, ["--help"]).stdout, as: UTF8.self)
            for option in ["-o, --output <file>", "-q, --quiet", "--version"] {
                XCTAssertTrue(help.contains(option), "\(tool) --help does not show \(option)")
            }
        }
        // One version, the one a checkpoint records.
        let checkpoint = [UInt8](try Data(contentsOf: dir.appendingPathComponent("model.ckpt")))
        let length = Int(checkpoint[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        let header = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(checkpoint[8..<(8 + length)])) as? [String: Any])
        let recorded = try XCTUnwrap((header["__metadata__"] as? [String: String])?["tool_version"])
        XCTAssertEqual(versions, ["mnemosyne \(recorded)\n"])
    }

    /// A tool that is not built fails the test that needs it: a suite that skipped them all would pass having
    /// tested nothing.
    func testAMissingToolFailsRatherThanSkips() {
        XCTAssertThrowsError(try ToolRunner.path(of: "no-such-tool")) { error in
            XCTAssertTrue(error is ToolRunner.BinaryProblem, "\(error)")
        }
    }

    func testUnknownOptionIsAOneLineUsageErrorWithExitTwo() throws {
        for tool in Self.tools {
            let result = try ToolRunner.run(tool, ["--no-such-option"])
            XCTAssertEqual(result.status, 2, "\(tool): \(result.stderr)")
            let lines = result.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, "\(tool): \(result.stderr)")
            XCTAssertTrue(lines.first?.hasPrefix("\(tool): ") ?? false, "\(tool): \(result.stderr)")
            XCTAssertTrue(result.stdout.isEmpty)
        }
    }

    func testGarbageOnStdinIsAOneLineRuntimeErrorWithExitOne() throws {
        for tool in ["encode", "train"] {
            let result = try ToolRunner.run(tool, [], stdin: Data("this is not a tensor stream".utf8))
            XCTAssertEqual(result.status, 1, "\(tool): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").last, "\(tool): not a tensor stream (bad magic): stdin header")
        }
    }
}
