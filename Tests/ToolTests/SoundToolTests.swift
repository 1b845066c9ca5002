import Foundation
import TensorStream
import XCTest

/// `walk --audio` and `encode --audio` end to end: sounds written here, a tiny model, ffprobe and ffmpeg
/// to read the videos back.
final class SoundToolTests: XCTestCase {
    private var dir: URL!
    private var model: String!
    private let fps = 25.0

    override func setUpWithError() throws {
        dir = try ToolRunner.temporaryDirectory(self)
        model = dir.appendingPathComponent("m.ckpt").path
        let made = try ToolRunner.shell("synth universe --n 8 --size 32 -q | train --steps 2 --width 2 --z-dim 8 --batch 4 -q -o m.ckpt",
                                        directory: dir)
        XCTAssertEqual(made.status, 0, made.stderr)
    }

    /// Writes a 16-bit WAV of `channels` channels at `rate` (each channel the same samples); its path.
    @discardableResult
    private func wav(_ name: String, _ samples: [Float], rate: Int = 22050, channels: Int = 1) throws -> String {
        var data = Data()
        func put<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        let bytes = samples.count * channels * 2
        data.append(contentsOf: Array("RIFF".utf8)); put(UInt32(36 + bytes))
        data.append(contentsOf: Array("WAVEfmt ".utf8)); put(UInt32(16)); put(UInt16(1)); put(UInt16(channels))
        put(UInt32(rate)); put(UInt32(rate * channels * 2)); put(UInt16(channels * 2)); put(UInt16(16))
        data.append(contentsOf: Array("data".utf8)); put(UInt32(bytes))
        for sample in samples { for _ in 0..<channels { put(Int16(max(-1, min(1, sample)) * 32767)) } }
        let url = dir.appendingPathComponent(name)
        try data.write(to: url)
        return url.path
    }

    /// `seconds` of silence with a 3 ms click (noise at -6 dB) in the middle of each of `frames` (at `fps`).
    private func clicks(seconds: Double, frames: [Int], rate: Int = 22050) -> [Float] {
        var samples = [Float](repeating: 0, count: Int(seconds * Double(rate)))
        var random = SystemRandomNumberGenerator()
        for frame in frames {
            let start = Int((Double(frame) + 0.5) / fps * Double(rate))
            for i in start..<(start + rate * 3 / 1000) { samples[i] = Float.random(in: -0.5...0.5, using: &random) }
        }
        return samples
    }

    /// The rows of a --features table by column name.
    private func table(_ path: String) throws -> [String: [Double]] {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        let names = lines[0].split(separator: "\t").map(String.init)
        var columns = [String: [Double]]()
        for line in lines.dropFirst() {
            for (name, field) in zip(names, line.split(separator: "\t")) { columns[name, default: []].append(Double(field) ?? .nan) }
        }
        return columns
    }

    private func frames(_ data: Data) throws -> (StreamHeader, [[UInt8]]) {
        let reader = try StreamReader(from: MemorySource([UInt8](data)))
        return (reader.header, try reader.readAllBytes())
    }

    // MARK: walk --audio

