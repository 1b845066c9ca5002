import ArgumentParser
import Foundation
import GAN
import Perception
import TensorStream
import ToolSupport

struct Project: ParsableCommand {
    static let configuration = CommandConfiguration.tool(
        "project",
        abstract: "Find the latent of each picture: where in a model's latent space your own pictures lie.",
        discussion: """
        Reads an image stream at the checkpoint's resolution and writes an f32 stream
        of latents, one per picture in order, whose metadata gives each picture's
        reconstruction distance (docs/tensor-stream.md). Each latent starts as the
        nearest of --candidates random latents (from --seed) and is refined by --steps
        of gradient descent through the generator, comparing pictures in the
        discriminator's features and blurred pixels. `walk --latents` then walks
        through your pictures. The same arguments always give the same latents.

        Examples:
          ingest photos/ --size 64 | project plato.ckpt > memories.tns
          project plato.ckpt photos.tns --reconstructions rec.tns -o memories.tns
          walk plato.ckpt --latents memories.tns --hold 15 | encode -o walk.mp4

        Exit status: 0 ok, 1 runtime error (bad checkpoint or stream, pictures of the
        wrong size, I/O), 2 usage (also: an output that is one of the inputs), 130
        interrupted (the pictures projected so far are written; when none was, the
        outputs are left as they were).
        """)

    @Argument(help: "The checkpoint (from train).")
    var checkpoint: String

    @Argument(help: ArgumentHelp("The pictures, an image stream at the checkpoint's resolution (default: stdin).",
                                 valueName: "pictures"))
    var pictures: String?

    @Option(help: "Gradient steps per picture (0: the best random start only).")
    var steps: Int = ProjectionOptions().steps

    @Option(help: "Step size of the gradient descent (the latents have norm √z).")
    var lr: Float = ProjectionOptions().learningRate

    @Option(help: "Random latents each picture's start is chosen from.")
    var candidates: Int = ProjectionOptions().candidates

    @Option(help: "Pictures projected together.")
    var batch: Int = ProjectionOptions().batchSize

    @Option(help: "Seed of the random starts.")
    var seed: UInt64 = 0

    @Option(help: "The network pictures are compared in: discriminator (the checkpoint's own D; the default, which found 89% of 92 photographs against lite0's 49%) or lite0 (EfficientNet-Lite0, from scripts/setup; always for projected models, whose D has no features of its own, and imle models, whose D never trained).")
    var perception: PerceptionNetwork?

    @Option(help: ArgumentHelp("Also write the pictures the latents draw (an image stream) to this file.", valueName: "file"))
    var reconstructions: String?

    // The latents go to -o or stdout.
    @OptionGroup var outputOptions: OutputOptions

    var output: String? { outputOptions.output }
    var quiet: Bool { outputOptions.quiet }

    func validate() throws {
        guard Self.stepCounts.contains(steps) else { throw ValidationError("--steps must be from 0 to \(Self.stepCounts.upperBound)") }
        guard lr > 0 && lr.isFinite else { throw ValidationError("--lr must be a positive number") }
        guard Self.candidateCounts.contains(candidates) else {
            throw ValidationError("--candidates must be from 1 to \(Self.candidateCounts.upperBound)")
        }
        guard Self.batchSizes.contains(batch) else { throw ValidationError("--batch must be from 1 to \(Self.batchSizes.upperBound)") }
        if let reconstructions, reconstructions == "-" || reconstructions == output {
            throw ValidationError("--reconstructions needs a file of its own")
        }
    }

    enum PerceptionNetwork: String, ExpressibleByArgument { case discriminator, lite0 }

    static let stepCounts = 0...100_000
    static let candidateCounts = 1...100_000
    static let batchSizes = 1...1024

