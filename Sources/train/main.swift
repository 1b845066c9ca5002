import ArgumentParser
import Foundation
import GAN
import Perception
import Imaging
import TensorStream
import ToolSupport

extension Architecture: ExpressibleByArgument {}
extension TrainingOptions.Objective: ExpressibleByArgument {}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration.tool(
        "train",
        abstract: "Train a GAN on a stream of pictures and write its checkpoint.",
        discussion: """
        Reads an image stream (stdin or a file) of square 32, 64, 128 or 256 pixel
        pictures, keeps it in memory, trains the few-shot fastgan model's generator
        with the coverage objective imle (every training picture is pulled into the
        model, compared in pixels and in EfficientNet-Lite0's features) or, with
        --objective gan and for the other architectures (--arch), against a
        discriminator with differentiable augmentation and horizontal flips; keeps a
        moving average of the generator, and writes the checkpoint (safetensors,
        docs/checkpoint.md) to stdout or -o.

        --init fine-tunes the weights of another checkpoint (new optimizer, steps from
        0). --resume continues a saved run exactly (its options, optimizer, step and
        random state); --steps is then the run's total. On SIGINT/SIGTERM the current
        step finishes, the checkpoint is written (to --checkpoint and the output) and
        train exits 130; interrupt twice to quit at once (but not halfway through
        writing the final checkpoint). A periodic save or a preview that fails is a
        warning. An output that is also an input (-o x.tns with x.tns) is refused;
        --checkpoint may name the checkpoint --resume continues.

        Examples:
          ingest plato/ | train --steps 2000 > plato.ckpt
          ingest david/ | train --init plato.ckpt --steps 500 > david.ckpt
          train photos.tns --steps 100000 --minutes 480 -o night.ckpt
          train faces.tns --checkpoint run.ckpt --preview previews/ -o faces.ckpt
          train faces.tns --resume run.ckpt --checkpoint run.ckpt -o faces.ckpt
          walk plato.ckpt --n 300 | train --init plato.ckpt --steps 500 > echo.ckpt

        Exit status: 0 ok, 1 runtime error (bad input, diverged, I/O), 2 usage, 130 \
        interrupted (saved), 141 killed by SIGPIPE (the reader of stdout went away).
        """)

    @Argument(help: "The image stream (default: stdin).")
    var input: String?

    @Option(help: "Training steps (with --resume: the total, counting the steps already done).")
    var steps: Int = 2000

    @Option(help: "Stop after this many minutes of training even if --steps are not done, and save as at the end (e.g. 480 for a night).")
    var minutes: Double?

    @Option(help: "Pictures per batch (default 8; dcgan: 16).")
    var batch: Int?

    @Option(help: "Adam learning rate of both networks (default 0.0002).")
    var lr: Float?

    @Option(help: "Seed of every random choice: weights, batches, augmentation (default 0).")
    var seed: UInt64?

    @Option(help: "Width of the networks (fastgan: the generator's channels at 32x32, default 16; dcgan: channels of the widest layer / 8, default 64, 32 from 128 pixels up).")
    var width: Int?

    @Option(name: .customLong("z-dim"), help: "Size of the latent vector (default 16 with --objective imle, else 128).")
    var zDim: Int?

    @Option(help: "Model: dcgan (transposed convolutions, the reference), resize (dcgan with nearest upsampling + 3x3 convolutions, no checkerboard grid), fastgan (the few-shot model: skip-layer excitation, a self-supervised discriminator; the default) or projected (fastgan's generator against a discriminator that looks through the pretrained EfficientNet-Lite0, which scripts/setup fetches; 64 pixels and up).")
    var arch: Architecture?

    @Option(help: "What the generator learns from: imle (coverage: every training picture is pulled into the model, no discriminator; the default for fastgan), gan (a discriminator; the default for the other architectures) or imle-gan (imle, then a discriminator joins at --adversarial-start).")
    var objective: TrainingOptions.Objective?

    @Option(name: .customLong("perceptual"), help: "imle: weight of the perceptual distance (EfficientNet-Lite0's maps: edges and parts) beside the pixel one (colour and layout) (default 0.03; 0 needs no feature network).")
    var perceptualWeight: Float?

    @Option(help: "imle: random latents drawn per training picture when the nearest are chosen (default 16).")
    var candidates: Int?

    @Option(name: .customLong("reselect-every"), help: "imle: steps between two choices of the nearest latents (default 100).")
    var reselectEvery: Int?

    @Option(help: "imle: candidates nearer a picture than this share of the typical distance between two neighbouring training pictures are passed over, so the model is drawn towards your pictures but not onto them (default 0: plain IMLE).")
    var margin: Float?

    @Option(name: .customLong("adversarial-start"), help: "imle-gan: steps of coverage alone before the discriminator joins (default 1000).")
    var adversarialStart: Int?

    @Option(name: .customLong("adversarial-ramp"), help: "imle-gan: steps over which the discriminator's weight rises to 1 (default 500).")
    var adversarialRamp: Int?

    @Option(help: ArgumentHelp("Loss of the gan objective: hinge, logistic or random-hinge (default: \(Train.defaults(\.loss.rawValue))).", valueName: "loss"))
    var loss: String?

    @Option(help: "Weight of the LeCam regulariser on the discriminator (default: \(Train.defaults { String(format: "%g", $0.lecam) })).")
    var lecam: Float?

    @Option(help: "Differentiable augmentation: a list of color, translation, cutout, or none (default: all three).")
    var augment: String?

    @Option(help: "Decay of the generator's moving average (default 0.999; 0 turns it off).")
    var ema: Float?

    @Option(name: .customLong("init"), help: ArgumentHelp("Start from the weights of this checkpoint (fine-tuning).", valueName: "ckpt"))
    var initFrom: String?

    @Option(help: ArgumentHelp("Continue the run saved in this checkpoint exactly.", valueName: "ckpt"))
    var resume: String?

    @Option(help: ArgumentHelp("Save the run to this file as it goes (atomically), and when stopped.", valueName: "file"))
    var checkpoint: String?

    @Option(name: .customLong("save-every"), help: "Steps between saves to --checkpoint (default 100).")
    var saveEvery: Int?

    @Option(help: ArgumentHelp("Folder for preview grids of the same 16 latents (step-000500.png, ...).", valueName: "dir"))
    var preview: String?

    @Option(name: .customLong("preview-every"), help: "Steps between previews (default 100).")
    var previewEvery: Int?

    // The final checkpoint goes to -o or stdout.
    @OptionGroup var outputOptions: OutputOptions

    var output: String? { outputOptions.output }
    var quiet: Bool { outputOptions.quiet }

    func validate() throws {
        guard steps >= 1 else {
            throw ValidationError("--steps must be at least 1\(resume == nil ? "" : " (with --resume: the run's total, counting the steps already done)")")
        }
        if let minutes, !(minutes > 0 && minutes.isFinite) { throw ValidationError("--minutes must be a positive number") }
        if let width, width < 1 { throw ValidationError("--width must be at least 1") }
        if let zDim, zDim < 1 { throw ValidationError("--z-dim must be at least 1") }
        if let loss, TrainingOptions.Loss(rawValue: loss) == nil {
            throw ValidationError("--loss must be hinge, logistic or random-hinge, not '\(loss)'")
        }
        if let augment {
            do { _ = try TrainingOptions.augmentList(augment) } catch { throw ValidationError("--augment: \(error)") }
        }
        // The same check a checkpoint's options get when it is loaded.
        do { try trainingOptions(for: arch ?? .fastgan).validate() } catch let error as TrainingOptions.InvalidOption {
            throw ValidationError(error.commandLineDescription)
        }
        let coverageOptions = [("--perceptual", perceptualWeight != nil), ("--candidates", candidates != nil),
                               ("--reselect-every", reselectEvery != nil), ("--margin", margin != nil)].filter(\.1).map(\.0)
        let chosenObjective = objective ?? .default(for: arch ?? .fastgan)
        if !coverageOptions.isEmpty, !chosenObjective.usesCoverage, resume == nil {
            throw ValidationError("\(coverageOptions.joined(separator: ", ")) need --objective imle or imle-gan")
        }
        if (adversarialStart != nil || adversarialRamp != nil), chosenObjective != .imleGAN, resume == nil {
            throw ValidationError("--adversarial-start and --adversarial-ramp need --objective imle-gan")
        }
        if let saveEvery, saveEvery < 1 { throw ValidationError("--save-every must be at least 1") }
        if let previewEvery, previewEvery < 1 { throw ValidationError("--preview-every must be at least 1") }
        if initFrom != nil && resume != nil { throw ValidationError("--init and --resume exclude each other") }
        if saveEvery != nil && checkpoint == nil { throw ValidationError("--save-every needs --checkpoint FILE") }
        if previewEvery != nil && preview == nil { throw ValidationError("--preview-every needs --preview DIR") }
        if resume != nil {
            let given = [("--batch", batch != nil), ("--lr", lr != nil), ("--seed", seed != nil),
                         ("--width", width != nil), ("--z-dim", zDim != nil), ("--arch", arch != nil), ("--loss", loss != nil),
                         ("--lecam", lecam != nil), ("--augment", augment != nil), ("--ema", ema != nil),
                         ("--objective", objective != nil)].filter(\.1).map(\.0) + coverageOptions
                         + (adversarialStart != nil || adversarialRamp != nil ? ["--adversarial-start/--adversarial-ramp"] : [])
            if !given.isEmpty {
                throw ValidationError("--resume continues the saved run's options; drop \(given.joined(separator: ", "))")
            }
        }
        if initFrom != nil, width != nil || zDim != nil || arch != nil {
            throw ValidationError("--init keeps the checkpoint's --width, --z-dim and --arch")
        }
    }

    func run() throws {
        // --resume is not among the inputs: a continued run is meant to be saved over the checkpoint it resumes.
        try refuseOutputOverInput(outputs: [output ?? "-", checkpoint], inputs: [input ?? "-", initFrom])
        let out = try BinaryOutput(path: output, what: "a checkpoint")
        // A --checkpoint that cannot be written at all is an error now, not warnings for hours.
        if let checkpoint { try AtomicFile(path: checkpoint).abandon() }
        if let preview { try makeFolder(preview, called: "the preview folder") }
        let dataset = try readDataset()
        let start = try trainingStart()
        if case .resume(let saved) = start, saved.info.step >= steps {
            throw UsageError("\(resume!) is already trained to step \(saved.info.step), and --steps is the run's total "
                             + "(counting the steps done): give more than \(saved.info.step) steps to continue it")
        }
        // A fine-tuned model keeps its architecture, and so takes that architecture's defaults.
        var architecture = arch ?? .fastgan
        if case .initialize(let checkpoint) = start { architecture = checkpoint.info.config.architecture }
        if case .resume(let checkpoint) = start { architecture = checkpoint.info.config.architecture }
        var options = trainingOptions(for: architecture)
        if case .resume(let checkpoint) = start { options = checkpoint.info.training }
        if options.needsFeatureNetwork, perceptualWeight == nil, resume == nil,
           !FileManager.default.fileExists(atPath: EfficientNetLite0.defaultWeightsPath()) {
            // The default asked for the perceptual distance, not the user: train on pixels rather than not at all.
            warn("no EfficientNet-Lite0 weights at \(EfficientNetLite0.defaultWeightsPath()): imle compares pixels alone (scripts/setup fetches the weights)")
            options.coverage.perceptualWeight = 0
        }
        let features = architecture.needsFeatureNetwork
            ? try ProjectedDiscriminator.loadFeatureNetwork(resolution: dataset.resolution) : nil
        let perception = options.needsFeatureNetwork ? try CoverageObjective.loadFeatureNetwork() : nil
        let config = ModelConfig.trainingDefault(resolution: dataset.resolution, width: width, zDim: zDim,
                                                 architecture: architecture, objective: options.objective)
        if case .fresh = start {
            do { try config.requireTrainableIn() } catch { throw UsageError("--width, --z-dim: \(error)") }
        }
        let run: TrainingRun
        do {
            run = try TrainingRun(dataset: dataset, config: config, options: options, seed: seed ?? 0, start: start,
                                  features: features, perception: perception)
        } catch where error is CheckpointError || error is TrainingError {
            // Only a checkpoint given with --init or --resume can disagree with the model or the data.
            throw ToolFailure("\(error): \(initFrom ?? resume ?? "")")
        }
        if case .resume(let saved) = start, saved.info.datasetSize != dataset.count {
            warn("the saved run had \(saved.info.datasetSize) pictures, this stream has \(dataset.count)")
        }

        // From here a stop saves the run; before, there was nothing to save and a signal ends train at once.
        StopSignal.saveOnStop()
        let firstStep = run.step
        // A resumed run counts on from its own step; --minutes bounds the ETA.
        let progress = Progress(total: steps, unit: "steps", quiet: quiet, start: firstStep,
                                timeLimit: minutes.map { $0 * 60 })
        let batchSize = run.options.batch
        let outcome = try run.run(
            to: steps, timeLimit: minutes.map { $0 * 60 }, saveEvery: checkpoint == nil ? 0 : saveEvery ?? 100,
            previewEvery: preview == nil ? 0 : previewEvery ?? 100,
            shouldStop: { StopSignal.requested }
        ) { event in
            switch event {
            case .stepped(let step, let losses):
                let done = step - firstStep
                let imagesPerSecond = progress.elapsed > 0 ? Double(done * batchSize) / progress.elapsed : 0
                let coverage = run.options.objective.usesCoverage ? String(format: "  cover %.4f", losses.coverage) : ""
                let adversarial = run.trainer.options.adversarialWeight(afterSteps: step - 1) > 0
                    ? String(format: "  D %.3f  G %.3f", losses.dLoss, losses.gLoss) : ""
                progress.update(step, status: adversarial + coverage + String(format: "  %.1f img/s", imagesPerSecond))
            case .checkpoint(let saved):
                // A periodic save that fails (a full disk) costs that save, not the run and its final output.
                saveWarningOnFailure(saved, to: checkpoint!)
            case .preview(let step, let images, let count):
                // Like a periodic save, a preview that cannot be written costs that preview, not the run.
                do { try writePreview(images, count: count, step: step, resolution: run.config.resolution) } catch {
                    warn("could not write the preview of step \(step) (the run goes on): \(error)")
                }
            }
        }

        let final = try run.checkpoint()
        try StopSignal.whileSaving {
            try final.write { try out.sink.write($0) }
            try out.commit()
            // The output holds the same checkpoint, so failing to save the run's copy loses nothing.
            if let checkpoint { saveWarningOnFailure(final, to: checkpoint) }
        }
        let summary = "step \(run.step) of \(steps), \(dataset.count) pictures of \(dataset.resolution)x\(dataset.resolution)"
            + " in " + Progress.duration(progress.elapsed) + ", checkpoint to \(out.name)"
        if outcome == .stopped { throw Interrupted("stopped at \(summary)") }
        progress.finish((outcome == .outOfTime ? "time is up: trained to " : "trained to ") + summary)
    }

    /// An option's default for each architecture, as its help shows it: `random-hinge; dcgan, resize: hinge`.
    /// Taken from the defaults a run takes, so the help cannot drift from them.
    static func defaults(_ value: (TrainingOptions) -> String) -> String {
        func valueFor(_ architecture: Architecture) -> String {
            value(TrainingOptions(defaultsFor: architecture, objective: .gan))
        }
        let usual = valueFor(.fastgan)
        let others = Dictionary(grouping: Architecture.allCases.filter { valueFor($0) != usual }, by: valueFor)
        let exceptions = others.keys.sorted().map { key in
            others[key]!.map(\.rawValue).joined(separator: ", ") + ": " + key
        }
        return ([usual] + exceptions).joined(separator: "; ")
    }

    func trainingOptions(for architecture: Architecture) -> TrainingOptions {
        var options = TrainingOptions(defaultsFor: architecture, objective: objective ?? .default(for: architecture))
        if let batch { options.batch = batch }
        if let lr { options.learningRate = lr }
        if let ema { options.emaDecay = ema }
        if let lecam { options.lecam = lecam }
        // validate() has checked both.
        if let loss, let parsed = TrainingOptions.Loss(rawValue: loss) { options.loss = parsed }
        if let augment, let parsed = try? TrainingOptions.augmentList(augment) { options.augment = parsed }
        if let perceptualWeight { options.coverage.perceptualWeight = perceptualWeight }
        if let candidates { options.coverage.candidates = candidates }
        if let reselectEvery { options.coverage.reselectEvery = reselectEvery }
        if let margin { options.coverage.margin = margin }
        if let adversarialStart { options.adversarialStart = adversarialStart }
        if let adversarialRamp { options.adversarialRamp = adversarialRamp }
        return options
    }

    func readDataset() throws -> ImageDataset {
        let reader = try StreamReader.open(input, expecting: .imageStream)
        try reader.requireImages()
        do {
            return try ImageDataset(height: reader.header.shape[0], width: reader.header.shape[1],
                                    records: { try reader.next(into: &$0) })
        } catch let error as DatasetError {
            throw ToolFailure("\(error): \(reader.sourceName)")
        }
    }

    func trainingStart() throws -> TrainingStart {
        try requireFile(initFrom ?? resume, is: .checkpoint)
        if let initFrom { return .initialize(try Checkpoint(contentsOf: initFrom)) }
        if let resume { return .resume(try Checkpoint(contentsOf: resume)) }
        return .fresh
    }

    /// Writes a checkpoint to `path` atomically: the previous file stays whole until the new one is.
    func save(_ checkpoint: Checkpoint, to path: String) throws {
        let file = try AtomicFile(path: path)
        try checkpoint.write { try file.sink.write($0) }
        try file.commit()
    }

    /// Saves the run to --checkpoint, only warning when that fails.
    func saveWarningOnFailure(_ saved: Checkpoint, to path: String) {
        do { try save(saved, to: path) } catch {
            warn("could not save step \(saved.info.step) to --checkpoint (the run goes on): \(error)")
        }
    }

    func writePreview(_ images: [Float], count: Int, step: Int, resolution: Int) throws {
        let cells = Pixels.records(fromBatch: images, count: count, size: resolution).map {
            Image(width: resolution, height: resolution, pixels: $0)
        }
        let png = try encodePNG(Image.grid(cells, columns: TrainingRun.previewColumns, gap: 2))
        let file = try AtomicFile(path: "\(preview!)/step-\(String(format: "%06d", step)).png")
        try png.withUnsafeBytes { try file.sink.write($0) }
        try file.commit()
    }
}

Train.runAsTool()