    func testAClickTrackPushesTheWalkOnItsClicks() throws {
        let beats = [20, 47, 80]
        let sound = try wav("clicks.wav", clicks(seconds: 4, frames: beats))
        let features = dir.appendingPathComponent("f.tsv").path
        let walk = try ToolRunner.run("walk", [model, "--audio", sound, "--fps", "25", "--keys", "3", "--features", features])
        XCTAssertEqual(walk.status, 0, walk.stderr)
        XCTAssertTrue(walk.stderr.contains("4.0 s of sound in 100 frames, 3 onsets"), walk.stderr)
        let (header, pictures) = try frames(walk.stdout)
        XCTAssertEqual(pictures.count, 100, "as many frames as the sound lasts at --fps")
        XCTAssertEqual(header.metadata["audio"], sound)
        let columns = try table(features)
        XCTAssertEqual(columns["frame"]?.count, 100)
        let picked = try XCTUnwrap(columns["picked"])
        XCTAssertEqual(picked.indices.filter { picked[$0] == 1 }, beats)
        let steps = try XCTUnwrap(columns["latent_step"])
        XCTAssertEqual(steps.indices.sorted { steps[$0] > steps[$1] }.prefix(3).sorted(), beats,
                       "the latent moves most on the clicks: \(steps)")
        // The pictures change there too: each click's frame differs from the one before more than the median frame does.
        let changes = zip(pictures, pictures.dropFirst()).map { zip($0, $1).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) } }
        let median = changes.sorted()[changes.count / 2]
        for beat in beats { XCTAssertGreaterThan(changes[beat - 1], median, "frame \(beat)") }
    }

    func testSilenceGivesTheEvenWalk() throws {
        // Stereo silence, at a rate of its own: read, mixed down and resampled like any sound.
        let silence = try wav("silence.wav", [Float](repeating: 0, count: 4 * 44100), rate: 44100, channels: 2)
        let arguments = [model!, "--fps", "25", "--keys", "4", "--seed", "3", "--loop", "--psi", "0.8"]
        let moved = try ToolRunner.run("walk", arguments + ["--audio", silence])
        let even = try ToolRunner.run("walk", arguments + ["--n", "100"])
        XCTAssertEqual(moved.status, 0, moved.stderr)
        XCTAssertEqual(even.status, 0, even.stderr)
        let (_, a) = try frames(moved.stdout), (_, b) = try frames(even.stdout)
        XCTAssertEqual(a.count, 100)
        XCTAssertEqual(a.count, b.count)
        let largest = zip(a, b).map { zip($0, $1).map { abs(Int($0) - Int($1)) }.max() ?? 0 }.max() ?? 0
        XCTAssertLessThanOrEqual(largest, 1, "silence walks as the even walk does, to rounding")
    }

    func testALouderPassageMovesFaster() throws {
        // Two seconds of a tone at -40 dB, two at -6 dB, and --n longer than the sound: silence after it.
        let rate = 22050.0
        let samples = (0..<Int(4 * rate)).map { i -> Float in
            Float((Double(i) < 2 * rate ? 0.01 : 0.5) * sin(2 * .pi * 330 * Double(i) / rate))
        }
        let sound = try wav("quiet-loud.wav", samples)
        let features = dir.appendingPathComponent("f.tsv").path
        let walk = try ToolRunner.run("walk", [model, "--audio", sound, "--fps", "25", "--n", "125", "--features", features,
                                               "--smooth", "0.1", "--pulse", "0", "-o", dir.appendingPathComponent("w.tns").path])
        XCTAssertEqual(walk.status, 0, walk.stderr)
        let path = try XCTUnwrap(table(features)["path"])
        XCTAssertEqual(path.count, 125)
        let quiet = path[45] - path[5], loud = path[95] - path[55], after = path[124] - path[105]
        XCTAssertGreaterThan(loud, 2 * quiet, "\(path)")
        XCTAssertGreaterThan(loud, 2 * after)
        XCTAssertEqual(path.last ?? 0, 3, accuracy: 1e-6, "and it still ends on its last key (of four)")
    }

    func testKeysOnBeatsAndItsOptionsNeedASound() throws {
        let sound = try wav("clicks.wav", clicks(seconds: 4, frames: [30, 70]))
        let features = dir.appendingPathComponent("f.tsv").path
        let walk = try ToolRunner.run("walk", [model, "--audio", sound, "--fps", "25", "--keys", "4", "--keys-on-beats",
                                               "--features", features, "-o", dir.appendingPathComponent("w.tns").path])
        XCTAssertEqual(walk.status, 0, walk.stderr)
        let path = try XCTUnwrap(table(features)["path"])
        XCTAssertEqual(path[30], 1, accuracy: 1e-9, "the second key on the first click")
        XCTAssertEqual(path[70], 2, accuracy: 1e-9, "the third on the second")
        for arguments in [["--motion", "0.5"], ["--keys-on-beats"], ["--features", "f.tsv"],
                          ["--audio", sound, "--motion", "2"], ["--audio", sound, "--features", "-"]] {
            let result = try ToolRunner.run("walk", [model, "--n", "5"] + arguments, directory: dir)
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        }
    }

    // MARK: encode --audio

    /// ffprobe's streams of `path`: codec type to (codec, start, duration).
    private func streams(_ path: String) throws -> [String: (codec: String, start: Double, duration: Double)] {
        let result = try ToolRunner.shell("ffprobe -v error -show_entries stream=codec_type,codec_name,start_time,duration "
                                          + "-of csv=p=0 '\(path)'")
        XCTAssertEqual(result.status, 0, result.stderr)
        var found: [String: (String, Double, Double)] = [:]
        for line in String(decoding: result.stdout, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 4 else { continue }
            found[fields[1]] = (fields[0], Double(fields[2]) ?? .nan, Double(fields[3]) ?? .nan)
        }
        return found
    }

    /// The sound of a video as ffmpeg decodes it, mono at 8 kHz.
    private func decodedSound(_ path: String) throws -> [Float] {
        let result = try ToolRunner.shell("ffmpeg -v error -i '\(path)' -map 0:a -ac 1 -ar 8000 -f f32le -")
        XCTAssertEqual(result.status, 0, result.stderr)
        return result.stdout.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    func testEncodePutsTheSoundBesideTheFramesInMP4AndWebM() throws {
        try wav("clicks.wav", clicks(seconds: 4, frames: [20, 47, 80]), channels: 2)
        for format in ["mp4", "webm"] {
            let video = dir.appendingPathComponent("walk.\(format)").path
            let made = try ToolRunner.shell("walk m.ckpt --audio clicks.wav --fps 25 -q | encode --audio clicks.wav -o '\(video)'",
                                            directory: dir)
            XCTAssertEqual(made.status, 0, made.stderr)
            XCTAssertTrue(made.stderr.contains("wrote 100 frames 32x32 \(format) to \(video) with the sound of clicks.wav"), made.stderr)
            let found = try streams(video)
            XCTAssertEqual(found["video"]?.codec, format == "mp4" ? "h264" : "vp9")
            XCTAssertEqual(found["audio"]?.codec, format == "mp4" ? "aac" : "opus")
            XCTAssertEqual(found["audio"]?.start ?? .nan, 0, accuracy: 1 / fps, "the sound starts with the video")
            let samples = try decodedSound(video)
            XCTAssertEqual(Double(samples.count) / 8000, 4, accuracy: 1 / fps, "as long as the video's 100 frames")
            // The first click is heard where it was: in frame 20.
            let first = try XCTUnwrap(samples.firstIndex { abs($0) > 0.05 })
            XCTAssertEqual(Double(first) / 8000, 20.5 / fps, accuracy: 1 / fps)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }, [],
                       "no temporary file left")
    }

    func testTheSoundIsCutPaddedAndOffsetToTheVideo() throws {
        try wav("click.wav", clicks(seconds: 3, frames: [25]))  // a click at 1.02 s of a 3-second sound
        let cases: [(arguments: String, frames: Int, click: Double?)] = [
            ("", 50, 1.02),                           // cut at 2 s
            ("--audio-offset 0.5", 50, 1.52),         // starts half a second into the video
            ("--audio-offset -0.5", 50, 0.52),        // the video starts half a second into the sound
            ("--audio-offset 1.5", 50, nil),          // the click falls after the video's end
            ("", 125, 1.02),                          // padded with silence to 5 s
        ]
        for (arguments, count, click) in cases {
            // A pipe: fragmented MP4.
            let made = try ToolRunner.shell("walk m.ckpt --n \(count) --fps 25 -q | encode --audio click.wav \(arguments) -q > v.mp4",
                                            directory: dir)
            XCTAssertEqual(made.status, 0, made.stderr)
            let samples = try decodedSound(dir.appendingPathComponent("v.mp4").path)
            XCTAssertEqual(Double(samples.count) / 8000, Double(count) / fps, accuracy: 1 / fps, "\(arguments) \(count)")
            let heard = samples.firstIndex { abs($0) > 0.05 }.map { Double($0) / 8000 }
            if let click {
                XCTAssertEqual(heard ?? .nan, click, accuracy: 1 / fps, "\(arguments) \(count)")
            } else {
                XCTAssertNil(heard, arguments)
            }
        }
        let found = try streams(dir.appendingPathComponent("v.mp4").path)
        XCTAssertEqual(Set(found.keys), ["video", "audio"])
    }

    // MARK: Sounds that are not sounds

    func testBadSoundIsOneLineAndLeavesNoOutput() throws {
        let noise = dir.appendingPathComponent("noise.mp3")
        try Data((0..<20000).map { UInt8(truncatingIfNeeded: $0 &* 7919 >> 3) }).write(to: noise)
        let empty = dir.appendingPathComponent("empty.wav")
        try Data().write(to: empty)
        let oneHertz = try wav("one-hertz.wav", [0, 0.5, -0.5, 0], rate: 1)
        let headerOnly = try wav("header-only.wav", [])
        let silentVideo = try ToolRunner.shell("walk m.ckpt --n 5 -q | encode -q -o silent.mp4", directory: dir)
        XCTAssertEqual(silentVideo.status, 0, silentVideo.stderr)
        let expected = [
            (noise.path, "cannot open as sound ("), (empty.path, "cannot open as sound ("),
            (oneHertz, "its sample rate of 1 Hz is too low for sound (at least 1000 Hz)"),
            (headerOnly, "no sound in the file"), (dir.appendingPathComponent("silent.mp4").path, "no audio stream"),
            (dir.appendingPathComponent("missing.wav").path, "cannot open as sound ("),
        ]
        let before = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        for (file, message) in expected {
            let walk = try ToolRunner.run("walk", [model, "--audio", file, "-o", "out.tns"], directory: dir)
            let encode = try ToolRunner.shell("walk m.ckpt --n 5 -q | encode --audio '\(file)' -o out.mp4", directory: dir)
            for (tool, result) in [("walk", walk), ("encode", encode)] {
                XCTAssertEqual(result.status, 1, "\(tool) \(file): \(result.stderr)")
                let lines = result.stderr.split(separator: "\n")
                XCTAssertEqual(lines.count, 1, "\(tool): \(result.stderr)")
                XCTAssertTrue(lines.first?.hasPrefix("\(tool): \(message)") ?? false, "\(tool): \(result.stderr)")
                XCTAssertTrue(lines.first?.hasSuffix(": \(file)") ?? false, "\(tool): \(result.stderr)")
            }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), before,
                       "no output, whole or half, and no temporary file")
        // A truncated file gives the sound it holds.
        let whole = try Data(contentsOf: URL(fileURLWithPath: try wav("whole.wav", clicks(seconds: 2, frames: [10]))))
        try whole.prefix(whole.count / 2).write(to: dir.appendingPathComponent("cut.wav"))
        let cut = try ToolRunner.run("walk", [model, "--audio", "cut.wav", "--fps", "25", "-o", "cut.tns"], directory: dir)
        XCTAssertEqual(cut.status, 0, cut.stderr)
        XCTAssertTrue(cut.stderr.contains("1.0 s of sound in 25 frames"), cut.stderr)
        // Eight channels are mixed down.
        try wav("eight.wav", clicks(seconds: 1, frames: [10]), channels: 8)
        let eight = try ToolRunner.shell("walk m.ckpt --audio eight.wav --fps 25 -q | encode --audio eight.wav -q -o eight.mp4",
                                         directory: dir)
        XCTAssertEqual(eight.status, 0, eight.stderr)
        let channels = try ToolRunner.shell("ffprobe -v error -select_streams a -show_entries stream=channels -of csv=p=0 eight.mp4",
                                            directory: dir)
        XCTAssertEqual(String(decoding: channels.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines), "2")
    }

    func testEncodeRefusesSoundWhereThereIsNone() throws {
        try wav("click.wav", clicks(seconds: 1, frames: [5]))
        for arguments in ["--audio click.wav -o a.gif", "--audio click.wav -o a.png", "--audio click.wav --format y4m",
                          "--audio click.wav --grid 2x2 -o g.png", "--audio-offset 1 -o a.mp4",
                          "--audio click.wav --audio-offset nan -o a.mp4"] {
            let result = try ToolRunner.shell("walk m.ckpt --n 4 -q | encode \(arguments)", directory: dir)
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        }
        let gif = try ToolRunner.shell("walk m.ckpt --n 4 -q | encode --audio click.wav -o a.gif", directory: dir)
        XCTAssertTrue(gif.stderr.hasPrefix("encode: --audio goes into mp4 (AAC) or webm (Opus); gif has no sound"), gif.stderr)
    }

    /// Ten hours of sound (a sparse file, so it costs no disk) is read only as far as the frames need, and
    /// half an hour analysed whole takes no more memory than a few seconds.
    func testALongSoundIsStreamedInBoundedMemory() throws {
        let rate = 8000, tenHours = 10 * 3600 * rate
        let long = dir.appendingPathComponent("ten-hours.wav")
        let header = try Data(contentsOf: URL(fileURLWithPath: try wav("header.wav", [], rate: rate)))
        var patched = [UInt8](header)
        func put(_ value: UInt32, at offset: Int) { for i in 0..<4 { patched[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) } }
        put(UInt32(36 + 2 * tenHours), at: 4)
        put(UInt32(2 * tenHours), at: 40)
        try Data(patched).write(to: long)
        let handle = try FileHandle(forWritingTo: long)
        try handle.truncate(atOffset: UInt64(patched.count + 2 * tenHours))
        try handle.close()

        /// Exit status and peak resident memory (MB) of a command, measured by python.
        func measured(_ command: String) throws -> (status: Int32, megabytes: Double, stderr: String) {
            let result = try ToolRunner.shell("""
                python3 -c 'import resource, subprocess, sys
                status = subprocess.run(["bash", "-o", "pipefail", "-c", sys.argv[1]]).returncode
                print(status, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)' '\(command)'
                """, directory: dir)
            let fields = String(decoding: result.stdout, as: UTF8.self).split(separator: " ")
            return (Int32(fields.first ?? "") ?? -1, Double(fields.last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? .nan,
                    result.stderr)
        }
        let started = Date()
        let walk = try measured("walk m.ckpt --audio ten-hours.wav --n 50 --fps 25 -q -o w.tns")
        let encode = try measured("encode w.tns --audio ten-hours.wav -q -o w.mp4")
        XCTAssertEqual(walk.status, 0, walk.stderr)
        XCTAssertEqual(encode.status, 0, encode.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 20, "two seconds of a ten-hour sound")
        XCTAssertLessThan(walk.megabytes, 150)
        XCTAssertLessThan(encode.megabytes, 150)

        // Half an hour, all of it (one frame a second): its samples alone would be 159 MB at the analysis rate.
        try FileManager.default.removeItem(at: long)
        let halfHour = 1800 * rate
        put(UInt32(36 + 2 * halfHour), at: 4)
        put(UInt32(2 * halfHour), at: 40)
        let hour = dir.appendingPathComponent("half-hour.wav")
        try Data(patched).write(to: hour)
        let hourHandle = try FileHandle(forWritingTo: hour)
        try hourHandle.truncate(atOffset: UInt64(patched.count + 2 * halfHour))
        try hourHandle.close()
        let whole = try measured("walk m.ckpt --audio half-hour.wav --fps 1 -o h.tns")
        XCTAssertEqual(whole.status, 0, whole.stderr)
        XCTAssertTrue(whole.stderr.contains("1800.0 s of sound in 1800 frames"), whole.stderr)
        XCTAssertLessThan(whole.megabytes, 120, "a walk of a few seconds takes about 60 MB")
    }
}
