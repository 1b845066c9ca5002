import Foundation
import XCTest

/// The gallery Makefile at its tiny profile: a piece is a chain of real files, and a changed parameter
/// rebuilds it from the stage that uses it, no earlier.
final class GalleryMakefileTests: XCTestCase {
    private var out: URL!

    override func setUpWithError() throws {
        out = try ToolRunner.temporaryDirectory(self)
    }

    /// Runs make on the gallery with `arguments` from `directory`; its exit status and what it printed.
    private func run(_ arguments: String, from directory: URL? = nil) throws -> (status: Int32, output: String) {
        let makefile = ToolRunner.packageRoot.appendingPathComponent("pipelines").path
        let result = try ToolRunner.shell("make -C '\(makefile)' PROFILE=tiny OUT='\(out.path)' "
            + "MNEMOSYNE_BIN='\(ToolRunner.binDirectory.path)' \(arguments) 2>&1", directory: directory)
        return (result.status, String(decoding: result.stdout, as: UTF8.self))
    }

    /// Runs make as `run` does and expects success; returns the stages that ran, as "piece: stage" lines.
    private func make(_ arguments: String, from directory: URL? = nil) throws -> [String] {
        let (status, output) = try run(arguments, from: directory)
        XCTAssertEqual(status, 0, output)
        return output.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("gallery: ") else { return nil }
            let parts = line.dropFirst("gallery: ".count).split(separator: " ")
            guard parts.count >= 2, parts[0] != "profile", parts[0] != "output" else { return nil }
            let stage = parts[1].hasSuffix(".mp4") ? "video" : parts[1].hasSuffix(".png") ? "sheet" : String(parts[1])
            return "\(parts[0]) \(stage)"
        }
    }

    func testAChangedParameterRebuildsFromItsStage() throws {
        XCTAssertEqual(try make("ocean"), ["ocean: pictures", "ocean: training", "ocean: walking", "ocean: video", "ocean: sheet"])
        for file in ["ocean/pictures.tns", "ocean/model.ckpt", "ocean/walk.tns", "ocean.mp4", "ocean-sheet.png"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "no \(file)")
        }
        XCTAssertEqual(try make("ocean"), [], "an up-to-date piece is left alone")
        XCTAssertEqual(Set(try make("ocean ocean.psi=0.5")), ["ocean: walking", "ocean: video", "ocean: sheet"])
        XCTAssertEqual(try make("ocean ocean.psi=0.5 ocean.scale=3"), ["ocean: video"])
        XCTAssertEqual(Set(try make("ocean ocean.psi=0.5 ocean.scale=3 ocean.steps=12")),
                       ["ocean: training", "ocean: walking", "ocean: video", "ocean: sheet"])
        XCTAssertEqual(try make("ocean ocean.psi=0.5 ocean.scale=3 ocean.steps=12"), [])
    }

    func testDavidFineTunesPlatoAndParallelRunsAreSafe() throws {
        let stages = try make("-j2 david butterfly")
        XCTAssertEqual(Set(stages.filter { $0.hasPrefix("plato") }), ["plato: pictures", "plato: training"],
                       "david needs plato's model, not its video")
        XCTAssertTrue(stages.contains("david: video") && stages.contains("butterfly: video"))
        let params = try String(contentsOf: out.appendingPathComponent("david/train.params"), encoding: .utf8)
        XCTAssertTrue(params.contains("init=\(out.path)/plato/model.ckpt"), params)
        // Retraining plato makes david out of date.
        XCTAssertEqual(Set(try make("david plato.steps=12").filter { $0.hasSuffix("training") }),
                       ["plato: training", "david: training"])
        XCTAssertEqual(try make("david plato.steps=12 david.width=4"), [],
                       "a fine-tuned model keeps its parent's width, so a width of its own changes nothing")
    }

    func testADryRunChangesNothingAndCleanThenBuildWorks() throws {
        XCTAssertEqual(try make("ocean").count, 5)
        let walkParams = out.appendingPathComponent("ocean/walk.params")
        let before = try Data(contentsOf: walkParams)
        let (status, dryRun) = try run("-n ocean ocean.psi=0.5")
        XCTAssertEqual(status, 0, dryRun)
        XCTAssertTrue(dryRun.contains("/walk ") && dryRun.contains("--psi 0.5"), "the dry run shows the walk to redo: \(dryRun)")
        XCTAssertFalse(dryRun.contains("/train "), "and not the training it would keep: \(dryRun)")
        XCTAssertEqual(try Data(contentsOf: walkParams), before, "a dry run writes no parameters")
        XCTAssertEqual(try make("ocean"), [], "so the next real run has nothing to redo")
        XCTAssertEqual(try make("-j2 clean ocean").count, 5, "clean, then the whole piece again")
    }

    func testOwnPicturesComeFromAFolderBesideTheCaller() throws {
        let caller = try ToolRunner.temporaryDirectory(self)
        let folder = caller.appendingPathComponent("mine/ocean")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let pictures = try ToolRunner.shell("synth ocean --n 6 --size 40 --seed 3 -q | encode -q -o '\(folder.path)/p%03d.png'")
        XCTAssertEqual(pictures.status, 0, pictures.stderr)

        let (status, output) = try run("ocean tectonics DATA=mine", from: caller)
        XCTAssertEqual(status, 0, output)
        let params = try String(contentsOf: out.appendingPathComponent("ocean/pictures.params"), encoding: .utf8)
        XCTAssertTrue(params.hasPrefix("ingest \(caller.path)/mine/ocean "), params)
        XCTAssertTrue(output.contains("ingest: kept 6 from 6 files"), output)
        XCTAssertTrue(output.contains("gallery: tectonics: pictures (synthetic: there is no \(caller.path)/mine/tectonics/)"), output)

        let missing = try run("ocean DATA=not-there", from: caller)
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.output.contains("DATA: no such folder: not-there"), missing.output)
    }
}
