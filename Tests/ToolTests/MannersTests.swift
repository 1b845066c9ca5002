import Foundation
import TensorStream
import XCTest

/// Issue 21: options that say the same thing in every tool, files of the wrong kind named with the fix, and
/// the mistakes that used to pass in silence.
final class MannersTests: XCTestCase {
    func shell(_ script: String, in dir: URL) throws -> ToolResult {
        try ToolRunner.shell(script, directory: dir, environment: ["SWIFT_BACKTRACE": "enable=no"])
    }

    func lines(_ result: ToolResult) -> [String] {
        String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// What a file holds; empty when it is missing.
    func text(_ dir: URL, _ name: String) -> String {
        String(decoding: (try? Data(contentsOf: dir.appendingPathComponent(name))) ?? Data(), as: UTF8.self)
    }

    /// imgs.tns (8 pictures of 32x32), m.ckpt (a tiny model trained on them), grid.png (a picture).
    func setUp(in dir: URL) throws {
        let made = try shell("""
            synth plato --n 8 --size 32 -q -o imgs.tns
            train imgs.tns --steps 2 --width 2 --z-dim 4 --batch 2 -q -o m.ckpt
            sample m.ckpt --n 2 -q | encode --grid 2x1 -q -o grid.png
            """, in: dir)
        XCTAssertEqual(made.status, 0, made.stderr)
    }

    /// A help text as one line, so a phrase split by the wrapping is still found.
    func help(_ tool: String) throws -> String {
        String(decoding: try ToolRunner.run(tool, ["--help"]).stdout, as: UTF8.self)
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    func testTheDriftBetweenToolsIsGone() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        try setUp(in: dir)
        let result = try shell("""
            score m.ckpt imgs.tns --n 4 --psi -1 -q > /dev/null; echo "score psi $?"
            train imgs.tns --steps -5 2>err-negative; echo "negative $?"
            walk m.ckpt --n 1 2>err-one > /dev/null; echo "walk $?"
            sample m.ckpt --n 2 -q 2>err-quiet | wc -c
            """, in: dir)
        XCTAssertEqual(lines(result).prefix(3), ["score psi 0", "negative 2", "walk 0"], result.stderr)
        XCTAssertGreaterThan(Int(lines(result).last?.trimmingCharacters(in: .whitespaces) ?? "") ?? 0, 6000)
        XCTAssertEqual(text(dir, "err-negative"), "train: --steps must be at least 1 (see 'train --help')\n")
        XCTAssertTrue(text(dir, "err-one").hasPrefix("walk: 1 frame of 32x32 in "), text(dir, "err-one"))
        XCTAssertEqual(text(dir, "err-quiet"), "", "sample -q")
        XCTAssertTrue(try help("walk").contains("--keys <keys> Number of random keyframes, from --seed (default: 4)."))
        let train = try help("train")
        XCTAssertTrue(train.contains("no checkerboard grid), fastgan (the few-shot model"), train)
        // The defaults the help shows are the ones a run takes: projected trains with the plain hinge and no LeCam.
        XCTAssertTrue(train.contains("(default: random-hinge; dcgan, resize, projected: hinge)"), train)
        XCTAssertTrue(train.contains("(default: 0.1; dcgan, resize, projected: 0)"), train)
        XCTAssertTrue(try help("encode").contains("-o, --output <file>"))
    }

    /// `sample imgs.tns` used to say "header length 845530134369357 is implausibly large".
    func testAFileOfTheWrongKindIsNamedWithTheFix() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        try setUp(in: dir)
        let result = try shell("""
            sample imgs.tns > /dev/null 2>err-sample; echo "sample $?"
            train grid.png -o x.ckpt 2>err-png; echo "png $?"
            train m.ckpt -o x.ckpt 2>err-ckpt; echo "ckpt $?"
            train -o x.ckpt < m.ckpt 2>err-stdin; echo "stdin $?"
            encode m.ckpt -o x.mp4 2>err-encode; echo "encode $?"
            score imgs.tns imgs.tns 2>err-score; echo "score $?"
            project m.ckpt grid.png 2>err-project > /dev/null; echo "project $?"
            walk m.ckpt --latents imgs.tns 2>err-walk > /dev/null; echo "walk $?"
            train imgs.tns --init imgs.tns -o x.ckpt 2>err-init; echo "init $?"
            ls
            """, in: dir)
        XCTAssertEqual(lines(result).prefix(9), ["sample 1", "png 1", "ckpt 1", "stdin 1", "encode 1", "score 1", "project 1",
                                                "walk 1", "init 1"], result.stderr)
        XCTAssertFalse(lines(result).contains("x.ckpt"), "nothing is written")
        XCTAssertEqual(text(dir, "err-sample"),
                       "sample: imgs.tns is an image stream, not a checkpoint: train a model from it (train imgs.tns -o m.ckpt)\n")
        XCTAssertEqual(text(dir, "err-png"), "train: grid.png is a PNG picture, not an image stream: make an image "
                       + "stream of it with ingest (ingest grid.png > imgs.tns)\n")
        XCTAssertTrue(text(dir, "err-ckpt").hasPrefix("train: m.ckpt is a checkpoint, not an image stream: train on "
                                                          + "pictures, starting from it (train imgs.tns --init m.ckpt"))
        XCTAssertTrue(text(dir, "err-stdin").hasPrefix("train: stdin is a checkpoint, not an image stream: "))
        XCTAssertTrue(text(dir, "err-encode").hasPrefix("encode: m.ckpt is a checkpoint, not an image stream: draw "
                                                            + "pictures from it with sample"))
        XCTAssertTrue(text(dir, "err-score").hasPrefix("score: imgs.tns is an image stream, not a checkpoint"))
        XCTAssertTrue(text(dir, "err-project").hasPrefix("project: grid.png is a PNG picture, not an image stream"))
        XCTAssertTrue(text(dir, "err-walk").hasPrefix("walk: imgs.tns is an image stream, not a latent stream: "
                                                          + "find its pictures' latents in a model with project"))
        XCTAssertTrue(text(dir, "err-init").hasPrefix("train: imgs.tns is an image stream, not a checkpoint"))
        for name in ["sample", "png", "ckpt", "stdin", "encode", "score", "project", "walk", "init"] {
            XCTAssertEqual(text(dir, "err-\(name)").split(separator: "\n").count, 1, name)
        }
    }

