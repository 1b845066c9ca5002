import Foundation
import Imaging
import Media
import XCTest

final class VideoEncoderTests: XCTestCase {
    private func encode(_ frames: [Image], _ format: VideoFormat, settings: VideoSettings = VideoSettings(),
                        to path: String) throws {
        let encoder = try VideoEncoder(format: format, width: frames[0].width, height: frames[0].height,
                                       settings: settings, destination: .file(path))
        for frame in frames { try encoder.append(frame) }
        try encoder.finish()
    }

    private func decodeAll(_ path: String, every: Int = 1) throws -> [Image] {
        var frames: [Image] = []
        try forEachVideoFrame(path: path, every: every) { frames.append($0) }
        return frames
    }

    func testMP4FileIsH264WithIndexFirstAndDecodesBack() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let path = dir.appendingPathComponent("clip.mp4").path
        let frames = Fixtures.gradientFrames(count: 12, width: 48, height: 32)
        try encode(frames, .mp4, settings: VideoSettings(fps: 24, crf: 18), to: path)

        let probe = try Fixtures.probe(path)
        XCTAssertEqual(probe.codec, "h264")
        XCTAssertEqual(probe.pixelFormat, "yuv420p")
        XCTAssertEqual([probe.width, probe.height, probe.frames], [48, 32, 12])
        let atoms = Fixtures.topLevelAtoms(try Data(contentsOf: URL(fileURLWithPath: path)))
        let moov = try XCTUnwrap(atoms.firstIndex(of: "moov")), mdat = try XCTUnwrap(atoms.firstIndex(of: "mdat"))
        XCTAssertLessThan(moov, mdat, "faststart puts the index before the data: \(atoms)")
        XCTAssertFalse(atoms.contains("moof"))

