import Foundation
import TensorStream
import XCTest

/// End to end: the release `synth` binary writes a labelled, deterministic image stream.
final class SynthToolTests: XCTestCase {
    private func records(_ data: Data) throws -> (StreamHeader, [[UInt8]]) {
        let reader = try StreamReader(from: MemorySource([UInt8](data)))
        return (reader.header, try reader.readAllBytes())
    }

    func testWritesALabelledImageStream() throws {
        let result = try ToolRunner.run("synth", ["ocean", "--n", "5", "--size", "24", "--seed", "3"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let (header, pictures) = try records(result.stdout)
        XCTAssertEqual(header.dtype, .u8)
        XCTAssertEqual(header.shape, [24, 24, 3])
        XCTAssertEqual(header.metadata["kind"], "image")
        XCTAssertEqual(header.metadata["source"], "synth:ocean")
        XCTAssertEqual(header.metadata["synthetic"], "true")
        XCTAssertEqual(pictures.count, 5)
        XCTAssertEqual(Set(pictures).count, 5, "every picture of the set is different")
        XCTAssertTrue(result.stderr.contains("5 synthetic ocean images"), result.stderr)
    }

    func testSameArgumentsGiveSameBytesAndSeedChangesThem() throws {
        let first = try ToolRunner.run("synth", ["planet", "--n", "3", "--size", "16", "--seed", "9"])
        let again = try ToolRunner.run("synth", ["planet", "--n", "3", "--size", "16", "--seed", "9"])
        let other = try ToolRunner.run("synth", ["planet", "--n", "3", "--size", "16", "--seed", "10"])
        XCTAssertEqual(first.stdout, again.stdout)
        XCTAssertNotEqual(first.stdout, other.stdout)
        // A longer set starts with the same pictures: picture k depends on k, not on --n.
        let longer = try ToolRunner.run("synth", ["planet", "--n", "5", "--size", "16", "--seed", "9"])
        XCTAssertEqual(try records(longer.stdout).1.prefix(3), try records(first.stdout).1[...])
    }

    func testOutputFileIsWrittenWhole() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let path = dir.appendingPathComponent("butterflies.tns").path
        let result = try ToolRunner.run("synth", ["butterfly", "--n", "4", "--size", "16", "-o", path, "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.isEmpty)
        XCTAssertEqual(result.stderr, "")
        XCTAssertEqual(try records(Data(contentsOf: URL(fileURLWithPath: path))).1.count, 4)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["butterflies.tns"],
                       "no temporary file left behind")
    }

    func testHelpShowsAnExamplePipeline() throws {
        let result = try ToolRunner.run("synth", ["--help"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let help = String(decoding: result.stdout, as: UTF8.self)
        XCTAssertTrue(help.contains("synth ocean --n 150 --size 64 --seed 1 | train"), help)
    }

    func testListsEveryKind() throws {
        let result = try ToolRunner.run("synth", ["--list"])
        XCTAssertEqual(result.status, 0)
        let lines = String(decoding: result.stdout, as: UTF8.self).split(separator: "\n")
        XCTAssertEqual(lines.map { String($0.split(separator: " ")[0]) },
                       ["universe", "tectonics", "ocean", "planet", "architecture", "butterfly", "plato", "david", "sound"])
    }

    /// `synth sound`: a WAV file any player reads, the same for the same seed, that pulses on its beats.
    func testSoundIsASeededWAVThatPulses() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let made = try ToolRunner.shell("synth sound --seconds 6 --seed 3 -o a.wav && synth sound --seconds 6 --seed 3 -q > b.wav "
                                        + "&& synth sound --seconds 6 --seed 4 -q -o c.wav", directory: dir)
        XCTAssertEqual(made.status, 0, made.stderr)
        XCTAssertTrue(made.stderr.hasPrefix("synth: 6.0 s of sound (a beat every "), made.stderr)
        let probe = try ToolRunner.shell("ffprobe -v error -show_entries stream=codec_name,sample_rate,channels,duration "
                                         + "-of csv=p=0 a.wav", directory: dir)
        XCTAssertEqual(String(decoding: probe.stdout, as: UTF8.self), "pcm_s16le,44100,1,6.000000\n")
        let bytes = try ["a.wav", "b.wav", "c.wav"].map { try Data(contentsOf: dir.appendingPathComponent($0)) }
        XCTAssertEqual(bytes[0], bytes[1], "the same seed, the same sound")
        XCTAssertNotEqual(bytes[0], bytes[2])
        // Its beats are onsets a walk finds: one every 0.8 to 1.1 s.
        let walk = try ToolRunner.shell("synth universe --n 4 --size 32 -q | train --steps 1 --width 2 --z-dim 4 --batch 2 -q "
                                        + "-o m.ckpt && walk m.ckpt --audio a.wav --fps 25 -o w.tns", directory: dir)
        XCTAssertEqual(walk.status, 0, walk.stderr)
        let onsets = try XCTUnwrap(walk.stderr.split(separator: " ").firstIndex(of: "onsets").map {
            Int(walk.stderr.split(separator: " ")[$0 - 1]) })
        XCTAssertTrue((5...8).contains(onsets ?? 0), walk.stderr)
        for arguments in [["sound"], ["sound", "--seconds", "0"], ["ocean", "--seconds", "2"]] {
            let refused = try ToolRunner.run("synth", arguments + ["-o", dir.appendingPathComponent("x.wav").path])
            XCTAssertEqual(refused.status, 2, "\(arguments): \(refused.stderr)")
        }
    }

    func testUsageErrorsAreOneLineWithStatus2() throws {
        for arguments in [["dragons"], [], ["ocean", "--n", "0"], ["ocean", "--size", "3"], ["ocean", "--n", "many"]] {
            let result = try ToolRunner.run("synth", arguments)
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stdout.isEmpty)
            let lines = result.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, result.stderr)
            XCTAssertTrue(result.stderr.hasPrefix("synth: "), result.stderr)
        }
    }

    func testUnwritableOutputIsARuntimeError() throws {
        let result = try ToolRunner.run("synth", ["ocean", "--n", "2", "-o", "/nonexistent/folder/x.tns"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.hasPrefix("synth: cannot write"), result.stderr)
    }
}
