import Foundation
import Imaging
import TensorStream
import XCTest

/// End to end: the release `train`, `sample` and `walk` binaries on tiny data sets made here.
final class GANToolTests: XCTestCase {

    /// A tiny, fast model: 32 x 32 pictures, width 8, latent 16, batch 4.
    let tinyModel = ["--width", "8", "--z-dim", "16", "--batch", "4"]

    /// An image stream of `count` pictures of `size` x `size`: a coloured square on grey, moving with the index.
    func pictureStream(count: Int = 8, size: Int = 32) throws -> Data {
        let sink = MemorySink()
        let writer = try StreamWriter(header: .images(height: size, width: size), to: sink)
        for i in 0..<count {
            var pixels = [UInt8](repeating: 128, count: size * size * 3)
            let left = (i * 3) % (size / 2), colour: [UInt8] = i % 2 == 0 ? [230, 40, 40] : [40, 60, 220]
            for y in (size / 4)..<(size / 4 + size / 2) {
                for x in left..<(left + size / 2) { pixels.replaceSubrange(((y * size + x) * 3)..<((y * size + x) * 3 + 3), with: colour) }
            }
            try writer.write(pixels)
        }
        return Data(sink.bytes)
    }

    func records(_ data: Data) throws -> (StreamHeader, [[UInt8]]) {
        let reader = try StreamReader(from: MemorySource([UInt8](data)))
        return (reader.header, try reader.readAllBytes())
    }

    /// Trains a tiny model for `steps` and returns the checkpoint's path.
    func trainedModel(in dir: URL, steps: Int = 3, name: String = "m.ckpt", extra: [String] = []) throws -> String {
        let path = dir.appendingPathComponent(name).path
        let result = try ToolRunner.run("train", ["--steps", "\(steps)", "-o", path] + tinyModel + extra,
                                        stdin: try pictureStream())
        XCTAssertEqual(result.status, 0, result.stderr)
        return path
    }

    func ffprobe(_ path: String) throws -> [String: String] {
        let result = try ToolRunner.shell(
            "ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=width,height,nb_read_frames "
            + "-of default=noprint_wrappers=1 '\(path)'")
        XCTAssertEqual(result.status, 0, result.stderr)
        var fields: [String: String] = [:]
        for line in String(decoding: result.stdout, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        return fields
    }

    // MARK: The pipeline

    func testIngestTrainWalkEncodeMakesAVideo() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let pictures = dir.appendingPathComponent("pictures")
        try FileManager.default.createDirectory(at: pictures, withIntermediateDirectories: true)
        for (i, record) in try records(pictureStream(count: 6, size: 48)).1.enumerated() {
            let png = try encodePNG(Image(width: 48, height: 48, pixels: record))
            try Data(png).write(to: pictures.appendingPathComponent("p\(i).png"))
        }
        let result = try ToolRunner.shell("""
            ingest pictures --size 32 | train --steps 4 \(tinyModel.joined(separator: " ")) > m.ckpt
            walk m.ckpt --n 12 --fps 12 --keys 3 --loop | encode -o walk.mp4
            """, directory: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        let video = try ffprobe(dir.appendingPathComponent("walk.mp4").path)
        XCTAssertEqual(video["nb_read_frames"], "12")
        XCTAssertEqual(video["width"], video["height"])
        XCTAssertNotNil(Int(video["width"] ?? ""))
    }

    func testAWalkIsADataSetLikeAnyOther() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        try pictureStream().write(to: dir.appendingPathComponent("pictures.tns"))
        let result = try ToolRunner.shell("""
            train --steps 2 \(tinyModel.joined(separator: " ")) -o m.ckpt < pictures.tns
            walk m.ckpt --n 10 | train --init m.ckpt --steps 2 --batch 4 > echo.ckpt
            sample echo.ckpt --n 2 > out.tns
            """, directory: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        let (header, pictures) = try records(Data(contentsOf: dir.appendingPathComponent("out.tns")))
        XCTAssertEqual(header.shape, [32, 32, 3])
        XCTAssertEqual(pictures.count, 2)
    }

    // MARK: sample and walk

    func testSampleIsDeterministicAndSeedsNamePictures() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let model = try trainedModel(in: dir)
        let first = try ToolRunner.run("sample", [model, "--n", "4", "--seed", "7"])
        let again = try ToolRunner.run("sample", [model, "--n", "4", "--seed", "7"])
        let other = try ToolRunner.run("sample", [model, "--n", "4", "--seed", "8"])
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertEqual(first.stdout, again.stdout)
        XCTAssertNotEqual(first.stdout, other.stdout)
        let (header, pictures) = try records(first.stdout)
        XCTAssertEqual(header.shape, [32, 32, 3])
        XCTAssertEqual(header.metadata["kind"], "image")
        XCTAssertEqual(header.metadata["source"], model)
        XCTAssertEqual(pictures.count, 4)
        XCTAssertEqual(Set(pictures).count, 4)

        // Seed k names one picture: `--seeds 7` is the first picture of `--seed 7`, in any list.
        let named = try records(ToolRunner.run("sample", [model, "--seeds", "3,7"]).stdout).1
        XCTAssertEqual(named.count, 2)
        XCTAssertEqual(named[1], pictures[0])
        XCTAssertEqual(try records(ToolRunner.run("sample", [model, "--seeds", "3"]).stdout).1, [named[0]])
        // Truncation changes the pictures; psi 1 does not.
        XCTAssertEqual(try ToolRunner.run("sample", [model, "--seeds", "3", "--psi", "1"]).stdout,
                       try ToolRunner.run("sample", [model, "--seeds", "3"]).stdout)
        XCTAssertNotEqual(try ToolRunner.run("sample", [model, "--seeds", "3", "--psi", "0.5"]).stdout,
                          try ToolRunner.run("sample", [model, "--seeds", "3"]).stdout)
    }

