import Foundation
import TensorStream
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
            let stage = parts[1].hasSuffix("-training.mp4") ? "timelapse" : parts[1].hasSuffix(".mp4") ? "video"
                : parts[1].hasSuffix(".png") ? "sheet" : parts[1].hasSuffix(".html") ? "page"
                : parts[1].hasSuffix("-score.json") ? "score" : String(parts[1])
            return "\(parts[0]) \(stage)"
        }
    }

    func testAChangedParameterRebuildsFromItsStage() throws {
        XCTAssertEqual(try make("ocean"), ["ocean: pictures", "ocean: training", "ocean: walking", "ocean: video",
                                           "ocean: sheet", "ocean: timelapse", "ocean: score"])
        for file in ["ocean/pictures.tns", "ocean/model.ckpt", "ocean/walk.tns", "ocean.mp4", "ocean-sheet.png",
                     "ocean-training.mp4", "ocean-score.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "no \(file)")
        }
        XCTAssertEqual(try make("ocean"), [], "an up-to-date piece is left alone")
        XCTAssertEqual(Set(try make("ocean ocean.psi=0.5")), ["ocean: walking", "ocean: video", "ocean: sheet"])
        XCTAssertEqual(try make("ocean ocean.psi=0.5 ocean.scale=3"), ["ocean: video"])
        XCTAssertEqual(Set(try make("ocean ocean.psi=0.5 ocean.scale=3 ocean.steps=12")),
                       ["ocean: training", "ocean: walking", "ocean: video", "ocean: sheet", "ocean: timelapse", "ocean: score"])
        XCTAssertEqual(try make("ocean ocean.psi=0.5 ocean.scale=3 ocean.steps=12"), [])
    }

    /// `make ocean ocean.psy=0.6` used to build ocean as if the parameter had not been given.
    func testAMisspelledParameterIsNamed() throws {
        let (status, output) = try run("-n ocean ocean.psy=0.6 oceam.psi=0.6 ocean.psi=0.6")
        XCTAssertEqual(status, 0, output)
        let warnings = output.split(separator: "\n").filter { $0.contains("so it is ignored") }
        XCTAssertEqual(warnings.count, 2, output)
        XCTAssertTrue(warnings.contains { $0.contains("ocean.psy: a piece has no parameter 'psy', so it is ignored") }, output)
        XCTAssertTrue(warnings.contains { $0.contains("oceam.psi: there is no piece 'oceam', so it is ignored") }, output)
        // Every parameter the pieces set is known.
        let known = try run("-n ocean ocean.steps=3 ocean.through=2 david.init=x plato.soundtrack=y universe.audio=synth")
        XCTAssertFalse(known.output.contains("so it is ignored"), known.output)
    }

    /// A piece's own coverage options replace the profile's COVERAGE for its training, and the others keep
    /// the profile's (the default profile's universe keeps its stars at perceptual weight 0.1).
    func testAPiecesCoverageOptionsReplaceTheProfiles() throws {
        let (status, dryRun) = try run("-n ocean planet ocean.coverage='--perceptual 0.2 --candidates 4' COVERAGE='--candidates 3'")
        XCTAssertEqual(status, 0, dryRun)
        let trainings = dryRun.split(separator: "\n").filter { $0.contains("/train ") }
        XCTAssertEqual(trainings.count, 2, dryRun)
        XCTAssertTrue(trainings.contains { $0.contains("ocean/pictures.tns") && $0.contains("--perceptual 0.2 --candidates 4")
            && !$0.contains("--candidates 3") }, dryRun)
        XCTAssertTrue(trainings.contains { $0.contains("planet/pictures.tns") && $0.contains("--candidates 3")
            && !$0.contains("--perceptual") }, dryRun)
        let universe = try run("-n universe")
        XCTAssertTrue(universe.output.contains("--perceptual 0.1"), universe.output)
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

    /// david sets `david.through`: its walk goes through its own pictures, projected in a stage of its own.
    func testAPieceWithThroughWalksThroughItsOwnPictures() throws {
        let stages = try make("david")
        XCTAssertTrue(stages.contains("david: projecting"), "\(stages)")
        XCTAssertFalse(stages.contains("plato: projecting"), "plato walks through random latents")
        let memories = try StreamReader(from: MemorySource([UInt8](try Data(contentsOf: out.appendingPathComponent("david/memories.tns")))))
        XCTAssertEqual(memories.header.metadata["kind"], "latent")
        var count = 0
        while try memories.nextFloats() != nil { count += 1 }
        XCTAssertEqual(count, 8, "one latent per David picture of the tiny profile")
        let walk = try String(contentsOf: out.appendingPathComponent("david/walk.params"), encoding: .utf8)
        XCTAssertTrue(walk.contains("through=3 hold=2"), walk)
        // The walk's parameters redo the walk, the projection's redo the projection too.
        XCTAssertEqual(Set(try make("david david.through=2")), ["david: walking", "david: video"])
        XCTAssertEqual(Set(try make("david david.through=2 PROJECT_STEPS=3")), ["david: projecting", "david: walking", "david: video"])
    }

    func testADryRunChangesNothingAndCleanThenBuildWorks() throws {
        XCTAssertEqual(try make("ocean").count, 7)
        let walkParams = out.appendingPathComponent("ocean/walk.params")
        let before = try Data(contentsOf: walkParams)
        let (status, dryRun) = try run("-n ocean ocean.psi=0.5")
        XCTAssertEqual(status, 0, dryRun)
        XCTAssertTrue(dryRun.contains("/walk ") && dryRun.contains("--psi 0.5"), "the dry run shows the walk to redo: \(dryRun)")
        XCTAssertFalse(dryRun.contains("/train "), "and not the training it would keep: \(dryRun)")
        XCTAssertEqual(try Data(contentsOf: walkParams), before, "a dry run writes no parameters")
        XCTAssertEqual(try make("ocean"), [], "so the next real run has nothing to redo")
        XCTAssertEqual(try make("-j2 clean ocean").count, 7, "clean, then the whole piece again")
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

    /// `DATA=d` where `d/ocean` is a link to a folder, or a folder of links to pictures: the listing follows
    /// them (it used to hash an empty listing, d41d8cd98f00b204, so a new picture rebuilt nothing).
    func testLinkedPicturesAreListedSoANewOneRebuilds() throws {
        let caller = try ToolRunner.temporaryDirectory(self)
        let made = try ToolRunner.shell("""
            mkdir -p real/ocean files/ocean linked
            synth ocean --n 3 --size 40 -q | encode -q -o real/ocean/p%d.png
            ln -s "$PWD/real/ocean" linked/ocean
            for f in real/ocean/*.png; do ln -s "$PWD/$f" files/ocean/; done
            """, directory: caller)
        XCTAssertEqual(made.status, 0, made.stderr)
        func listing(_ data: String) throws -> String {
            let (status, output) = try run("-s DATA=\(data) print-PROFILE", from: caller)
            XCTAssertEqual(status, 0, output)
            let params = try String(contentsOf: out.appendingPathComponent("ocean/pictures.params"), encoding: .utf8)
            return params.components(separatedBy: "listing=").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        }
        let before = try listing("real")
        for data in ["linked", "files"] {
            let before = try listing(data)
            XCTAssertNotEqual(before, "d41d8cd98f00b204", "\(data): an empty listing")
            XCTAssertEqual(before, try listing("real"), "\(data): the same pictures, the same listing")
        }
        let added = try ToolRunner.shell("synth ocean --n 1 --size 40 --seed 9 -q | encode -q -o real/ocean/new.png && "
            + "ln -s \"$PWD/real/ocean/new.png\" files/ocean/", directory: caller)
        XCTAssertEqual(added.status, 0, added.stderr)
        let afterLinked = try listing("linked"), afterFiles = try listing("files")
        XCTAssertEqual(afterLinked, afterFiles)
        XCTAssertEqual(afterLinked, try listing("real"), "a new picture changes every listing alike")
        XCTAssertNotEqual(afterLinked, before, "a new picture is a new listing")
    }

    /// A page of nothing built says how to build a piece into it, with the profile and folder it was made with,
    /// and claims no room it does not show.
    func testAnEmptyPageGivesTheCommandItWasBuiltWith() throws {
        XCTAssertEqual(try make("site"), ["site: page"])
        let page = try String(contentsOf: out.appendingPathComponent("site/index.html"), encoding: .utf8)
        XCTAssertTrue(page.contains("<code>make -C pipelines PROFILE=tiny OUT=\(out.path) ocean site</code>"), page)
        XCTAssertFalse(page.contains("Plato and David"), "the page has no Plato room")
        XCTAssertFalse(page.contains("Six pieces"), "nor six pieces")
    }

    func testTheTimelapseHasOneFramePerPreviewInStepOrder() throws {
        _ = try make("ocean ocean.steps=30")  // previews every 5 steps in the tiny profile: 0, 5, ... 30
        let previewFolder = out.appendingPathComponent("ocean/preview")
        let previews = try FileManager.default.contentsOfDirectory(atPath: previewFolder.path)
            .map { ($0, Int($0.dropFirst("step-".count).dropLast(".png".count)) ?? -1) }
            .sorted { $0.1 < $1.1 }
        XCTAssertEqual(previews.map(\.1), Array(stride(from: 0, through: 30, by: 5)), "\(previews)")
        let timelapse = "'\(out.path)/ocean-training.mp4'", side = 32
        XCTAssertEqual(try pictures(ToolRunner.shell("ingest \(timelapse) --size \(side) -q").stdout).count, previews.count,
                       "one frame per preview")

        // Early previews of a short training look alike; to see the order, each preview becomes a picture
        // of another kind, and the timelapse is made again from them.
        let kinds = ["universe", "tectonics", "ocean", "planet", "architecture", "butterfly", "plato"]
        for ((name, _), kind) in zip(previews, kinds) {
            let made = try ToolRunner.shell("synth \(kind) --n 1 --size 138 -q | encode -q --grid 1x1 -o '\(previewFolder.path)/\(name)'")
            XCTAssertEqual(made.status, 0, made.stderr)
        }
        try FileManager.default.removeItem(at: out.appendingPathComponent("ocean-training.mp4"))
        XCTAssertEqual(try make("ocean ocean.steps=30"), ["ocean: timelapse"])
        let frames = try pictures(ToolRunner.shell("ingest \(timelapse) --size \(side) -q").stdout)
        let stills = try previews.map { name, _ in
            try pictures(ToolRunner.shell("ingest '\(previewFolder.path)/\(name)' --size \(side) -q").stdout)[0]
        }
        XCTAssertEqual(frames.count, stills.count)
        // Each frame is nearest (the video is lossy) to the preview of its own step.
        for (index, frame) in frames.enumerated() {
            let distances = stills.map { still in zip(frame, still).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) } }
            XCTAssertEqual(distances.firstIndex(of: distances.min()!), index, "frame \(index): \(distances)")
        }
    }

    func testEveryHeavyCommandGoesThroughTheLauncherAndChangesNothing() throws {
        let outputs = ["ocean/pictures.tns", "ocean/model.ckpt", "ocean/walk.tns", "ocean.mp4", "ocean-sheet.png", "ocean-score.json",
                       "ocean-training.mp4", "ocean/poster.png", "ocean/pictures.png", "ocean/preview/step-000020.png"]
        _ = try make("ocean site")
        let alone = try outputs.map { try Data(contentsOf: out.appendingPathComponent($0)) }

        // A stand-in launcher, as `srun` would be: notes the command, then runs it.
        let bin = try ToolRunner.temporaryDirectory(self)
        let launcher = bin.appendingPathComponent("launch"), log = bin.appendingPathComponent("calls")
        try "#!/bin/sh\necho \"$1\" >> '\(log.path)'\nexec \"$@\"\n".write(to: launcher, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: launcher.path)
        let (status, output) = try run("clean ocean site RUN='\(launcher.path)'")
        XCTAssertEqual(status, 0, output)

        let tools = ToolRunner.binDirectory.path + "/"
        let calls = try String(contentsOf: log, encoding: .utf8).split(separator: "\n")
            .map { $0.hasPrefix(tools) ? String($0.dropFirst(tools.count)) : String($0) }
        XCTAssertEqual(calls.sorted(), ["encode", "encode", "encode", "encode", "encode", "ingest", "sample", "score", "synth",
                                        "train", "walk"], "pictures, training, walk, video, sheet, timelapse, poster, score")
        // Every tool make ran is behind the launcher.
        let direct = output.components(separatedBy: tools).dropLast().filter { !$0.hasSuffix(launcher.path + " ") }
        XCTAssertTrue(direct.isEmpty, "tools run without the launcher: \(output)")
        for (file, before) in zip(outputs, alone) {
            XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent(file)), before, "\(file) changed")
        }
    }

    func testTheSiteShowsTheBuiltPiecesAndBuildsNoOther() throws {
        XCTAssertEqual(try make("ocean").count, 7)
        XCTAssertEqual(try make("site"), ["site: page"], "site after one piece builds the page only")
        XCTAssertEqual(try make("site"), [], "and nothing when it is up to date")
        let page = out.appendingPathComponent("site/index.html")
        var html = try String(contentsOf: page, encoding: .utf8)
        XCTAssertTrue(html.contains("<article class=\"piece\" id=\"ocean\""), html)
        XCTAssertFalse(html.contains("id=\"tectonics\""), "a piece that was not built is not shown")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("tectonics/model.ckpt").path))
        for setting in ["steps=20", "batch=8", "seed=13", "arch=fastgan", "width=4", "preview-every=5"] {
            XCTAssertTrue(html.contains(">\(setting)<"), "the training parameter \(setting) is not shown")
        }
        for file in ["video.mp4", "poster.png", "training.mp4", "training.png", "pictures.png", "generated.png"] {
            let copy = out.appendingPathComponent("site/ocean/\(file)")
            XCTAssertTrue(FileManager.default.fileExists(atPath: copy.path), "no \(file) beside the page")
            XCTAssertTrue(html.contains("\"ocean/\(file)\""), "\(file) is not on the page")
        }
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("site/ocean/video.mp4")),
                       try Data(contentsOf: out.appendingPathComponent("ocean.mp4")))

        // The piece's score is a table on the page; a changed parameter rebuilds its stages and the page, and
        // not the score, which does not depend on it.
        let score = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("ocean-score.json")))
                                  as? [String: Any])
        let average = try XCTUnwrap(score["slicedWassersteinAverage"] as? Double)
        XCTAssertTrue(html.contains("SWD average") && html.contains(String(format: "%.4g", average)), html)
        XCTAssertTrue(html.contains("near-copies of training pictures"))
        // The layout beside the pictures' own figure (the page escapes the apostrophe).
        let layout = try XCTUnwrap(((score["layout"] as? [String: Any])?["levels"] as? [[String: Any]])?.first)
        let (recall, ownRecall) = (try XCTUnwrap(layout["recall"] as? Double), try XCTUnwrap(layout["trainingRecall"] as? Double))
        let row = String(format: "<tr><th scope=\"row\">layout recall, 8x8 thumbnails</th><td>%.2f (the pictures&#x27; own %.2f)</td></tr>",
                         recall, ownRecall)
        XCTAssertTrue(html.contains(row), "no \(row) in \(html)")
        XCTAssertEqual(Set(try make("site ocean.psi=0.5")), ["ocean: walking", "ocean: video", "ocean: sheet", "site: page"])
        html = try String(contentsOf: page, encoding: .utf8)
        XCTAssertTrue(html.contains("psi=0.5"))
        // Built in the same run, shown too.
        XCTAssertEqual(try make("planet site ocean.psi=0.5").last, "site: page")
        html = try String(contentsOf: page, encoding: .utf8)
        XCTAssertTrue(html.contains("id=\"planet\"") && html.contains("id=\"ocean\""))
    }

    /// The universe has a sound of its own: made as long as its walk, carried by its video, credited on the
    /// page; a sound of the user's replaces it, and a changed sound file rebuilds the walk, not the model.
    func testTheUniverseMovesWithItsSoundAndAnyPieceCanTakeOne() throws {
        XCTAssertEqual(try make("universe site"), ["universe: pictures", "universe: training", "universe: sound",
                                                   "universe: walking", "universe: video", "universe: sheet",
                                                   "universe: timelapse", "universe: score", "site: page"])
        let video = out.appendingPathComponent("universe.mp4").path
        let probe = try ToolRunner.shell("ffprobe -v error -show_entries stream=codec_name:format=duration -of csv=p=0 '\(video)'")
        XCTAssertEqual(String(decoding: probe.stdout, as: UTF8.self).split(separator: "\n"), ["h264", "aac", "1.000000"],
                       "24 frames at 24 fps, and as much sound")
        let html = try String(contentsOf: out.appendingPathComponent("site/index.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("aria-label=\"Universe: a walk through the model&#x27;s latent space\" data-sound>"), html)
        XCTAssertTrue(html.contains("Sound: a slow pulse of low tones and a breath of noise generated from seed 11 by synth sound."))
        XCTAssertTrue(html.contains("Sound on"), "the page's script has an unmute button")

        // A sound of the user's, beside where make runs: the walk lasts as long as it (2 s at 24 fps).
        let caller = try ToolRunner.temporaryDirectory(self)
        let made = try ToolRunner.shell("synth sound --seconds 2 --seed 4 -q -o song.wav", directory: caller)
        XCTAssertEqual(made.status, 0, made.stderr)
        XCTAssertEqual(try make("universe universe.audio=song.wav universe.soundtrack=Song", from: caller),
                       ["universe: walking", "universe: video"])
        let walk = try StreamReader(from: MemorySource([UInt8](try Data(contentsOf: out.appendingPathComponent("universe/walk.tns")))))
        XCTAssertEqual(try walk.readAllBytes().count, 48)
        XCTAssertEqual(walk.header.metadata["audio"], caller.appendingPathComponent("song.wav").path)
        XCTAssertEqual(try make("universe universe.audio=song.wav universe.soundtrack=Song", from: caller), [])
        // A changed file (newer than the walk) is walked again.
        sleep(1)
        XCTAssertEqual(try ToolRunner.shell("synth sound --seconds 2 --seed 5 -q -o song.wav", directory: caller).status, 0)
        XCTAssertEqual(try make("universe universe.audio=song.wav universe.soundtrack=Song", from: caller),
                       ["universe: walking", "universe: video"])
        XCTAssertEqual(try make("site universe.audio=song.wav universe.soundtrack=Song", from: caller), ["site: page"])
        let page = try String(contentsOf: out.appendingPathComponent("site/index.html"), encoding: .utf8)
        XCTAssertTrue(page.contains("Sound: Song."), page)
    }

    /// The pictures of an image stream, as bytes.
    private func pictures(_ stream: Data) throws -> [[UInt8]] {
        try StreamReader(from: MemorySource([UInt8](stream))).readAllBytes()
    }
}
