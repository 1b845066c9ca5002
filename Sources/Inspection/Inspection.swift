import Foundation
import GAN
import Imaging
import Ingestion
import TensorStream

/// What `inspect` says about one file: its kind (from `FileKind`, the judgement every tool uses) and a few
/// named facts, in the order a person reads them. `problem` is set when the file is of a known kind but
/// could not be read as one (a damaged checkpoint, a stream cut short, a missing file).
public struct Inspection: Sendable {
    public enum Value: Sendable, Equatable {
        case text(String)
        case number(Int)
        case list([String])
        case table([(String, String)])

        public static func == (a: Value, b: Value) -> Bool {
            switch (a, b) {
            case (.text(let x), .text(let y)): return x == y
            case (.number(let x), .number(let y)): return x == y
            case (.list(let x), .list(let y)): return x == y
            case (.table(let x), .table(let y)): return x.map(\.0) == y.map(\.0) && x.map(\.1) == y.map(\.1)
            default: return false
            }
        }
    }

    public var path: String
    public var kind: FileKind
    public var facts: [(String, Value)] = []
    public var problem: String?

    public init(path: String, kind: FileKind) {
        self.path = path
        self.kind = kind
    }

    /// The fact called `name`.
    public subscript(name: String) -> Value? { facts.first { $0.0 == name }?.1 }

