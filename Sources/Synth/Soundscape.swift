import Foundation

/// The gallery's sound, generated as its pictures are: a slow pulse of low tones over a breath of noise,
/// for the universe's "pulse and breath of the night". Deterministic for its seed; made a block at a
/// time, so any length takes the same little memory.
///
/// Each pulse is a soft thump, a heartbeat (a sine falling from 90 to 45 Hz, gone in a fraction of a
/// second), and a low tone (a sine and its octave, from a pentatonic scale between 55 and 110 Hz) that
/// dies away over seconds, so the tones overlap into a drone that swells on every beat; every fourth
/// beat is stronger. Under them, white noise through a gentle low-pass filter swells and ebbs like
/// breathing, once every few beats.
public struct Soundscape {
    public static let summary = "a slow pulse of low tones with a breath of noise (a WAV file; --seconds)"

    public let sampleRate: Int
    /// Seconds between beats (0.8 to 1.1: 55 to 75 beats a minute).
    public let beat: Double
    /// Seconds of one breath, in and out (four to six beats).
    public let breath: Double
    private var random: SplitMix64
    private var index = 0
    private var tones: [Tone] = []
    private var nextBeat = 0
    private var beatCount = 0
    private var lowPassed: Float = 0

    private struct Tone {
        let start: Int
        /// Hz, or with `fall` the frequency it falls to from twice as high (in `fall` seconds, to 1/e).
        let frequency: Double
        let fall: Double?
        let amplitude: Float
        /// Seconds to die away to 1/e.
        let ring: Double

        /// Its sample `age` samples after it starts.
        func sample(age: Double, rate: Double) -> Float {
            let seconds = age / rate
            let envelope = min(1, seconds / Soundscape.attack) * exp(-seconds / ring)
            guard let fall else {
                let phase = 2 * Double.pi * frequency * seconds
                return amplitude * Float(envelope * (sin(phase) + 0.3 * sin(2 * phase)))
            }
            let phase = 2 * Double.pi * frequency * (seconds + fall * (1 - exp(-seconds / fall)))
            return amplitude * Float(envelope * sin(phase))
        }
    }

    /// Scale degrees (semitones above A1, 55 Hz) of a minor pentatonic over an octave.
    private static let scale = [0, 3, 5, 7, 10, 12]
    /// How fast a tone dies away: to 1/e in this many seconds.
    private static let ring = 0.9
    private static let attack = 0.004

    public init(seed: UInt64, sampleRate: Int = 44_100) {
        var random = SplitMix64(seed: seed ^ 0x736F_756E_6473)  // "sounds"
        self.sampleRate = sampleRate
        beat = Double(random.uniform(0.8, 1.1))
        breath = beat * Double(random.int(4...6))
        self.random = random
    }

    /// The next `count` samples, full scale ±1 (they stay within about ±0.8).
    public mutating func next(_ count: Int) -> [Float] {
        let rate = Double(sampleRate)
        let filter: Float = 0.04   // one-pole low-pass: noise below about 300 Hz
        var out = [Float](repeating: 0, count: count)
        for i in 0..<count {
            if index == nextBeat { strike() }
            let t = Double(index)
            var sample: Float = 0
            for tone in tones { sample += tone.sample(age: Double(index - tone.start), rate: rate) }
            lowPassed += filter * (random.uniform(-1, 1) - lowPassed)
            let inhale = 0.5 - 0.5 * cos(2 * Double.pi * t / (breath * rate))
            sample += 0.6 * lowPassed * Float(inhale * inhale)
            out[i] = sample
            index += 1
        }
        // Tones fallen below a thousandth are gone.
        tones.removeAll { Double(index - $0.start) > $0.ring * log(1000) * rate }
        return out
    }

    private mutating func strike() {
        let degree = Self.scale[random.int(0...(Self.scale.count - 1))]
        let accent: Float = beatCount % 4 == 0 ? 1.4 : 1
        tones.append(Tone(start: index, frequency: 45, fall: 0.03, amplitude: 0.3 * accent, ring: 0.12))
        tones.append(Tone(start: index, frequency: 55 * pow(2, Double(degree) / 12), fall: nil,
                          amplitude: 0.14 * accent * random.uniform(0.8, 1), ring: Self.ring))
        beatCount += 1
        nextBeat = index + Int((beat * Double(sampleRate)).rounded())
    }
}
