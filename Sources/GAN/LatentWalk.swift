import Foundation
import Neural

/// How the walk moves between two keyframe latents.
public enum Interpolation: String, Sendable, CaseIterable {
    /// Along the great circle between the two vectors (norms interpolated too): it stays in the
    /// shell where a Gaussian prior's samples live, instead of cutting through the low-norm middle.
    case slerp
    /// A straight line.
    case lerp
}

/// A path through latent space: keyframes and how to move between them, turned into frame latents.
///
/// Frame timing: without `loop`, `frames` frames run from the first key (frame 0) to the last key (the
/// last frame), spread evenly over the K-1 segments. With `loop`, they cover K segments, the last going
/// from the final key back to the first, and stop one frame short of the first key again, so the
/// video repeats without a doubled frame. With `hold` H above 1, each key is shown for H frames (the
/// moment a memory walk rests on one of the user's own pictures) and the rest move between them.
public struct LatentWalk: Sendable {
    public var keys: [[Float]]
    public var frames: Int
    public var interpolation: Interpolation
    /// Ease in and out of every key (cosine), so the motion pauses on the keyframes.
    public var ease: Bool
    public var loop: Bool
    /// Frames spent on each key: 1 passes through it.
    public var hold: Int
    /// Truncation: each frame latent is pulled to `mean + psi * (z - mean)`; 1 leaves it alone.
    public var psi: Float
    /// The latent the truncation pulls toward; nil for the N(0, I) prior's mean, zero.
    public var mean: [Float]?
    /// When set, frame f shows the even walk at time `timeline[f]` (in frames, fractional) rather than at
    /// f: a walk that hurries and lingers (with a sound) and still passes every key. See `WalkRhythm`.
    public var timeline: [Double]?
    /// Pushes away from the path that decay (a sound's onsets), added to each frame's latent before truncation.
    public var pulses: WalkPulses?

    public var zDim: Int { keys.first?.count ?? 0 }

    public init(keys: [[Float]], frames: Int, interpolation: Interpolation = .slerp, ease: Bool = false,
                loop: Bool = false, hold: Int = 1, psi: Float = 1, mean: [Float]? = nil) throws {
        guard let first = keys.first else { throw LatentWalkError.noKeys }
        guard keys.allSatisfy({ $0.count == first.count }), !first.isEmpty else {
            throw LatentWalkError.keySizesDiffer
        }
        guard frames >= 1 else { throw LatentWalkError.badFrameCount(frames) }
        guard psi.isFinite else { throw LatentWalkError.badPsi(psi) }
        guard hold >= 1 else { throw LatentWalkError.badHold(hold) }
        let segments = loop ? keys.count : keys.count - 1
        let intervals = loop ? frames : frames - 1
        // Every segment needs at least one frame interval of its own besides the holds. A hold so long
        // that the count overflows needs more frames than there can be (saturated to Int.max).
        let (holding, overflow) = keys.count.multipliedReportingOverflow(by: hold - 1)
        guard hold == 1 || segments == 0 || (!overflow && intervals - holding >= segments) else {
            let (needed, tooMany) = holding.addingReportingOverflow(segments + (loop ? 0 : 1))
            throw LatentWalkError.tooFewFramesToHold(frames: frames, keys: keys.count, hold: hold,
                                                     needed: overflow || tooMany ? Int.max : needed)
        }
        guard mean == nil || mean!.count == first.count else { throw LatentWalkError.keySizesDiffer }
        self.keys = keys
        self.frames = frames
        self.interpolation = interpolation
        self.ease = ease
        self.loop = loop
        self.hold = hold
        self.psi = psi
        self.mean = mean
    }

    /// The key position of a frame: segment index and the fraction (0..<1, or 1 at the very end) along it.
    /// Key k is reached at frame round(k · period), a period being the `hold` frames on a key and an equal
    /// share of the frames between keys, and stays for `hold` frames: every key is shown exactly.
    /// With a `timeline`, the frame is where the timeline puts it.
    public func position(ofFrame frame: Int) -> (segment: Int, fraction: Double) {
        position(at: timeline?[frame] ?? Double(frame))
    }

