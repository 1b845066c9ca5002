import Foundation
import Sound
import XCTest

/// The FFT against the plain DFT, and the features of sounds made here, sample by sample.
final class SoundAnalysisTests: XCTestCase {
    let rate = Double(SoundAnalyser.sampleRate)

    func testRealFFTMatchesTheDefinition() {
        var generator = SystemRandomNumberGenerator()
        for size in [4, 8, 64, 1024] {
            let input = (0..<size).map { _ in Float.random(in: -1...1, using: &generator) }
            var magnitudes: [Float] = []
            input.withUnsafeBufferPointer { RealFFT(size: size).magnitudes(of: $0, into: &magnitudes) }
            XCTAssertEqual(magnitudes.count, size / 2 + 1)
            for k in 0...(size / 2) {
                var re = 0.0, im = 0.0
                for (n, x) in input.enumerated() {
                    let angle = -2 * Double.pi * Double(k * n) / Double(size)
                    re += Double(x) * cos(angle)
                    im += Double(x) * sin(angle)
                }
                XCTAssertEqual(Double(magnitudes[k]), (re * re + im * im).squareRoot(), accuracy: 1e-3 * Double(size),
                               "size \(size), bin \(k)")
            }
        }
    }

    /// Samples of `seconds` of silence with a click (2 ms of full-scale noise) at each of `clicks` (seconds).
    private func clickTrack(seconds: Double, clicks: [Double]) -> [Float] {
        var samples = [Float](repeating: 0, count: Int(seconds * rate))
        var random = SystemRandomNumberGenerator()
        for click in clicks {
            let start = Int(click * rate)
            for i in start..<min(samples.count, start + Int(0.002 * rate)) { samples[i] = Float.random(in: -1...1, using: &random) }
        }
        return samples
    }

    private func features(_ samples: [Float], fps: Double, frames: Int? = nil) -> SoundFeatures {
        let analyser = SoundAnalyser(fps: fps)
        // In uneven blocks, as a decoder hands them out.
        var start = 0, size = 1000
        while start < samples.count {
            analyser.add(Array(samples[start..<min(samples.count, start + size)]))
            start += size
            size = size * 7 % 5003 + 100
        }
        return analyser.finish(frames: frames)
    }

    func testClicksAreOnsetsInTheirFrames() {
        let fps = 30.0
        // Clicks in the middle of frames 12, 40 and 71.
        let frames = [12, 40, 71]
        let sound = features(clickTrack(seconds: 3, clicks: frames.map { (Double($0) + 0.5) / fps }), fps: fps)
        XCTAssertEqual(sound.frameCount, 90)
        XCTAssertEqual(sound.duration, 3, accuracy: 1 / rate)
        XCTAssertEqual(sound.onsets.map(\.frame), frames)
        for frame in frames { XCTAssertGreaterThan(sound.loudness[frame], -30, "frame \(frame) holds a click") }
        XCTAssertEqual(sound.loudness[0], SoundFeatures.silence)
        XCTAssertEqual(sound.onsetStrength.max(), 1)
    }

    func testSilenceHasNoLevelAndNoOnsets() {
        let sound = features([Float](repeating: 0, count: Int(2 * rate)), fps: 24)
        XCTAssertEqual(sound.frameCount, 48)
        XCTAssertEqual(sound.level(smoothing: 0.2), [Float](repeating: 0, count: 48))
        XCTAssertEqual(sound.onsets, [])
        // Noise far below full scale (-70 dB) is silence too.
        var random = SystemRandomNumberGenerator()
        let hiss = (0..<Int(2 * rate)).map { _ in Float.random(in: -0.0005...0.0005, using: &random) }
        let quiet = features(hiss, fps: 24)
        XCTAssertEqual(quiet.level(smoothing: 0.2).max(), 0)
        XCTAssertEqual(quiet.onsets, [])
    }

    func testLevelFollowsLoudnessAndTheCentroidThePitch() {
        // 1.05 seconds of a 220 Hz tone at -26 dB, then 0.95 of 1760 Hz at -6 dB.
        let samples = (0..<Int(2 * rate)).map { i -> Float in
            let t = Double(i) / rate
            return t < 1.05 ? Float(0.07 * sin(2 * .pi * 220 * t)) : Float(0.7 * sin(2 * .pi * 1760 * t))
        }
        let sound = features(samples, fps: 10)
        let level = sound.level(smoothing: 0)
        XCTAssertEqual(sound.loudness[3], -26, accuracy: 0.2)
        XCTAssertEqual(sound.loudness[15], -6, accuracy: 0.2)
        XCTAssertEqual(level[15], 1)
        XCTAssertEqual(level[3], 4.0 / 24, accuracy: 0.01, "20 dB below the loud part, 4 dB into the 24 dB range")
        XCTAssertEqual(sound.centroid[3], 220, accuracy: 40)
        XCTAssertEqual(sound.centroid[15], 1760, accuracy: 100)
        // Smoothing spreads the step both ways and keeps its middle.
        let smooth = sound.level(smoothing: 0.3)
        XCTAssertGreaterThan(smooth[8], level[8])
        XCTAssertLessThan(smooth[12], level[12])
        XCTAssertEqual(sound.onsets.map(\.frame), [10], "the second tone starts (the sound's own start is no onset)")
    }

    func testFramesAskedForArePaddedOrCut() {
        let samples = clickTrack(seconds: 1, clicks: [0.275])
        XCTAssertEqual(features(samples, fps: 20, frames: 50).frameCount, 50)
        let short = features(samples, fps: 20, frames: 10)
        XCTAssertEqual(short.frameCount, 10)
        XCTAssertEqual(short.onsets.map(\.frame), [5])
        let analyser = SoundAnalyser(fps: 20)
        XCTAssertEqual(analyser.samplesNeeded(forFrames: 10), Int(0.5 * rate) + SoundAnalyser.windowSize / 2)
    }
}
