import Foundation
import Imaging
import XCTest

/// Frames and probes shared by the Media tests.
enum Fixtures {
    /// A gentle moving colour gradient (a few levels per pixel, so 4:2:0 chroma loses little), different
    /// in every frame.
    static func gradientFrames(count: Int, width: Int, height: Int) -> [Image] {
        (0..<count).map { t in
            var image = Image(width: width, height: height)
            for y in 0..<height {
                for x in 0..<width {
                    image[x, y, 0] = UInt8(clamping: 40 + 3 * x + 4 * t)
                    image[x, y, 1] = UInt8(clamping: 30 + 3 * y)
                    image[x, y, 2] = UInt8(clamping: 100 + 3 * t)
                }
            }
            return image
        }
    }

    /// Mean absolute difference of two same-sized images' samples.
    static func meanAbsoluteDifference(_ a: Image, _ b: Image) -> Double {
        precondition(a.pixels.count == b.pixels.count)
        let total = zip(a.pixels, b.pixels).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }
        return Double(total) / Double(a.pixels.count)
    }

    /// A fresh folder removed after the test.
    static func temporaryDirectory(_ test: XCTestCase) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("media-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    struct Probe {
        var codec: String
        var width: Int
        var height: Int
        var frames: Int
        var pixelFormat: String
    }

    /// Runs a command-line program (ffmpeg, ffprobe): its exit status and what it wrote to stdout.
    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, data)
    }

    /// What ffprobe says about the first video stream, counting frames by decoding them.
    static func probe(_ path: String) throws -> Probe {
        let (status, data) = try run("/usr/bin/ffprobe", [
            "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
            "stream=codec_name,width,height,nb_read_frames,pix_fmt", "-of", "json", path])
        guard status == 0,
              let json = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let stream = (json["streams"] as? [[String: Any]])?.first else {
            throw NSError(domain: "ffprobe", code: Int(status),
                          userInfo: [NSLocalizedDescriptionKey: "ffprobe could not read \(path)"])
        }
        return Probe(codec: stream["codec_name"] as? String ?? "",
                     width: stream["width"] as? Int ?? 0,
                     height: stream["height"] as? Int ?? 0,
                     frames: Int(stream["nb_read_frames"] as? String ?? "") ?? -1,
                     pixelFormat: stream["pix_fmt"] as? String ?? "")
    }

    /// The four-letter types of an ISO-BMFF (MP4) file's top-level boxes, in order.
    static func topLevelAtoms(_ data: Data) -> [String] {
        var atoms: [String] = [], offset = 0
        let bytes = [UInt8](data)
        while offset + 8 <= bytes.count {
            var size = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            atoms.append(String(decoding: bytes[offset + 4..<offset + 8], as: UTF8.self))
            if size == 1, offset + 16 <= bytes.count {
                size = bytes[offset + 8..<offset + 16].reduce(0) { $0 << 8 | Int($1) }
            }
            guard size >= 8 else { break }
            offset += size
        }
        return atoms
    }
}
