import Foundation
import GAN
import Neural
import Safetensors
import XCTest

/// Checkpoints made to hurt: a config claiming a huge model, step counts past Int, non-finite weights.
/// Each must be refused with an error before any large allocation, never trap.
final class HostileCheckpointTests: XCTestCase {
    func smallCheckpoint() throws -> Checkpoint {
        var options = TrainingOptions()
        options.batch = 2
        let run = try TrainingRun(dataset: SolidColours.dataset(resolution: 32, count: 2),
                                  config: ModelConfig(resolution: 32, width: 4, zDim: 8), options: options, seed: 3)
        return try run.checkpoint()
    }

    /// The largest resident size so far, in bytes.
    func peakMemory() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }

    func testAConfigClaimingAHugeModelIsRefusedBeforeItIsBuilt() throws {
        var checkpoint = try smallCheckpoint()
        checkpoint.info.config.width = 4096
        checkpoint.info.config.zDim = 65536
        let reread = try Checkpoint(bytes: checkpoint.serialized())
        let before = peakMemory()
        XCTAssertThrowsError(try ImageGenerator(checkpoint: reread)) { error in
            guard case .mismatch(let why)? = error as? CheckpointError else { return XCTFail("\(error)") }
            XCTAssertTrue(why.contains("width 4096, zDim 65536"), why)
        }
        XCTAssertThrowsError(try TrainingRun(dataset: SolidColours.dataset(resolution: 32, count: 2),
                                             config: reread.info.config, options: reread.info.training, seed: 0,
                                             start: .resume(reread))) { error in
            guard case .mismatch? = error as? CheckpointError else { return XCTFail("\(error)") }
        }
        XCTAssertLessThan(peakMemory() - before, 200 << 20, "refused without building the model")
    }

    func testStepCountsPastIntAreRefusedNotTrapped() throws {
        for name in ["trainer.step", "opt.G.step"] {
            for value: Float in [1e30, -.infinity, .nan, 2.5] {
                var checkpoint = try smallCheckpoint()
                checkpoint.tensors[name] = SafetensorsTensor(floats: [value], shape: [1])
                XCTAssertThrowsError(try TrainingRun(dataset: SolidColours.dataset(resolution: 32, count: 2),
                                                     config: checkpoint.info.config, options: checkpoint.info.training,
                                                     seed: 0, start: .resume(checkpoint)), "\(name) = \(value)")
            }
        }
    }

    func testNonFiniteOrNegativeVarianceWeightsAreRefused() throws {
        let good = try smallCheckpoint()
        XCTAssertNoThrow(try ImageGenerator(checkpoint: good))
        let cases: [(String, Float)] = [("G_ema.0.weight", .nan), ("G_ema.0.weight", .infinity),
                                        ("G_ema.1.running_var", -1)]
        for (name, value) in cases {
            var checkpoint = good
            var values = try XCTUnwrap(checkpoint.tensors[name]).floats()
            values[0] = value
            checkpoint.tensors[name] = SafetensorsTensor(floats: values, shape: checkpoint.tensors[name]!.shape)
            XCTAssertThrowsError(try ImageGenerator(checkpoint: checkpoint), "\(name) = \(value)") { error in
                guard case .corrupt(let why)? = error as? CheckpointError else { return XCTFail("\(error)") }
                XCTAssertTrue(why.contains(name), why)
            }
        }
    }

    func testABatchPastTheBoundIsNotACheckpoint() throws {
        var checkpoint = try smallCheckpoint()
        checkpoint.info.training.batch = 1_000_000_000
        XCTAssertThrowsError(try Checkpoint(bytes: checkpoint.serialized())) { error in
            guard case .notACheckpoint(let why)? = error as? CheckpointError else { return XCTFail("\(error)") }
            XCTAssertTrue(why.contains("batch"), why)
        }
    }

    /// The checkpoint's bytes with its metadata changed by `edit`.
    func withMetadata(_ checkpoint: Checkpoint, _ edit: (inout [String: String]) -> Void) throws -> [UInt8] {
        var file = try SafetensorsFile(bytes: checkpoint.serialized())
        edit(&file.metadata)
        return file.serialized()
    }

    // Issue 18, item 1: a missing key was read with `!` after a `try?` swallowed its absence.
    func testEveryMetadataKeyDeletedIsNamedNotTrapped() throws {
        let good = try smallCheckpoint()
        let keys = try SafetensorsFile(bytes: good.serialized()).metadata.keys.sorted()
        XCTAssertEqual(keys, ["architecture", "config", "dataset_size", "format", "format_version", "seed", "step",
                              "tool_version", "training"])
        for key in keys {
            let bytes = try withMetadata(good) { $0[key] = nil }
            XCTAssertThrowsError(try Checkpoint(bytes: bytes), key) { error in
                XCTAssertEqual(error as? CheckpointError, .notACheckpoint("no '\(key)' in the checkpoint's metadata"))
            }
        }
    }

    // Issue 18, item 13: a checkpoint's options get the command line's check.
    func testOptionsTheCommandLineRefusesAreRefusedInACheckpoint() throws {
        let good = try smallCheckpoint()
        let cases: [(WritableKeyPath<TrainingOptions, Float>, Float, String)] = [
            (\.emaDecay, 2, "emaDecay"), (\.emaDecay, -1, "emaDecay"), (\.emaDecay, 1, "emaDecay"),
            (\.learningRate, 0, "learningRate"), (\.learningRate, -1, "learningRate"),
            (\.lecam, -0.5, "lecam")]
        for (field, value, name) in cases {
            var checkpoint = good
            checkpoint.info.training[keyPath: field] = value
            XCTAssertThrowsError(try Checkpoint(bytes: checkpoint.serialized()), "\(name) \(value)") { error in
                guard case .notACheckpoint(let why)? = error as? CheckpointError else { return XCTFail("\(error)") }
                XCTAssertTrue(why.hasPrefix("training option \(name) "), why)
            }
        }
        XCTAssertNoThrow(try Checkpoint(bytes: good.serialized()))
    }

    // Issue 18, item 14: content quoted from a file is escaped and cut, however long or hostile.
    func testQuotedMetadataIsEscapedAndCut() throws {
        let good = try smallCheckpoint()
        let hostile = "\u{1B}]0;pwned\u{07}\u{1B}[2J"
        XCTAssertThrowsError(try Checkpoint(bytes: withMetadata(good) { $0["architecture"] = hostile })) { error in
            XCTAssertEqual("\(error)", #"not a mnemosyne checkpoint (unknown architecture '\x1B]0;pwned\x07\x1B[2J')"#)
        }
        let nested = String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000)
        XCTAssertThrowsError(try Checkpoint(bytes: withMetadata(good) { $0["config"] = nested })) { error in
            XCTAssertLessThan("\(error)".utf8.count, 200, "\(error)")
            XCTAssertTrue("\(error)".contains("(400000 characters)"), "\(error)")
        }
    }

    func testAForeignFileIsJudgedByItsFirstBytes() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // 4 GB of text (sparse: it costs no disk), whose first 8 bytes read as an absurd header length.
        let text = dir.appendingPathComponent("notes.ckpt").path
        XCTAssertTrue(FileManager.default.createFile(atPath: text, contents: Data("hello world, ".utf8)))
        XCTAssertEqual(truncate(text, 4 << 30), 0)
        let before = peakMemory()
        XCTAssertThrowsError(try Checkpoint(contentsOf: text)) { error in
            XCTAssertTrue("\(error)".contains("implausibly large"), "\(error)")
        }
        XCTAssertLessThan(peakMemory() - before, 100 << 20, "refused without reading the file")
        // A FIFO is refused at once, not waited on.
        let fifo = dir.appendingPathComponent("pipe.ckpt").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        XCTAssertThrowsError(try Checkpoint(contentsOf: fifo)) { error in
            XCTAssertTrue("\(error)".contains("not a regular file"), "\(error)")
        }
    }
}
