import Foundation
import Imaging
import Media
import XCTest

final class VideoFramesTests: XCTestCase {
    func testEveryKeepsOneFrameInN() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let frames = Fixtures.gradientFrames(count: 10, width: 16, height: 16)
        // y4m is lossless apart from 4:2:0, so the kept frames can be matched to their originals.
        let path = dir.appendingPathComponent("clip.y4m").path
        let encoder = try VideoEncoder(format: .y4m, width: 16, height: 16, settings: VideoSettings(),
                                       destination: .file(path))
        for frame in frames { try encoder.append(frame) }
        try encoder.finish()
        var kept: [Image] = []
        try forEachVideoFrame(path: path, every: 3) { kept.append($0) }
        XCTAssertEqual(kept.count, 4)
        for (index, image) in zip([0, 3, 6, 9], kept) {
            let errors = frames.map { Fixtures.meanAbsoluteDifference($0, image) }
            XCTAssertEqual(errors.firstIndex(of: errors.min()!), index)
            XCTAssertLessThan(errors[index], 3)
        }
    }

    func testUnreadableFilesAreErrorsNamingTheFile() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let missing = dir.appendingPathComponent("nope.mp4").path
        XCTAssertThrowsError(try forEachVideoFrame(path: missing, every: 1) { _ in }) { error in
            XCTAssertTrue(error is MediaError)
            XCTAssertTrue("\(error)".hasSuffix(missing), "\(error)")
        }
        let garbage = dir.appendingPathComponent("garbage.mp4")
        try Data((0..<4000).map { UInt8(($0 * 7919) % 251) }).write(to: garbage)
        XCTAssertThrowsError(try forEachVideoFrame(path: garbage.path, every: 1) { _ in }) { error in
            XCTAssertTrue("\(error)".hasSuffix(garbage.path), "\(error)")
        }
        XCTAssertThrowsError(try forEachVideoFrame(path: missing, every: 0) { _ in })
    }

    func testTruncatedVideoYieldsTheFramesBeforeTheCut() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let path = dir.appendingPathComponent("clip.webm").path
        let encoder = try VideoEncoder(format: .webm, width: 32, height: 32, settings: VideoSettings(),
                                       destination: .file(path))
        for frame in Fixtures.gradientFrames(count: 20, width: 32, height: 32) { try encoder.append(frame) }
        try encoder.finish()
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        let cut = dir.appendingPathComponent("cut.webm")
        try whole.prefix(whole.count * 2 / 3).write(to: cut)
        var count = 0
        try forEachVideoFrame(path: cut.path, every: 1) { _ in count += 1 }
        XCTAssertGreaterThan(count, 0)
        XCTAssertLessThan(count, 20)
    }
}