    func run() throws {
        try refuseOutputOverInput(outputs: [output ?? "-", reconstructions], inputs: [checkpoint, pictures ?? "-"])
        let out = try BinaryOutput(path: output, what: "a latent stream")
        let reconstructionFile = try reconstructions.map { try AtomicFile(path: $0) }
        try requireFile(checkpoint, is: .checkpoint)
        let (generator, features) = try loadModel()
        let reader = try StreamReader.open(pictures, expecting: .imageStream)
        try reader.requireImages()
        let records = try reader.readAllBytes()
        let size = generator.resolution
        guard reader.header.shape[0] == size, reader.header.shape[1] == size else {
            throw ToolFailure("the checkpoint draws \(size)x\(size) pictures, the stream holds \(reader.header.shapeDescription) "
                              + "(ingest --size \(size)): \(reader.sourceName)")
        }
        guard !records.isEmpty else { throw ToolFailure("no pictures: \(reader.sourceName)") }

        // From here a stop writes the pictures projected so far.
        StopSignal.saveOnStop()
        let options = ProjectionOptions(steps: steps, learningRate: lr, candidates: candidates, batchSize: batch)
        let projector = Projector(generator: generator, features: features, options: options)
        // One unit is one picture's step.
        let progress = Progress(total: records.count * steps, unit: "steps", quiet: quiet)
        let projections = projector.project(records, seed: seed, shouldStop: { StopSignal.requested }) { event in
            progress.update(event.done * steps + event.batch * event.step,
                            status: String(format: "pictures %d-%d of %d  step %d  loss %.3f", event.done + 1,
                                           event.done + event.batch, records.count, event.step, event.meanLoss))
        }

        // A stop before the first picture was done leaves the outputs as they were.
        guard !projections.isEmpty else {
            throw Interrupted("stopped before the first picture was projected: nothing written")
        }
        let source = reader.header.metadata["source"] ?? reader.sourceName
        try StopSignal.whileSaving {
            try writeLatents(projections, zDim: generator.zDim, source: source,
                             sources: reader.header.metadata["sources"], to: out.sink)
            if let reconstructionFile {
                try writeReconstructions(projections, generator: generator, source: source, to: reconstructionFile.sink)
                try reconstructionFile.commit()
            }
            try out.commit()
        }
        let distances = projections.map(\.distance).sorted()
        let median = distances.isEmpty ? 0 : distances[distances.count / 2]
        let summary = "\(projections.count) of \(records.count) pictures projected, median distance "
            + String(format: "%.3f", median) + " in " + Progress.duration(progress.elapsed)
            + String(format: " (%.1fs a picture)", progress.elapsed / Double(max(1, projections.count)))
        if projections.count < records.count { throw Interrupted("stopped: \(summary), written to \(out.name)") }
        progress.finish(summary)
    }

    /// The checkpoint's generator and the network its pictures are compared in: the one place that chooses it.
    func loadModel() throws -> (ImageGenerator, FeaturePyramid) {
        let model = try Checkpoint(contentsOf: checkpoint, keeping: { !$0.hasPrefix("opt.") && !$0.hasPrefix("trainer.") })
        do {
            let config = model.info.config
            // A projected model's D sees through EfficientNet-Lite0, so its pictures are compared there too; an
            // imle model's D never trained.
            let features = (perception ?? (model.info.discriminatorSeesPictures ? .discriminator : .lite0)) == .lite0
                ? try ProjectedDiscriminator.loadFeatureNetwork(resolution: config.resolution)
                : try DiscriminatorFeatures(checkpoint: model)
            return (try ImageGenerator(checkpoint: model), features)
        } catch let error as CheckpointError {
            throw CheckpointFileError(path: checkpoint, error: error)
        }
    }

    /// The latents, one f32 record each, with the pictures' reconstruction distances in the metadata.
    /// `sources`, ingest's list of every picture's source, is passed on for the pictures projected.
    func writeLatents(_ projections: [Projection], zDim: Int, source: String, sources: String?, to sink: ByteSink) throws {
        var metadata = [
            "kind": "latent",
            "source": StreamHeader.metadataValue(source),
            "checkpoint": StreamHeader.metadataValue(checkpoint),
            "checkpoint_crc32": try fileChecksum(path: checkpoint),
            "distances": projections.map { String(format: "%.4f", $0.distance) }.joined(separator: ","),
        ]
        if let sources, let list = try? JSONSerialization.jsonObject(with: Data(sources.utf8)) as? [String],
           let kept = try? JSONSerialization.data(withJSONObject: Array(list.prefix(projections.count)),
                                                  options: [.withoutEscapingSlashes]) {
            metadata["sources"] = String(decoding: kept, as: UTF8.self)
        }
        let writer = try StreamWriter(header: StreamHeader(dtype: .f32, shape: [zDim], metadata: metadata), to: sink)
        for projection in projections { try writer.write(projection.latent) }
        try writer.writeHeader()
    }

    /// The pictures the latents draw, in order.
    func writeReconstructions(_ projections: [Projection], generator: ImageGenerator, source: String, to sink: ByteSink) throws {
        let writer = try StreamWriter(header: .images(height: generator.resolution, width: generator.resolution, metadata: [
            "source": StreamHeader.metadataValue("reconstructions of \(source) by \(checkpoint)"),
        ]), to: sink)
        let latents = projections.flatMap(\.latent)
        try generator.forEachImage(count: projections.count,
                                   latents: { Array(latents[($0.lowerBound * generator.zDim)..<($0.upperBound * generator.zDim)]) }) {
            try writer.write($0)
        }
        try writer.writeHeader()
    }
}

Project.runAsTool()