    func testMistakesThatPassedInSilence() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        try setUp(in: dir)
        let result = try shell("""
            walk m.ckpt --keys 6 --n 3 2>err-keys > /dev/null; echo "keys $?"
            walk m.ckpt --seeds 1,2,3 --n 2 2>err-seeds > /dev/null; echo "seeds $?"
            sample m.ckpt --psi 2 --n 2 2>err-psi > /dev/null; echo "psi $?"
            train imgs.tns --steps 0 2>err-zero > /dev/null; echo "zero $?"
            synth plato --n 135 --size 16 -q | encode --grid 20x20 -o sheet.png 2>err-grid; echo "grid $?"
            train imgs.tns --steps 3 --width 2 --z-dim 4 --batch 2 -q -o r.ckpt
            train imgs.tns --resume r.ckpt --steps 3 -o again.ckpt 2>err-resume; echo "resume $?"
            train imgs.tns --steps 2 --width 2 --z-dim 4 --batch 2 --seed 5 -q -o other.ckpt
            project m.ckpt imgs.tns --steps 1 -q -o z.tns
            walk other.ckpt --latents z.tns --n 8 2>err-other > /dev/null; echo "other $?"
            walk other.ckpt --latents z.tns --n 8 --force -q > /dev/null; echo "force $?"
            walk m.ckpt --latents z.tns --n 8 -q > /dev/null; echo "own $?"
            """, in: dir)
        XCTAssertEqual(lines(result), ["keys 2", "seeds 2", "psi 0", "zero 2", "grid 0", "resume 2", "other 1", "force 0",
                                       "own 0"], result.stderr)
        XCTAssertEqual(text(dir, "err-keys"), "walk: --keys 6 needs at least 6 frames, and --n 3 would skip some keys: "
                       + "give --n 6 or more, or fewer keys (see 'walk --help')\n")
        XCTAssertTrue(text(dir, "err-seeds").hasPrefix("walk: --seeds (3 seeds) needs at least 3 frames"), text(dir, "err-seeds"))
        XCTAssertTrue(text(dir, "err-psi").hasPrefix("sample: warning: --psi 2 pushes the latents away from the mean"))
        XCTAssertEqual(text(dir, "err-zero"), "train: --steps must be at least 1 (see 'train --help')\n")
        XCTAssertTrue(text(dir, "err-grid").hasPrefix("encode: warning: --grid 20x20 has 400 cells and the stream "
                                                          + "135 frames: 265 cells left empty (--grid 12x12 holds them)\n"))
        XCTAssertEqual(text(dir, "err-resume"), "train: r.ckpt is already trained to step 3, and --steps is the run's "
                       + "total (counting the steps done): give more than 3 steps to continue it (see 'train --help')\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("again.ckpt").path))
        XCTAssertTrue(text(dir, "err-other").hasPrefix("walk: z.tns holds latents projected in another checkpoint "
                                                           + "(m.ckpt), not in other.ckpt: "), text(dir, "err-other"))
    }

