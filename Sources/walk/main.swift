import ArgumentParser
import Foundation
import GAN
import TensorStream
import ToolSupport

extension Interpolation: ExpressibleByArgument {}

struct Walk: ParsableCommand {
    static let configuration = CommandConfiguration.tool(
        "walk",
        abstract: "Walk smoothly through a checkpoint's latent space: a stream of video frames.",
        discussion: """
        Keyframes are --keys K random latents (from --seed; the same latents as `sample
        --n K --seed S`), or --seeds a,b,c (the pictures `sample --seeds a,b,c` gives),
        or --latents FILE (an f32 stream of latent vectors, such as `project` writes:
        --through N walks through N of them, chosen by --seed, in their order). The
        frames run from the first key to the last, or with --loop back to the first so
        the video repeats seamlessly; --hold F rests F frames on each key. The same
        arguments always give the same frames.

        With --audio FILE the walk moves with a sound: it hurries through loud \
        passages and lingers in quiet ones (--motion), each onset pushes it off its \
        path for a moment (--pulse), and with --keys-on-beats it reaches its keys on \
        the strongest onsets. It lasts as long as the sound unless --n is given; \
        encode --audio puts the sound beside the frames.

        Examples:
          walk plato.ckpt --n 300 | encode > out.mp4
          walk plato.ckpt --seeds 3,17,42 --loop --ease --n 450 | encode -o loop.mp4
          walk plato.ckpt --latents keys.tns --interp lerp | encode -o path.webm
          walk plato.ckpt --latents memories.tns --through 8 --hold 20 | encode > m.mp4
          walk plato.ckpt --audio song.mp3 | encode --audio song.mp3 -o song.mp4

        Exit status: 0 ok, 1 runtime error (bad checkpoint, latents or sound, I/O), 2 usage, \
        130 interrupted, 141 killed by SIGPIPE (the reader of stdout went away).
        """)

    @Argument(help: "The checkpoint (from train).")
    var checkpoint: String

    @Option(name: .customLong("n"), help: "Number of frames (default: 300, or as many as the --audio lasts).")
    var frames: Int?

    @Option(help: "Frames per second, written into the stream for encode.")
    var fps: Double = 30

    @Option(help: "Number of random keyframes, from --seed (default: 4).")
    var keys: Int?

    @Option(help: ArgumentHelp("Keyframes from an f32 stream of latent vectors (records of z-dim values; - for stdin).", valueName: "file"))
    var latents: String?

    @Flag(help: "Walk through --latents projected in another checkpoint all the same.")
    var force = false

    @Option(help: ArgumentHelp("Walk through N of the --latents keys, chosen by --seed, in the order they came.",
                               valueName: "N"))
    var through: Int?

    @Option(help: ArgumentHelp("Frames to rest on each key.", valueName: "frames"))
    var hold: Int = 1

    @Option(help: "Interpolation between keys: slerp (spherical) or lerp (straight).")
    var interp: Interpolation = .slerp

    @Flag(help: "Ease in and out of each keyframe.")
    var ease = false

    @Flag(help: "Return to the first keyframe at the end, seamlessly.")
    var loop = false

    // --seed also chooses the keys --through picks; --seeds names the keyframes.
    @OptionGroup var latentOptions: LatentOptions

    @OptionGroup var output: OutputOptions

    @OptionGroup(title: "Following a sound")
    var sound: SoundOptions

    func validate() throws {
        if let frames, frames < 1 { throw ValidationError("--n must be at least 1") }
        guard StreamHeader.frameRates.contains(fps) else {
            throw ValidationError("--fps must be from \(StreamHeader.frameRates.lowerBound) to \(StreamHeader.frameRates.upperBound)")
        }
        let sources = [keys != nil, latentOptions.seeds != nil, latents != nil].filter { $0 }.count
        guard sources <= 1 else { throw ValidationError("use one of --keys, --seeds, --latents") }
        if let keys, !Self.keyCounts.contains(keys) {
            throw ValidationError("--keys must be from 1 to \(Self.keyCounts.upperBound)")
        }
        if let through {
            guard latents != nil else { throw ValidationError("--through picks from --latents") }
            guard Self.keyCounts.contains(through) else {
                throw ValidationError("--through must be from 1 to \(Self.keyCounts.upperBound)")
            }
        }
        guard hold >= 1 else { throw ValidationError("--hold must be at least 1") }
        // A walk shorter than its keys would pass some of them by without showing them.
        let keyCount = keys.map { ("--keys \($0)", $0) } ?? latentOptions.seeds.map { ("--seeds (\(counted($0.count, "seed")))", $0.count) }
            ?? through.map { ("--through \($0)", $0) }
        if let frames, let (named, count) = keyCount, count > frames {
            throw ValidationError("\(named) needs at least \(count) frames, and --n \(frames) would skip some keys: "
                                  + "give --n \(count) or more, or fewer keys")
        }
    }

