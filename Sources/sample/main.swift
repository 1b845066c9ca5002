import ArgumentParser
import Foundation
import GAN
import TensorStream
import ToolSupport

struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Draw pictures from a trained checkpoint as an image stream.",
        discussion: """
        The pictures come from the checkpoint's EMA generator. Picture i of `--n N
        --seed S` uses the i-th latent drawn from seed S; `--seeds a,b,c` names
        pictures: seed k always gives the same picture, the same one `walk --seeds k`
        passes through.

        Examples:
          sample plato.ckpt --n 64 --seed 7 | encode -o grid.png --grid 8x8
          sample plato.ckpt --seeds 3,17,42 --psi 0.7 | encode -o named.png --grid 3x1

        Exit status: 0 ok, 1 runtime error (bad checkpoint, I/O), 2 usage, 130 \
        interrupted, 141 killed by SIGPIPE (the reader of stdout went away).
        """)

    @Argument(help: "The checkpoint (from train).")
    var checkpoint: String

    @Option(name: .customLong("n"), help: "How many pictures (ignored with --seeds).")
    var count: Int = 16

    @Option(help: "Seed of the random latents.")
    var seed: UInt64 = 0

    @Option(help: "Comma-separated seeds, one picture each (e.g. 3,17,42).")
    var seeds: String?

    // Unconditional, so a negative value (`--psi -1`, a mirror through the mean) is not taken for an option.
    @Option(parsing: .unconditional, help: "Truncation toward the mean latent: 1 = none, smaller = more typical, less varied.")
    var psi: Float = 1

    @Option(name: .short, help: ArgumentHelp("Output file (default: stdout).", valueName: "file"))
    var output: String?

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--n must be at least 1") }
        guard psi.isFinite else { throw ValidationError("--psi must be a number") }
    }

    func seedList(_ text: String) throws -> [UInt64] {
        do { return try Latents.seeds(from: text) } catch { throw UsageError("--seeds: \(error)") }
    }

    func run() throws {
        try refuseOutputOverInput(outputs: [output ?? "-"], inputs: [checkpoint])
        let seedList = try seeds.map(seedList)
        let out = try BinaryOutput(path: output, what: "an image stream")
        let generator = try ImageGenerator(contentsOf: checkpoint)
        let zDim = generator.zDim
        let writer = try StreamWriter(
            header: .images(height: generator.resolution, width: generator.resolution,
                            metadata: ["source": StreamHeader.metadataValue(checkpoint)]),
            to: out.sink)
        // Latents are drawn a batch at a time, so --n only costs time.
        var randomLatents = Latents.RandomLatents(seed: seed, zDim: zDim)
        try generator.forEachImage(
            count: seedList?.count ?? count,
            latents: { range in
                truncate(seedList.map { list in range.flatMap { Latents.forSeed(list[$0], zDim: zDim) } }
                             ?? randomLatents.next(range.count), psi: psi)
            },
            body: { try writer.write($0) })
        try out.commit()
    }
}

Sample.runAsTool()
