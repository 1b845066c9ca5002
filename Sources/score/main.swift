import ArgumentParser
import Foundation
import GAN
import Metrics
import Perception
import TensorStream
import ToolSupport

struct ScoreTool: ParsableCommand {
    static let configuration = CommandConfiguration.tool(
        "score",
        abstract: "Measure a model's pictures against the pictures it was trained on.",
        discussion: """
        Draws --n samples from the checkpoint (the pictures `sample CKPT --n N --seed
        S` draws), or reads them with --fake, and prints a table: the sliced
        Wasserstein distance per pyramid level (x1000; lower is closer to the training
        pictures), the layout (precision, recall and nearest-neighbour ratio on 8x8 and
        16x16 thumbnails, beside the training pictures' own), near-copies of training
        pictures and how varied the samples are; with the feature network, also the
        Fréchet distance, KID, precision and recall and near-copies in its features.
        --json prints the same figures for scripts (-o writes them to a file). --seed
        also seeds the measures' random choices, so the same arguments always give the
        same figures; --seeds a,b,c scores the pictures of those seeds.

        Examples:
          score plato.ckpt imgs.tns
          ingest imgs/ | score plato.ckpt --n 512 --seed 3 --json > plato-score.json
          sample plato.ckpt --n 256 | score --real imgs.tns --fake -

        Exit status: 0 ok, 1 runtime error (bad checkpoint or stream, pictures of
        different sizes, I/O), 2 usage, 130 interrupted.
        """)

    @Argument(help: "The checkpoint (from train), whose samples are scored.")
    var checkpoint: String?

    @Argument(help: ArgumentHelp("The training pictures, an image stream (default: stdin).", valueName: "pictures"))
    var training: String?

    @Option(help: ArgumentHelp("The training pictures, scored against --fake instead of a checkpoint (- for stdin).",
                               valueName: "file"))
    var real: String?

    @Option(help: ArgumentHelp("The pictures to score, an image stream (- for stdin).", valueName: "file"))
    var fake: String?

    @Option(name: .customLong("n"), help: "How many samples to draw from the checkpoint (default: 256; at least 4).")
    var count: Int?

    // --seed is also the seed of the measures' random choices; --seeds scores the pictures of those seeds.
    @OptionGroup var latents: LatentOptions

    @Flag(help: "Print the figures as JSON.")
    var json = false

    @OptionGroup var output: OutputOptions

    var seed: UInt64 { latents.seed }

    func validate() throws {
        if real != nil || fake != nil {
            guard real != nil, fake != nil else { throw ValidationError("--real and --fake go together") }
            guard checkpoint == nil else { throw ValidationError("give a checkpoint or --real and --fake, not both") }
            guard count == nil, latents.psi == 1, latents.seeds == nil else {
                throw ValidationError("--n, --seeds and --psi draw from a checkpoint; --fake gives the samples")
            }
            guard real != "-" || fake != "-" else { throw ValidationError("only one of --real and --fake can be stdin") }
        } else {
            guard checkpoint != nil else { throw ValidationError("give a checkpoint, or --real and --fake") }
        }
        if let count, !Self.sampleCounts.contains(count) {
            throw ValidationError("--n must be from \(Self.sampleCounts.lowerBound) to \(Self.sampleCounts.upperBound)")
        }
        if let seeds = latents.seeds, !Self.sampleCounts.contains(seeds.count) {
            throw ValidationError("--seeds must name from \(Self.sampleCounts.lowerBound) to \(Self.sampleCounts.upperBound) seeds")
        }
    }

    /// Every sample is compared with every other and measured in the feature network: 4096 samples of
    /// 32x32 take about 800 MB and 40 s on two cores (10,000 took 1.8 GB).
    // At least the four samples the layout's manifolds need.
    static let sampleCounts = 4...4096
    /// And at most this many pixels of samples (4096 of 64x64, 256 of 256x256): larger pictures cost more each.
    static let samplePixels = 4096 * 64 * 64

    func run() throws {
        try refuseOutputOverInput(outputs: [output.destination], inputs: [checkpoint, real ?? training ?? "-", fake])
        try requireFile(checkpoint, is: .checkpoint)
        let trainingReader = try StreamReader.open(real ?? training, expecting: .imageStream)
        try trainingReader.requireImages()
        let trainingPictures: PictureSet
        var samples: PictureSet
        let samplesName: String
        let progress: ToolSupport.Progress
        if let checkpoint {
            let generator = try ImageGenerator(contentsOf: checkpoint)
            let size = generator.resolution
            // The header says the size: a stream of another size is refused before its pictures are read.
            guard trainingReader.header.shape[0] == size && trainingReader.header.shape[1] == size else {
                throw ToolFailure("the checkpoint draws \(size)x\(size) pictures, the training pictures are "
                                  + "\(trainingReader.header.shape[1])x\(trainingReader.header.shape[0]): \(trainingReader.sourceName)")
            }
            let total = latents.seeds?.count ?? count ?? 256
            guard total * size * size <= Self.samplePixels else {
                throw UsageError("--n \(total) samples of \(size)x\(size) are too many to hold: at most "
                                 + "\(Self.samplePixels / (size * size)) at that size")
            }
            trainingPictures = try readPictures(trainingReader)
            // Drawn a batch at a time, as sample draws them, and kept only as the measures' planes.
            var drawn = Latents.Drawn(seeds: latents.seeds, seed: seed, psi: latents.psi, zDim: generator.zDim)
            progress = Progress(total: total, unit: "samples", quiet: output.quiet)
            samples = PictureSet(count: 0, height: size, width: size, values: [])
            try generator.forEachImage(count: total, latents: { drawn.next($0) }) {
                samples.append(record: $0)
                progress.update(samples.count)
            }
            samplesName = checkpoint
        } else {
            trainingPictures = try readPictures(trainingReader)
            let fakeReader = try StreamReader.open(fake, expecting: .imageStream)
            try fakeReader.requireImages()
            samples = try readPictures(fakeReader)
            samplesName = fakeReader.sourceName
            progress = Progress(total: 0, unit: "samples", quiet: output.quiet)
        }
        // The feature measures need EfficientNet-Lite0; without it the table says how to fetch it.
        let featureNetwork = try EfficientNetLite0.loadIfInstalled(height: trainingPictures.height, width: trainingPictures.width)
        let score: Score
        do {
            score = try Score(training: trainingPictures, samples: samples, seed: seed, featureNetwork: featureNetwork)
        } catch let error as ScoreError {
            let names = error.role.map { $0 == .training ? trainingReader.sourceName : samplesName }
                ?? "\(trainingReader.sourceName), \(samplesName)"
            throw ToolFailure("\(error): \(names)")
        }
        try writeText(json ? try score.json() : score.table(samplesName: MessageText.escaped(samplesName),
                                                            trainingName: MessageText.escaped(trainingReader.sourceName)),
                      to: output.output)
        progress.finish("scored \(samples.count) samples against \(trainingPictures.count) training pictures in "
                        + Progress.duration(progress.elapsed))
    }

    /// Every picture of an image stream, converted as it is read.
    func readPictures(_ reader: StreamReader) throws -> PictureSet {
        var pictures = PictureSet(count: 0, height: reader.header.shape[0], width: reader.header.shape[1], values: [])
        while let record = try reader.nextBytes() { pictures.append(record: record) }
        return pictures
    }
}

ScoreTool.runAsTool()
