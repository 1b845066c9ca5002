import Foundation
import XCTest

/// The gallery Makefile at its tiny profile: a piece is a chain of real files, and a changed parameter
/// rebuilds it from the stage that uses it, no earlier.
final class GalleryMakefileTests: XCTestCase {
    private var out: URL!

    override func setUpWithError() throws {
        out = try ToolRunner.temporaryDirectory(self)
    }

    /// Runs make on the gallery with `arguments`; returns the stages that ran, as "piece: stage" lines.
    private func make(_ arguments: String) throws -> [String] {
        let makefile = ToolRunner.packageRoot.appendingPathComponent("pipelines").path
        let result = try ToolRunner.shell("make -C '\(makefile)' PROFILE=tiny OUT='\(out.path)' "
            + "MNEMOSYNE_BIN='\(ToolRunner.binDirectory.path)' \(arguments) 2>&1")
        let output = String(decoding: result.stdout, as: UTF8.self)
        XCTAssertEqual(result.status, 0, output)
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
    }
}
