import Foundation
import Neural

/// The version of the tools that writes into checkpoints.
public let mnemosyneVersion = "0.1.0"

/// What a checkpoint says about itself, kept as strings in the safetensors `__metadata__` (see
/// docs/checkpoint.md): the model to build, how far it was trained, and with what options.
public struct CheckpointInfo: Equatable, Sendable {
    public static let format = "mnemosyne-gan"
    public static let formatVersion = 1

    public var architecture = "dcgan"
    public var config: DCGANConfig
    /// Training steps taken so far (0 for a model that was never trained).
    public var step: Int
    public var seed: UInt64
    public var datasetSize: Int
    public var toolVersion = mnemosyneVersion
    public var training: TrainingOptions

    public init(config: DCGANConfig, step: Int, seed: UInt64, datasetSize: Int, training: TrainingOptions) {
        self.config = config
        self.step = step
        self.seed = seed
        self.datasetSize = datasetSize
        self.training = training
    }

    var metadata: [String: String] {
        [
            "format": Self.format,
            "format_version": String(Self.formatVersion),
            "architecture": architecture,
            "config": canonicalJSON(config),
            "step": String(step),
            "seed": String(seed),
            "dataset_size": String(datasetSize),
            "tool_version": toolVersion,
            "training": canonicalJSON(training),
        ]
    }

    init(metadata: [String: String]) throws {
        func field(_ key: String) throws -> String {
            guard let value = metadata[key] else { throw CheckpointError.notACheckpoint("no '\(key)' in the metadata") }
            return value
        }
        guard try field("format") == Self.format else {
            throw CheckpointError.notACheckpoint("metadata format is '\(metadata["format"]!)', not '\(Self.format)'")
        }
        guard let version = Int(try field("format_version")), version == Self.formatVersion else {
            throw CheckpointError.notACheckpoint("unsupported format_version '\(metadata["format_version"]!)'")
        }
        let architecture = try field("architecture")
        guard architecture == "dcgan" else {
            throw CheckpointError.notACheckpoint("unknown architecture '\(architecture)'")
        }
        guard let config = try? JSONDecoder().decode(DCGANConfig.self, from: Data(try field("config").utf8)) else {
            throw CheckpointError.notACheckpoint("unreadable config '\(metadata["config"]!)'")
        }
        guard let training = try? JSONDecoder().decode(TrainingOptions.self, from: Data(try field("training").utf8))
        else { throw CheckpointError.notACheckpoint("unreadable training options '\(metadata["training"]!)'") }
        guard let step = Int(try field("step")), step >= 0 else {
            throw CheckpointError.notACheckpoint("bad step '\(metadata["step"]!)'")
        }
        guard let seed = UInt64(try field("seed")) else {
            throw CheckpointError.notACheckpoint("bad seed '\(metadata["seed"]!)'")
        }
        guard let datasetSize = Int(try field("dataset_size")), datasetSize >= 0 else {
            throw CheckpointError.notACheckpoint("bad dataset_size '\(metadata["dataset_size"]!)'")
        }
        self.init(config: config, step: step, seed: seed, datasetSize: datasetSize, training: training)
        self.architecture = architecture
        self.toolVersion = try field("tool_version")
    }
}

public enum CheckpointError: Error, Equatable, CustomStringConvertible {
    case unreadable(String)
    case corrupt(String)
    case notACheckpoint(String)
    case mismatch(String)
    case unwritable(String)

    public var description: String {
        switch self {
        case .unreadable(let why): return "cannot read checkpoint (\(why))"
        case .corrupt(let why): return "corrupt checkpoint (\(why))"
        case .notACheckpoint(let why): return "not a mnemosyne checkpoint (\(why))"
        case .mismatch(let why): return "checkpoint does not fit the model (\(why))"
        case .unwritable(let why): return "cannot write checkpoint (\(why))"
        }
    }
}

/// A trained (or training) GAN on disk: safetensors with PyTorch-style names — `G.*`, `D.*`, `G_ema.*`
/// weights, `opt.*` optimizer state, `rng.*` generator states — and `CheckpointInfo` as metadata.
public struct Checkpoint: Sendable {
    public var info: CheckpointInfo
    public var tensors: [String: SafetensorsTensor]

    public init(info: CheckpointInfo, tensors: [String: SafetensorsTensor]) {
        self.info = info
        self.tensors = tensors
    }

    /// Captures named engine tensors (copied, so training can go on).
    public init(info: CheckpointInfo, named: [(String, Tensor)]) {
        var tensors: [String: SafetensorsTensor] = [:]
        for (name, tensor) in named {
            tensors[name] = SafetensorsTensor(floats: tensor.scalars, shape: tensor.shape)
        }
        self.init(info: info, tensors: tensors)
    }

