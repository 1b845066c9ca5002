import Foundation

/// A moment a walk reacts to (a sound's onset): its frame and its strength, 0 to 1.
public struct WalkBeat: Equatable, Sendable {
    public var frame: Int
    public var strength: Double

    public init(frame: Int, strength: Double) {
        self.frame = frame
        self.strength = strength
    }
}

/// How a walk moves with a rhythm, after Lucid Sonic Dreams' split of "motion" and "pulse": a level per
/// frame (a sound's loudness, 0 to 1) sets the speed along the path, and beats (its onsets) push the
/// latent off the path for a moment. With `keysOnBeats` the strongest beats are where the walk reaches
/// its keys. The walk passes the same keys as the even walk, in as many frames; a constant level and no
/// beats give the even walk itself.
public struct WalkRhythm: Sendable {
    /// How much the level sets the speed: 0 keeps the even pace, 1 makes the speed proportional to the
    /// level (a silent passage stands still).
    public var motion: Double
    /// How far a beat of strength 1 pushes, as a share of a latent's typical length (its norm).
    public var pulse: Double
    /// Frames over which a push builds up to its beat (0: all at once, on the beat's frame).
    public var pulseAttack: Int
    /// Frames in which a push falls back to 1/e of itself after its beat.
    public var pulseDecay: Double
    public var keysOnBeats: Bool
    /// Seed of the push directions (one random direction a beat).
    public var seed: UInt64

    public init(motion: Double, pulse: Double, pulseAttack: Int, pulseDecay: Double, keysOnBeats: Bool, seed: UInt64) {
        self.motion = motion
        self.pulse = pulse
        self.pulseAttack = pulseAttack
        self.pulseDecay = pulseDecay
        self.keysOnBeats = keysOnBeats
        self.seed = seed
    }

    /// The speed at each frame, from its level: 1 - motion + motion x level.
    public func speeds(levels: [Float]) -> [Double] { levels.map { 1 - motion + motion * Double($0) } }

    /// Sets `walk`'s timeline and pulses from a level per frame of the walk and the beats.
    public func apply(levels: [Float], beats: [WalkBeat], to walk: inout LatentWalk) {
        precondition(levels.count == walk.frames, "a level for every frame of the walk")
        let inWalk = beats.filter { (0..<walk.frames).contains($0.frame) }
        var keyFrames: [Int] = []
        // Keys at least a quarter of an even segment apart, and from the ends.
        let gap = max(1, walk.intervals / (4 * (walk.innerKeys + 1)))
        if keysOnBeats && walk.innerKeys > 0 && walk.intervals - gap >= gap {
            keyFrames = strongest(inWalk, count: walk.innerKeys, apart: gap, within: gap...(walk.intervals - gap))
        }
        walk.timeline = walk.timeline(speeds: speeds(levels: levels), keyFrames: keyFrames)
        walk.pulses = pulse > 0 && !inWalk.isEmpty
            ? WalkPulses(beats: inWalk, zDim: walk.zDim, amount: pulse, attack: pulseAttack, decay: pulseDecay, seed: seed)
            : nil
    }
}

/// The frames of the `count` strongest beats in `range` that are `apart` frames from each other at least,
/// in time order; an earlier beat wins a tie.
func strongest(_ beats: [WalkBeat], count: Int, apart: Int, within range: ClosedRange<Int>) -> [Int] {
    var chosen: [Int] = []
    for beat in beats.enumerated().sorted(by: { ($0.element.strength, -$0.offset) > ($1.element.strength, -$1.offset) })
        .map(\.element) where range.contains(beat.frame) && chosen.count < count {
        if chosen.allSatisfy({ abs($0 - beat.frame) >= apart }) { chosen.append(beat.frame) }
    }
    return chosen.sorted()
}

extension LatentWalk {
    /// The keys between the walk's ends, the ones that can be put on beats: all but the first and last,
    /// or with `loop` all but the first.
    public var innerKeys: Int { max(0, loop ? keys.count - 1 : keys.count - 2) }

