import ArgumentParser
import Foundation
import TensorStream

/// Where a tool writes and how much it says: `-o/--output FILE` (default stdout) and `-q/--quiet`.
/// Declared here once, so every tool spells and explains them alike.
public struct OutputOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp("Write the output to this file instead of stdout (- is stdout).",
                                                    valueName: "file"))
    public var output: String?

    @Flag(name: .shortAndLong, help: "No progress or summary on stderr (errors still show).")
    public var quiet = false

    public init() {}

    /// The output as `refuseOutputOverInput` and `BinaryOutput` take it: `-` for stdout.
    public var destination: String { output ?? "-" }
}

/// The latents a tool draws pictures from: `--seed S` (the i-th random latent of S is picture i),
/// `--seeds a,b,c` (seed k is always the same picture, in every tool), `--psi` (truncation), parsed and
/// checked alike in `sample`, `walk` and `score`.
public struct LatentOptions: ParsableArguments {
    @Option(help: "Seed of the random latents.")
    public var seed: UInt64 = 0

    @Option(help: ArgumentHelp("Comma-separated seeds, one picture each (e.g. 3,17,42).", valueName: "list"),
            transform: { try SeedList.parse($0) })
    public var seeds: [UInt64]?

    // Unconditional, so a negative value (`--psi -1`, a mirror through the mean) is not taken for an option.
    @Option(parsing: .unconditional,
            help: "Truncation toward the mean latent: 1 = none, smaller = more typical, less varied.")
    public var psi: Float = 1

    public init() {}

    public func validate() throws {
        guard psi.isFinite else { throw ValidationError("--psi must be a number") }
        if psi > 1 {
            warn("--psi \(Self.number(psi)) pushes the latents away from the mean: pictures less typical than the "
                 + "model's own (1 is none, below 1 more typical)")
        }
    }

    /// `2`, or `0.7`: as the user would have typed it.
    static func number(_ value: Float) -> String {
        value == value.rounded() && abs(value) < 1e9 ? String(Int(value)) : String(value)
    }
}

/// A comma-separated list of seeds, `3,17,42`.
public enum SeedList {
    public static func parse(_ text: String) throws -> [UInt64] {
        try text.split(separator: ",", omittingEmptySubsequences: false).map { item in
            guard let seed = UInt64(item.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("'\(item)' is not a seed (a whole number from 0)")
            }
            return seed
        }
    }
}

extension CommandConfiguration {
    /// A tool's configuration: its name, abstract and discussion, and `--version` from the one version
    /// every tool and checkpoint shares.
    public static func tool(_ name: String, abstract: String, discussion: String) -> CommandConfiguration {
        CommandConfiguration(commandName: name, abstract: abstract, discussion: discussion, version: versionLine)
    }

    /// What `TOOL --version` prints.
    public static var versionLine: String { "mnemosyne \(mnemosyneVersion)" }
}

/// Writes a text output (a table, a report) to `path`, atomically, or to stdout for nil or `-`.
public func writeText(_ text: String, to path: String?) throws {
    guard let path, path != "-" else {
        print(text, terminator: "")
        fflush(stdout)
        return
    }
    let file = try AtomicFile(path: path)
    try Array(text.utf8).withUnsafeBytes { try file.sink.write($0) }
    try file.commit()
}

/// Command-line arguments with a negative number after a long option joined to it (`--steps -5` as
/// `--steps=-5`), so the option's own check reports the value instead of argument-parser's
/// "Missing value" (it takes `-5` for an option).
public func joiningNegativeValues(_ arguments: [String]) -> [String] {
    var joined: [String] = []
    var index = 0
    while index < arguments.count {
        let argument = arguments[index]
        if argument.hasPrefix("--"), argument.count > 2, !argument.contains("="), index + 1 < arguments.count,
           isNegativeNumber(arguments[index + 1]) {
            joined.append(argument + "=" + arguments[index + 1])
            index += 2
        } else {
            joined.append(argument)
            index += 1
        }
    }
    return joined
}

private func isNegativeNumber(_ text: String) -> Bool {
    text.hasPrefix("-") && text.count > 1 && Double(text) != nil
}
