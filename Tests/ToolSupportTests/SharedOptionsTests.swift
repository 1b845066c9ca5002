import ArgumentParser
import Foundation
import TensorStream
import ToolSupport
import XCTest

/// The options every tool declares through ToolSupport, and the messages they share.
final class SharedOptionsTests: XCTestCase {
    func testOutputOptionsTakeShortAndLongNames() throws {
        let short = try OutputOptions.parse(["-o", "a.tns", "-q"])
        XCTAssertEqual(short.output, "a.tns")
        XCTAssertTrue(short.quiet)
        let long = try OutputOptions.parse(["--output", "b.tns", "--quiet"])
        XCTAssertEqual(long.output, "b.tns")
        XCTAssertTrue(long.quiet)
        XCTAssertEqual(try OutputOptions.parse([]).destination, "-")
    }

    func testLatentOptionsParseSeedsAndNegativePsi() throws {
        let options = try LatentOptions.parse(["--seeds", "3, 17,42", "--psi", "-1", "--seed", "9"])
        XCTAssertEqual(options.seeds, [3, 17, 42])
        XCTAssertEqual(options.psi, -1)
        XCTAssertEqual(options.seed, 9)
        XCTAssertNil(try LatentOptions.parse([]).seeds)
        XCTAssertThrowsError(try LatentOptions.parse(["--seeds", "3,x"]))
        XCTAssertThrowsError(try LatentOptions.parse(["--seeds", "3,,4"]))
        XCTAssertThrowsError(try LatentOptions.parse(["--psi", "nan"]))
    }

    func testANegativeNumberAfterALongOptionIsItsValue() {
        XCTAssertEqual(joiningNegativeValues(["x.tns", "--steps", "-5", "-q"]), ["x.tns", "--steps=-5", "-q"])
        XCTAssertEqual(joiningNegativeValues(["--audio-offset", "-1.5"]), ["--audio-offset=-1.5"])
        // Options and short flags stay as they are.
        XCTAssertEqual(joiningNegativeValues(["--loop", "-q", "-o", "-"]), ["--loop", "-q", "-o", "-"])
        XCTAssertEqual(joiningNegativeValues(["--steps=-5"]), ["--steps=-5"])
    }

    func testEveryToolSharesOneVersion() {
        XCTAssertEqual(CommandConfiguration.tool("x", abstract: "", discussion: "").version, "mnemosyne \(mnemosyneVersion)")
    }

    func testCountsAreSingularForOne() {
        XCTAssertEqual(counted(1, "frame"), "1 frame")
        XCTAssertEqual(counted(0, "frame"), "0 frames")
        XCTAssertEqual(counted(3, "copy", plural: "copies"), "3 copies")
        let progress = Progress(total: 0, unit: "frames", quiet: true)
        XCTAssertTrue(progress.line(1, now: Date(), status: "", bar: false).hasPrefix("1 frame "))
        XCTAssertTrue(progress.line(2, now: Date(), status: "", bar: false).hasPrefix("2 frames "))
    }

    /// A resumed run counts on from its own step, its rate from the steps done since.
    func testProgressCountsFromTheResumedStep() {
        let progress = Progress(total: 200, unit: "steps", quiet: true, start: 150)
        let line = progress.line(160, now: Date().addingTimeInterval(10), status: "", bar: false)
        XCTAssertTrue(line.hasPrefix("160/200 steps  ETA 40s  1.0 steps/s"), line)
    }

    /// `train --steps 100000 --minutes 1`: the run ends within the minute, whatever the steps say.
    func testTheETAHonoursATimeLimit() {
        let limited = Progress(total: 100_000, unit: "steps", quiet: true, timeLimit: 60)
        let line = limited.line(276, now: Date().addingTimeInterval(10), status: "", bar: false)
        XCTAssertTrue(line.hasPrefix("276/100000 steps  ETA 50s"), line)
        let unlimited = Progress(total: 100_000, unit: "steps", quiet: true)
        XCTAssertTrue(unlimited.line(276, now: Date().addingTimeInterval(10), status: "", bar: false).contains("ETA 1h00m"))
    }

    func testAFileOfTheWrongKindIsNamedWithTheFix() {
        XCTAssertEqual(wrongKindMessage(name: "imgs.tns", kind: .imageStream, expected: .checkpoint),
                       "imgs.tns is an image stream, not a checkpoint: train a model from it (train imgs.tns -o m.ckpt)")
        XCTAssertEqual(wrongKindMessage(name: "grid.png", kind: .picture("PNG"), expected: .imageStream),
                       "grid.png is a PNG picture, not an image stream: make an image stream of it with ingest (ingest grid.png > imgs.tns)")
        XCTAssertEqual(wrongKindMessage(name: "stdin", kind: .picture("JPEG"), expected: .checkpoint),
                       "stdin is a JPEG picture, not a checkpoint: make a stream of it with ingest and train a model on that "
                       + "(ingest FILE | train -o m.ckpt)")
        XCTAssertNil(wrongKindMessage(name: "m.ckpt", kind: .checkpoint, expected: .checkpoint))
        XCTAssertNil(wrongKindMessage(name: "x", kind: .unknown, expected: .checkpoint), "the reader says more about those")
        XCTAssertNil(wrongKindMessage(name: "x", kind: .otherStream("8 u8"), expected: .imageStream))
    }
}
