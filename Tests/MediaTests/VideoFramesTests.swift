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

    /// A cut video gives the frames before the cut, then an error naming the file (ingest warns with it).
    func testTruncatedVideoYieldsTheFramesBeforeTheCutThenSaysSo() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        for format in [VideoFormat.webm, .mp4] {
            let path = dir.appendingPathComponent("clip.\(format.rawValue)").path
            let encoder = try VideoEncoder(format: format, width: 32, height: 32, settings: VideoSettings(),
                                           destination: .file(path))
            for frame in Fixtures.gradientFrames(count: 60, width: 32, height: 32) { try encoder.append(frame) }
            try encoder.finish()
            if format == .mp4 {
                // With its index at the end, a cut MP4 does not open at all; with it in front, it plays on.
                let front = dir.appendingPathComponent("front.mp4").path
                let ffmpeg = try Fixtures.run("/usr/bin/ffmpeg", ["-v", "error", "-y", "-i", path, "-c", "copy",
                                                                  "-movflags", "+faststart", front])
                XCTAssertEqual(ffmpeg.status, 0)
                XCTAssertEqual(rename(front, path), 0)
            }
            let whole = try Data(contentsOf: URL(fileURLWithPath: path))
            let cut = dir.appendingPathComponent("cut.\(format.rawValue)")
            try whole.prefix(whole.count * 5 / 6).write(to: cut)
            var count = 0
            XCTAssertThrowsError(try forEachVideoFrame(path: cut.path, every: 1) { _ in count += 1 }, "\(format)") { error in
                XCTAssertTrue(error is MediaError)
                XCTAssertTrue("\(error)".hasSuffix(cut.path), "\(error)")
            }
            XCTAssertGreaterThan(count, 0, "\(format)")
            XCTAssertLessThan(count, 60, "\(format)")
            var wholeCount = 0
            try forEachVideoFrame(path: path, every: 1) { _ in wholeCount += 1 }
            XCTAssertEqual(wholeCount, 60, "\(format)")
        }
    }
}

/// Videos made by the ffmpeg command line, in containers and colour tags `encode` never writes.
final class ForeignVideoTests: XCTestCase {
    /// A 40x30 clip of 7 frames of one RGB colour, converted to YUV by ffmpeg with the given matrix and
    /// range (full range needs the yuvj format in this ffmpeg) and tagged accordingly.
    private func makeClip(_ name: String, matrix: String, range: String, in dir: URL) throws -> String {
        let raw = dir.appendingPathComponent(name + ".rgb")
        try Data([UInt8]([0x33, 0x66, 0xCC]).repeated(40 * 30 * 7)).write(to: raw)
        let path = dir.appendingPathComponent(name).path
        let ffmpeg = try Fixtures.run("/usr/bin/ffmpeg", [
            "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "40x30", "-r", "10",
            "-i", raw.path, "-vf",
            "scale=out_color_matrix=\(matrix):out_range=\(range),format=\(range == "pc" ? "yuvj420p" : "yuv420p")",
            "-colorspace", matrix == "bt601" ? "smpte170m" : matrix, "-color_range", range,
            "-c:v", "libx264", "-crf", "10", path])
        XCTAssertEqual(ffmpeg.status, 0, "ffmpeg could not make \(name)")
        return path
    }

    func testContainersAndColourTagsDecodeToTheSameRGB() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        for (name, matrix, range) in [("a.mov", "bt709", "pc"), ("b.mkv", "bt709", "tv"), ("c.mp4", "bt601", "tv"),
                                      ("d.mkv", "bt601", "pc")] {
            let path = try makeClip(name, matrix: matrix, range: range, in: dir)
            var frames: [Image] = []
            try forEachVideoFrame(path: path, every: 1) { frames.append($0) }
            XCTAssertEqual(frames.count, 7, name)
            let centre = try XCTUnwrap(frames.last)
            XCTAssertEqual([centre.width, centre.height], [40, 30], name)
            for (channel, expected) in [0x33, 0x66, 0xCC].enumerated() {
                XCTAssertEqual(Double(centre[20, 15, channel]), Double(expected), accuracy: 3,
                               "\(name) (\(matrix), \(range)) channel \(channel)")
            }
        }
    }
}

/// Portrait phone videos are stored sideways with a display-matrix rotation; frames come out upright.
final class RotatedVideoTests: XCTestCase {
    private func ffmpeg(_ arguments: [String]) throws -> Data {
        let ffmpeg = try Fixtures.run("/usr/bin/ffmpeg", ["-v", "error", "-y"] + arguments)
        XCTAssertEqual(ffmpeg.status, 0, "ffmpeg \(arguments)")
        return ffmpeg.output
    }

    func testRotationMetadataTurnsFramesLikeFFmpegDoes() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        // 40x30: red left half, blue right half, a green band along the top; every corner differs.
        var picture = Image(width: 40, height: 30)
        for y in 0..<30 {
            for x in 0..<40 {
                let colour: [UInt8] = y < 6 ? [30, 220, 30] : x < 20 ? [220, 30, 30] : [30, 30, 220]
                for c in 0..<3 { picture[x, y, c] = colour[c] }
            }
        }
        let raw = dir.appendingPathComponent("picture.rgb")
        try Data(picture.pixels.repeated(3)).write(to: raw)
        let plain = dir.appendingPathComponent("plain.mp4").path
        _ = try ffmpeg(["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "40x30", "-r", "10", "-i", raw.path,
                        "-c:v", "libx264", "-pix_fmt", "yuv420p", plain])
        for degrees in [90, 180, 270] {
            let rotated = dir.appendingPathComponent("rotated\(degrees).mp4").path
            _ = try ffmpeg(["-i", plain, "-c", "copy", "-metadata:s:v:0", "rotate=\(degrees)", rotated])
            // ffmpeg applies the rotation when decoding to raw frames (autorotate).
            let reference = [UInt8](try ffmpeg(["-i", rotated, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]))
            var first: Image?
            try forEachVideoFrame(path: rotated, every: 10) { first = first ?? $0 }
            let frame = try XCTUnwrap(first)
            let upright = degrees == 180 ? [40, 30] : [30, 40]
            XCTAssertEqual([frame.width, frame.height], upright, "\(degrees)")
            XCTAssertEqual(reference.count, frame.pixels.count, "\(degrees)")
            guard reference.count == frame.pixels.count else { continue }
            let theirs = Image(width: frame.width, height: frame.height, pixels: reference)
            // A wrong turn swaps the red and blue halves (a difference in the dozens); what remains is how
            // the two converters interpolate chroma across the sharp colour edges.
            XCTAssertLessThan(Fixtures.meanAbsoluteDifference(frame, theirs), 8, "\(degrees)")
        }
    }
}

private extension Array {
    func repeated(_ times: Int) -> [Element] { Array([[Element]](repeating: self, count: times).joined()) }
}
