import ArgumentParser
import Foundation
import TensorStream

/// Exit codes every tool keeps (documented in each tool's --help and in the README).
public enum ToolExit {
    public static let ok: Int32 = 0
    public static let runtimeError: Int32 = 1
    public static let usage: Int32 = 2
    public static let interrupted: Int32 = 130
}

/// A runtime failure (bad input, I/O): the tool prints `tool: message` and exits 1.
public struct ToolFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ message: String) { description = message }
}

/// A usage mistake the parser cannot see (e.g. conflicting options): `tool: message`, exit 2.
public struct UsageError: Error, CustomStringConvertible {
    public var description: String
    public init(_ message: String) { description = message }
}

/// Thrown by a tool that stopped on SIGINT/SIGTERM after saving its work: exit 130.
public struct Interrupted: Error, CustomStringConvertible {
    public var description: String
    public init(_ message: String = "interrupted") { description = message }
}

/// The tool's name as the user typed it, for messages.
public let toolName: String = {
    let name = (CommandLine.arguments.first as NSString?)?.lastPathComponent ?? "mnemosyne"
    return name.isEmpty ? "mnemosyne" : name
}()

/// A one-line note on stderr: `tool: message`.
public func report(_ message: String) {
    writeToStandardError("\(toolName): \(MessageText.escaped(message))\n")
}

/// A one-line warning on stderr: `tool: warning: message`.
public func warn(_ message: String) {
    report("warning: \(message)")
}

extension ParsableCommand {
    /// Parses the command line and runs the tool with the project's conventions: errors as one line on
    /// stderr, exit 0 / 1 (runtime) / 2 (usage) / 130 (interrupted, work saved). A signal removes
    /// unfinished output files and exits 130 at once, unless the tool has called
    /// `StopSignal.saveOnStop()`: from then on the first SIGINT/SIGTERM only raises
    /// `StopSignal.requested` (the tool saves and throws `Interrupted`).
    public static func runAsTool() -> Never {
        reserveStandardDescriptors()
        // A write to a pipe nobody reads fails with EPIPE instead of killing the tool, so a message to
        // a closed stderr is merely lost; a closed stdout ends the tool below as SIGPIPE would.
        signal(SIGPIPE, SIG_IGN)
        StopSignal.install()
        do {
            // `--help` can surface here or from run() (as argument parser's help command), so both go
            // through the same mapping.
            let arguments = FileSystemPath.commandLineArguments()
            var command: ParsableCommand
            do {
                command = try parseAsRoot(arguments)
            } catch {
                // `--steps -5`: argument-parser reads -5 as an option and says "Missing value"; parsed as
                // `--steps=-5`, the option's own check says what is wrong with the value.
                let joined = joiningNegativeValues(arguments)
                guard joined != arguments else { throw error }
                command = try parseAsRoot(joined)
            }
            try command.run()
            Foundation.exit(ToolExit.ok)
        } catch {
            Foundation.exit(finish(with: error))
        }
    }

    /// Reports `error` in one line and returns its exit code.
    static func finish(with error: Error) -> Int32 {
        AtomicFile.removeUnfinished()
        if !(error is Interrupted) && standardOutputReaderIsGone() { exitAsBrokenPipe() }
        switch error {
        case let interrupted as Interrupted:
            report(interrupted.description)
            return ToolExit.interrupted
        case let usage as UsageError:
            report("\(usage.description) (see '\(toolName) --help')")
            return ToolExit.usage
        case let usage as ValidationError:
            report("\(usage.message) (see '\(toolName) --help')")
            return ToolExit.usage
        case let code as ExitCode:
            return code.rawValue
        case is ToolFailure:
            report(oneLine("\(error)"))
            return ToolExit.runtimeError
        case _ where exitCode(for: error) == .success:
            print(fullMessage(for: error))  // --help, --version
            return ToolExit.ok
        case _ where exitCode(for: error) == .validationFailure:
            report("\(message(for: error)) (see '\(toolName) --help')")
            return ToolExit.usage
        default:
            report(oneLine("\(error)"))
            return ToolExit.runtimeError
        }
    }

    private static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
