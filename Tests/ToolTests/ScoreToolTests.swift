import Foundation
import XCTest

/// End to end: the release `score` binary on synth sets and a tiny trained model.
final class ScoreToolTests: XCTestCase {
    /// A folder with `real.tns` (20 plato pictures of 32 x 32) and `m.ckpt`, a tiny model trained on them.
    func setUpModel() throws -> URL {
        let dir = try ToolRunner.temporaryDirectory(self)
        let result = try ToolRunner.shell("""
            synth plato --n 20 --size 32 --seed 1 -q -o real.tns
            train real.tns --steps 3 --width 8 --z-dim 16 --batch 4 -q -o m.ckpt
            """, directory: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        return dir
    }

    func object(_ data: Data, _ file: StaticString = #filePath, _ line: UInt = #line) throws -> [String: Any] {
        let parsed = try JSONSerialization.jsonObject(with: data)
        return try XCTUnwrap(parsed as? [String: Any], "not a JSON object", file: file, line: line)
    }

    /// Points the tools at a folder without EfficientNet-Lite0's weights.
    func withoutFeatureNetwork(_ dir: URL) -> [String: String] { ["MNEMOSYNE_DATA": dir.path] }

    func testScoresACheckpointAsJSONWithSaneFigures() throws {
        let dir = try setUpModel()
        let bare = withoutFeatureNetwork(dir)
        let result = try ToolRunner.run("score", ["m.ckpt", "real.tns", "--n", "24", "--seed", "4", "--json"], directory: dir,
                                        environment: bare)
        XCTAssertEqual(result.status, 0, result.stderr)
        let score = try object(result.stdout)
        XCTAssertEqual(score["sampleCount"] as? Int, 24)
        XCTAssertEqual(score["trainingCount"] as? Int, 20)
        XCTAssertEqual(score["seed"] as? Int, 4)
        let levels = try XCTUnwrap(score["slicedWasserstein"] as? [[String: Any]])
        XCTAssertEqual(levels.compactMap { $0["height"] as? Int }, [32, 16])
        // Three steps of training draw nothing like plato: far at every level.
        for level in levels { XCTAssertGreaterThan(try XCTUnwrap(level["distance"] as? Double), 1) }
        let memorisation = try XCTUnwrap(score["memorisation"] as? [String: Any])
        XCTAssertEqual(memorisation["samples"] as? Int, 24)
        XCTAssertEqual(try XCTUnwrap(memorisation["nearCopies"] as? [Any]).count, 0)
        XCTAssertGreaterThan(try XCTUnwrap(memorisation["medianRatio"] as? Double), 0.5)
        let diversity = try XCTUnwrap(score["diversity"] as? [String: Any])
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(diversity["ratio"] as? Double), 0)
        XCTAssertGreaterThan(try XCTUnwrap(diversity["meanTrainingDistance"] as? Double), 0.05)
        XCTAssertNil(score["features"], "feature figures without the feature network")
        // The layout needs no network: always there, one level per thumbnail side, each with the own figures.
        let layout = try XCTUnwrap(score["layout"] as? [String: Any], "no layout figures")
        XCTAssertEqual(layout["neighbours"] as? Int, 3)
        let layoutLevels = try XCTUnwrap(layout["levels"] as? [[String: Any]])
        XCTAssertEqual(layoutLevels.compactMap { $0["side"] as? Int }, [8, 16])
        for level in layoutLevels {
            for key in ["precision", "recall", "trainingPrecision", "trainingRecall"] {
                XCTAssertTrue((0...1).contains(try XCTUnwrap(level[key] as? Double, key)), key)
            }
            // Three steps of training draw no plato layout: farther from the pictures than they are from each other.
            XCTAssertGreaterThan(try XCTUnwrap(level["nearestNeighbourRatio"] as? Double),
                                 try XCTUnwrap(level["trainingNearestNeighbourRatio"] as? Double))
        }

        // The samples are those `sample --n --seed` draws: scoring them as a stream gives the same figures.
        let piped = try ToolRunner.shell("sample m.ckpt --n 24 --seed 4 | score --real real.tns --fake - --seed 4 --json",
                                         directory: dir, environment: bare)
        XCTAssertEqual(piped.status, 0, piped.stderr)
        XCTAssertEqual(String(decoding: piped.stdout, as: UTF8.self), String(decoding: result.stdout, as: UTF8.self))

        // The same arguments, the same bytes; another seed, other samples.
        let again = try ToolRunner.run("score", ["m.ckpt", "real.tns", "--n", "24", "--seed", "4", "--json"], directory: dir,
                                       environment: bare)
        XCTAssertEqual(again.stdout, result.stdout)
        let other = try ToolRunner.run("score", ["m.ckpt", "real.tns", "--n", "24", "--seed", "5", "--json"], directory: dir,
                                       environment: bare)
        XCTAssertNotEqual(other.stdout, result.stdout)
    }

