import Foundation
import TensorStream
import XCTest

/// End to end: the release `project` binary on a tiny model, and `walk` through what it writes.
final class ProjectToolTests: XCTestCase {
    /// A folder with `real.tns` (6 plato pictures of 32 x 32) and `m.ckpt`, a tiny model trained on them.
    /// A GAN (`objective`), whose trained D `project` compares pictures in by default.
    func setUpModel(pictures: Int = 6, objective: String = "gan") throws -> URL {
        let dir = try ToolRunner.temporaryDirectory(self)
        let result = try ToolRunner.shell("""
            synth plato --n \(pictures) --size 32 --seed 1 -q -o real.tns
            train real.tns --objective \(objective) --steps 3 --width 8 --z-dim 16 --batch 4 -q -o m.ckpt
            """, directory: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        return dir
    }

    func stream(_ url: URL) throws -> StreamReader {
        try StreamReader(from: MemorySource([UInt8](try Data(contentsOf: url))))
    }

    func testWritesALatentPerPictureNamingItsDistanceAndTheirReconstructions() throws {
        let dir = try setUpModel()
        let result = try ToolRunner.run("project", ["m.ckpt", "real.tns", "--steps", "5", "--candidates", "4",
                                                    "--reconstructions", "rec.tns", "-o", "lat.tns"], directory: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("project: 6 of 6 pictures projected, median distance"), result.stderr)

        let latents = try stream(dir.appendingPathComponent("lat.tns"))
        XCTAssertEqual(latents.header.dtype, .f32)
        XCTAssertEqual(latents.header.shape, [16])
        let metadata = latents.header.metadata
        XCTAssertEqual(metadata["kind"], "latent")
        XCTAssertEqual(metadata["source"], "synth:plato", "the pictures' own source")
        XCTAssertEqual(metadata["checkpoint"], "m.ckpt")
        let distances = try XCTUnwrap(metadata["distances"]).split(separator: ",").map { Float(String($0)) }
        XCTAssertEqual(distances.count, 6)
        XCTAssertTrue(distances.allSatisfy { ($0 ?? -1) > 0 && $0! < 1 }, "\(distances)")
        var records: [[Float]] = []
        while let record = try latents.nextFloats() { records.append(record) }
        XCTAssertEqual(records.count, 6)
        for latent in records {
            XCTAssertEqual(latent.reduce(0) { $0 + $1 * $1 }.squareRoot(), 4, accuracy: 1e-3, "on the prior's shell")
        }

        // The reconstructions are the model's pictures of the latents: a walk with one frame per key draws them.
        let reconstructions = try stream(dir.appendingPathComponent("rec.tns")).readAllBytes()
        XCTAssertEqual(reconstructions.count, 6)
        let walk = try ToolRunner.run("walk", ["m.ckpt", "--latents", "lat.tns", "--n", "6"], directory: dir)
        XCTAssertEqual(walk.status, 0, walk.stderr)
        XCTAssertEqual(try StreamReader(from: MemorySource([UInt8](walk.stdout))).readAllBytes(), reconstructions)

        // --through picks keys in stream order, the same for the same seed.
        let through = try ToolRunner.run("walk", ["m.ckpt", "--latents", "lat.tns", "--through", "3", "--seed", "4", "--n", "3"],
                                         directory: dir)
        XCTAssertEqual(through.status, 0, through.stderr)
        let frames = try StreamReader(from: MemorySource([UInt8](through.stdout))).readAllBytes()
        let indices = frames.map { frame in reconstructions.firstIndex(of: frame) }
        XCTAssertTrue(indices.allSatisfy { $0 != nil }, "every frame is one of the pictures")
        XCTAssertEqual(indices, indices.sorted { $0! < $1! })
        XCTAssertEqual(Set(indices).count, 3)
        XCTAssertEqual(try ToolRunner.run("walk", ["m.ckpt", "--latents", "lat.tns", "--through", "3", "--seed", "4", "--n", "3"],
                                          directory: dir).stdout, through.stdout)

        // The same arguments give the same bytes, from a file or a pipe.
        let piped = try ToolRunner.shell("project m.ckpt --steps 5 --candidates 4 -q < real.tns", directory: dir)
        XCTAssertEqual(piped.status, 0, piped.stderr)
        let stdinRun = try StreamReader(from: MemorySource([UInt8](piped.stdout)))
        var pipedRecords: [[Float]] = []
        while let record = try stdinRun.nextFloats() { pipedRecords.append(record) }
        XCTAssertEqual(pipedRecords, records)
        XCTAssertEqual(stdinRun.header.metadata["distances"], metadata["distances"])
    }

    /// More steps bring the reconstructions nearer than the best random start alone (--steps 0).
    func testStepsImproveOnTheRandomStart() throws {
        let dir = try setUpModel()
        func distances(_ steps: Int) throws -> [Float] {
            let result = try ToolRunner.run("project", ["m.ckpt", "real.tns", "--steps", "\(steps)", "-q"], directory: dir)
            XCTAssertEqual(result.status, 0, result.stderr)
            let header = try StreamReader(from: MemorySource([UInt8](result.stdout))).header
            return try XCTUnwrap(header.metadata["distances"]).split(separator: ",").map { Float(String($0))! }
        }
        let (start, projected) = (try distances(0), try distances(40))
        XCTAssertLessThan(projected.reduce(0, +), start.reduce(0, +), "\(start) → \(projected)")
    }

    /// An imle model's D never trained: its pictures are compared in EfficientNet-Lite0's maps, and asking for
    /// its D is a one-line error.
    func testAnIMLEModelProjectsThroughLite0() throws {
        try ToolRunner.requireFeatureNetwork()
        let dir = try setUpModel(objective: "imle")
        let byDefault = try ToolRunner.run("project", ["m.ckpt", "real.tns", "--steps", "2", "-q"], directory: dir)
        XCTAssertEqual(byDefault.status, 0, byDefault.stderr)
        let lite0 = try ToolRunner.run("project", ["m.ckpt", "real.tns", "--steps", "2", "--perception", "lite0", "-q"],
                                       directory: dir)
        XCTAssertEqual(byDefault.stdout, lite0.stdout)
        let refused = try ToolRunner.run("project", ["m.ckpt", "real.tns", "--perception", "discriminator", "-q", "-o", "x.tns"],
                                         directory: dir)
        XCTAssertEqual(refused.status, 1)
        XCTAssertEqual(refused.stderr.split(separator: "\n").count, 1, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("imle model is compared in the pretrained network's features"), refused.stderr)
    }

    /// `--perception lite0` compares pictures in EfficientNet-Lite0's maps: its descent also improves on the
    /// random start, lands elsewhere than the discriminator's, and without the weights it fails in one line.
    func testProjectsInLite0sFeaturesWhenAsked() throws {
        try ToolRunner.requireFeatureNetwork()
        let dir = try setUpModel()
        func latents(_ steps: Int, _ perception: String) throws -> (distances: [Float], stream: Data) {
            let result = try ToolRunner.run("project", ["m.ckpt", "real.tns", "--steps", "\(steps)", "--perception", perception, "-q"],
                                            directory: dir)
            XCTAssertEqual(result.status, 0, result.stderr)
            let header = try StreamReader(from: MemorySource([UInt8](result.stdout))).header
            return (try XCTUnwrap(header.metadata["distances"]).split(separator: ",").map { Float(String($0))! }, result.stdout)
        }
        let (start, projected) = (try latents(0, "lite0"), try latents(20, "lite0"))
        XCTAssertLessThan(projected.distances.reduce(0, +), start.distances.reduce(0, +))
        XCTAssertNotEqual(projected.stream, try latents(20, "discriminator").stream)

        let missing = try ToolRunner.run("project", ["m.ckpt", "real.tns", "--perception", "lite0", "-q", "-o", "lat.tns"],
                                         directory: dir, environment: ["MNEMOSYNE_DATA": dir.path])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.hasPrefix("project: no EfficientNet-Lite0 weights"), missing.stderr)
        XCTAssertEqual(missing.stderr.filter { $0 == "\n" }.count, 1, missing.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("lat.tns").path))
    }

    func testBadInputIsAOneLineErrorNamingIt() throws {
        let dir = try setUpModel()
        let setUp = try ToolRunner.shell("""
            synth plato --n 2 --size 64 -q -o big.tns
            python3 -c "import struct, sys; sys.stdout.buffer.write(b'MTNS\\x01\\x01\\x03\\x00' + struct.pack('<4I', 32, 32, 3, 0))" > empty.tns
            printf 'not a checkpoint' > bad.ckpt
            project m.ckpt real.tns --steps 0 -q -o lat.tns
            """, directory: dir)
        XCTAssertEqual(setUp.status, 0, setUp.stderr)
        let cases: [([String], Int32, String)] = [
            (["m.ckpt", "big.tns"], 1, "project: the checkpoint draws 32x32 pictures, the stream holds 64x64x3 u8 (ingest --size 32): big.tns"),
            (["m.ckpt", "empty.tns"], 1, "project: no pictures: empty.tns"),
            (["m.ckpt", "lat.tns"], 1, "project: lat.tns is a latent stream, not an image stream: walk through it"),
            (["bad.ckpt", "real.tns"], 1, "project: "),
            (["m.ckpt", "real.tns", "--candidates", "0"], 2, "project: --candidates must be from 1 to"),
            (["m.ckpt", "real.tns", "--reconstructions", "-"], 2, "project: --reconstructions needs a file of its own"),
        ]
        for (arguments, status, message) in cases {
            let result = try ToolRunner.run("project", arguments + ["-o", "out.tns"], directory: dir)
            XCTAssertEqual(result.status, status, "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.hasPrefix(message), "\(arguments): \(result.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out.tns").path), "\(arguments)")
        }
        let badCheckpoint = try ToolRunner.run("project", ["bad.ckpt", "real.tns"], directory: dir)
        XCTAssertTrue(badCheckpoint.stderr.hasSuffix(": bad.ckpt\n"), badCheckpoint.stderr)
        // A hold that leaves no frame to move in is a usage mistake of walk's.
        let hold = try ToolRunner.run("walk", ["m.ckpt", "--latents", "lat.tns", "--hold", "10", "--n", "20"], directory: dir)
        XCTAssertEqual(hold.status, 2, hold.stderr)
        XCTAssertTrue(hold.stderr.hasPrefix("walk: holding 6 keys for 10 frames each needs at least 60 frames, not 20"), hold.stderr)
        let through = try ToolRunner.run("walk", ["m.ckpt", "--through", "2"], directory: dir)
        XCTAssertEqual(through.status, 2, through.stderr)
        XCTAssertTrue(through.stderr.hasPrefix("walk: --through picks from --latents"), through.stderr)
    }

    /// SIGINT during the projection writes the pictures projected so far, as a complete stream, and exits 130.
    func testSIGINTWritesThePicturesProjectedSoFar() throws {
        let dir = try setUpModel(pictures: 40)
        let output = dir.appendingPathComponent("lat.tns")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try ToolRunner.path(of: "project"))
        process.arguments = ["m.ckpt", "real.tns", "--steps", "400", "--batch", "1", "--candidates", "4", "-o", output.path]
        process.currentDirectoryURL = dir
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // The first progress line comes once a tenth of the work is done (and 2 seconds have passed).
        var stderrText = ""
        while !stderrText.contains(" steps ") {
            let chunk = errors.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            stderrText += String(decoding: chunk, as: UTF8.self)
        }
        kill(process.processIdentifier, SIGINT)
        stderrText += String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130, stderrText)
        XCTAssertTrue(stderrText.contains("project: stopped: "), stderrText)

        let reader = try stream(output)
        var saved: [[Float]] = []
        while let record = try reader.nextFloats() { saved.append(record) }
        XCTAssertGreaterThan(saved.count, 0)
        XCTAssertLessThan(saved.count, 40)
        XCTAssertEqual(reader.header.metadata["distances"]?.split(separator: ",").count, saved.count)
        // They are the latents an uninterrupted run gives those pictures (synth's first K pictures are the
        // same whatever --n).
        let uninterrupted = try ToolRunner.shell("synth plato --n \(saved.count) --size 32 --seed 1 -q "
            + "| project m.ckpt --steps 400 --batch 1 --candidates 4 -q", directory: dir)
        XCTAssertEqual(uninterrupted.status, 0, uninterrupted.stderr)
        let expected = try StreamReader(from: MemorySource([UInt8](uninterrupted.stdout)))
        for latent in saved { XCTAssertEqual(try expected.nextFloats(), latent) }
    }
}
