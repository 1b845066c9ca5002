import Foundation
import TensorStream

/// What a tool wants of a file argument.
public enum ExpectedInput: Sendable {
    case checkpoint
    case imageStream
    case latentStream

    var name: String {
        switch self {
        case .checkpoint: return "a checkpoint"
        case .imageStream: return "an image stream"
        case .latentStream: return "a latent stream"
        }
    }
}

/// Refuses a file that is plainly of another kind than `expected` (by `FileKind.of`), naming what it is and
/// how to get what the tool wants: `imgs.tns is an image stream, not a checkpoint: train a model from it
/// (train imgs.tns -o m.ckpt)`. Stdin (nil or `-`), a missing file and bytes of no known kind pass: the
/// reader's own error says more about those (a damaged checkpoint is still a checkpoint).
public func requireFile(_ path: String?, is expected: ExpectedInput) throws {
    guard let path, path != "-" else { return }
    if let message = wrongKindMessage(name: path, kind: FileKind.of(path: path), expected: expected) {
        throw ToolFailure(message)
    }
}

/// The message for `name`, of `kind`, given where `expected` belongs; nil when the kind is right or unknown.
public func wrongKindMessage(name shown: String, kind: FileKind, expected: ExpectedInput) -> String? {
    // Stdin has no name to put in a command.
    let name = shown == "stdin" ? "FILE" : shown
    let fix: String
    switch (kind, expected) {
    case (.checkpoint, .checkpoint), (.imageStream, .imageStream), (.latentStream, .latentStream),
         (.unknown, _), (.unreadable, _), (.safetensors, .checkpoint), (.otherStream, .imageStream),
         (.otherStream, .latentStream), (.empty, _), (.folder, .latentStream):
        // The reader names these as well as anything here could (an empty input, a folder it cannot read).
        return nil
    case (.imageStream, .checkpoint):
        fix = "train a model from it (train \(name) -o m.ckpt)"
    case (.imageStream, .latentStream):
        fix = "find its pictures' latents in a model with project (project m.ckpt \(name) -o z.tns)"
    case (.latentStream, .checkpoint):
        fix = "walk through it with the checkpoint it was projected in (walk m.ckpt --latents \(name))"
    case (.latentStream, .imageStream):
        fix = "walk through it with its checkpoint to make pictures (walk m.ckpt --latents \(name) > frames.tns)"
    case (.checkpoint, .imageStream) where toolName == "train":
        fix = "train on pictures, starting from it (train imgs.tns --init \(name) -o new.ckpt) or "
            + "continuing its run (train imgs.tns --resume \(name) -o m.ckpt)"
    case (.checkpoint, .imageStream):
        fix = "draw pictures from it with sample (sample \(name) > pictures.tns)"
    case (.checkpoint, .latentStream):
        fix = "give it as the checkpoint, and the latents that project wrote from it with --latents"
    case (.picture, .checkpoint), (.video, .checkpoint), (.folder, .checkpoint):
        fix = "make a stream of it with ingest and train a model on that (ingest \(name) | train -o m.ckpt)"
    case (.picture, _), (.video, _), (.folder, _):
        fix = "make an image stream of it with ingest (ingest \(name) > imgs.tns)"
    case (.sound, _):
        fix = "a walk can move with it (walk m.ckpt --audio \(name)), and encode --audio puts it beside a video"
    case (.otherStream, .checkpoint), (.safetensors, _):
        fix = "see what it holds with inspect (inspect \(name))"
    }
    return "\(shown) is \(kind.name), not \(expected.name): \(fix)"
}

extension StreamReader {
    /// Opens a tool's input stream (a path, or stdin for nil or `-`), refusing to read a terminal, and a
    /// file (or stdin) that is plainly something else than `expected`, with the fix.
    public static func open(_ path: String?, expecting expected: ExpectedInput) throws -> StreamReader {
        try requireFile(path, is: expected)
        do {
            return try open(path)
        } catch let error as StreamError where error.reason == .notAStream {
            guard let kind = error.foundKind,
                  let message = wrongKindMessage(name: error.source, kind: kind, expected: expected) else { throw error }
            throw ToolFailure(message)
        }
    }
}

/// Why latents (a stream `project` wrote, with this header) are not of `checkpoint`: nil when they are, or
/// when the stream does not say (its metadata has no `checkpoint_crc32`, as in streams written elsewhere).
/// The same latent in another model is another picture, so a walk through them would not pass your pictures.
public func latentsOfAnotherModel(_ header: StreamHeader, latents: String, checkpoint: String) throws -> String? {
    guard let recorded = header.metadata["checkpoint_crc32"],
          try fileChecksum(path: checkpoint) != recorded else { return nil }
    let named = header.metadata["checkpoint"].map { " (\($0))" } ?? ""
    return "\(latents) holds latents projected in another checkpoint\(named), not in \(checkpoint): "
        + "project your pictures in it (project \(checkpoint) pictures.tns -o z.tns)"
}