    /// A timeline (see `timeline`) for a walk whose speed at frame f is `speeds[f]`, relative to the other
    /// frames, that still starts on the first key at frame 0 and ends where the even walk ends. Key k is
    /// reached on frame `keyFrames[k - 1]` (frames in increasing order strictly inside the walk); fewer
    /// key frames than `innerKeys` are shared out evenly among the keys. Between those fixed points, the
    /// walk covers the way in proportion to the speeds; where they are all 0 it moves evenly.
    public func timeline(speeds: [Double], keyFrames: [Int] = []) -> [Double] {
        precondition(speeds.count == frames && speeds.allSatisfy { $0 >= 0 && $0.isFinite })
        precondition(keyFrames.count <= innerKeys && zip(keyFrames, keyFrames.dropFirst()).allSatisfy { $0 < $1 }
                     && keyFrames.allSatisfy { 0 < $0 && $0 < intervals })
        // Fixed points (frame, time): the start, each key on its frame, the end (with `loop`, the frame
        // after the last, where the first key comes round again).
        var fixed = [(frame: 0, time: 0.0)]
        for (index, frame) in keyFrames.enumerated() {
            let key = 1 + (index * innerKeys + innerKeys / 2) / keyFrames.count
            fixed.append((frame, Double(arrival(ofKey: key))))
        }
        fixed.append((intervals, Double(intervals)))
        // The way from frame i to i + 1 goes at the mean of their speeds.
        func step(_ i: Int) -> Double { (speeds[i] + speeds[min(i + 1, frames - 1)]) / 2 }
        var times = [Double](repeating: 0, count: frames)
        for (from, to) in zip(fixed, fixed.dropFirst()) where to.frame > from.frame {
            let total = (from.frame..<to.frame).reduce(0) { $0 + step($1) }
            var covered = 0.0
            for frame in from.frame..<min(to.frame + 1, frames) {
                let share = total > 0 ? covered / total : Double(frame - from.frame) / Double(to.frame - from.frame)
                times[frame] = from.time + (to.time - from.time) * share
                if frame < to.frame { covered += step(frame) }
            }
        }
        return times
    }
}

/// Pushes off a walk's path, one a beat: the latent moves toward a random direction of its own (drawn
/// from `seed`, the size of a latent), by `amount` x the beat's strength at its peak; the push rises over
/// `attack` frames to the beat's frame and decays by 1/e every `decay` frames after it. Pushes that
/// overlap add up.
public struct WalkPulses: Sendable {
    public let beats: [WalkBeat]
    public let zDim: Int
    public let amount: Double
    public let attack: Int
    public let decay: Double
    public let seed: UInt64

    /// Frames after a beat until its push is below a thousandth of its peak.
    private var tail: Int { Int((decay * log(1000)).rounded(.up)) }

    public init(beats: [WalkBeat], zDim: Int, amount: Double, attack: Int, decay: Double, seed: UInt64) {
        precondition(attack >= 0 && decay >= 0 && amount >= 0)
        self.beats = beats.sorted { $0.frame < $1.frame }
        self.zDim = zDim
        self.amount = amount
        self.attack = attack
        self.decay = decay
        self.seed = seed
    }

    /// How much of beat `beat`'s push is on `frame`: 1 on the beat's frame.
    private func shape(_ beat: WalkBeat, atFrame frame: Int) -> Double {
        let since = frame - beat.frame
        if since < -attack { return 0 }
        if since <= 0 { return Double(attack + 1 + since) / Double(attack + 1) }
        return decay > 0 ? exp(-Double(since) / decay) : 0
    }

    /// The beats whose push reaches `frame`, with their index.
    private func beats(reaching frame: Int) -> some Sequence<(offset: Int, element: WalkBeat)> {
        // The first beat late enough to still push, by bisection; then every one not too far ahead.
        var low = 0, high = beats.count
        while low < high {
            let middle = (low + high) / 2
            if beats[middle].frame < frame - tail { low = middle + 1 } else { high = middle }
        }
        return beats.enumerated().dropFirst(low).prefix { $0.element.frame <= frame + attack }
    }

    /// The summed strength of the pushes on `frame` (for plots: 1 is one full-strength beat at its peak).
    public func envelope(atFrame frame: Int) -> Double {
        beats(reaching: frame).reduce(0) { $0 + $1.element.strength * shape($1.element, atFrame: frame) }
    }

    /// Adds the pushes on `frame` to a latent.
    func push(_ latent: inout [Float], atFrame frame: Int) {
        for (index, beat) in beats(reaching: frame) {
            let weight = Float(amount * beat.strength * shape(beat, atFrame: frame))
            guard weight != 0 else { continue }
            let direction = Latents.forSeed(seed ^ 0x7075_6C73_6573 &+ UInt64(index), zDim: zDim)
            for i in latent.indices { latent[i] += weight * direction[i] }
        }
    }
}