    /// `encode -o frames/%05d.png` makes the folder, as `train --preview` does (one file's folder must exist).
    func testEncodeMakesTheFolderOfItsOutput() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let result = try shell("""
            synth plato --n 3 --size 16 -q | encode -q -o frames/new/%05d.png && ls frames/new
            synth plato --n 1 --size 16 -q | encode -q -o missing/one.png 2>/dev/null; echo "one $?"
            touch file
            synth plato --n 1 --size 16 -q | encode -q -o file/%05d.png 2>err; echo "file $?"
            """, in: dir)
        XCTAssertEqual(lines(result), ["00001.png", "00002.png", "00003.png", "one 1", "file 1"], result.stderr)
        XCTAssertEqual(text(dir, "err"), "encode: cannot use the folder of the frames: Not a directory: file\n")
    }

    /// `ingest a.png b.png` names both pictures, one per record, and `--dedupe` names what it dropped.
    func testIngestNamesEverySourceAndEveryDuplicate() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let result = try shell("""
            synth plato --n 2 --size 32 -q | encode -q -o 'p%d.png'
            cp p1.png again.png
            ingest p1.png p2.png again.png --dedupe --size 16 -o s.tns 2>err
            """, in: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        let header = try StreamReader(path: dir.appendingPathComponent("s.tns").path).header
        let sources = try JSONSerialization.jsonObject(with: Data((header.metadata["sources"] ?? "").utf8)) as? [String]
        XCTAssertEqual(sources, ["p1.png", "p2.png"])
        XCTAssertTrue(text(dir, "err").hasPrefix("ingest: warning: dropped as a copy of p1.png: again.png\n"), text(dir, "err"))
    }

    /// `inspect` on every kind of file, as a table and as JSON; a file it cannot read is exit 1.
    func testInspectSaysWhatEachFileIs() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        try setUp(in: dir)
        let result = try shell("""
            project m.ckpt imgs.tns --steps 1 -q -o z.tns
            echo hello > notes.txt
            inspect --json m.ckpt imgs.tns z.tns grid.png notes.txt > all.json
            inspect m.ckpt > m.txt
            synth plato --n 3 --size 32 -q | inspect - > stdin.txt
            inspect m.ckpt missing.tns > /dev/null 2>err-missing; echo "missing $?"
            """, in: dir)
        XCTAssertEqual(lines(result), ["missing 1"], result.stderr)
        let all = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text(dir, "all.json").utf8)) as? [[String: Any]])
        XCTAssertEqual(all.map { $0["kind"] as? String }, ["checkpoint", "image-stream", "latent-stream", "picture", "unknown"])
        XCTAssertEqual(all[0]["steps"] as? Int, 2)
        XCTAssertEqual(all[0]["architecture"] as? String, "fastgan")
        XCTAssertEqual(all[1]["records"] as? Int, 8)
        XCTAssertEqual(all[2]["checkpoint"] as? String, "m.ckpt (the same file)")
        XCTAssertTrue((all[3]["ingest"] as? String)?.hasPrefix("1 picture of 64x64") ?? false, "\(all[3])")
        XCTAssertTrue(text(dir, "m.txt").hasPrefix("m.ckpt: a checkpoint\n  architecture  fastgan\n"), text(dir, "m.txt"))
        XCTAssertTrue(text(dir, "stdin.txt").hasPrefix("stdin: an image stream\n  records   3\n"), text(dir, "stdin.txt"))
        XCTAssertTrue(text(dir, "err-missing").hasPrefix("inspect: No such file or directory: missing.tns"), text(dir, "err-missing"))
    }
}
