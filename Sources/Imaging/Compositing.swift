/// An opaque sRGB colour, e.g. the background transparent pixels are laid on.
public struct RGBColor: Equatable, Sendable {
    public var red: UInt8
    public var green: UInt8
    public var blue: UInt8

    public init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// Parses `RRGGBB` (an optional leading `#` is allowed); nil when it is not six hex digits.
    public init?(hex: String) {
        let digits = hex.hasPrefix("#") ? String(hex.dropFirst()) : hex
        guard digits.count == 6, digits.allSatisfy(\.isHexDigit), let value = UInt32(digits, radix: 16) else {
            return nil
        }
        self.init(red: UInt8(value >> 16), green: UInt8((value >> 8) & 0xFF), blue: UInt8(value & 0xFF))
    }

    public static let black = RGBColor(red: 0, green: 0, blue: 0)
    public static let white = RGBColor(red: 255, green: 255, blue: 255)
}

extension Image {
    /// The picture as 3-channel RGB: gray is replicated, and alpha is composited over `background`.
    public func flattened(on background: RGBColor = .white) -> Image {
        guard channels != 3 else { return self }
        var out = [UInt8](repeating: 0, count: width * height * 3)
        pixels.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                flatten(source.baseAddress!, count: width * height, channels: channels, on: background,
                        into: target.baseAddress!)
            }
        }
        return Image(width: width, height: height, channels: 3, pixels: out)
    }

    /// The mirror image (left and right swapped).
    public func flippedHorizontally() -> Image {
        var out = pixels
        for row in 0..<height {
            for x in 0..<width {
                let from = (row * width + x) * channels, to = (row * width + width - 1 - x) * channels
                for c in 0..<channels { out[to + c] = pixels[from + c] }
            }
        }
        return Image(width: width, height: height, channels: channels, pixels: out)
    }
}

/// `count` pixels of `channels` samples as RGB: gray (1) replicated, gray+alpha (2) and RGBA (4)
/// composited over `background`, RGB (3) copied.
func flatten(_ source: UnsafePointer<UInt8>, count: Int, channels: Int, on background: RGBColor,
             into target: UnsafeMutablePointer<UInt8>) {
    let back = [UInt32(background.red), UInt32(background.green), UInt32(background.blue)]
    for i in 0..<count {
        let base = i * channels
        switch channels {
        case 1, 3:
            for c in 0..<3 { target[3 * i + c] = source[base + (channels == 3 ? c : 0)] }
        default:
            // 2 (gray+alpha) or 4 (RGBA): colour samples then alpha last.
            let alpha = UInt32(source[base + channels - 1])
            for c in 0..<3 {
                let sample = UInt32(source[base + (channels == 4 ? c : 0)])
                // Rounded (sample * a + back * (255 - a)) / 255.
                target[3 * i + c] = UInt8((sample * alpha + back[c] * (255 - alpha) + 127) / 255)
            }
        }
    }
}

/// How a non-square picture becomes square.
public enum SquareFit: String, CaseIterable, Sendable {
    /// Keep the centre square, cutting the longer side.
    case crop
    /// Keep everything, filling the margins of the shorter side with the background.
    case pad
}

extension Image {
    /// A `size` x `size` RGB picture: flattened on `background`, made square by `fit`, then resized
    /// with the Lanczos filter (in one pass over the rows: no full-size copy is made).
    public func squared(size: Int, fit: SquareFit, background: RGBColor = .white) -> Image {
        switch fit {
        case .crop:
            let side = min(width, height)
            return resampled(window: ((width - side) / 2, (height - side) / 2, side, side), width: size, height: size,
                             flattenedOn: background)
        case .pad:
            let longer = Double(max(width, height))
            let w = max(1, Int((Double(width) * Double(size) / longer).rounded()))
            let h = max(1, Int((Double(height) * Double(size) / longer).rounded()))
            let inner = resampled(window: (0, 0, width, height), width: w, height: h, flattenedOn: background)
            var canvas = [UInt8](repeating: 0, count: size * size * 3)
            for i in 0..<size * size {
                canvas[3 * i] = background.red
                canvas[3 * i + 1] = background.green
                canvas[3 * i + 2] = background.blue
            }
            let left = (size - w) / 2, top = (size - h) / 2
            for row in 0..<h {
                let to = ((top + row) * size + left) * 3
                canvas[to..<to + w * 3] = inner.pixels[row * w * 3..<(row + 1) * w * 3]
            }
            return Image(width: size, height: size, channels: 3, pixels: canvas)
        }
    }
}
