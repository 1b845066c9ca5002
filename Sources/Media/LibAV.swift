import CAV
import Foundation
import TensorStream

// Small bridges to libav's C API and to POSIX writes, shared by the decoder and the encoders.

/// libav's text for an error code (`av_err2str` is a macro Swift cannot call).
func avErrorText(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: Int(AV_ERROR_MAX_STRING_SIZE))
    av_strerror(code, &buffer, buffer.count)
    return String(cString: buffer)
}

/// `AVERROR(EAGAIN)` and `AVERROR_EOF`, which are function-like macros in C.
let avErrorAgain = -EAGAIN
let avErrorEOF: Int32 = -0x2046_4F45 // -MKTAG('E','O','F',' ')
/// `AVERROR_DECODER_NOT_FOUND`, another C macro.
let avErrorDecoderNotFound: Int32 = -0x4345_44F8 // -MKTAG(0xF8,'D','E','C')

/// Throws a `MediaError` for a negative libav return code.
@discardableResult
func check(_ code: Int32, _ what: @autoclosure () -> String, file: String) throws -> Int32 {
    if code < 0 { throw MediaError("\(what()) (\(avErrorText(code)))", file: file) }
    return code
}

/// `path` as the URL libav opens as a plain file whatever the name says (NUL-terminated bytes): a bare
/// name picks a protocol by its prefix, so a file called `pipe:0` would read stdin and one called
/// `subfile,,start,0,end,9,,:a.mp4` another file. Every path handed to libav goes through here.
func fileURL(_ path: String) -> [CChar] {
    "file:".utf8.map { CChar(bitPattern: $0) } + FileSystemPath.bytes(of: path)
}

/// libav logs to stderr on its own; the tools report errors themselves in one line, so keep it quiet.
let silenceLibav: Void = av_log_set_level(AV_LOG_QUIET)

/// Runs `body` with an AVDictionary holding `entries` (nil when empty), freed afterwards.
@discardableResult
func withDictionary<T>(_ entries: [String: String],
                               _ body: (UnsafeMutablePointer<OpaquePointer?>?) throws -> T) rethrows -> T {
    var dictionary: OpaquePointer?
    defer { av_dict_free(&dictionary) }
    for (key, value) in entries.sorted(by: { $0.key < $1.key }) { av_dict_set(&dictionary, key, value, 0) }
    return try withUnsafeMutablePointer(to: &dictionary) { try body($0) }
}

/// The plane pointers and strides of a frame as arrays, the form swscale's C API takes.
func planes(of frame: UnsafeMutablePointer<AVFrame>) -> [UnsafeMutablePointer<UInt8>?] {
    withUnsafeBytes(of: frame.pointee.data) { Array($0.bindMemory(to: UnsafeMutablePointer<UInt8>?.self)) }
}

func strides(of frame: UnsafeMutablePointer<AVFrame>) -> [Int32] {
    withUnsafeBytes(of: frame.pointee.linesize) { Array($0.bindMemory(to: Int32.self)) }
}

struct POSIXWriteError: Error { var code: Int32 }

/// Writes every byte, retrying short writes and interrupts.
func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws {
    var offset = 0
    while offset < bytes.count {
        let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
        if written < 0 {
            if errno == EINTR { continue }
            throw POSIXWriteError(code: errno)
        }
        offset += written
    }
}

/// The stream of `type` libavformat thinks best in `format`, with its decoder and parameters; throws "no
/// `kind` stream" or "no decoder for its `kind` codec" naming `file`.
func bestStream(of type: AVMediaType, kind: String, in format: UnsafeMutablePointer<AVFormatContext>, file: String) throws
    -> (index: Int32, codec: UnsafePointer<AVCodec>, stream: UnsafeMutablePointer<AVStream>,
        parameters: UnsafeMutablePointer<AVCodecParameters>) {
    var codec: UnsafePointer<AVCodec>?
    let found = av_find_best_stream(format, type, -1, -1, &codec, 0)
    guard found >= 0, let codec, let stream = format.pointee.streams[Int(found)], let parameters = stream.pointee.codecpar else {
        throw MediaError(found == avErrorDecoderNotFound ? "no decoder for its \(kind) codec" : "no \(kind) stream", file: file)
    }
    return (found, codec, stream, parameters)
}

/// A new stream in `output` and a context for libavcodec's encoder `name` (not yet opened), naming `file`
/// when there is no such encoder.
func newEncodedStream(_ name: String, in output: UnsafeMutablePointer<AVFormatContext>, file: String) throws
    -> (codec: UnsafePointer<AVCodec>, stream: UnsafeMutablePointer<AVStream>, encoder: UnsafeMutablePointer<AVCodecContext>) {
    guard let codec = avcodec_find_encoder_by_name(name) else {
        throw MediaError("this libavcodec has no \(name) encoder", file: file)
    }
    guard let stream = avformat_new_stream(output, nil), let encoder = avcodec_alloc_context3(codec) else {
        throw MediaError("out of memory", file: file)
    }
    return (codec, stream, encoder)
}