    /// The key position at a time of the even walk, in frames: whole times are its frames, and a time
    /// between two frames lies between them on the path.
    public func position(at time: Double) -> (segment: Int, fraction: Double) {
        guard segments > 0, frames > 1 || loop else { return (0, 0) }
        let holding = hold - 1
        var key = min(segments, Int((time / period).rounded(.down)))
        if Double(arrival(ofKey: key)) > time { key -= 1 }
        if key < segments && Double(arrival(ofKey: key + 1)) <= time { key += 1 }
        if key == segments { return (segments - 1, 1) }   // the open walk's last key
        let sinceKey = time - Double(arrival(ofKey: key))
        guard sinceKey > Double(holding) else { return (key, 0) }
        return (key, (sinceKey - Double(holding)) / Double(arrival(ofKey: key + 1) - arrival(ofKey: key) - holding))
    }

    /// The paths between keys: one fewer than the keys, or as many with `loop`.
    public var segments: Int { loop ? keys.count : keys.count - 1 }

    /// The frame intervals of the walk: from the first frame to the last, or with `loop` to the first again.
    public var intervals: Int { loop ? frames : frames - 1 }

    /// Frames from one key's arrival to the next's, on average: its hold and its share of the way.
    private var period: Double {
        Double(hold - 1) + Double(intervals - keys.count * (hold - 1)) / Double(segments)
    }

    /// The frame of the even walk at which key `key` is reached (`segments`: the end, or with `loop` the
    /// first key again).
    public func arrival(ofKey key: Int) -> Int { Int((Double(key) * period).rounded()) }

    /// The latent of one frame.
    public func latent(ofFrame frame: Int) -> [Float] {
        let (segment, fraction) = position(ofFrame: frame)
        let a = keys[segment], b = keys[(segment + 1) % keys.count]
        let u = ease ? easeInOut(fraction) : fraction
        // On a key the frame is the key itself, not an interpolation's rounding of it.
        var z = u == 0 ? a : u == 1 ? b : interpolation == .slerp ? slerp(a, b, u) : lerp(a, b, u)
        pulses?.push(&z, atFrame: frame)
        return truncate(z, psi: psi, mean: mean)
    }

    /// The latents of frames `range`, back to back (range.count x zDim), ready for a generator batch.
    public func latents(frames range: Range<Int>) -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(range.count * zDim)
        for frame in range { out += latent(ofFrame: frame) }
        return out
    }
}

public enum LatentWalkError: Error, Equatable, CustomStringConvertible {
    case noKeys
    case keySizesDiffer
    case badFrameCount(Int)
    case badPsi(Float)
    case badHold(Int)
    case tooFewFramesToHold(frames: Int, keys: Int, hold: Int, needed: Int)

    public var description: String {
        switch self {
        case .noKeys: return "a walk needs at least one keyframe"
        case .keySizesDiffer: return "keyframe latents differ in size"
        case .badFrameCount(let n): return "frame count must be at least 1, not \(n)"
        case .badPsi(let psi): return "psi must be a finite number, not \(psi)"
        case .badHold(let hold): return "a key must be held for at least 1 frame, not \(hold)"
        case let .tooFewFramesToHold(frames, keys, hold, needed):
            return "holding \(keys) keys for \(hold) frames each needs at least \(needed) frames, not \(frames)"
        }
    }
}

/// The truncation trick: latents (one or several back to back) pulled toward `mean`, z -> mean + psi (z - mean),
/// trading variety for typical, cleaner pictures. `mean` nil is the N(0, I) prior's mean, zero.
public func truncate(_ latents: [Float], psi: Float, mean: [Float]? = nil) -> [Float] {
    guard psi != 1 else { return latents }
    guard let mean, !mean.isEmpty else { return latents.map { psi * $0 } }
    return latents.indices.map { i in
        let m = mean[i % mean.count]
        return m + psi * (latents[i] - m)
    }
}

/// Cosine ease-in-out: 0 -> 0, 1 -> 1, zero slope at both ends.
public func easeInOut(_ u: Double) -> Double {
    0.5 - 0.5 * cos(Double.pi * u)
}

