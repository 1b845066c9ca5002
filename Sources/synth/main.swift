import ArgumentParser
import Foundation
import Sound
import Synth
import TensorStream
import ToolSupport

struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration.tool(
        "synth",
        abstract: "Render a synthetic, themed sample image set as an image stream, or the gallery's sound.",
        discussion: """
        The gallery's default data: procedural pictures (not photographs), one set per piece, \
        deterministic for KIND, --seed and the picture's index. The stream's metadata says \
        synthetic=true and source=synth:KIND. `synth sound` writes a WAV file instead: a slow \
        pulse of low tones with a breath of noise, --seconds long, the same for the same --seed.

        Examples:
          synth ocean --n 150 --size 64 --seed 1 | train --steps 2000 > ocean.ckpt
          synth butterfly --n 16 | encode -o butterflies.png --grid 4x4
          synth sound --seconds 10 --seed 11 -o night.wav
          synth --list

        Exit status: 0 ok, 1 runtime error, 2 usage, 130 interrupted, 141 killed by SIGPIPE (the reader of stdout went away).
        """)

    @Argument(help: "The set to render (see --list).")
    var kind: String?

    @Option(name: .customLong("n"), help: "Number of pictures.")
    var count = 150

    @Option(help: "Width and height in pixels.")
    var size = 64

    @Option(help: "Seed of the set; each picture also depends on its index.")
    var seed: UInt64 = 1

    @Option(help: "Length of the sound, in seconds (synth sound).")
    var seconds: Double?

    @Flag(help: "List the sets and what they show.")
    var list = false

    @OptionGroup var outputOptions: OutputOptions

    var output: String? { outputOptions.output }
    var quiet: Bool { outputOptions.quiet }

    func validate() throws {
        if list { return }
        guard let kind else { throw ValidationError("missing KIND (one of: \(Self.kindNames))") }
        if kind == Self.sound {
            guard let seconds, seconds > 0, seconds <= Self.longestSound else {
                throw ValidationError("synth sound needs --seconds, more than 0 and at most \(Int(Self.longestSound))")
            }
            return
        }
        guard seconds == nil else { throw ValidationError("--seconds is the length of synth sound") }
        guard SynthKind(rawValue: kind) != nil else {
            throw ValidationError("unknown kind '\(kind)' (one of: \(Self.kindNames))")
        }
        guard count >= 1 else { throw ValidationError("--n must be at least 1") }
        guard (8...2048).contains(size) else { throw ValidationError("--size must be between 8 and 2048") }
    }

    static var kindNames: String { (SynthKind.allCases.map(\.rawValue) + [sound]).joined(separator: ", ") }

    /// The kind that is a sound, not pictures.
    static let sound = "sound"
    /// Six hours, well inside a WAV file's 4 GB.
    static let longestSound = 6.0 * 3600

    func run() throws {
        if list {
            for kind in SynthKind.allCases {
                print(kind.rawValue.padding(toLength: 14, withPad: " ", startingAt: 0) + kind.summary)
            }
            print(Self.sound.padding(toLength: 14, withPad: " ", startingAt: 0) + Soundscape.summary)
            return
        }
        if self.kind == Self.sound { return try writeSound(seconds: seconds!) }
        let kind = SynthKind(rawValue: self.kind!)!
        let header = StreamHeader.images(height: size, width: size, metadata: [
            "source": "synth:\(kind.rawValue)", "synthetic": "true", "seed": String(seed),
        ])
        let destination = try BinaryOutput(path: output, what: "an image stream")
        let writer = try StreamWriter(header: header, to: destination.sink)
        let progress = Progress(total: count, unit: "images", quiet: quiet)
        // Render a batch on every core, then write it in order; memory stays bounded for any --n.
        let batch = 4 * max(1, ProcessInfo.processInfo.activeProcessorCount)
        for start in stride(from: 0, to: count, by: batch) {
            let indices = start..<min(count, start + batch)
            for picture in Synth.images(kind: kind, seed: seed, indices: indices, size: size) {
                try writer.write(picture.pixels)
            }
            progress.update(indices.upperBound)
        }
        try destination.commit()
        progress.finish(String(format: "%d synthetic %@ images, %dx%d, seed %llu, to %@ in %.1fs",
                               count, kind.rawValue, size, size, seed, destination.name, progress.elapsed))
    }
}

extension SynthCommand {
    /// Writes `seconds` of the gallery's sound as a mono 16-bit WAV file, a second at a time.
    func writeSound(seconds: Double) throws {
        var soundscape = Soundscape(seed: seed)
        let rate = soundscape.sampleRate
        let total = Int((seconds * Double(rate)).rounded())
        let destination = try BinaryOutput(path: output, what: "a WAV file")
        let progress = Progress(total: total / rate, unit: "seconds", quiet: quiet)
        try WAV.header(sampleRate: rate, channels: 1, frames: total).withUnsafeBytes { try destination.sink.write($0) }
        var done = 0
        while done < total {
            let count = min(rate, total - done)
            try WAV.pcm16(soundscape.next(count)).withUnsafeBytes { try destination.sink.write($0) }
            done += count
            progress.update(done / rate)
        }
        try destination.commit()
        progress.finish(String(format: "%.1f s of sound (a beat every %.2f s, a breath every %.1f s), seed %llu, to %@ in %.1fs",
                               seconds, soundscape.beat, soundscape.breath, seed, destination.name, progress.elapsed))
    }
}

SynthCommand.runAsTool()