    /// Every keyframe is held in memory; a walk through more keys than this would show each for an instant.
    static let keyCounts = 1...100_000

    func run() throws {
        try refuseOutputOverInput(outputs: [output.destination], inputs: [checkpoint, latents])
        let out = try BinaryOutput(path: output.output, what: "an image stream")
        try requireFile(checkpoint, is: .checkpoint)
        let generator = try ImageGenerator(contentsOf: checkpoint)
        let zDim = generator.zDim
        let keyframes: [[Float]]
        if let seeds = latentOptions.seeds {
            keyframes = seeds.map { Latents.forSeed($0, zDim: zDim) }
        } else if let latents {
            let all = try readLatents(latents, zDim: zDim)
            keyframes = through.map { Latents.pick($0, of: all.count, seed: latentOptions.seed).map { all[$0] } } ?? all
        } else {
            let count = keys ?? 4
            let values = Latents.random(count: count, zDim: zDim, seed: latentOptions.seed)
            keyframes = (0..<count).map { Array(values[($0 * zDim)..<(($0 + 1) * zDim)]) }
        }
        let sound = try self.sound.analyse(fps: fps, frames: self.frames, quiet: output.quiet)
        let frames = self.frames ?? sound?.frameCount ?? 300
        var walk: LatentWalk
        do {
            walk = try LatentWalk(keys: keyframes, frames: frames, interpolation: interp, ease: ease,
                                  loop: loop, hold: hold, psi: latentOptions.psi)
        } catch let error as LatentWalkError {
            // Only --hold with too few --n for the keys gets here: the other checks are done.
            throw UsageError("\(error)")
        }
        let commitFeatures = try sound.map { try self.sound.follow($0, walk: &walk, seed: latentOptions.seed) }
        var metadata = ["fps": fpsText, "source": StreamHeader.metadataValue(checkpoint)]
        if let audio = self.sound.audio { metadata["audio"] = StreamHeader.metadataValue(audio) }
        let writer = try StreamWriter(
            header: .images(height: generator.resolution, width: generator.resolution,
                            metadata: metadata),
            to: out.sink)
        let progress = Progress(total: frames, unit: "frames", quiet: output.quiet)
        try generator.forEachImage(count: frames, latents: { walk.latents(frames: $0) }) { record in
            try writer.write(record)
            progress.update(writer.recordsWritten)
        }
        try out.commit()
        try commitFeatures?()
        progress.finish("\(counted(frames, "frame")) of \(generator.resolution)x\(generator.resolution) in "
                        + Progress.duration(progress.elapsed))
    }

    /// `30`, or `29.97` when not whole.
    var fpsText: String { Int(exactly: fps).map(String.init) ?? String(fps) }

    /// Every record of an f32 latent stream, each of `zDim` values.
    func readLatents(_ path: String, zDim: Int) throws -> [[Float]] {
        let reader = try StreamReader.open(path, expecting: .latentStream)
        guard reader.header.dtype == .f32, reader.header.elementCount == zDim else {
            throw ToolFailure("expected latent vectors of \(zDim) f32 values (the checkpoint's z-dim), "
                              + "found \(reader.header.shapeDescription) records: \(reader.sourceName)")
        }
        if let message = try latentsOfAnotherModel(reader.header, latents: reader.sourceName, checkpoint: checkpoint), !force {
            throw ToolFailure(message + ", or give --force to walk through them all the same")
        }
        var keys: [[Float]] = []
        while let record = try reader.nextFloats() {
            guard record.allSatisfy(\.isFinite) else {
                throw ToolFailure("latent with a non-finite value: \(reader.sourceName) record \(keys.count)")
            }
            keys.append(record)
        }
        guard !keys.isEmpty else { throw ToolFailure("no latent vectors: \(reader.sourceName)") }
        return keys
    }
}

Walk.runAsTool()
