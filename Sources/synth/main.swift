import ArgumentParser
import Foundation
import Synth
import TensorStream
import ToolSupport

struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Render a synthetic, themed sample image set as an image stream.",
        discussion: """
        The gallery's default data: procedural pictures (not photographs), one set per piece, \
        deterministic for KIND, --seed and the picture's index. The stream's metadata says \
        synthetic=true and source=synth:KIND.

        Examples:
          synth ocean --n 150 --size 64 --seed 1 | train --steps 2000 > ocean.ckpt
          synth butterfly --n 16 | encode -o butterflies.png --grid 4x4
          synth --list

        Exit status: 0 ok, 1 runtime error, 2 usage, 130 interrupted, 141 killed by SIGPIPE (the reader of stdout went away).
        """)

    @Argument(help: "The set to render (see --list).")
    var kind: String?

    @Option(name: .customLong("n"), help: "Number of pictures.")
    var count = 150

    @Option(help: "Width and height in pixels.")
    var size = 64

    @Option(help: "Seed of the set; each picture also depends on its index.")
    var seed: UInt64 = 1

    @Option(name: .shortAndLong, help: "Write the stream to FILE instead of stdout.")
    var output: String?

    @Flag(help: "List the sets and what they show.")
    var list = false

    @Flag(name: .shortAndLong, help: "No progress or summary on stderr.")
    var quiet = false

    func validate() throws {
        if list { return }
        guard let kind else { throw ValidationError("missing KIND (one of: \(Self.kindNames))") }
        guard SynthKind(rawValue: kind) != nil else {
            throw ValidationError("unknown kind '\(kind)' (one of: \(Self.kindNames))")
        }
        guard count >= 1 else { throw ValidationError("--n must be at least 1") }
        guard (8...2048).contains(size) else { throw ValidationError("--size must be between 8 and 2048") }
    }

    static var kindNames: String { SynthKind.allCases.map(\.rawValue).joined(separator: ", ") }

    func run() throws {
        if list {
            for kind in SynthKind.allCases {
                print(kind.rawValue.padding(toLength: 14, withPad: " ", startingAt: 0) + kind.summary)
            }
            return
        }
        let kind = SynthKind(rawValue: self.kind!)!
        let header = StreamHeader.images(height: size, width: size, metadata: [
            "source": "synth:\(kind.rawValue)", "synthetic": "true", "seed": String(seed),
        ])
        let destination = try BinaryOutput(path: output, what: "an image stream")
        let writer = try StreamWriter(header: header, to: destination.sink)
        let progress = Progress(total: count, unit: "images", quiet: quiet)
        // Render a batch on every core, then write it in order; memory stays bounded for any --n.
        let batch = 4 * max(1, ProcessInfo.processInfo.activeProcessorCount)
        for start in stride(from: 0, to: count, by: batch) {
            let indices = start..<min(count, start + batch)
            for picture in Synth.images(kind: kind, seed: seed, indices: indices, size: size) {
                try writer.write(picture.pixels)
            }
            progress.update(indices.upperBound)
        }
        try destination.commit()
        progress.finish(String(format: "%d synthetic %@ images, %dx%d, seed %llu, to %@ in %.1fs",
                               count, kind.rawValue, size, size, seed, destination.name, progress.elapsed))
    }
}

SynthCommand.runAsTool()
