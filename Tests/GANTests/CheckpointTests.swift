import Foundation
import GAN
import Neural
import Safetensors
import PythonReference
import XCTest

final class CheckpointTests: XCTestCase {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func trainedCheckpoint(steps: Int = 2) throws -> Checkpoint {
        var options = TrainingOptions()
        options.batch = 2
        options.loss = .logistic
        options.augment = [.translation]
        let run = try TrainingRun(dataset: SolidColours.dataset(resolution: 32, count: 3),
                                  config: ModelConfig(resolution: 32, width: 4, zDim: 8), options: options, seed: 11)
        _ = try run.run(to: steps) { _ in }
        return try run.checkpoint()
    }

    func testRoundTripKeepsInfoAndEveryTensor() throws {
        let checkpoint = try trainedCheckpoint()
        let back = try Checkpoint(bytes: checkpoint.serialized())
        XCTAssertEqual(back.info, checkpoint.info)
        XCTAssertEqual(back.tensors, checkpoint.tensors)
        XCTAssertEqual(back.info.step, 2)
        XCTAssertEqual(back.info.seed, 11)
        XCTAssertEqual(back.info.datasetSize, 3)
        XCTAssertEqual(back.info.config, ModelConfig(resolution: 32, width: 4, zDim: 8))
        XCTAssertEqual(back.info.training.loss, .logistic)
        XCTAssertEqual(back.info.training.augment, [.translation])
        let names = Set(back.tensors.keys)
        for prefix in ["G.", "D.", "G_ema.", "opt.G.", "opt.D."] {
            XCTAssertTrue(names.contains { $0.hasPrefix(prefix) }, prefix)
        }
        XCTAssertTrue(names.isSuperset(of: ["rng.state", "rng.data", "trainer.step"]))
        XCTAssertEqual(Set(names.filter { $0.hasPrefix("G_ema.") }.map { $0.dropFirst(6) }),
                       Set(names.filter { $0.hasPrefix("G.") }.map { $0.dropFirst(2) }))
    }

