import ArgumentParser
import Foundation
import Imaging
import Ingestion
import TensorStream
import ToolSupport

struct IngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration.tool(
        "ingest",
        abstract: "Turn folders of pictures (PNG, JPEG) and videos into a cleaned image stream.",
        discussion: """
        Every PATH is a file, a folder (read recursively, in sorted order, following links to other \
        folders but not to one that holds it) or - for a list of paths on stdin, one per line or \
        NUL-separated (find -print0: then a name may hold a line break), read as it is needed. Files \
        are recognised by their contents. Unreadable, corrupt and too \
        small files are skipped with one warning each; video files (mp4, webm, mov, mkv, gif) give \
        their frames. Each picture is laid on --background where transparent, made square (--fit) and \
        resized to --size with a Lanczos filter.

        Examples:
          ingest photos/ | train --steps 2000 > plato.ckpt
          ingest --size 128 --dedupe --flip photos/ -o faces.tns
          find shots -name '*.jpg' | ingest - | encode -o contact.png --grid 8x8
          ingest --every 10 clip.mp4 > frames.tns

        Exit status: 0 ok, 1 runtime error (no usable image, I/O), 2 usage (also: the output is one of \
        the inputs), 130 interrupted (the records kept so far are written; with none, -o is left as it \
        was), 141 killed by SIGPIPE (the reader of stdout went away).
        """)

    @Argument(help: ArgumentHelp("Files, folders, or - for paths on stdin.", valueName: "PATH"))
    var paths: [String] = []

    @Option(help: ArgumentHelp("Width and height of every picture in the stream.", valueName: "N"))
    var size = 64

    @Option(help: "How a non-square picture becomes square: crop (centre) or pad.")
    var fit: SquareFit = .crop

    @Option(help: ArgumentHelp("Colour under transparency and in the padding.", valueName: "RRGGBB"))
    var background = "ffffff"

    @Option(name: .customLong("min-size"),
            help: ArgumentHelp("Skip pictures whose shorter side (longer with --fit pad) is below N pixels (default: half of --size).",
                               valueName: "N"))
    var minimumSize: Int?

    @Flag(help: "Drop exact and near duplicates (perceptual hash).")
    var dedupe = false

    @Option(name: .customLong("dedupe-threshold"),
            help: ArgumentHelp("Differing hash bits (of 64) still counted as a near duplicate.", valueName: "BITS"))
    var dedupeThreshold = 6

    @Flag(help: "Add a mirrored copy of every picture.")
    var flip = false

    @Flag(help: "Shuffle the records (deterministic for --seed); holds them all in memory until the end.")
    var shuffle = false

    @Option(help: ArgumentHelp("Seed of --shuffle.", valueName: "S"))
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp("Keep one video frame in N.", valueName: "N"))
    var every = 1

    // -q also silences the warnings about skipped files.
    @OptionGroup var outputOptions: OutputOptions

    var output: String? { outputOptions.output }
    var quiet: Bool { outputOptions.quiet }

    func validate() throws {
        guard !paths.isEmpty else { throw ValidationError("no PATH given (a file, a folder, or - for paths on stdin)") }
        guard (8...4096).contains(size) else { throw ValidationError("--size must be between 8 and 4096") }
        guard RGBColor(hex: background) != nil else { throw ValidationError("--background must be RRGGBB, got '\(background)'") }
        guard minimumSize.map({ $0 >= 1 }) ?? true else { throw ValidationError("--min-size must be at least 1") }
        guard (0...64).contains(dedupeThreshold) else { throw ValidationError("--dedupe-threshold must be between 0 and 64") }
        guard every >= 1 else { throw ValidationError("--every must be at least 1") }
    }

    func run() throws {
        var options = IngestOptions()
        options.size = size
        options.fit = fit
        options.background = RGBColor(hex: background)!
        options.minimumSize = minimumSize
        options.dedupe = dedupe
        options.dedupeThreshold = dedupeThreshold
        options.flip = flip
        options.shuffleSeed = shuffle ? seed : nil
        options.videoEvery = every

        let files = InputFiles(arguments: paths, shouldStop: { StopSignal.requested })
        let destination = try BinaryOutput(path: output, what: "an image stream")
        // From here a stop writes the records so far; before, a signal ends ingest at once, as there is
        // nothing to save.
        StopSignal.saveOnStop()
        let writer = IngestStreamWriter(inputs: paths, options: options, to: destination.sink)
        let progress = Progress(total: files.count ?? 0, unit: "files", quiet: quiet)
        let summary = try ingest(
            files: files, options: options, into: writer,
            // Each file is compared with the output before it is read (a list on stdin comes as it is read).
            check: { try refuseOutputOverInput(outputs: [output ?? "-"], inputs: [$0]) },
            warn: { message in if !quiet { ToolSupport.warn(message) } },
            progress: { done, _ in progress.update(done) },
            shouldStop: { StopSignal.requested })
        let read = "\(summary.files)" + (files.count.map { " of \($0)" } ?? "") + " files"
        // An interrupted run that kept nothing leaves the output as it was.
        if summary.interrupted && summary.records == 0 {
            throw Interrupted("interrupted after \(read), before any picture was kept: nothing written")
        }
        try writer.finish()  // the header naming every record's source, and the records it held for it
        try destination.commit()
        if !writer.namesEverySource && !quiet {
            ToolSupport.warn("too many pictures to name each one's source in the stream's header: it names the first input")
        }
        progress.finish(summary.description + String(format: " in %.1fs", progress.elapsed))
        if summary.interrupted { throw Interrupted("interrupted after \(read); the pictures kept are written") }
    }
}

extension SquareFit: ExpressibleByArgument {}

IngestCommand.runAsTool()