    /// The first line and an indented table: `imgs.tns: an image stream` then `  records  135`.
    public var text: String {
        // An unreadable file's kind already says why.
        var lines = ["\(path): \(kind.name)" + (problem.map { kind.key == "unreadable" ? "" : ", but \($0)" } ?? "")]
        let width = facts.map(\.0.count).max() ?? 0
        for (name, value) in facts {
            let label = "  " + name.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
            switch value {
            case .text(let text): lines.append(label + text)
            case .number(let number): lines.append(label + String(number))
            case .list(let items): lines.append(label + items.joined(separator: ", "))
            case .table(let rows):
                lines.append(rows.isEmpty ? label + "(none)" : String(label.dropLast(2)))
                let keyWidth = rows.map(\.0.count).max() ?? 0
                for (key, text) in rows {
                    lines.append("    " + key.padding(toLength: keyWidth, withPad: " ", startingAt: 0) + "  " + text)
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The same as a JSON object: `file`, `kind` (`FileKind.key`), `description`, `problem` when there is
    /// one, and every fact under its name.
    public var json: [String: Any] {
        var object: [String: Any] = ["file": path, "kind": kind.key, "description": kind.name]
        if let problem { object["problem"] = problem }
        for (name, value) in facts {
            switch value {
            case .text(let text): object[name] = text
            case .number(let number): object[name] = number
            case .list(let items): object[name] = items
            case .table(let rows): object[name] = Dictionary(rows, uniquingKeysWith: { $1 })
            }
        }
        return object
    }
}

/// What the file at `path` is, and what it holds (`-` is stdin, read as a tensor stream).
public func inspect(path: String) -> Inspection {
    if path == "-" { return inspectStream(path: path, kind: .imageStream) }
    let kind = FileKind.of(path: path)
    switch kind {
    case .imageStream, .latentStream, .otherStream: return inspectStream(path: path, kind: kind)
    case .checkpoint: return inspectCheckpoint(path: path)
    case .picture, .video, .folder: return inspectPictures(path: path, kind: kind)
    case .unreadable(let why):
        var inspection = Inspection(path: path, kind: kind)
        inspection.problem = why
        return inspection
    case .safetensors, .sound, .empty, .unknown:
        var inspection = Inspection(path: path, kind: kind)
        inspection.facts.append(("bytes", .number(fileSize(path))))
        return inspection
    }
}

/// Records, their shape and type, the metadata; for latents, whether the checkpoint they name is still the
/// one they were projected in.
func inspectStream(path: String, kind sniffed: FileKind) -> Inspection {
    let reader: StreamReader
    do {
        reader = try StreamReader(path: path)
    } catch {
        var inspection = Inspection(path: path == "-" ? "stdin" : path, kind: sniffed)
        if let error = error as? StreamError, error.reason == .notAStream {
            inspection.kind = error.foundKind ?? .unknown
        } else {
            inspection.problem = "\(error)"
        }
        return inspection
    }
    let header = reader.header
    var inspection = Inspection(path: reader.sourceName, kind: FileKind.kind(of: header))
    var records = 0
    var payload: [UInt8] = []
    do {
        while try reader.next(into: &payload) { records += 1 }
    } catch {
        inspection.problem = "\(error)"
    }
    inspection.facts.append(("records", .number(records)))
    inspection.facts.append(("shape", .text(header.shape.map(String.init).joined(separator: "x"))))
    inspection.facts.append(("dtype", .text(header.dtype.description)))
    if inspection.kind == .latentStream, let checkpoint = header.metadata["checkpoint"] {
        inspection.facts.append(("checkpoint", .text(checkpoint + latentsBelonging(header, checkpoint: checkpoint))))
    }
    inspection.facts.append(("metadata", .table(header.metadata.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })))
    return inspection
}

/// ` (the same file)`, ` (changed since: another model)`, ` (not found)`: whether the checkpoint a latent
/// stream names is the one it was projected in (by its recorded CRC-32), for streams that record it.
func latentsBelonging(_ header: StreamHeader, checkpoint: String) -> String {
    guard let recorded = header.metadata["checkpoint_crc32"] else { return "" }
    guard let now = try? fileChecksum(path: checkpoint) else { return " (not found here)" }
    return now == recorded ? " (the same file)" : " (that file has changed since: another model)"
}

/// The model a checkpoint holds, how far it was trained and with what, and its tensors.
func inspectCheckpoint(path: String) -> Inspection {
    var inspection = Inspection(path: path, kind: .checkpoint)
    let checkpoint: Checkpoint
    do {
        checkpoint = try Checkpoint(contentsOf: path)
    } catch {
        inspection.problem = "\(error)"
        return inspection
    }
    let info = checkpoint.info
    inspection.facts += [
        ("architecture", .text(info.architecture)),
        ("objective", .text(info.training.objective.rawValue)),
        ("resolution", .text("\(info.config.resolution)x\(info.config.resolution)")),
        ("width", .number(info.config.width)),
        ("z", .number(info.config.zDim)),
        ("steps", .number(info.step)),
        ("seed", .text(String(info.seed))),
        ("pictures", .number(info.datasetSize)),
        ("tool_version", .text(info.toolVersion)),
    ]
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    if let options = try? encoder.encode(info.training) {
        inspection.facts.append(("options", .text(String(decoding: options, as: UTF8.self))))
    }
    // Parameters per network: G, D, G_ema, and the optimiser's and the run's state.
    var groups: [String: (tensors: Int, values: Int)] = [:]
    for (name, tensor) in checkpoint.tensors {
        let group = String(name.prefix { $0 != "." })
        groups[group, default: (0, 0)].tensors += 1
        groups[group, default: (0, 0)].values += tensor.elementCount
    }
    inspection.facts.append(("tensors", .number(checkpoint.tensors.count)))
    inspection.facts.append(("values", .table(groups.sorted { $0.key < $1.key }.map {
        ($0.key, "\($0.value.values) in \($0.value.tensors) tensors")
    })))
    inspection.facts.append(("bytes", .number(fileSize(path))))
    return inspection
}

/// What `ingest` (with its defaults: 64x64, centre-cropped) would make of a picture, a video or a folder:
/// the same code runs, so the answer is the one ingest gives.
func inspectPictures(path: String, kind: FileKind) -> Inspection {
    var inspection = Inspection(path: path, kind: kind)
    if case .picture = kind, let bytes = try? RegularFile(path: path).readAll(),
       let decoded = try? decodeImage(bytes, hint: .full) {
        inspection.facts.append(("size", .text("\(decoded.originalWidth)x\(decoded.originalHeight)")))
    }
    let options = IngestOptions()
    var warnings: [String] = []
    var kept = 0
    do {
        let summary = try ingest(files: InputFiles(arguments: [path]), options: options, emit: { _ in kept += 1 },
                                 warn: { warnings.append($0) })
        var made = "\(counted(kept, "picture")) of \(options.size)x\(options.size)"
        if kind == .folder || summary.files > 1 { made += " from \(counted(summary.files, "file"))" }
        if summary.skippedTotal > 0 { made += ", \(summary.skippedTotal) skipped (\(summary.skippedBreakdown))" }
        inspection.facts.append(("ingest", .text(made)))
    } catch {
        inspection.facts.append(("ingest", .text("\(error)")))
    }
    if !warnings.isEmpty { inspection.facts.append(("skipped", .list(warnings))) }
    if kind != .folder { inspection.facts.append(("bytes", .number(fileSize(path)))) }
    return inspection
}

private func fileSize(_ path: String) -> Int {
    var info = stat()
    return FileSystemPath.withCString(path) { stat($0, &info) } == 0 ? Int(info.st_size) : 0
}

/// Every inspection as one JSON array (sorted keys), as `inspect --json` prints it.
public func inspectionsJSON(_ inspections: [Inspection]) throws -> String {
    let data = try JSONSerialization.data(withJSONObject: inspections.map(\.json), options: [.prettyPrinted, .sortedKeys])
    return String(decoding: data, as: UTF8.self) + "\n"
}
