import Foundation
import Media

/// A strong start of sound (a note, a hit): the frame it falls in and how strong it is, 0 to 1.
public struct SoundOnset: Equatable, Sendable {
    public var frame: Int
    public var strength: Float

    public init(frame: Int, strength: Float) {
        self.frame = frame
        self.strength = strength
    }
}

/// What a sound does in each frame of a video: its loudness, its onset strength and its brightness, as
/// `SoundAnalyser` measures them, and the curves a walk follows, read from them.
public struct SoundFeatures: Sendable {
    /// The loudness of a silent frame, in dB below full scale.
    public static let silence: Float = -120

    public let fps: Double
    /// Seconds of sound that were read (up to the frames asked for).
    public let duration: Double
    /// Root-mean-square level of each frame, dB below full scale (a full-scale sine is -3).
    public let loudness: [Float]
    /// Spectral flux of each frame's strongest block: the mean growth of log-compressed magnitudes.
    public let flux: [Float]
    /// Spectral centroid, Hz (0 in silence).
    public let centroid: [Float]
    /// Why the sound stopped early or skipped some of itself, when it did (see `AudioDecoder.damage`).
    public var damage: String?

    public var frameCount: Int { loudness.count }

    /// Loudness is read relative to the sound's own loud passages: its 95th percentile is full level, and
    /// `levelRange` dB below that is none.
    public static let levelRange: Float = 24
    /// A sound whose loud passages are quieter than this (dB) counts as silence: nothing in it moves a walk.
    public static let quietest: Float = -70
    /// Flux below this anywhere in the sound (noise far below full scale, a steady tone) has no onsets.
    public static let quietFlux: Float = 0.01

    public init(fps: Double, duration: Double, loudness: [Float], flux: [Float], centroid: [Float]) {
        precondition(loudness.count == flux.count && flux.count == centroid.count)
        self.fps = fps
        self.duration = duration
        self.loudness = loudness
        self.flux = flux
        self.centroid = centroid
    }

    /// Analyses the sound of `path` (any file `AudioDecoder` reads) for frames at `fps`: the first `frames`
    /// (reading no further than they need; silent after the sound ends), or as many as the sound lasts.
    public static func analyse(path: String, fps: Double, frames: Int? = nil) throws -> SoundFeatures {
        let decoder = try AudioDecoder(path: path, sampleRate: SoundAnalyser.sampleRate, channels: 1)
        let analyser = SoundAnalyser(fps: fps)
        let limit = frames.map { analyser.samplesNeeded(forFrames: $0) } ?? Int.max
        var block: [Float] = []
        block.reserveCapacity(1 << 14)
        while analyser.sampleCount < limit {
            block.removeAll(keepingCapacity: true)
            guard try decoder.read(min(1 << 14, limit - analyser.sampleCount), into: &block) > 0 else { break }
            analyser.add(block)
        }
        var features = analyser.finish(frames: frames)
        features.damage = decoder.damage
        return features
    }

    /// Loudness as a level from 0 (silent, or `levelRange` dB below the loud passages) to 1 (as loud as
    /// they are), smoothed over `smoothing` seconds forwards and backwards, so it neither flickers nor lags.
    public func level(smoothing: Double) -> [Float] {
        let reference = percentile(loudness, 0.95)
        guard reference > Self.quietest else { return [Float](repeating: 0, count: frameCount) }
        let floor = reference - Self.levelRange
        let levels = loudness.map { min(1, max(0, ($0 - floor) / Self.levelRange)) }
        return smoothed(levels, seconds: smoothing)
    }

    /// Onset strength from 0 to 1: each frame's flux over the sound's strongest; all 0 when even that is
    /// below `quietFlux`.
    public var onsetStrength: [Float] {
        let strongest = flux.max() ?? 0
        guard strongest >= Self.quietFlux else { return [Float](repeating: 0, count: frameCount) }
        return flux.map { $0 / strongest }
    }

    /// The onsets: frames whose onset strength is the highest within 60 ms either side and stands clear of
    /// its surroundings (at least 1.5 times its mean over half a second either side, plus 0.05, and 0.12
    /// at least), so that a steady bed of noise or a busy passage does not count every flicker.
    public var onsets: [SoundOnset] {
        let strength = onsetStrength
        let near = max(1, Int((0.06 * fps).rounded())), around = max(near, Int((0.5 * fps).rounded()))
        var sums = [Double](repeating: 0, count: strength.count + 1)
        for (i, value) in strength.enumerated() { sums[i + 1] = sums[i] + Double(value) }
        var found: [SoundOnset] = []
        for (frame, value) in strength.enumerated() where value >= 0.12 {
            let neighbours = max(0, frame - near)...min(strength.count - 1, frame + near)
            guard neighbours.allSatisfy({ strength[$0] < value || ($0 >= frame && strength[$0] <= value) }) else { continue }
            let lower = max(0, frame - around), upper = min(strength.count, frame + around + 1)
            let mean = (sums[upper] - sums[lower]) / Double(upper - lower)
            if Double(value) >= 1.5 * mean + 0.05 { found.append(SoundOnset(frame: frame, strength: value)) }
        }
        return found
    }

    /// The features as a tab-separated table, a row per frame: frame, seconds, loudness (dB), level (at
    /// `smoothing`), flux, onset strength, whether an onset is picked there, centroid (Hz), then `extra`
    /// columns (what a walk did with them).
    public func table(smoothing: Double, extra: KeyValuePairs<String, [Double]> = [:]) -> String {
        let level = level(smoothing: smoothing), strength = onsetStrength
        let picked = Set(onsets.map(\.frame))
        var lines = [(["frame", "seconds", "loudness_db", "level", "flux", "onset", "picked", "centroid_hz"]
                      + extra.map(\.key)).joined(separator: "\t")]
        lines.reserveCapacity(frameCount + 1)
        for frame in 0..<frameCount {
            var fields = [String(frame), format(Double(frame) / fps), format(loudness[frame]), format(level[frame]),
                          format(flux[frame]), format(strength[frame]), picked.contains(frame) ? "1" : "0",
                          format(centroid[frame])]
            fields += extra.map { format($0.value[frame]) }
            lines.append(fields.joined(separator: "\t"))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func smoothed(_ values: [Float], seconds: Double) -> [Float] {
        guard seconds > 0, values.count > 1 else { return values }
        let keep = Float(exp(-1 / (seconds * fps)))
        var out = values
        for i in 1..<out.count { out[i] = keep * out[i - 1] + (1 - keep) * out[i] }
        for i in stride(from: out.count - 2, through: 0, by: -1) { out[i] = keep * out[i + 1] + (1 - keep) * out[i] }
        return out
    }
}

/// The value below which `fraction` of `values` lie (nearest rank); `SoundFeatures.silence` for none.
private func percentile(_ values: [Float], _ fraction: Double) -> Float {
    guard !values.isEmpty else { return SoundFeatures.silence }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(fraction * Double(sorted.count)))]
}

private func format<T: BinaryFloatingPoint>(_ value: T) -> String {
    let number = Double(value)
    return number == number.rounded() && abs(number) < 1e9 ? String(Int(number)) : String(format: "%.5g", number)
}