    func testMetadataIsReadableText() throws {
        let bytes = try trainedCheckpoint(steps: 0).serialized()
        let file = try SafetensorsFile(bytes: bytes)
        XCTAssertEqual(file.metadata["format"], "mnemosyne-gan")
        XCTAssertEqual(file.metadata["architecture"], "dcgan")
        XCTAssertEqual(file.metadata["config"], #"{"resolution":32,"width":4,"zDim":8}"#)
        XCTAssertEqual(file.metadata["step"], "0")
        XCTAssertEqual(file.metadata["training"],
                       #"{"augment":["translation"],"batch":2,"emaDecay":0.999,"learningRate":0.0002,"lecam":0,"loss":"logistic"}"#)
    }

    /// Checkpoints written before LeCam existed name no `lecam` in their training options: it was off.
    func testTrainingOptionsWithoutLeCamLoad() throws {
        var checkpoint = try trainedCheckpoint(steps: 0)
        var metadata = try SafetensorsFile(bytes: checkpoint.serialized()).metadata
        metadata["training"] = #"{"augment":["translation"],"batch":2,"emaDecay":0.999,"learningRate":0.0002,"loss":"logistic"}"#
        let old = SafetensorsFile(metadata: metadata, tensors: checkpoint.tensors).serialized()
        checkpoint = try Checkpoint(bytes: old)
        XCTAssertEqual(checkpoint.info.training.lecam, 0)
        XCTAssertEqual(checkpoint.info.training.loss, .logistic)
    }

    func testRejectsCorruptAndForeignFiles() throws {
        let good = try trainedCheckpoint(steps: 0)
        let bytes = good.serialized()
        XCTAssertThrowsError(try Checkpoint(bytes: Array(bytes.dropLast(3)))) { error in
            guard case .corrupt? = error as? CheckpointError else { return XCTFail("\(error)") }
        }
        let foreign = SafetensorsFile(metadata: ["note": "hi"], tensors: ["w": SafetensorsTensor(floats: [1], shape: [1])])
        XCTAssertThrowsError(try Checkpoint(bytes: foreign.serialized())) { error in
            XCTAssertEqual(error as? CheckpointError, .notACheckpoint("no 'format' in the checkpoint's metadata"))
        }
        func withMetadata(_ key: String, _ value: String) -> [UInt8] {
            var file = try! SafetensorsFile(bytes: bytes)
            file.metadata[key] = value
            return file.serialized()
        }
        let broken: [(String, String)] = [
            ("format_version", "2"), ("architecture", "stylegan2"), ("config", "{"),
            ("config", #"{"resolution":48,"width":4,"zDim":8}"#), ("training", "[]"), ("step", "-1"), ("seed", "x"),
        ]
        for (key, value) in broken {
            XCTAssertThrowsError(try Checkpoint(bytes: withMetadata(key, value)), "\(key)=\(value)") { error in
                guard case .notACheckpoint? = error as? CheckpointError else { return XCTFail("\(error)") }
            }
        }
    }

    func testGeneratorRejectsTensorsThatDoNotFitTheConfig() throws {
        var checkpoint = try trainedCheckpoint(steps: 0)
        checkpoint.info.config.width = 8
        XCTAssertThrowsError(try ImageGenerator(checkpoint: checkpoint)) { error in
            guard case .mismatch? = error as? CheckpointError else { return XCTFail("\(error)") }
        }
        checkpoint = try trainedCheckpoint(steps: 0)
        checkpoint.tensors["G_ema.99.weight"] = SafetensorsTensor(floats: [0], shape: [1])
        XCTAssertThrowsError(try ImageGenerator(checkpoint: checkpoint)) { error in
            XCTAssertEqual(error as? CheckpointError, .mismatch("unexpected tensor 'G_ema.99.weight'"))
        }
    }

    func testFileErrorsNameTheFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.appendingPathComponent("nope.ckpt").path
        XCTAssertThrowsError(try Checkpoint(contentsOf: missing)) { error in
            XCTAssertEqual("\(error)", "cannot read checkpoint (No such file or directory): \(missing)")
        }
        XCTAssertThrowsError(try Checkpoint(contentsOf: dir.path)) { error in
            XCTAssertTrue("\(error)".hasSuffix(": \(dir.path)"), "\(error)")
        }
    }

    func testGeneratorIsDeterministicAndUsesTheAverage() throws {
        let checkpoint = try trainedCheckpoint(steps: 3)
        let generator = try ImageGenerator(checkpoint: checkpoint)
        XCTAssertTrue(generator.usesEMA)
        let latents = Latents.random(count: 3, zDim: 8, seed: 1)
        let images = generator.images(latents: latents, count: 3)
        XCTAssertEqual(images.count, 3 * 32 * 32 * 3)
        XCTAssertEqual(try ImageGenerator(checkpoint: Checkpoint(bytes: checkpoint.serialized()))
            .images(latents: latents, count: 3), images)
        // Batching does not change the pictures.
        var batched: [UInt8] = []
        try generator.forEachImage(count: 3, batchSize: 2, latents: { Array(latents[($0.lowerBound * 8)..<($0.upperBound * 8)]) },
                                   body: { batched += $0 })
        XCTAssertEqual(batched, images)
    }

    /// The numpy reader in docs/checkpoint.md reads a checkpoint of the default 64 x 64 model, and its
    /// names and shapes are the ones the document's table lists.
    func testDocumentedNumpyReaderAndTableMatchACheckpoint() throws {
        let doc = try String(contentsOf: Self.packageRoot.appendingPathComponent("docs/checkpoint.md"), encoding: .utf8)
        guard let start = doc.range(of: "```python\n"),
              let end = doc.range(of: "```", range: start.upperBound..<doc.endIndex) else {
            return XCTFail("docs/checkpoint.md has no python block")
        }
        var documented: [String: String] = [:]
        for line in doc.split(separator: "\n") where line.hasPrefix("| `G.") || line.hasPrefix("| `D.") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            documented[cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))] =
                cells[1].replacingOccurrences(of: " × ", with: ",")
        }
        XCTAssertEqual(documented.count, 32)

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try TrainingRun(dataset: SolidColours.dataset(resolution: 64, count: 1),
                                  config: ModelConfig(resolution: 64), options: TrainingOptions(), seed: 0)
        let checkpoint = try run.checkpoint()
        try Data(checkpoint.serialized()).write(to: dir.appendingPathComponent("m.ckpt"))
        try String(doc[start.upperBound..<end.lowerBound])
            .write(to: dir.appendingPathComponent("ckpt.py"), atomically: true, encoding: .utf8)
        let script = """
        import json
        from ckpt import read_checkpoint
        metadata, tensors = read_checkpoint('m.ckpt')
        assert json.loads(metadata['config']) == {'resolution': 64, 'width': 64, 'zDim': 128}, metadata
        for name in sorted(tensors):
            if name.startswith('G.') or name.startswith('D.'):
                print(name, ','.join(str(d) for d in tensors[name].shape))
        print('sum', repr(float(tensors['G_ema.12.weight'].astype('float64').sum())))
        print('rng', ','.join(str(int(v)) for v in tensors['rng.data']))
        """
        let printed = try runPython(["-c", script], directory: dir).output

        var read: [String: String] = [:]
        var sum = "", rng = ""
        for line in printed.split(separator: "\n") {
            let parts = line.split(separator: " ").map(String.init)
            switch parts[0] {
            case "sum": sum = parts[1]
            case "rng": rng = parts[1]
            default: read[parts[0]] = parts[1]
            }
        }
        XCTAssertEqual(read, documented)
        let weights = try checkpoint.tensors["G_ema.12.weight"]!.floats()
        XCTAssertEqual(Double(sum)!, weights.reduce(0.0) { $0 + Double($1) }, accuracy: 1e-9)
        XCTAssertEqual(rng, try checkpoint.tensors["rng.data"]!.int64s().map(String.init).joined(separator: ","))
    }
}
