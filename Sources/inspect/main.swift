import ArgumentParser
import Foundation
import Inspection
import ToolSupport

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration.tool(
        "inspect",
        abstract: "Say what a file is: a stream, a checkpoint, a picture or video, or none of these.",
        discussion: """
        For a tensor stream: its records, their shape and type, and its metadata (for \
        latents, the checkpoint they were projected in and whether that file is still \
        the same). For a checkpoint: the architecture, objective, resolution, width, z, \
        steps trained, options, tool version, tensors and bytes. For a picture, a video \
        or a folder: what ingest (at its defaults) would make of it. Anything else is \
        named as what it is, or as not a file mnemosyne knows. --json prints the same \
        as a JSON array, one object per file, for scripts.

        Examples:
          inspect plato.ckpt imgs.tns
          project plato.ckpt imgs.tns | inspect -
          inspect --json memories.tns | jq -r '.[0].checkpoint'

        Exit status: 0 ok, 1 a file could not be read as what it is (missing, \
        damaged), 2 usage.
        """)

    @Argument(help: ArgumentHelp("The files to look at (- reads a stream on stdin).", valueName: "file"))
    var files: [String] = []

    @Flag(help: "Print a JSON array, one object per file.")
    var json = false

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("no file given") }
        guard files.filter({ $0 == "-" }).count <= 1 else { throw ValidationError("stdin can be read once") }
    }

    func run() throws {
        try refuseOutputOverInput(outputs: [output.output], inputs: files)
        if files.contains("-") && isTerminal(STDIN_FILENO) {
            throw UsageError("expected a tensor stream on stdin (a pipe or a file), not a terminal")
        }
        let inspections = files.map(inspect(path:))
        try writeText(json ? try inspectionsJSON(inspections) : inspections.map(\.text).joined(separator: "\n"),
                      to: output.output)
        let problems = inspections.filter { $0.problem != nil }
        if let first = problems.first {
            throw ToolFailure("\(first.problem!): \(first.path)"
                              + (problems.count > 1 ? " (and \(problems.count - 1) more)" : ""))
        }
    }
}

Inspect.runAsTool()