    /// 30 plato pictures, 40 more and 40 butterflies, all 64 × 64.
    func setUpSets() throws -> URL {
        let dir = try ToolRunner.temporaryDirectory(self)
        let setUp = try ToolRunner.shell("""
            synth plato --n 30 --size 64 --seed 1 -q -o plato.tns
            synth plato --n 40 --size 64 --seed 2 -q -o more-plato.tns
            synth butterfly --n 40 --size 64 --seed 2 -q -o butterflies.tns
            """, directory: dir)
        XCTAssertEqual(setUp.status, 0, setUp.stderr)
        return dir
    }

    func testTableOfTwoStreamsTellsAlikeFromUnlike() throws {
        let dir = try setUpSets()
        let bare = withoutFeatureNetwork(dir)
        func average(_ fake: String) throws -> Double {
            let result = try ToolRunner.run("score", ["--real", "plato.tns", "--fake", fake, "--json"], directory: dir,
                                            environment: bare)
            XCTAssertEqual(result.status, 0, result.stderr)
            return try XCTUnwrap(try object(result.stdout)["slicedWassersteinAverage"] as? Double)
        }
        XCTAssertLessThan(try average("more-plato.tns") * 3, try average("butterflies.tns"))
        func layoutRecall(_ fake: String) throws -> Double {
            let result = try ToolRunner.run("score", ["--real", "plato.tns", "--fake", fake, "--json"], directory: dir,
                                            environment: bare)
            let layout = try XCTUnwrap(try object(result.stdout)["layout"] as? [String: Any])
            return try XCTUnwrap((layout["levels"] as? [[String: Any]])?.first?["recall"] as? Double)
        }
        XCTAssertGreaterThan(try layoutRecall("more-plato.tns"), 0.5)
        XCTAssertEqual(try layoutRecall("butterflies.tns"), 0)

        let table = try ToolRunner.shell("score --real - --fake butterflies.tns < plato.tns", directory: dir, environment: bare)
        XCTAssertEqual(table.status, 0, table.stderr)
        let text = String(decoding: table.stdout, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("40 samples (butterflies.tns) against 30 training pictures (stdin), 64x64, seed 0\n"), text)
        for row in ["  64x64 ", "  32x32 ", "  16x16 ", "  average ", "\nlayout on thumbnails (k = 3) ", "  8x8 recall ",
                    "  16x16 nearest-neighbour ratio ", "  near-copies ", "  spread ratio "] {
            XCTAssertTrue(text.contains(row), "no \(row) in\n\(text)")
        }
        // Without the feature network the table says what the feature measures need, and still succeeds.
        XCTAssertTrue(text.hasSuffix("\nfeature measures (Fréchet distance, KID, precision, recall, near-copies in "
                                     + "features) need the feature network: run scripts/setup\n"), text)
        XCTAssertTrue(table.stderr.hasPrefix("score: scored 40 samples against 30 training pictures in "), table.stderr)
    }

