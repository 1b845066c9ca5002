import ArgumentParser
import Foundation
import GAN
import TensorStream
import ToolSupport

struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration.tool(
        "sample",
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

    @OptionGroup var latents: LatentOptions

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--n must be at least 1") }
    }

    func run() throws {
        try refuseOutputOverInput(outputs: [output.destination], inputs: [checkpoint])
        let out = try BinaryOutput(path: output.output, what: "an image stream")
        try requireFile(checkpoint, is: .checkpoint)
        let generator = try ImageGenerator(contentsOf: checkpoint)
        let writer = try StreamWriter(
            header: .images(height: generator.resolution, width: generator.resolution,
                            metadata: ["source": StreamHeader.metadataValue(checkpoint)]),
            to: out.sink)
        let total = latents.seeds?.count ?? count
        let progress = Progress(total: total, unit: "pictures", quiet: output.quiet)
        // Latents are drawn a batch at a time, so --n only costs time.
        var drawn = Latents.Drawn(seeds: latents.seeds, seed: latents.seed, psi: latents.psi, zDim: generator.zDim)
        try generator.forEachImage(count: total, latents: { drawn.next($0) }) {
            try writer.write($0)
            progress.update(writer.recordsWritten)
        }
        try out.commit()
        progress.finish("\(counted(total, "picture")) of \(generator.resolution)x\(generator.resolution) to \(out.name) in "
                        + Progress.duration(progress.elapsed))
    }
}

Sample.runAsTool()
