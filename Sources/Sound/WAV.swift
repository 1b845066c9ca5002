/// 16-bit PCM WAV files, written a block at a time: a header that knows the length, then the samples.
public enum WAV {
    /// The most sample frames a WAV file holds: its data size is a 32-bit field.
    public static func mostFrames(channels: Int) -> Int { (Int(UInt32.max) - 36) / (2 * channels) }

    /// The 44-byte header of a file of `frames` sample frames of `channels` channels at `sampleRate`.
    public static func header(sampleRate: Int, channels: Int, frames: Int) -> [UInt8] {
        precondition(frames <= mostFrames(channels: channels))
        let dataBytes = UInt32(frames * channels * 2)
        var bytes: [UInt8] = []
        func put<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        bytes += Array("RIFF".utf8); put(36 + dataBytes)
        bytes += Array("WAVEfmt ".utf8); put(UInt32(16)); put(UInt16(1)); put(UInt16(channels))
        put(UInt32(sampleRate)); put(UInt32(sampleRate * channels * 2)); put(UInt16(channels * 2)); put(UInt16(16))
        bytes += Array("data".utf8); put(dataBytes)
        return bytes
    }

    /// Samples (interleaved, full scale ±1, clipped beyond) as 16-bit little-endian PCM.
    public static func pcm16(_ samples: [Float]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: samples.count * 2)
        for (i, sample) in samples.enumerated() {
            let value = UInt16(bitPattern: Int16((max(-1, min(1, sample)) * 32767).rounded()))
            bytes[2 * i] = UInt8(value & 0xFF)
            bytes[2 * i + 1] = UInt8(value >> 8)
        }
        return bytes
    }
}
