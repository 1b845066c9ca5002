import ArgumentParser
import Foundation
import Imaging
import Media
import TensorStream
import ToolSupport

struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration.tool(
        "encode",
        abstract: "Turn an image stream into a video, a GIF, a contact sheet or numbered PNG frames.",
        discussion: """
        Examples:
          walk plato.ckpt --n 300 | encode --scale 4 > plato.mp4
          ingest photos/ | encode --fps 12 -o photos.webm
          sample plato.ckpt --n 16 | encode --grid 4x4 --scale 2 -o sheet.png
          encode frames.tns -o frames/%05d.png
          walk plato.ckpt --audio song.mp3 | encode --audio song.mp3 -o song.mp4

        The format comes from -o's extension or --format: mp4 (H.264, yuv420p), webm (VP9), gif (one \
        palette for the clip), png (the first frame, or a --grid contact sheet, or one file per frame with a \
        %05d pattern, numbered from 1), y4m (raw yuv4mpeg). Without -o the output goes to stdout (never a \
        terminal): an MP4 with its index in front when stdout is a file, a fragmented MP4 into a pipe. \
        Files are written under a temporary name and renamed when complete.

        --audio FILE puts a sound beside the frames (any audio file, or a video's \
        sound track): AAC in MP4, Opus in WebM, cut or padded with silence to the \
        video's length; --audio-offset S starts it S seconds into the video (a \
        negative S starts the video S seconds into the sound).

        Exit status: 0 ok, 1 runtime error (bad stream, I/O), 2 usage, 130 interrupted (no output left)\
        , 141 killed by SIGPIPE (the reader of stdout went away).
        """)

    @Argument(help: "Image stream to read (u8 H x W x 3 records); '-' or nothing reads stdin.")
    var input: String?

    @Option(help: "Output format when -o does not say it: mp4, webm, gif, png, y4m.")
    var format: String?

    @Option(help: "Frames per second (default: the stream's fps metadata, else 30).")
    var fps: Double?

    @Option(help: "Constant quality, lower is better: mp4 0-51 (default 23), webm 0-63 (default 31).")
    var crf: Int?

    @Option(help: "Upsample every frame K times (Lanczos).")
    var scale: Int = 1

    @Option(help: "Write one contact-sheet PNG of the first COLUMNSxROWS frames, e.g. 4x4.")
    var grid: String?

    @Option(help: ArgumentHelp("A sound for the video's sound track (mp4, webm), cut or padded to its length.",
                               valueName: "file"))
    var audio: String?

    // Unconditional, so a negative offset is not taken for an option.
    @Option(name: .customLong("audio-offset"), parsing: .unconditional,
            help: ArgumentHelp("Seconds into the video where the sound starts (negative: into the sound where the "
                               + "video starts).", valueName: "seconds"))
    var audioOffset: Double?

    // -o out.mp4, out.webm, out.gif, out.png, out.y4m, or frames/%05d.png.
    @OptionGroup var outputOptions: OutputOptions

    var output: String? { outputOptions.output == "-" ? nil : outputOptions.output }

    func run() throws {
        let job: EncodeJob
        do {
            job = try EncodeJob(output: output, format: format, fps: fps, crf: crf, scale: scale, grid: grid,
                                audio: audio, audioOffset: audioOffset)
        } catch let error as EncodeOptionError {
            throw UsageError(error.description)
        }
        if job.output == nil && isTerminal(STDOUT_FILENO) {
            throw UsageError("refusing to write \(job.format.rawValue) to a terminal; redirect stdout or use -o FILE")
        }
        try refuseOutputOverInput(outputs: [job.output ?? "-"], inputs: [input ?? "-"])
        let reader = try StreamReader.open(input, expecting: .imageStream)
        // A numbered sequence's folder (frames/%05d.png) is made, as train makes its preview folder; a single
        // file's folder must exist, as for a shell's redirection.
        if let folder = job.sequenceFolder { try makeFolder(folder, called: "the folder of the frames") }
        try reader.requireImages()
        let height = reader.header.shape[0], width = reader.header.shape[1]
        let progress = Progress(total: 0, unit: "frames", quiet: outputOptions.quiet)
        var payload: [UInt8] = []
        let summary = try job.run(
            input: reader.sourceName, streamFPS: reader.header.metadata["fps"],
            nextFrame: {
                guard try reader.next(into: &payload) else { return nil }
                return Image(width: width, height: height, channels: 3, pixels: payload)
            },
            writeFile: { path, body in
                // A numbered sequence's names are known only frame by frame.
                try refuseOutputOverInput(outputs: [path], inputs: [input ?? "-"])
                let file = try AtomicFile(path: path)
                try body(file.writePath)
                try file.finishWriting()
                return file.commit
            },
            progress: { progress.update($0) })
        var line = "wrote \(summary.framesWritten) frame\(summary.framesWritten == 1 ? "" : "s") "
            + "\(summary.width)x\(summary.height) \(summary.format.rawValue) to \(summary.destination)"
        if let audio { line += " with the sound of \(audio)" }
        if let damage = summary.soundDamage { warn("\(damage): \(audio ?? "")") }
        if summary.framesRead != summary.framesWritten { line += " (read \(summary.framesRead))" }
        if let grid = job.grid, summary.framesWritten < grid.columns * grid.rows {
            let empty = grid.columns * grid.rows - summary.framesWritten
            let fitting = Grid.fitting(summary.framesWritten)
            warn("--grid \(grid.columns)x\(grid.rows) has \(grid.columns * grid.rows) cells and the stream "
                 + "\(counted(summary.framesWritten, "frame")): \(counted(empty, "cell")) left empty "
                 + "(--grid \(fitting.columns)x\(fitting.rows) holds them)")
        }
        progress.finish(line + String(format: " in %.1fs", progress.elapsed))
    }
}

Encode.runAsTool()
