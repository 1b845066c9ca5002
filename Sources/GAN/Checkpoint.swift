import Foundation
import Neural

/// The version of the tools that writes into checkpoints.
public let mnemosyneVersion = "0.1.0"

/// What a checkpoint says about itself, kept as strings in the safetensors `__metadata__` (see
/// docs/checkpoint.md): the model to build, how far it was trained, and with what options.
public struct CheckpointInfo: Equatable, Sendable {
    public static let format = "mnemosyne-gan"
    public static let formatVersion = 1

    public var config: ModelConfig
    public var architecture: String { config.architecture.rawValue }
    /// Training steps taken so far (0 for a model that was never trained).
    public var step: Int
    public var seed: UInt64
    public var datasetSize: Int
    public var toolVersion = mnemosyneVersion
    public var training: TrainingOptions

    public init(config: ModelConfig, step: Int, seed: UInt64, datasetSize: Int, training: TrainingOptions) {
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
        guard let architecture = Architecture(rawValue: try field("architecture")) else {
            throw CheckpointError.notACheckpoint("unknown architecture '\(metadata["architecture"]!)'")
        }
        guard var config = try? JSONDecoder().decode(ModelConfig.self, from: Data(try field("config").utf8)) else {
            throw CheckpointError.notACheckpoint("unreadable config '\(metadata["config"]!)'")
        }
        config.architecture = architecture
        do { try config.validate() } catch { throw CheckpointError.notACheckpoint("\(error)") }
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
        self.toolVersion = try field("tool_version")
    }
}

public enum CheckpointError: Error, Equatable, CustomStringConvertible {
    case unreadable(String)
    case corrupt(String)
    case notACheckpoint(String)
    case mismatch(String)

    public var description: String {
        switch self {
        case .unreadable(let why): return "cannot read checkpoint (\(why))"
        case .corrupt(let why): return "corrupt checkpoint (\(why))"
        case .notACheckpoint(let why): return "not a mnemosyne checkpoint (\(why))"
        case .mismatch(let why): return "checkpoint does not fit the model (\(why))"
        }
    }
}

/// A checkpoint error and the file it is about: `corrupt checkpoint (...): plato.ckpt`.
public struct CheckpointFileError: Error, CustomStringConvertible {
    public var path: String
    public var error: CheckpointError
    public init(path: String, error: CheckpointError) {
        self.path = path
        self.error = error
    }
    public var description: String { "\(error): \(path)" }
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

    /// Parses a checkpoint, keeping the tensors whose names `keeping` accepts (all by default).
    public init(bytes: [UInt8], keeping: (String) -> Bool = { _ in true }) throws {
        let file: SafetensorsFile
        do {
            file = try SafetensorsFile(bytes: bytes, keeping: keeping)
        } catch let error as SafetensorsError {
            throw CheckpointError.corrupt(error.description)
        }
        self.init(info: try CheckpointInfo(metadata: file.metadata), tensors: file.tensors)
    }

    /// Loads the checkpoint at `path`, keeping the tensors whose names `keeping` accepts (all by
    /// default); errors name the file.
    public init(contentsOf path: String, keeping: (String) -> Bool = { _ in true }) throws {
        do {
            try self.init(bytes: readWholeFile(path), keeping: keeping)
        } catch let error as CheckpointError {
            throw CheckpointFileError(path: path, error: error)
        }
    }

    var file: SafetensorsFile { SafetensorsFile(metadata: info.metadata, tensors: tensors) }

    public func serialized() -> [UInt8] { file.serialized() }

    /// Writes the checkpoint as a sequence of chunks: to stdout, or to the temporary file of an atomic
    /// save (the tools use ToolSupport's `AtomicFile`: temporary name, fsync, rename).
    public func write(to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try file.write(to: sink)
    }

    /// Engine tensors for every name `expected` lists, after checking each is present as F32 with the
    /// expected shape and that no other tensor sits under the same prefixes. Errors name the first difference.
    public func engineTensors(matching expected: [(String, Tensor)], prefixes: [String]) throws -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for (name, model) in expected.sorted(by: { $0.0 < $1.0 }) {
            guard let tensor = tensors[name] else { throw CheckpointError.mismatch("missing tensor '\(name)'") }
            guard tensor.shape == model.shape else {
                throw CheckpointError.mismatch("tensor '\(name)' has shape \(tensor.shape), the model needs \(model.shape)")
            }
            guard tensor.dtype == .f32 else {
                throw CheckpointError.mismatch("tensor '\(name)' is \(tensor.dtype.rawValue), expected F32")
            }
            result[name] = Tensor(shape: tensor.shape, scalars: try tensor.floats())
        }
        for name in tensors.keys.sorted() where prefixes.contains(where: name.hasPrefix) && result[name] == nil {
            throw CheckpointError.mismatch("unexpected tensor '\(name)'")
        }
        return result
    }
}

/// JSON with sorted keys, so equal values always give equal bytes.
func canonicalJSON<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    // Encoding plain Codable structs of numbers and strings cannot fail.
    return String(decoding: try! encoder.encode(value), as: UTF8.self)
}

/// The bytes of a file, read straight into one array (a model can be a hundred megabytes).
private func readWholeFile(_ path: String) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw CheckpointError.unreadable(String(cString: strerror(errno))) }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw CheckpointError.unreadable(String(cString: strerror(errno))) }
    guard info.st_mode & S_IFMT == S_IFREG else { throw CheckpointError.unreadable("not a regular file") }
    let size = Int(info.st_size)
    var failure: Int32 = 0
    let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
        while count < size {
            let got = read(fd, buffer.baseAddress! + count, size - count)
            if got < 0 && errno == EINTR { continue }
            if got <= 0 { failure = got < 0 ? errno : 0; break }
            count += got
        }
    }
    if failure != 0 { throw CheckpointError.unreadable(String(cString: strerror(failure))) }
    // A file that shrank while being read is caught by the format's own length checks.
    return bytes
}