    /// With EfficientNet-Lite0 installed (scripts/setup fetches it), the table and JSON gain the feature
    /// measures, and they too tell more plato from butterflies.
    func testFeatureMeasuresWithTheFeatureNetwork() throws {
        try ToolRunner.requireFeatureNetwork()
        let dir = try setUpSets()
        func features(_ fake: String) throws -> [String: Any] {
            let result = try ToolRunner.run("score", ["--real", "plato.tns", "--fake", fake, "--json"], directory: dir)
            XCTAssertEqual(result.status, 0, result.stderr)
            return try XCTUnwrap(try object(result.stdout)["features"] as? [String: Any], "no feature measures")
        }
        let (alike, unlike) = (try features("more-plato.tns"), try features("butterflies.tns"))
        func kid(_ score: [String: Any]) throws -> Double {
            try XCTUnwrap((score["kernelInceptionDistance"] as? [String: Any])?["mean"] as? Double)
        }
        XCTAssertLessThan(try XCTUnwrap(alike["frechetDistance"] as? Double), try XCTUnwrap(unlike["frechetDistance"] as? Double))
        XCTAssertLessThan(try kid(alike), try kid(unlike))
        XCTAssertGreaterThan(try XCTUnwrap(alike["recall"] as? Double), try XCTUnwrap(unlike["recall"] as? Double))
        let table = try ToolRunner.run("score", ["--real", "plato.tns", "--fake", "butterflies.tns"], directory: dir)
        XCTAssertEqual(table.status, 0, table.stderr)
        let text = String(decoding: table.stdout, as: UTF8.self)
        XCTAssertFalse(text.contains("need the feature network"))
        // Wide cells keep their columns apart: the samples' KID, then the training pictures' own.
        XCTAssertNotNil(text.range(of: #"\n  KID x1000 +-?[0-9.]+ ± [0-9.]+ {2,}-?[0-9.]+ ± [0-9.]+\n"#, options: .regularExpression), text)
    }

    func testMismatchesAreOneLineErrors() throws {
        let dir = try setUpModel()
        let setUp = try ToolRunner.shell("synth plato --n 6 --size 64 -q -o big.tns && synth plato --n 1 --size 32 -q -o one.tns",
                                         directory: dir)
        XCTAssertEqual(setUp.status, 0, setUp.stderr)
        let cases: [([String], Int32, String)] = [
            (["--real", "real.tns", "--fake", "big.tns"], 1,
             "score: pictures differ in size: training 32x32, samples 64x64: real.tns, big.tns"),
            (["m.ckpt", "big.tns"], 1, "score: the checkpoint draws 32x32 pictures, the training pictures are 64x64: big.tns"),
            (["--real", "one.tns", "--fake", "real.tns"], 1, "score: training: 1 picture, at least 4 are needed: one.tns"),
            (["--real", "-", "--fake", "-"], 2, "score: only one of --real and --fake can be stdin (see 'score --help')"),
            (["--real", "real.tns"], 2, "score: --real and --fake go together (see 'score --help')"),
            (["m.ckpt", "real.tns", "--fake", "real.tns"], 2, "score: --real and --fake go together (see 'score --help')"),
            (["--real", "real.tns", "--fake", "real.tns", "--n", "9"], 2,
             "score: --n, --seeds and --psi draw from a checkpoint; --fake gives the samples (see 'score --help')"),
            (["m.ckpt", "real.tns", "--n", "3"], 2, "score: --n must be from 4 to 4096 (see 'score --help')"),
            (["real.tns", "real.tns"], 1, ""),
        ]
        for (arguments, status, message) in cases {
            let result = try ToolRunner.run("score", arguments, directory: dir)
            XCTAssertEqual(result.status, status, "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "\(arguments): \(result.stderr)")
            if !message.isEmpty { XCTAssertEqual(result.stderr, message + "\n", "\(arguments)") }
            XCTAssertTrue(result.stdout.isEmpty, "\(arguments)")
        }
        let garbage = try ToolRunner.run("score", ["m.ckpt"], stdin: Data("this is not a tensor stream".utf8), directory: dir)
        XCTAssertEqual(garbage.status, 1)
        XCTAssertEqual(garbage.stderr, "score: not a tensor stream (bad magic): stdin header\n")
    }
}