public func lerp(_ a: [Float], _ b: [Float], _ u: Double) -> [Float] {
    let wb = Float(u), wa = Float(1 - u)
    return zip(a, b).map { wa * $0 + wb * $1 }
}

/// Spherical interpolation of two unnormalised vectors (Shoemake; White 2016 for GAN latents). Nearly
/// parallel vectors fall back to lerp, where the formula's sin(omega) denominator loses precision.
public func slerp(_ a: [Float], _ b: [Float], _ u: Double) -> [Float] {
    var dot = 0.0, normA = 0.0, normB = 0.0
    for i in a.indices {
        dot += Double(a[i]) * Double(b[i])
        normA += Double(a[i]) * Double(a[i])
        normB += Double(b[i]) * Double(b[i])
    }
    let denominator = (normA * normB).squareRoot()
    guard denominator > 0 else { return lerp(a, b, u) }
    let omega = acos(max(-1, min(1, dot / denominator)))
    let sinOmega = sin(omega)
    guard sinOmega > 1e-6 else { return lerp(a, b, u) }
    let wa = sin((1 - u) * omega) / sinOmega, wb = sin(u * omega) / sinOmega
    return zip(a, b).map { Float(wa * Double($0) + wb * Double($1)) }
}

/// Latent vectors from seeds, the one rule every tool shares: the latent of seed k is the first zDim
/// normals of `RNG(seed: k)`, and `count` random latents from seed s are the first count x zDim normals
/// of `RNG(seed: s)` (so the first of them is the latent of seed s).
public enum Latents {
    public static func forSeed(_ seed: UInt64, zDim: Int) -> [Float] {
        var rng = RNG(seed: seed)
        return rng.normals(zDim)
    }

    public static func random(count: Int, zDim: Int, seed: UInt64) -> [Float] {
        var latents = RandomLatents(seed: seed, zDim: zDim)
        return latents.next(count)
    }

    /// The latents of `random(count:zDim:seed:)` drawn a few at a time, in order: a million pictures
    /// never need a million latents in memory at once.
    public struct RandomLatents {
        private var rng: RNG
        private let zDim: Int

        public init(seed: UInt64, zDim: Int) {
            rng = RNG(seed: seed)
            self.zDim = zDim
        }

        /// The next `count` latents, back to back.
        public mutating func next(_ count: Int) -> [Float] { rng.normals(count * zDim) }
    }

    /// `count` of the indices 0..<total chosen at random from `seed`, in increasing order (all of them when
    /// `count` is at least `total`): a walk through some of the user's pictures visits them in the order
    /// they came in, and the same seed always picks the same ones.
    public static func pick(_ count: Int, of total: Int, seed: UInt64) -> [Int] {
        guard count < total else { return Array(0..<total) }
        var rng = RNG(seed: seed)
        var indices = Array(0..<total)
        // The first `count` places of a Fisher-Yates shuffle.
        for i in 0..<count { indices.swapAt(i, i + rng.integer(below: total - i)) }
        return indices[0..<count].sorted()
    }

    /// The latents of a run of pictures, in order, truncated by `psi`: picture i is seed i's latent when
    /// `seeds` are given, else the i-th random latent from `seed`. What `sample` draws and `score` measures,
    /// a batch at a time.
    public struct Drawn {
        private let seeds: [UInt64]?
        private var random: RandomLatents
        private let zDim: Int
        private let psi: Float

        public init(seeds: [UInt64]?, seed: UInt64, psi: Float, zDim: Int) {
            self.seeds = seeds
            random = RandomLatents(seed: seed, zDim: zDim)
            self.zDim = zDim
            self.psi = psi
        }

        /// The latents of pictures `range` (which must follow the previous range), back to back.
        public mutating func next(_ range: Range<Int>) -> [Float] {
            let zDim = self.zDim
            return truncate(seeds.map { list in range.flatMap { Latents.forSeed(list[$0], zDim: zDim) } }
                                ?? random.next(range.count), psi: psi)
        }
    }
}