    func testWalkPassesThroughTheSeedsPicturesAndIsDeterministic() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let model = try trainedModel(in: dir)
        let walk = try ToolRunner.run("walk", [model, "--seeds", "3,7", "--n", "9", "--fps", "24", "--ease"])
        XCTAssertEqual(walk.status, 0, walk.stderr)
        let (header, frames) = try records(walk.stdout)
        XCTAssertEqual(header.metadata["fps"], "24")
        XCTAssertEqual(header.metadata["kind"], "image")
        XCTAssertEqual(frames.count, 9)
        let named = try records(ToolRunner.run("sample", [model, "--seeds", "3,7"]).stdout).1
        XCTAssertEqual(frames.first, named[0])
        XCTAssertEqual(frames.last, named[1])
        XCTAssertEqual(try ToolRunner.run("walk", [model, "--seeds", "3,7", "--n", "9", "--fps", "24", "--ease"]).stdout,
                       walk.stdout)
        // A loop does not end on its first key: the frame after the last would be frame 0.
        let loop = try records(ToolRunner.run("walk", [model, "--seeds", "3,7", "--n", "8", "--loop"]).stdout).1
        XCTAssertEqual(loop[0], named[0])
        XCTAssertEqual(loop[4], named[1])
        XCTAssertNotEqual(loop[7], named[0])
    }

    func testWalkTakesKeyframesFromALatentStream() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let model = try trainedModel(in: dir)
        let sink = MemorySink()
        let writer = try StreamWriter(header: StreamHeader(dtype: .f32, shape: [16], metadata: ["kind": "latent"]), to: sink)
        for k in 0..<3 { try writer.write((0..<16).map { Float(($0 * 7 + k * 5) % 11) / 5 - 1 }) }
        let latents = dir.appendingPathComponent("keys.tns")
        try Data(sink.bytes).write(to: latents)
        let result = try ToolRunner.run("walk", [model, "--latents", latents.path, "--n", "5", "--interp", "lerp"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try records(result.stdout).1.count, 5)
        // From stdin too, with the same frames.
        XCTAssertEqual(try ToolRunner.run("walk", [model, "--latents", "-", "--n", "5", "--interp", "lerp"],
                                          stdin: Data(sink.bytes)).stdout, result.stdout)

        let wrong = MemorySink()
        let wrongWriter = try StreamWriter(header: StreamHeader(dtype: .f32, shape: [8]), to: wrong)
        try wrongWriter.write([Float](repeating: 0, count: 8))
        try Data(wrong.bytes).write(to: latents)
        let rejected = try ToolRunner.run("walk", [model, "--latents", latents.path])
        XCTAssertEqual(rejected.status, 1)
        XCTAssertTrue(rejected.stderr.hasPrefix("walk: expected latent vectors of 16 f32 values"), rejected.stderr)
        XCTAssertTrue(rejected.stdout.isEmpty)
    }

    // MARK: train

    func testTrainingOptionsReachTheCheckpoint() throws {
        let result = try ToolRunner.run("train", ["--steps", "1", "--augment", "none", "--loss", "logistic", "--ema", "0",
                                                  "--lr", "0.001", "--width", "8", "--z-dim", "16", "--batch", "3"], stdin: try pictureStream())
        XCTAssertEqual(result.status, 0, result.stderr)
        let bytes = [UInt8](result.stdout)
        let headerLength = Int(bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        let header = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + headerLength)])) as? [String: Any])
        let metadata = try XCTUnwrap(header["__metadata__"] as? [String: String])
        let training = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try XCTUnwrap(metadata["training"]).utf8))
                                     as? [String: Any])
        XCTAssertEqual(training["augment"] as? [String], [])
        XCTAssertEqual(training["loss"] as? String, "logistic")
        XCTAssertEqual(training["emaDecay"] as? Double, 0)
        XCTAssertEqual(try XCTUnwrap(training["learningRate"] as? Double), 0.001, accuracy: 1e-9)
        XCTAssertEqual(training["batch"] as? Int, 3)
    }

    /// The checkpoint's metadata, parsed.
    func metadata(ofCheckpoint path: String) throws -> [String: String] {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let headerLength = Int(bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        let header = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + headerLength)])) as? [String: Any])
        return try XCTUnwrap(header["__metadata__"] as? [String: String])
    }

    /// The few-shot model through every tool that reads or extends a checkpoint: its own defaults reach
    /// the checkpoint, sample and walk draw from it, --init fine-tunes it (keeping its architecture) and
    /// --resume continues it.
    func testFastGANThroughSampleWalkInitAndResume() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let model = dir.appendingPathComponent("fast.ckpt").path
        var result = try ToolRunner.run("train", ["--arch", "fastgan", "--steps", "2", "--width", "4", "--z-dim", "8",
                                                  "--checkpoint", dir.appendingPathComponent("run.ckpt").path, "-o", model],
                                        stdin: try pictureStream())
        XCTAssertEqual(result.status, 0, result.stderr)
        let info = try metadata(ofCheckpoint: model)
        XCTAssertEqual(info["architecture"], "fastgan")
        let training = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try XCTUnwrap(info["training"]).utf8)) as? [String: Any])
        // fastgan trains with the coverage objective by default, and that objective's batch and rate.
        XCTAssertEqual(training["objective"] as? String, "imle")
        XCTAssertEqual(training["batch"] as? Int, 16)
        XCTAssertEqual(try XCTUnwrap(training["learningRate"] as? Double), 0.001, accuracy: 1e-9)

        result = try ToolRunner.run("sample", [model, "--n", "3", "--seed", "1"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let (header, pictures) = try records(result.stdout)
        XCTAssertEqual(header.shape, [32, 32, 3])
        XCTAssertEqual(pictures.count, 3)
        XCTAssertNotEqual(pictures[0], pictures[1])
        result = try ToolRunner.run("walk", [model, "--n", "5"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try records(result.stdout).1.count, 5)

        let tuned = dir.appendingPathComponent("tuned.ckpt").path
        result = try ToolRunner.run("train", ["--init", model, "--steps", "1", "-o", tuned], stdin: try pictureStream())
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try metadata(ofCheckpoint: tuned)["architecture"], "fastgan")
        result = try ToolRunner.run("train", ["--resume", dir.appendingPathComponent("run.ckpt").path, "--steps", "3",
                                              "-o", dir.appendingPathComponent("resumed.ckpt").path], stdin: try pictureStream())
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try metadata(ofCheckpoint: dir.appendingPathComponent("resumed.ckpt").path)["step"], "3")
    }

    /// `--arch projected` trains and resumes through EfficientNet-Lite0 (the resume loads it too, from the
    /// checkpoint's architecture); without the weights, or on pictures too small for its maps, it fails in
    /// one line, exit 1, leaving no output.
    func testProjectedTrainsResumesAndFailsClearlyWithoutItsNetwork() throws {
        try ToolRunner.requireFeatureNetwork()
        let dir = try ToolRunner.temporaryDirectory(self)
        var result = try ToolRunner.shell("""
            synth plato --n 8 --size 64 --seed 1 -q -o p64.tns
            synth plato --n 8 --size 32 --seed 1 -q -o p32.tns
            train p64.tns --arch projected --steps 2 --width 4 --z-dim 8 --checkpoint run.ckpt -q -o p.ckpt
            train p64.tns --resume run.ckpt --steps 3 -q -o resumed.ckpt
            sample resumed.ckpt --n 2 > two.tns
            """, directory: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try metadata(ofCheckpoint: dir.appendingPathComponent("p.ckpt").path)["architecture"], "projected")
        XCTAssertEqual(try metadata(ofCheckpoint: dir.appendingPathComponent("resumed.ckpt").path)["step"], "3")
        XCTAssertEqual(try records(try Data(contentsOf: dir.appendingPathComponent("two.tns"))).1.count, 2)

        for (arguments, environment, message) in [
            (["p64.tns"], ["MNEMOSYNE_DATA": dir.path], "train: no EfficientNet-Lite0 weights"),
            (["p32.tns"], [:], "train: invalid model configuration: the feature maps of 32-pixel pictures"),
        ] {
            result = try ToolRunner.run("train", arguments + ["--arch", "projected", "--steps", "1", "-o", "bad.ckpt"],
                                        directory: dir, environment: environment)
            XCTAssertEqual(result.status, 1, result.stderr)
            XCTAssertTrue(result.stderr.hasPrefix(message), result.stderr)
            XCTAssertEqual(result.stderr.filter { $0 == "\n" }.count, 1, result.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("bad.ckpt").path))
        }
    }

    /// --minutes ends a run that --steps would not, and saves it as a finished one (exit 0).
    func testMinutesEndsTrainingAndSaves() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let model = dir.appendingPathComponent("m.ckpt").path
        let result = try ToolRunner.run("train", ["--steps", "100000000", "--minutes", "0.01", "-o", model] + tinyModel,
                                        stdin: try pictureStream())
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("time is up"), result.stderr)
        let steps = try XCTUnwrap(Int(try XCTUnwrap(try metadata(ofCheckpoint: model)["step"])))
        XCTAssertGreaterThan(steps, 0)
        XCTAssertLessThan(steps, 100_000_000)
    }

    func testProgressOnATerminalIsOneLiveLine() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let input = dir.appendingPathComponent("pictures.tns")
        try pictureStream().write(to: input)
        // script(1) gives train a terminal for stdout and stderr, so the checkpoint goes to -o.
        let command = "train '\(input.path)' --steps 40 \(tinyModel.joined(separator: " ")) -o '\(dir.path)/m.ckpt'"
        let result = try ToolRunner.shell("script -qec \"\(command)\" /dev/null")
        let screen = String(decoding: result.stdout, as: UTF8.self)
        XCTAssertEqual(result.status, 0, screen)
        XCTAssertTrue(screen.contains("\r\u{1B}[K[########################]  40/40 steps"), screen.debugDescription)
        XCTAssertTrue(screen.contains("\r\u{1B}[Ktrain: trained to step 40 of 40"), screen.debugDescription)
        XCTAssertFalse(screen.contains("train: 40/40"), "no plain log lines on a terminal: \(screen.debugDescription)")
    }

    func testPreviewsAreGridsOfTheSameLatents() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let previews = dir.appendingPathComponent("previews")
        _ = try trainedModel(in: dir, steps: 4, extra: ["--preview", previews.path, "--preview-every", "2"])
        let files = try FileManager.default.contentsOfDirectory(atPath: previews.path).sorted()
        XCTAssertEqual(files, ["step-000000.png", "step-000002.png", "step-000004.png"])
        let grids = try files.map { try decodePNG([UInt8](Data(contentsOf: previews.appendingPathComponent($0)))) }
        // 16 pictures of 32 pixels in 4 columns, 2-pixel gaps.
        XCTAssertTrue(grids.allSatisfy { $0.width == 138 && $0.height == 138 }, "\(grids.map { ($0.width, $0.height) })")
        XCTAssertNotEqual(grids[0].pixels, grids[2].pixels, "the model changed between previews")
    }

    /// For the default objective (imle, whose selection falls between the halves) and for a GAN.
    func testResumedRunEqualsTheUninterruptedOneByteForByte() throws {
        for objective in [["--reselect-every", "2"], ["--objective", "gan"]] {
            let dir = try ToolRunner.temporaryDirectory(self)
            let straight = try trainedModel(in: dir, steps: 6, name: "straight.ckpt", extra: objective)
            let run = dir.appendingPathComponent("run.ckpt").path
            _ = try trainedModel(in: dir, steps: 3, name: "half.ckpt", extra: ["--checkpoint", run] + objective)
            let resumed = dir.appendingPathComponent("resumed.ckpt").path
            let result = try ToolRunner.run("train", ["--resume", run, "--steps", "6", "-o", resumed], stdin: try pictureStream())
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: resumed)), try Data(contentsOf: URL(fileURLWithPath: straight)),
                           "\(objective)")
        }
    }

    /// Starts a long tiny training with periodic saves, sends `signal` once it is training, and returns
    /// its exit status and stderr; the run's files are `run.ckpt` and `out.ckpt` in `dir`.
    func interruptedTraining(by signal: Int32, input: URL, in dir: URL) throws -> (status: Int32, stderr: String) {
        let run = dir.appendingPathComponent("run.ckpt").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try ToolRunner.path(of: "train"))
        process.arguments = [input.path, "--steps", "1000000", "--checkpoint", run, "--save-every", "50",
                             "-o", dir.appendingPathComponent("out.ckpt").path] + tinyModel
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        nonisolated(unsafe) var stderrText = ""
        let reader = Thread { stderrText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
        reader.start()
        // Let it get into training (the first periodic save proves it), then interrupt.
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: run) && Date() < deadline { usleep(20_000) }
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        while !reader.isFinished { usleep(1000) }
        return (process.terminationStatus, stderrText)
    }

    func testSIGTERMSavesAndExits130AsSIGINTDoes() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let input = dir.appendingPathComponent("pictures.tns")
        try pictureStream().write(to: input)
        let (status, stderrText) = try interruptedTraining(by: SIGTERM, input: input, in: dir)
        XCTAssertEqual(status, 130, stderrText)
        XCTAssertTrue(stderrText.contains("train: stopped at step"), stderrText)
        let saved = try Data(contentsOf: dir.appendingPathComponent("run.ckpt"))
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("out.ckpt")), saved)
    }

    func testSIGINTFinishesTheStepSavesAndExits130() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let input = dir.appendingPathComponent("pictures.tns")
        try pictureStream().write(to: input)
        let run = dir.appendingPathComponent("run.ckpt").path
        let output = dir.appendingPathComponent("out.ckpt").path
        let (status, stderrText) = try interruptedTraining(by: SIGINT, input: input, in: dir)
        XCTAssertEqual(status, 130, stderrText)
        XCTAssertTrue(stderrText.contains("train: stopped at step"), stderrText)

        // Both files hold the stopped run; resuming it to a total gives the uninterrupted run's bytes.
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: run)), try Data(contentsOf: URL(fileURLWithPath: output)))
        let sampled = try ToolRunner.run("sample", [run, "--n", "1"])
        XCTAssertEqual(sampled.status, 0, sampled.stderr)
        let stoppedAt = try XCTUnwrap(stderrText.range(of: #"stopped at step (\d+)"#, options: .regularExpression)
            .map { Int(stderrText[$0].split(separator: " ").last!)! })
        let total = stoppedAt + 2
        let resumed = try ToolRunner.run("train", [input.path, "--resume", run, "--steps", "\(total)"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let straight = try ToolRunner.run("train", [input.path, "--steps", "\(total)"] + tinyModel)
        XCTAssertEqual(resumed.stdout, straight.stdout)
    }

    func testKillDuringSavesLeavesTheLastCheckpointWhole() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let input = dir.appendingPathComponent("pictures.tns")
        try pictureStream(count: 4, size: 64).write(to: input)
        let run = dir.appendingPathComponent("run.ckpt").path
        // A model of a few megabytes, saved after every step: most of the time goes to saving.
        let arguments = [input.path, "--steps", "1000000", "--width", "32", "--batch", "1", "--checkpoint", run,
                         "--save-every", "1"]
        for round in 0..<4 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try ToolRunner.path(of: "train"))
            process.arguments = arguments + ["--seed", "\(round)"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let deadline = Date().addingTimeInterval(60)
            let before = (try? FileManager.default.attributesOfItem(atPath: run)[.modificationDate] as? Date) ?? nil
            while Date() < deadline {
                let now = try? FileManager.default.attributesOfItem(atPath: run)[.modificationDate] as? Date
                if let now, now != before { break }
                usleep(10_000)
            }
            usleep(UInt32(30_000 + round * 37_000))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationReason, .uncaughtSignal)
            let check = try ToolRunner.run("sample", [run, "--n", "1"])
            XCTAssertEqual(check.status, 0, "round \(round): \(check.stderr)")
        }
    }

    func testDivergenceStopsWithAnErrorAndKeepsTheLastGoodCheckpoint() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let run = dir.appendingPathComponent("run.ckpt").path
        // dcgan: its first updates at this rate already overflow (fastgan's spectral norm holds them longer).
        _ = try trainedModel(in: dir, steps: 2, extra: ["--checkpoint", run, "--arch", "dcgan"])
        let good = try Data(contentsOf: URL(fileURLWithPath: run))
        // The fine-tuned run saves beside its parent (saving over the checkpoint it starts from is refused).
        let saves = dir.appendingPathComponent("saves.ckpt").path
        try good.write(to: URL(fileURLWithPath: saves))
        let output = dir.appendingPathComponent("bad.ckpt").path
        let result = try ToolRunner.run("train", ["--init", run, "--lr", "1e30", "--steps", "20", "--batch", "4",
                                                  "--checkpoint", saves, "--save-every", "1", "-o", output],
                                        stdin: try pictureStream())
        XCTAssertEqual(result.status, 1)
        let lastLine = result.stderr.split(separator: "\n").last.map(String.init) ?? ""
        XCTAssertTrue(lastLine.hasPrefix("train: training diverged at step "), result.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: saves)), good)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
    }

    func testAnUpdateThatOverflowsIsNeverWritten() throws {
        // At this rate dcgan's first step's losses are finite and its update is not: only a check of the
        // weights and the optimizer's moments themselves keeps them out of the output.
        let dir = try ToolRunner.temporaryDirectory(self)
        let pictures = dir.appendingPathComponent("ocean.tns").path
        XCTAssertEqual(try ToolRunner.run("synth", ["ocean", "--n", "8", "--size", "32", "--seed", "1", "-q",
                                                    "-o", pictures]).status, 0)
        let output = dir.appendingPathComponent("model.ckpt").path
        let result = try ToolRunner.run("train", [pictures, "--arch", "dcgan", "--lr", "1e6", "--steps", "1", "--batch", "4",
                                                  "--width", "2", "-o", output])
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertTrue(result.stderr.hasPrefix("train: training diverged at step 1 ("), result.stderr)
        XCTAssertTrue(result.stderr.hasSuffix("is no longer finite); try a lower --lr\n"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
    }

    // MARK: Errors

    func testCorruptCheckpointIsOneLineAndExit1() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let model = try trainedModel(in: dir)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: model))
        let cut = dir.appendingPathComponent("cut.ckpt")
        try bytes.prefix(bytes.count - 100).write(to: cut)
        let garbage = dir.appendingPathComponent("garbage.ckpt")
        try Data("not a checkpoint at all".utf8).write(to: garbage)
        for (tool, extra) in [("sample", [String]()), ("walk", ["--n", "2"])] {
            for path in [cut.path, garbage.path, dir.appendingPathComponent("missing.ckpt").path] {
                let result = try ToolRunner.run(tool, [path] + extra)
                XCTAssertEqual(result.status, 1, result.stderr)
                XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
                XCTAssertTrue(result.stderr.hasPrefix("\(tool): "), result.stderr)
                XCTAssertTrue(result.stderr.hasSuffix(": \(path)\n"), result.stderr)
                XCTAssertTrue(result.stdout.isEmpty)
            }
        }
        let resumed = try ToolRunner.run("train", ["--resume", cut.path, "--steps", "5"], stdin: try pictureStream())
        XCTAssertEqual(resumed.status, 1)
        XCTAssertTrue(resumed.stderr.hasPrefix("train: corrupt checkpoint ("), resumed.stderr)
    }

    func testTrainRejectsPicturesItCannotModel() throws {
        let sink = MemorySink()
        let writer = try StreamWriter(header: .images(height: 40, width: 30), to: sink)
        try writer.write([UInt8](repeating: 9, count: 40 * 30 * 3))
        let result = try ToolRunner.run("train", ["--steps", "1"], stdin: Data(sink.bytes))
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stderr,
                       "train: pictures are 30x40; train needs square 32, 64, 128 or 256 pixel pictures (ingest --size 64): stdin\n")
        let dir = try ToolRunner.temporaryDirectory(self)
        let model = try trainedModel(in: dir)
        let wrongSize = try ToolRunner.run("train", ["--init", model, "--steps", "1"], stdin: try pictureStream(size: 64))
        XCTAssertEqual(wrongSize.status, 1)
        XCTAssertEqual(wrongSize.stderr, "train: the model makes 32x32 pictures but the data are 64x64: \(model)\n")
        let empty = MemorySink()
        try StreamWriter(header: .images(height: 32, width: 32), to: empty).writeHeader()
        let none = try ToolRunner.run("train", ["--steps", "1"], stdin: Data(empty.bytes))
        XCTAssertEqual(none.status, 1)
        XCTAssertEqual(none.stderr, "train: the data set has no pictures: stdin\n")
    }

    func testUsageErrorsExit2() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let model = try trainedModel(in: dir)
        let cases: [(String, [String])] = [
            ("train", ["--loss", "wasserstein"]), ("train", ["--augment", "color,blur"]),
            ("train", ["--resume", model, "--lr", "0.1"]), ("train", ["--init", model, "--resume", model]),
            ("train", ["--save-every", "5"]), ("train", ["--steps", "-1"]), ("train", ["--ema", "1.5"]),
            ("sample", [model, "--seeds", "1,x"]), ("sample", [model, "--n", "0"]), ("sample", []),
            ("walk", [model, "--keys", "2", "--seeds", "1,2"]), ("walk", [model, "--interp", "cubic"]),
            ("walk", [model, "--n", "0"]),
            ("train", ["--objective", "gan", "--perceptual", "0.5"]), ("train", ["--adversarial-start", "5"]),
            ("train", ["--objective", "imle", "--margin", "-1"]), ("train", ["--arch", "dcgan", "--candidates", "4"]),
        ]
        for (tool, arguments) in cases {
            // No stdin: a tool that stops at its arguments never reads it (writing it could meet a closed pipe).
            let result = try ToolRunner.run(tool, arguments)
            XCTAssertEqual(result.status, 2, "\(tool) \(arguments): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
            XCTAssertTrue(result.stdout.isEmpty)
        }
    }

    func testHelpShowsAPipeline() throws {
        for (tool, example) in [("train", "ingest plato/ | train --steps 2000 > plato.ckpt"),
                                ("sample", "sample plato.ckpt --n 64 --seed 7 | encode"),
                                ("walk", "walk plato.ckpt --n 300 | encode > out.mp4")] {
            let result = try ToolRunner.run(tool, ["--help"])
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertTrue(String(decoding: result.stdout, as: UTF8.self).contains(example), tool)
        }
    }
}