        let decoded = try decodeAll(path)
        XCTAssertEqual(decoded.count, 12)
        for (original, back) in zip(frames, decoded) {
            XCTAssertEqual([back.width, back.height, back.channels], [48, 32, 3])
            XCTAssertLessThan(Fixtures.meanAbsoluteDifference(original, back), 4)
        }
    }

    func testMP4ToAPipeIsFragmentedAndPlayable() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let frames = Fixtures.gradientFrames(count: 10, width: 32, height: 32)
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let reader = FileHandle(fileDescriptor: fds[0], closeOnDealloc: true)
        let sink = ReceivedBytes()
        let drain = Thread { sink.data = reader.readDataToEndOfFile() }
        drain.start()
        let encoder = try VideoEncoder(format: .mp4, width: 32, height: 32, settings: VideoSettings(),
                                       destination: .stream(fd: fds[1], name: "pipe"))
        for frame in frames { try encoder.append(frame) }
        try encoder.finish()
        close(fds[1])
        while !drain.isFinished { usleep(1000) }

        let received = sink.data
        let atoms = Fixtures.topLevelAtoms(received)
        XCTAssertEqual(Array(atoms.prefix(2)), ["ftyp", "moov"])
        XCTAssertTrue(atoms.contains("moof"), "fragmented MP4 expected: \(atoms)")
        let path = dir.appendingPathComponent("piped.mp4").path
        try received.write(to: URL(fileURLWithPath: path))
        let probe = try Fixtures.probe(path)
        XCTAssertEqual([probe.codec, "\(probe.width)x\(probe.height)", "\(probe.frames)"], ["h264", "32x32", "10"])
        XCTAssertEqual(try decodeAll(path).count, 10)
    }

    func testScaleUpsamplesAndOddSizesArePaddedToEven() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let path = dir.appendingPathComponent("odd.mp4").path
        let frames = Fixtures.gradientFrames(count: 5, width: 15, height: 9)
        try encode(frames, .mp4, settings: VideoSettings(scale: 3), to: path)
        let probe = try Fixtures.probe(path)
        XCTAssertEqual([probe.width, probe.height, probe.frames], [46, 28, 5])
        // The padding repeats the edge, so the decoded right column matches its neighbour.
        let first = try XCTUnwrap(try decodeAll(path).first)
        for y in stride(from: 0, to: 26, by: 5) {
            XCTAssertEqual(Double(first[45, y, 1]), Double(first[44, y, 1]), accuracy: 12)
        }
    }

    func testWebMIsVP9() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let path = dir.appendingPathComponent("clip.webm").path
        let frames = Fixtures.gradientFrames(count: 8, width: 32, height: 24)
        try encode(frames, .webm, settings: VideoSettings(scale: 2), to: path)
        let probe = try Fixtures.probe(path)
        XCTAssertEqual([probe.codec, probe.pixelFormat], ["vp9", "yuv420p"])
        XCTAssertEqual([probe.width, probe.height, probe.frames], [64, 48, 8])
        let decoded = try decodeAll(path)
        XCTAssertEqual(decoded.count, 8)
    }

    func testGIFKeepsFewColoursExactlyAndApproximatesGradients() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        // Four flat quadrants whose colours change per frame: 12 colours in all, well under the palette size.
        let colours: [[UInt8]] = (0..<12).map { (i: Int) -> [UInt8] in
            [UInt8(i * 20), UInt8(255 - i * 20), UInt8((i * 71) % 256)]
        }
        let flat = (0..<3).map { t -> Image in
            var image = Image(width: 16, height: 16)
            for y in 0..<16 {
                for x in 0..<16 {
                    let colour = colours[t * 4 + (y / 8) * 2 + x / 8]
                    for c in 0..<3 { image[x, y, c] = colour[c] }
                }
            }
            return image
        }
        let flatPath = dir.appendingPathComponent("flat.gif").path
        try encode(flat, .gif, settings: VideoSettings(fps: 10), to: flatPath)
        let probe = try Fixtures.probe(flatPath)
        XCTAssertEqual([probe.codec, "\(probe.width)x\(probe.height)", "\(probe.frames)"], ["gif", "16x16", "3"])
        XCTAssertEqual(try decodeAll(flatPath), flat)

        let gradientPath = dir.appendingPathComponent("gradient.gif").path
        let gradient = Fixtures.gradientFrames(count: 6, width: 40, height: 40)
        try encode(gradient, .gif, to: gradientPath)
        let decoded = try decodeAll(gradientPath)
        XCTAssertEqual(decoded.count, 6)
        for (original, back) in zip(gradient, decoded) {
            XCTAssertLessThan(Fixtures.meanAbsoluteDifference(original, back), 4)
        }
    }

    /// A GIF's frames wait on disk for the palette, not in memory.
    func testGIFDoesNotHoldItsFramesInMemory() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let path = dir.appendingPathComponent("long.gif").path
        let base = Fixtures.gradientFrames(count: 1, width: 256, height: 256)[0]
        let encoder = try VideoEncoder(format: .gif, width: 256, height: 256, settings: VideoSettings(fps: 30),
                                       destination: .file(path))
        /// Resident memory now, in bytes (not the peak, which an earlier test may have set higher).
        func resident() throws -> Int {
            let fields = try String(contentsOfFile: "/proc/self/statm", encoding: .utf8).split(separator: " ")
            return (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
        }
        let before = try resident()
        for index in 0..<240 {  // 47 MB of frames, each its own copy
            var frame = base
            frame[index % 256, 0, 0] = UInt8(index % 251)
            try encoder.append(frame)
        }
        XCTAssertLessThan(try resident() - before, 20 << 20, "bytes held before the palette is made")
        try encoder.finish()
        XCTAssertEqual(try Fixtures.probe(path).frames, 240)
    }

    func testY4MHasExactLayoutForOddSizes() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let path = dir.appendingPathComponent("clip.y4m").path
        let frames = Fixtures.gradientFrames(count: 4, width: 7, height: 5)
        try encode(frames, .y4m, settings: VideoSettings(fps: 25), to: path)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let headerEnd = try XCTUnwrap(data.firstIndex(of: 0x0A))
        let header = String(decoding: data[..<headerEnd], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("YUV4MPEG2 W7 H5 F25:1 "), header)
        let frameBytes = 6 + 7 * 5 + 2 * (4 * 3)
        XCTAssertEqual(data.count, headerEnd + 1 + 4 * frameBytes)
        let probe = try Fixtures.probe(path)
        XCTAssertEqual([probe.width, probe.height, probe.frames], [7, 5, 4])
        let decoded = try decodeAll(path)
        XCTAssertEqual(decoded.count, 4)
    }

    func testBadSettingsAndMismatchedFramesAreErrors() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let path = dir.appendingPathComponent("x.mp4").path
        XCTAssertThrowsError(try VideoEncoder(format: .mp4, width: 8, height: 8, settings: VideoSettings(crf: 70),
                                              destination: .file(path)))
        XCTAssertThrowsError(try VideoEncoder(format: .mp4, width: 8, height: 8, settings: VideoSettings(fps: 0),
                                              destination: .file(path)))
        let encoder = try VideoEncoder(format: .mp4, width: 8, height: 8, settings: VideoSettings(),
                                       destination: .file(path))
        XCTAssertThrowsError(try encoder.append(Image(width: 9, height: 8))) { error in
            XCTAssertTrue("\(error)".contains("frame 0 is 9x8x3"), "\(error)")
        }
        XCTAssertThrowsError(try encoder.finish()) { XCTAssertTrue("\($0)".contains("no frames"), "\($0)") }
        let unwritable = dir.appendingPathComponent("missing/folder/x.mp4").path
        XCTAssertThrowsError(try VideoEncoder(format: .mp4, width: 8, height: 8, settings: VideoSettings(),
                                              destination: .file(unwritable))) { error in
            XCTAssertTrue("\(error)".hasSuffix(unwritable), "\(error)")
        }
    }
}

/// What a reader thread collected; read only after the thread finished.
private final class ReceivedBytes: @unchecked Sendable {
    var data = Data()
}
