import ArgumentParser
import Foundation
import GAN
import Metrics
import Perception
import TensorStream
import ToolSupport

struct ScoreTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Measure a model's pictures against the pictures it was trained on.",
        discussion: """
        Draws --n samples from the checkpoint (the pictures `sample CKPT --n N --seed
        S` draws), or reads them with --fake, and prints a table: the sliced
        Wasserstein distance per pyramid level (x1000; lower is closer to the training
        pictures), the layout (precision, recall and nearest-neighbour ratio on 8x8 and
        16x16 thumbnails, beside the training pictures' own), near-copies of training
        pictures and how varied the samples are; with the feature network, also the
        Fréchet distance, KID, precision and recall and near-copies in its features.
        --json prints the same figures for scripts. The same arguments always give the
        same figures.

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

    @Option(help: "Seed of the samples' latents and of the measures' random choices.")
    var seed: UInt64 = 0

    @Option(help: "Truncation of the samples' latents, as in sample (1 = none).")
    var psi: Float = 1

    @Flag(help: "Print the figures as JSON.")
    var json = false

    @Flag(name: .shortAndLong, help: "No progress or summary on stderr.")
    var quiet = false

    func validate() throws {
        if real != nil || fake != nil {
            guard real != nil, fake != nil else { throw ValidationError("--real and --fake go together") }
            guard checkpoint == nil else { throw ValidationError("give a checkpoint or --real and --fake, not both") }
            guard count == nil, psi == 1 else { throw ValidationError("--n and --psi draw from a checkpoint; --fake gives the samples") }
            guard real != "-" || fake != "-" else { throw ValidationError("only one of --real and --fake can be stdin") }
        } else {
            guard checkpoint != nil else { throw ValidationError("give a checkpoint, or --real and --fake") }
        }
        // The layout's manifolds need four samples.
        if let count { guard count >= 4 else { throw ValidationError("--n must be at least 4") } }
        guard psi.isFinite else { throw ValidationError("--psi must be a number") }
    }

    func run() throws {
        let trainingReader = try StreamReader.open(real ?? training)
        let trainingPictures = try readPictures(trainingReader)
        let samples: PictureSet
        let samplesName: String
        let progress: ToolSupport.Progress
        if let checkpoint {
            let generator = try ImageGenerator(contentsOf: checkpoint)
            guard generator.resolution == trainingPictures.height && generator.resolution == trainingPictures.width else {
                throw ToolFailure("the checkpoint draws \(generator.resolution)x\(generator.resolution) pictures, the "
                                  + "training pictures are \(trainingPictures.sizeDescription): \(trainingReader.sourceName)")
            }
            let total = count ?? 256
            let zDim = generator.zDim
            let latents = truncate(Latents.random(count: total, zDim: zDim, seed: seed), psi: psi)
            progress = Progress(total: total, unit: "samples", quiet: quiet)
            var records: [[UInt8]] = []
            try generator.forEachImage(count: total,
                                       latents: { Array(latents[($0.lowerBound * zDim)..<($0.upperBound * zDim)]) }) {
                records.append($0)
                progress.update(records.count)
            }
            samples = PictureSet(records: records, height: generator.resolution, width: generator.resolution)
            samplesName = checkpoint
        } else {
            let fakeReader = try StreamReader.open(fake)
            samples = try readPictures(fakeReader)
            samplesName = fakeReader.sourceName
            progress = Progress(total: 0, unit: "samples", quiet: quiet)
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
        print(json ? try score.json() : score.table(samplesName: samplesName, trainingName: trainingReader.sourceName),
              terminator: "")
        progress.finish("scored \(samples.count) samples against \(trainingPictures.count) training pictures in "
                        + Progress.duration(progress.elapsed))
    }

    /// Every picture of an image stream.
    func readPictures(_ reader: StreamReader) throws -> PictureSet {
        try reader.requireImages()
        let records = try reader.readAllBytes()
        return PictureSet(records: records, height: reader.header.shape[0], width: reader.header.shape[1])
    }
}

ScoreTool.runAsTool()
