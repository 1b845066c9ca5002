import Foundation
import GAN
import Imaging
import Inspection
import Safetensors
import TensorStream
import XCTest

/// `inspect` on every kind of file the tools read or write, and on files that are none of them.
final class InspectionTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("inspect-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { [folder] in try? FileManager.default.removeItem(at: folder!) }
    }

    func file(_ name: String, _ bytes: [UInt8]) throws -> String {
        let url = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
        return url.path
    }

    func stream(_ header: StreamHeader, records: [[UInt8]]) throws -> [UInt8] {
        let sink = MemorySink()
        let writer = try StreamWriter(header: header, to: sink)
        for record in records { try writer.write(record) }
        try writer.writeHeader()
        return sink.bytes
    }

    /// A checkpoint of a tiny dcgan, seven steps into a run on eight pictures.
    func checkpoint() -> [UInt8] {
        let info = CheckpointInfo(config: ModelConfig(resolution: 32, width: 2, zDim: 4, architecture: .dcgan), step: 7,
                                  seed: 3, datasetSize: 8, training: TrainingOptions(defaultsFor: .dcgan))
        return Checkpoint(info: info, tensors: ["G.a": SafetensorsTensor(floats: [1, 2, 3], shape: [3]),
                                                "D.b": SafetensorsTensor(floats: [1, 2], shape: [2])]).serialized()
    }

    func testAnImageStream() throws {
        let path = try file("imgs.tns", try stream(.images(height: 2, width: 2, metadata: ["source": "synth:plato"]),
                                                   records: [[UInt8](repeating: 9, count: 12), [UInt8](repeating: 1, count: 12)]))
        let found = inspect(path: path)
        XCTAssertEqual(found.kind, .imageStream)
        XCTAssertNil(found.problem)
        XCTAssertEqual(found["records"], .number(2))
        XCTAssertEqual(found["shape"], .text("2x2x3"))
        XCTAssertEqual(found["dtype"], .text("u8"))
        XCTAssertEqual(found["metadata"], .table([("kind", "image"), ("source", "synth:plato")]))
        XCTAssertTrue(found.text.hasPrefix("\(path): an image stream\n  records   2\n"), found.text)
    }

    /// Latents say which checkpoint they belong to, and whether that file is still the one.
    func testALatentStreamNamesItsCheckpoint() throws {
        let model = try file("m.ckpt", checkpoint())
        let header = StreamHeader(dtype: .f32, shape: [4], metadata: [
            "kind": "latent", "checkpoint": model, "checkpoint_crc32": try fileChecksum(path: model)])
        let sink = MemorySink()
        try StreamWriter(header: header, to: sink).write([Float](repeating: 0.5, count: 4))
        let latents = try file("z.tns", sink.bytes)
        XCTAssertEqual(inspect(path: latents).kind, .latentStream)
        XCTAssertEqual(inspect(path: latents)["checkpoint"], .text(model + " (the same file)"))
        _ = try file("m.ckpt", checkpoint() + [0])
        XCTAssertEqual(inspect(path: latents)["checkpoint"], .text(model + " (that file has changed since: another model)"))
    }

    func testACheckpoint() throws {
        let found = inspect(path: try file("m.ckpt", checkpoint()))
        XCTAssertEqual(found.kind, .checkpoint)
        XCTAssertNil(found.problem)
        XCTAssertEqual(found["architecture"], .text("dcgan"))
        XCTAssertEqual(found["objective"], .text("gan"))
        XCTAssertEqual(found["resolution"], .text("32x32"))
        XCTAssertEqual(found["width"], .number(2))
        XCTAssertEqual(found["z"], .number(4))
        XCTAssertEqual(found["steps"], .number(7))
        XCTAssertEqual(found["pictures"], .number(8))
        XCTAssertEqual(found["tool_version"], .text(mnemosyneVersion))
        XCTAssertEqual(found["tensors"], .number(2))
        XCTAssertEqual(found["values"], .table([("D", "2 in 1 tensors"), ("G", "3 in 1 tensors")]))
        guard case .text(let options)? = found["options"] else { return XCTFail("no options") }
        XCTAssertTrue(options.contains(#""batch":16"#), options)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try inspectionsJSON([found]).utf8)) as? [[String: Any]])
        XCTAssertEqual(json.first?["kind"] as? String, "checkpoint")
        XCTAssertEqual(json.first?["steps"] as? Int, 7)
    }

    func testADamagedCheckpointIsACheckpointWithAProblem() throws {
        let whole = checkpoint()
        let found = inspect(path: try file("cut.ckpt", Array(whole.prefix(whole.count - 4))))
        XCTAssertEqual(found.kind, .checkpoint)
        XCTAssertNotNil(found.problem)
        XCTAssertTrue(found.text.hasPrefix("\(found.path): a checkpoint, but "), found.text)
    }

    /// A picture, and what ingest would make of it at its defaults.
    func testAPictureAndAFolder() throws {
        let picture = try file("pics/a.png", try encodePNG(Image(width: 80, height: 60)))
        let found = inspect(path: picture)
        XCTAssertEqual(found.kind, .picture("PNG"))
        XCTAssertEqual(found["size"], .text("80x60"))
        guard case .text(let ingest)? = found["ingest"] else { return XCTFail("no ingest") }
        XCTAssertTrue(ingest.hasPrefix("1 picture of 64x64"), ingest)
        _ = try file("pics/small.png", try encodePNG(Image(width: 8, height: 8)))
        let pictures = inspect(path: folder.appendingPathComponent("pics").path)
        XCTAssertEqual(pictures.kind, .folder)
        guard case .list(let skipped)? = pictures["skipped"] else { return XCTFail("no skipped files named") }
        XCTAssertEqual(skipped.count, 1)
        XCTAssertTrue(skipped[0].hasSuffix("small.png"), skipped[0])
    }

    func testFilesThatAreNoneOfThem() throws {
        XCTAssertEqual(inspect(path: try file("notes.txt", Array("hello\n".utf8))).kind, .unknown)
        XCTAssertEqual(inspect(path: try file("empty", [])).kind, .empty)
        XCTAssertEqual(inspect(path: try file("song.wav", Array("RIFF\u{24}\u{0}\u{0}\u{0}WAVEfmt ".utf8))).kind, .sound("WAV"))
        let missing = inspect(path: folder.appendingPathComponent("missing.tns").path)
        XCTAssertEqual(missing.kind.key, "unreadable")
        XCTAssertNotNil(missing.problem)
        let cut = try stream(.images(height: 2, width: 2), records: [[UInt8](repeating: 9, count: 12)])
        let truncated = inspect(path: try file("cut.tns", Array(cut.dropLast(3))))
        XCTAssertEqual(truncated.kind, .imageStream)
        XCTAssertEqual(truncated["records"], .number(0))
        XCTAssertNotNil(truncated.problem)
    }
}
