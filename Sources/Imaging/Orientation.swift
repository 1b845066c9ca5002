/// The EXIF orientation tag (1...8): how the stored pixels must be turned to be seen upright.
public enum ExifOrientation: Int, CaseIterable, Sendable {
    case up = 1, mirrored = 2, upsideDown = 3, mirroredUpsideDown = 4
    case transposed = 5, rotatedClockwise = 6, transverse = 7, rotatedCounterClockwise = 8

    /// True when the upright picture has width and height swapped.
    public var swapsAxes: Bool { rawValue >= 5 }

    /// Reads the orientation from the payload of a JPEG APP1 segment (`Exif\0\0` + a TIFF block);
    /// nil when there is no well-formed orientation tag. Every read is bounds-checked.
    public init?(exifSegment bytes: [UInt8]) {
        let header: [UInt8] = Array("Exif".utf8) + [0, 0]
        guard bytes.count >= 14, Array(bytes[0..<6]) == header else { return nil }
        let tiff = 6
        let bigEndian: Bool
        switch (bytes[tiff], bytes[tiff + 1]) {
        case (0x4D, 0x4D): bigEndian = true
        case (0x49, 0x49): bigEndian = false
        default: return nil
        }
        func u16(_ at: Int) -> Int? {
            guard at >= 0, at + 2 <= bytes.count else { return nil }
            let a = Int(bytes[at]), b = Int(bytes[at + 1])
            return bigEndian ? a << 8 | b : b << 8 | a
        }
        func u32(_ at: Int) -> Int? {
            guard let high = u16(bigEndian ? at : at + 2), let low = u16(bigEndian ? at + 2 : at) else { return nil }
            return high << 16 | low
        }
        guard u16(tiff + 2) == 42, let ifd = u32(tiff + 4), let entries = u16(tiff + ifd) else { return nil }
        for index in 0..<entries {
            let entry = tiff + ifd + 2 + 12 * index
            guard let tag = u16(entry) else { return nil }
            // Tag 0x0112 is a SHORT (type 3) whose value sits in the first two bytes of the value field.
            if tag == 0x0112, u16(entry + 2) == 3, let value = u16(entry + 8) {
                self.init(rawValue: value)
                return
            }
        }
        return nil
    }

    /// A minimal APP1 payload carrying just this orientation (big-endian TIFF, one IFD entry).
    public var exifSegment: [UInt8] {
        Array("Exif".utf8) + [0, 0] + [0x4D, 0x4D, 0, 42, 0, 0, 0, 8]
            + [0, 1] + [0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, UInt8(rawValue), 0, 0] + [0, 0, 0, 0]
    }
}

extension Image {
    /// The picture as it should be displayed, given the stored pixels and their EXIF orientation.
    public func applying(_ orientation: ExifOrientation) -> Image {
        if orientation == .up { return self }
        let outWidth = orientation.swapsAxes ? height : width
        let outHeight = orientation.swapsAxes ? width : height
        var out = [UInt8](repeating: 0, count: pixels.count)
        let w = width, h = height, ch = channels
        pixels.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                for y in 0..<outHeight {
                    for x in 0..<outWidth {
                        // Which stored pixel lands at displayed (x, y).
                        let sx: Int, sy: Int
                        switch orientation {
                        case .up: (sx, sy) = (x, y)
                        case .mirrored: (sx, sy) = (w - 1 - x, y)
                        case .upsideDown: (sx, sy) = (w - 1 - x, h - 1 - y)
                        case .mirroredUpsideDown: (sx, sy) = (x, h - 1 - y)
                        case .transposed: (sx, sy) = (y, x)
                        case .rotatedClockwise: (sx, sy) = (y, h - 1 - x)
                        case .transverse: (sx, sy) = (w - 1 - y, h - 1 - x)
                        case .rotatedCounterClockwise: (sx, sy) = (w - 1 - y, x)
                        }
                        let from = (sy * w + sx) * ch, to = (y * outWidth + x) * ch
                        for c in 0..<ch { target[to + c] = source[from + c] }
                    }
                }
            }
        }
        return Image(width: outWidth, height: outHeight, channels: ch, pixels: out)
    }
}
