import Foundation

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum zlib and PNG use, so a
/// record's checksum can be checked with `zlib.crc32` in Python.
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        update(0xFFFF_FFFF, bytes) ^ 0xFFFF_FFFF
    }

    /// The running (not yet inverted) CRC after `bytes`.
    static func update(_ running: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc = running
        table.withUnsafeBufferPointer { table in
            for byte in bytes {
                crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
            }
        }
        return crc
    }
}

/// The CRC-32 of a whole file, as 8 hex digits: a fingerprint of a checkpoint, so a latent stream can say which
/// model it was projected in whatever the file is called now (`checkpoint_crc32` in its metadata).
public func fileChecksum(path: String) throws -> String {
    let source = try FileDescriptorSource(path: path)
    var buffer = [UInt8](repeating: 0, count: 1 << 20)
    var crc: UInt32 = 0xFFFF_FFFF
    while true {
        let count = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
        if count == 0 { break }
        crc = buffer.withUnsafeBytes { CRC32.update(crc, UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
    }
    return String(format: "%08x", crc ^ 0xFFFF_FFFF)
}
