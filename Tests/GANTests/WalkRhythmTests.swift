import Foundation
import GAN
import XCTest

/// A walk that follows levels and beats: the even walk when nothing happens, faster where it is loud,
/// pushed on the beats, keys on the beats when asked.
final class WalkRhythmTests: XCTestCase {
    private let zDim = 16

    private func keys(_ count: Int) -> [[Float]] {
        (0..<count).map { Latents.forSeed(UInt64(100 + $0), zDim: zDim) }
    }

    private func distance(_ a: [Float], _ b: [Float]) -> Double {
        zip(a, b).reduce(0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }.squareRoot()
    }

    /// How far the latent moves into each frame (0 for the first).
    private func steps(_ walk: LatentWalk) -> [Double] {
        [0] + (1..<walk.frames).map { distance(walk.latent(ofFrame: $0), walk.latent(ofFrame: $0 - 1)) }
    }

    private let rhythm = WalkRhythm(motion: 0.7, pulse: 0.3, pulseAttack: 0, pulseDecay: 6, keysOnBeats: false, seed: 5)

    func testAnEvenLevelAndNoBeatsGiveTheEvenWalk() throws {
        for (hold, loop, ease) in [(1, false, false), (1, true, true), (4, true, false), (3, false, true)] {
            let even = try LatentWalk(keys: keys(4), frames: 61, ease: ease, loop: loop, hold: hold, psi: 0.8)
            for level: Float in [0, 0.4, 1] {
                var walk = even
                var rhythm = self.rhythm
                rhythm.keysOnBeats = true
                rhythm.apply(levels: [Float](repeating: level, count: 61), beats: [], to: &walk)
                XCTAssertNil(walk.pulses)
                for frame in 0..<61 {
                    XCTAssertLessThan(distance(walk.latent(ofFrame: frame), even.latent(ofFrame: frame)), 1e-4,
                                      "hold \(hold) loop \(loop) ease \(ease) level \(level) frame \(frame)")
                }
            }
        }
    }

    func testTheLatentStepIsLargestOnTheBeats() throws {
        var walk = try LatentWalk(keys: keys(3), frames: 90)
        let beats = [12, 40, 71]
        // A click track: loud only on the beats, as its levels smoothed a little.
        var levels = [Float](repeating: 0, count: 90)
        for beat in beats { for frame in max(0, beat - 2)...min(89, beat + 2) { levels[frame] = beat == frame ? 1 : 0.3 } }
        rhythm.apply(levels: levels, beats: beats.map { WalkBeat(frame: $0, strength: 1) }, to: &walk)
        let moves = steps(walk)
        let largest = moves.indices.sorted { moves[$0] > moves[$1] }.prefix(beats.count).sorted()
        XCTAssertEqual(largest, beats, "\(moves)")
        // The push decays: a frame after a beat moves less than the beat, and back toward the path.
        XCTAssertLessThan(moves[13], moves[12] / 2)
        XCTAssertEqual(walk.pulses?.envelope(atFrame: 12) ?? 0, 1, accuracy: 1e-9)
        XCTAssertEqual(walk.pulses?.envelope(atFrame: 18) ?? 0, exp(-1), accuracy: 1e-9)
        XCTAssertEqual(walk.pulses?.envelope(atFrame: 11) ?? 1, 0)
    }

    func testALouderPassageMovesFaster() throws {
        var walk = try LatentWalk(keys: keys(5), frames: 100, interpolation: .lerp)
        // Quiet for 50 frames, loud for 50.
        let levels = (0..<100).map { Float($0 < 50 ? 0.1 : 0.9) }
        var still = rhythm
        still.pulse = 0
        still.apply(levels: levels, beats: [], to: &walk)
        let timeline = try XCTUnwrap(walk.timeline)
        XCTAssertEqual(timeline.first, 0)
        XCTAssertEqual(try XCTUnwrap(timeline.last), 99, accuracy: 1e-9, "the walk still ends on its last key")
        let quiet = timeline[49] - timeline[0], loud = timeline[99] - timeline[50]
        // Speeds 1 - 0.7 + 0.7 x level: 0.37 against 0.93.
        XCTAssertEqual(loud / quiet, 0.93 / 0.37, accuracy: 0.05)
        let moves = steps(walk)
        // In the latent itself too, though the keys lie at different distances from each other.
        XCTAssertGreaterThan(moves[60..<90].reduce(0, +), 1.3 * moves[10..<40].reduce(0, +))
        XCTAssertEqual(walk.latent(ofFrame: 99), keys(5)[4])
    }

    func testKeysLandOnTheStrongestBeats() throws {
        var walk = try LatentWalk(keys: keys(4), frames: 120, loop: true)
        var onBeats = rhythm
        onBeats.keysOnBeats = true
        onBeats.pulse = 0
        // Five beats; the loop has three keys after the first. Frame 3 is too near the start, 52 too near 50.
        let beats = [(3, 1.0), (30, 0.9), (50, 0.8), (52, 0.95), (95, 0.7)].map { WalkBeat(frame: $0.0, strength: $0.1) }
        onBeats.apply(levels: [Float](repeating: 0.5, count: 120), beats: beats, to: &walk)
        for (key, frame) in zip(1..., [30, 52, 95]) {
            let position = walk.position(ofFrame: frame)
            XCTAssertEqual(position.segment, key)
            XCTAssertEqual(position.fraction, 0, accuracy: 1e-9)
            XCTAssertEqual(walk.latent(ofFrame: frame), keys(4)[key])
        }
        XCTAssertEqual(walk.latent(ofFrame: 0), keys(4)[0])
    }

    func testFewerBeatsThanKeysShareThemOut() throws {
        let walk = try LatentWalk(keys: keys(5), frames: 101)
        // Three inner keys, one key frame: the middle key (2) lands on it.
        let timeline = walk.timeline(speeds: [Double](repeating: 1, count: 101), keyFrames: [20])
        XCTAssertEqual(timeline[20], Double(walk.arrival(ofKey: 2)))
        XCTAssertEqual(timeline[100], 100)
        XCTAssertTrue(zip(timeline, timeline.dropFirst()).allSatisfy { $0 < $1 })
        // Standing still (all speeds 0) falls back to an even pace between the fixed points.
        let still = walk.timeline(speeds: [Double](repeating: 0, count: 101), keyFrames: [20])
        XCTAssertEqual(still[10], Double(walk.arrival(ofKey: 2)) / 2, accuracy: 1e-9)
    }

    func testAttackBuildsUpToTheBeat() {
        let pulses = WalkPulses(beats: [WalkBeat(frame: 10, strength: 0.5)], zDim: zDim, amount: 1, attack: 3, decay: 2, seed: 1)
        XCTAssertEqual(pulses.envelope(atFrame: 6), 0)
        XCTAssertEqual(pulses.envelope(atFrame: 7), 0.125, accuracy: 1e-12)
        XCTAssertEqual(pulses.envelope(atFrame: 10), 0.5, accuracy: 1e-12)
        XCTAssertEqual(pulses.envelope(atFrame: 12), 0.5 * exp(-1), accuracy: 1e-12)
        XCTAssertEqual(pulses.envelope(atFrame: 40), 0)
    }
}
