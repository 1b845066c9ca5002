import Foundation
import Neural
import Safetensors
import TensorStream

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
    /// The version of the tools that wrote it (`mnemosyneVersion`, from TensorStream).
    public var toolVersion = mnemosyneVersion
    public var training: TrainingOptions

    public init(config: ModelConfig, step: Int, seed: UInt64, datasetSize: Int, training: TrainingOptions) {
        self.config = config
        self.step = step
        self.seed = seed
        self.datasetSize = datasetSize
        self.training = training
    }

    /// Whether the model's own D has learnt features of pictures that `project` can compare in: not a
    /// projected D (it looks through the pretrained network) nor the untrained D of a coverage-only run.
    public var discriminatorSeesPictures: Bool {
        !config.architecture.needsFeatureNetwork && training.objective != .imle
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
        // Every field is read (or its absence reported) before it is judged, so no message needs the
        // value a failed lookup did not give.
        func field(_ key: String) throws -> String {
            guard let value = metadata[key] else {
                throw CheckpointError.notACheckpoint("no '\(key)' in the checkpoint's metadata")
            }
            return value
        }
        let format = try field("format")
        guard format == Self.format else {
            throw CheckpointError.notACheckpoint("metadata format is \(MessageText.quoted(format)), not '\(Self.format)'")
        }
        let versionText = try field("format_version")
        guard Int(versionText) == Self.formatVersion else {
            throw CheckpointError.notACheckpoint("unsupported format_version \(MessageText.quoted(versionText))")
        }
        let architectureName = try field("architecture")
        guard let architecture = Architecture(rawValue: architectureName) else {
            throw CheckpointError.notACheckpoint("unknown architecture \(MessageText.quoted(architectureName))")
        }
        let configText = try field("config")
        guard var config = try? JSONDecoder().decode(ModelConfig.self, from: Data(configText.utf8)) else {
            throw CheckpointError.notACheckpoint("unreadable config \(MessageText.quoted(configText))")
        }
        config.architecture = architecture
        do { try config.validate() } catch { throw CheckpointError.notACheckpoint("\(error)") }
        let trainingText = try field("training")
        guard let training = try? JSONDecoder().decode(TrainingOptions.self, from: Data(trainingText.utf8)) else {
            throw CheckpointError.notACheckpoint("unreadable training options \(MessageText.quoted(trainingText))")
        }
        do { try training.validate() } catch { throw CheckpointError.notACheckpoint("\(error)") }
        let stepText = try field("step")
        guard let step = Int(stepText), step >= 0 else {
            throw CheckpointError.notACheckpoint("bad step \(MessageText.quoted(stepText))")
        }
        let seedText = try field("seed")
        guard let seed = UInt64(seedText) else { throw CheckpointError.notACheckpoint("bad seed \(MessageText.quoted(seedText))") }
        let sizeText = try field("dataset_size")
        guard let datasetSize = Int(sizeText), datasetSize >= 0 else {
            throw CheckpointError.notACheckpoint("bad dataset_size \(MessageText.quoted(sizeText))")
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
            try self.init(bytes: readCheckpointFile(path), keeping: keeping)
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
            let values = try tensor.floats()
            // Such weights only draw black pictures or NaN losses; training never saves them.
            guard values.allSatisfy(\.isFinite) else {
                throw CheckpointError.corrupt("tensor '\(name)' holds a value that is not a finite number")
            }
            if name.hasSuffix("running_var"), values.contains(where: { $0 < 0 }) {
                throw CheckpointError.corrupt("tensor '\(name)' holds a negative variance")
            }
            result[name] = Tensor(shape: tensor.shape, scalars: values)
        }
        for name in tensors.keys.sorted() where prefixes.contains(where: name.hasPrefix) && result[name] == nil {
            throw CheckpointError.mismatch("unexpected tensor \(MessageText.quoted(name))")
        }
        return result
    }
}

extension Checkpoint {
    /// Generators of up to this many weights (16 MB) are built without the file vouching for their size.
    static let cheapGeneratorWeights = 1 << 22

    /// Throws unless the tensors under `prefix` hold at least as many values as the convolution weights
    /// of a generator of `config`: checked before that generator is built, so a small file whose config
    /// claims a huge model is refused without allocating the model. A model small enough to build in an
    /// instant (`cheapGeneratorWeights`) is let through, for the load to name the exact tensor that differs.
    public func requireGeneratorTensors(for config: ModelConfig, prefix: String) throws {
        let weights = config.minimumGeneratorWeights
        let held = tensors.filter { $0.key.hasPrefix(prefix) }.reduce(0) { $0 + $1.value.elementCount }
        guard weights <= max(held, Self.cheapGeneratorWeights) else {
            throw CheckpointError.mismatch("its config (width \(config.width), zDim \(config.zDim)) needs at least "
                                           + "\(weights) generator weights, the file holds \(held)")
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

/// The bytes of a checkpoint file, after its first bytes show it can be one: a file of another kind
/// (a video, a text file of gigabytes) is refused before it is read.
private func readCheckpointFile(_ path: String) throws -> [UInt8] {
    do {
        let file = try RegularFile(path: path)
        try SafetensorsFile.checkPrefix(try file.read(SafetensorsFile.prefixLength), fileSize: file.size)
        return try file.readAll()
    } catch let error as FileReadError {
        throw CheckpointError.unreadable(error.reason)
    } catch let error as SafetensorsError {
        throw CheckpointError.corrupt(error.description)
    }
}