    public init(bytes: [UInt8]) throws {
        let file: SafetensorsFile
        do {
            file = try SafetensorsFile(bytes: bytes)
        } catch let error as SafetensorsError {
            throw CheckpointError.corrupt(error.description)
        }
        self.init(info: try CheckpointInfo(metadata: file.metadata), tensors: file.tensors)
    }

    /// Loads the checkpoint at `path`.
    public init(contentsOf path: String) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw CheckpointError.unreadable(readFailureReason(path))
        }
        try self.init(bytes: [UInt8](data))
    }

    var file: SafetensorsFile { SafetensorsFile(metadata: info.metadata, tensors: tensors) }

    public func serialized() -> [UInt8] { file.serialized() }

    /// Writes the checkpoint to an open file descriptor (stdout, say), all of it or an error.
    public func write(toFileDescriptor fd: Int32) throws {
        try file.write { chunk in try writeAll(fd, chunk) }
    }

    /// Saves to `path` so that a reader (or a crash) never sees a partial file: the bytes go to a temporary
    /// file in the same folder, are flushed to disk, and the temporary is renamed over `path`.
    public func save(atomicallyTo path: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp\(getpid())").path
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw CheckpointError.unwritable("\(String(cString: strerror(errno))): \(temporary)") }
        do {
            try write(toFileDescriptor: fd)
            guard fsync(fd) == 0 else { throw CheckpointError.unwritable("fsync: \(String(cString: strerror(errno)))") }
            close(fd)
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw CheckpointError.unwritable("\(reason): \(path)")
        }
        // Make the rename itself durable.
        let folderFD = open(folder.isEmpty ? "." : folder, O_RDONLY)
        if folderFD >= 0 { fsync(folderFD); close(folderFD) }
    }

    /// The F32 tensors under `prefix` as engine tensors keyed by the rest of the name (`G.` -> `0.weight`).
    public func engineTensors(prefix: String) throws -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for (name, tensor) in tensors where name.hasPrefix(prefix) {
            guard tensor.dtype == .f32 else {
                throw CheckpointError.mismatch("tensor '\(name)' is \(tensor.dtype.rawValue), expected F32")
            }
            result[String(name.dropFirst(prefix.count))] = Tensor(shape: tensor.shape, scalars: try tensor.floats())
        }
        return result
    }

    /// Checks that every tensor in `expected` is present with the same shape, and that nothing else under
    /// the same prefixes is: the error names the first difference.
    public func validate(against expected: [(String, [Int])], prefixes: [String]) throws {
        var wanted: [String: [Int]] = [:]
        for (name, shape) in expected { wanted[name] = shape }
        for (name, shape) in expected.sorted(by: { $0.0 < $1.0 }) {
            guard let tensor = tensors[name] else { throw CheckpointError.mismatch("missing tensor '\(name)'") }
            guard tensor.shape == shape else {
                throw CheckpointError.mismatch("tensor '\(name)' has shape \(tensor.shape), the model needs \(shape)")
            }
            guard tensor.dtype == .f32 else {
                throw CheckpointError.mismatch("tensor '\(name)' is \(tensor.dtype.rawValue), expected F32")
            }
        }
        for name in tensors.keys.sorted() where prefixes.contains(where: name.hasPrefix) && wanted[name] == nil {
            throw CheckpointError.mismatch("unexpected tensor '\(name)'")
        }
    }
}

/// JSON with sorted keys, so equal values always give equal bytes.
func canonicalJSON<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    // Encoding plain Codable structs of numbers and strings cannot fail.
    return String(decoding: try! encoder.encode(value), as: UTF8.self)
}

private func readFailureReason(_ path: String) -> String {
    var info = stat()
    if stat(path, &info) != 0 { return String(cString: strerror(errno)) }
    if info.st_mode & S_IFMT == S_IFDIR { return "is a folder" }
    return "unreadable file"
}

/// write(2) until every byte is out, retrying interrupted and partial writes.
func writeAll(_ fd: Int32, _ chunk: UnsafeRawBufferPointer) throws {
    guard var base = chunk.baseAddress else { return }
    var remaining = chunk.count
    while remaining > 0 {
        let written = Foundation.write(fd, base, remaining)
        if written < 0 {
            if errno == EINTR { continue }
            throw CheckpointError.unwritable(String(cString: strerror(errno)))
        }
        base += written
        remaining -= written
    }
}
