import ArgumentParser
import Foundation
import GAN
import Sound
import TensorStream
import ToolSupport

/// walk's options for a walk that follows a sound: --audio, and how the sound moves the walk.
struct SoundOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Move with the sound of FILE (any audio, or a video's sound track): the walk lasts "
                               + "as long as it at --fps, unless --n is given.", valueName: "file"))
    var audio: String?

    @Option(help: ArgumentHelp("How much the loudness sets the pace along the path, from 0 (even) to 1 (standing "
                               + "still in silence). Default: \(Self.defaults.motion).", valueName: "share"))
    var motion: Double?

    @Option(help: ArgumentHelp("How far an onset pushes the latent off its path, as a share of a latent's length "
                               + "(0: no pushes). Default: \(Self.defaults.pulse).", valueName: "share"))
    var pulse: Double?

    @Option(name: .customLong("pulse-attack"),
            help: ArgumentHelp("Frames over which a push builds up to its onset (0: at once). Default: "
                               + "\(Self.defaults.pulseAttack).", valueName: "frames"))
    var pulseAttack: Int?

    @Option(name: .customLong("pulse-decay"),
            help: ArgumentHelp("Frames in which a push falls back to a third (1/e) of itself. Default: "
                               + "\(Self.defaults.pulseDecay).", valueName: "frames"))
    var pulseDecay: Double?

    @Option(help: ArgumentHelp("Seconds over which the loudness is smoothed, so the pace does not flicker. Default: "
                               + "\(Self.defaults.smooth).", valueName: "seconds"))
    var smooth: Double?

    @Flag(name: .customLong("keys-on-beats"), help: "Reach the keys on the strongest onsets.")
    var keysOnBeats = false

    @Option(help: ArgumentHelp("Write the sound's curves and the walk's reaction to FILE, a row per frame "
                               + "(tab-separated, with a header).", valueName: "file"))
    var features: String?

    /// The defaults, chosen by watching walks of the gallery's models to its sound and to music.
    static let defaults = (motion: 0.7, pulse: 0.5, pulseAttack: 0, pulseDecay: 8.0, smooth: 0.25)

    func validate() throws {
        guard audio != nil else {
            let given = [motion != nil ? "--motion" : nil, pulse != nil ? "--pulse" : nil,
                         pulseAttack != nil ? "--pulse-attack" : nil, pulseDecay != nil ? "--pulse-decay" : nil,
                         smooth != nil ? "--smooth" : nil, keysOnBeats ? "--keys-on-beats" : nil,
                         features != nil ? "--features" : nil].compactMap { $0 }
            if let first = given.first { throw ValidationError("\(first) follows a sound: give --audio FILE") }
            return
        }
        if let motion, !(0...1).contains(motion) { throw ValidationError("--motion must be from 0 to 1") }
        if let pulse, !(0...10).contains(pulse) { throw ValidationError("--pulse must be from 0 to 10") }
        if let pulseAttack, !(0...1000).contains(pulseAttack) {
            throw ValidationError("--pulse-attack must be from 0 to 1000 frames")
        }
        if let pulseDecay, !(0...10_000).contains(pulseDecay) {
            throw ValidationError("--pulse-decay must be from 0 to 10000 frames")
        }
        if let smooth, !(0...60).contains(smooth) { throw ValidationError("--smooth must be from 0 to 60 seconds") }
        if features == "-" { throw ValidationError("--features needs a file: stdout carries the frames") }
    }

    /// The sound's features for frames at `fps`: the first `frames`, or as many as it lasts; nil without
    /// --audio. Says on stderr how long the sound is and what the analysis cost, unless `quiet`.
    func analyse(fps: Double, frames: Int?, quiet: Bool) throws -> SoundFeatures? {
        guard let audio else { return nil }
        let started = Date()
        let sound = try SoundFeatures.analyse(path: audio, fps: fps, frames: frames)
        if let damage = sound.damage { warn("\(damage): \(audio)") }
        if !quiet {
            let onsets = sound.onsets.count
            report(String(format: "%.1f s of sound in %d frames, %d onset%@ (analysed in %.2f s): %@", sound.duration,
                          sound.frameCount, onsets, onsets == 1 ? "" : "s", Date().timeIntervalSince(started), audio))
        }
        return sound
    }

    /// Makes `walk` move with `sound` (one feature row per frame of the walk). The --features table is
    /// written under a temporary name; the returned commit puts it in place.
    func follow(_ sound: SoundFeatures, walk: inout LatentWalk, seed: UInt64) throws -> () throws -> Void {
        let smoothing = smooth ?? Self.defaults.smooth
        let levels = sound.level(smoothing: smoothing)
        let rhythm = WalkRhythm(motion: motion ?? Self.defaults.motion, pulse: pulse ?? Self.defaults.pulse,
                                pulseAttack: pulseAttack ?? Self.defaults.pulseAttack,
                                pulseDecay: pulseDecay ?? Self.defaults.pulseDecay, keysOnBeats: keysOnBeats, seed: seed)
        rhythm.apply(levels: levels, beats: sound.onsets.map { WalkBeat(frame: $0.frame, strength: Double($0.strength)) },
                     to: &walk)
        guard let features else { return {} }
        let file = try AtomicFile(path: features)
        let table = sound.table(smoothing: smoothing, extra: reaction(of: walk, speeds: rhythm.speeds(levels: levels)))
        try Array(table.utf8).withUnsafeBytes { try file.sink.write($0) }
        return file.commit
    }

    /// What the walk does on each frame: its speed, where it is on the path (in keys: 1.5 is half way from
    /// the second key to the third), the pushes' strength, and how far its latent moved since the last frame.
    private func reaction(of walk: LatentWalk, speeds: [Double]) -> KeyValuePairs<String, [Double]> {
        var path: [Double] = [], pulses: [Double] = [], steps: [Double] = []
        var previous: [Float]?
        for frame in 0..<walk.frames {
            let position = walk.position(ofFrame: frame)
            path.append(Double(position.segment) + position.fraction)
            pulses.append(walk.pulses?.envelope(atFrame: frame) ?? 0)
            let latent = walk.latent(ofFrame: frame)
            steps.append(previous.map { zip(latent, $0).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }.squareRoot() } ?? 0)
            previous = latent
        }
        return ["speed": speeds, "path": path, "pulse": pulses, "latent_step": steps]
    }
}
