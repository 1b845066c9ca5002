import Foundation
import Media
import XCTest

/// `AudioDecoder` on sounds ffmpeg writes in every common container, and on files that are not sound.
final class AudioDecoderTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = try Fixtures.temporaryDirectory(self)
    }

    /// Writes `file` with ffmpeg from a lavfi source; its path.
    private func make(_ file: String, _ arguments: [String]) throws -> String {
        let path = dir.appendingPathComponent(file).path
        let (status, _) = try Fixtures.run("/usr/bin/ffmpeg", ["-v", "error", "-y"] + arguments + [path])
        XCTAssertEqual(status, 0, "ffmpeg could not write \(file)")
        return path
    }

    /// Every sample of `path` at `rate`, mixed to `channels`.
    private func decode(_ path: String, rate: Int = 8000, channels: Int = 1) throws -> [Float] {
        let decoder = try AudioDecoder(path: path, sampleRate: rate, channels: channels)
        var samples: [Float] = []
        while try decoder.read(777, into: &samples) > 0 {}
        XCTAssertEqual(decoder.framesRead * decoder.channels, samples.count)
        return samples
    }

    /// The frequency of a steady tone, from its rising zero crossings.
    private func pitch(_ samples: [Float], rate: Int) -> Double {
        let crossings = zip(samples, samples.dropFirst()).filter { $0 < 0 && $1 >= 0 }.count
        return Double(crossings) * Double(rate) / Double(samples.count)
    }

    func testEveryCommonFormatDecodesToTheSameTone() throws {
        let tone = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=2", "-ac", "2"]
        let files = [
            try make("tone.wav", tone),
            try make("tone.flac", tone),
            try make("tone.mp3", tone + ["-c:a", "libmp3lame"]),
            try make("tone.opus", tone + ["-c:a", "libopus"]),
            try make("tone.ogg", tone + ["-c:a", "libvorbis"]),
            try make("tone.m4a", tone + ["-c:a", "aac"]),
            // The sound track of a video.
            try make("clip.mp4", ["-f", "lavfi", "-i", "testsrc=size=32x32:rate=10:duration=2"] + tone
                                 + ["-c:v", "libx264", "-c:a", "aac", "-shortest"]),
        ]
        for file in files {
            let samples = try decode(file)
            let name = URL(fileURLWithPath: file).lastPathComponent
            XCTAssertEqual(Double(samples.count) / 8000, 2, accuracy: 0.1, name)
            XCTAssertEqual(pitch(samples, rate: 8000), 440, accuracy: 5, name)
            // ffmpeg's sine is at 1/8 of full scale: its RMS is 0.088.
            let middle = samples[4000..<12000]
            let rms = (middle.reduce(0) { $0 + Double($1 * $1) } / Double(middle.count)).squareRoot()
            XCTAssertEqual(rms, 0.125 / 2.squareRoot(), accuracy: 0.01, name)
        }
    }

    func testStereoAndEightChannelsMixDownAndStereoIsKept() throws {
        let eight = try make("eight.wav", ["-f", "lavfi", "-i", "sine=frequency=300:sample_rate=48000:duration=1", "-ac", "8"])
        let mono = try decode(eight, rate: 16000)
        XCTAssertEqual(mono.count, 16000)
        XCTAssertEqual(pitch(mono, rate: 16000), 300, accuracy: 3)
        let stereo = try decode(eight, rate: 16000, channels: 2)
        XCTAssertEqual(stereo.count, 32000, "interleaved left and right")
        let monoSource = try make("mono.flac", ["-f", "lavfi", "-i", "sine=frequency=300:sample_rate=16000:duration=1"])
        XCTAssertEqual(try AudioDecoder(path: monoSource, sampleRate: 16000, channels: 2).channels, 1, "mono stays mono")
        XCTAssertEqual(try decode(monoSource, rate: 16000, channels: 2).count, 16000)
        let decoder = try AudioDecoder(path: eight, sampleRate: 16000, channels: 1)
        XCTAssertEqual(decoder.sourceChannels, 8)
        XCTAssertEqual(decoder.sourceSampleRate, 48000)
    }

    /// A 16-bit mono WAV file's bytes: the RIFF header for `rate` and `samples`.
    private func wav(rate: UInt32, samples: [Int16]) -> Data {
        var data = Data()
        func put<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        data.append(contentsOf: Array("RIFF".utf8)); put(UInt32(36 + 2 * samples.count))
        data.append(contentsOf: Array("WAVEfmt ".utf8)); put(UInt32(16)); put(UInt16(1)); put(UInt16(1))
        put(rate); put(rate * 2); put(UInt16(2)); put(UInt16(16))
        data.append(contentsOf: Array("data".utf8)); put(UInt32(2 * samples.count))
        for sample in samples { put(sample) }
        return data
    }

    private func expectFailure(_ path: String, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try decode(path), file: file, line: line) { error in
            XCTAssertEqual((error as? MediaError)?.description, "\(message): \(path)", file: file, line: line)
        }
    }

    func testFilesThatAreNotSoundFailWithOneLine() throws {
        let oneHertz = dir.appendingPathComponent("one-hertz.wav")
        try wav(rate: 1, samples: [0, 1000, -1000, 0]).write(to: oneHertz)
        expectFailure(oneHertz.path, "its sample rate of 1 Hz is too low for sound (at least 1000 Hz)")

        let empty = dir.appendingPathComponent("empty.wav")
        try Data().write(to: empty)
        XCTAssertThrowsError(try decode(empty.path)) { error in
            XCTAssertTrue("\(error)".hasPrefix("cannot open as sound ("), "\(error)")
        }
        let headerOnly = dir.appendingPathComponent("header-only.wav")
        try wav(rate: 8000, samples: []).write(to: headerOnly)
        expectFailure(headerOnly.path, "no sound in the file")

        let silentVideo = try make("silent.mp4", ["-f", "lavfi", "-i", "testsrc=size=32x32:rate=10:duration=1", "-c:v", "libx264"])
        expectFailure(silentVideo, "no audio stream")

        let noise = dir.appendingPathComponent("noise.mp3")
        try Data((0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 7919 >> 3) }).write(to: noise)
        XCTAssertThrowsError(try decode(noise.path))
    }

    func testATruncatedFileGivesWhatItHolds() throws {
        let mp3 = try make("long.mp3", ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=4", "-c:a", "libmp3lame"])
        let bytes = try Data(contentsOf: URL(fileURLWithPath: mp3))
        let cut = dir.appendingPathComponent("cut.mp3")
        try bytes.prefix(bytes.count / 2 + 77).write(to: cut)
        let samples = try decode(cut.path)
        XCTAssertEqual(Double(samples.count) / 8000, 2, accuracy: 0.2)
        XCTAssertEqual(pitch(samples, rate: 8000), 440, accuracy: 5)
    }
}
