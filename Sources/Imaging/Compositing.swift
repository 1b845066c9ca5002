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
        switch channels {
        case 3:
            return self
        case 1:
            var out = [UInt8](repeating: 0, count: width * height * 3)
            for i in 0..<width * height {
                let v = pixels[i]
                out[3 * i] = v
                out[3 * i + 1] = v
                out[3 * i + 2] = v
            }
            return Image(width: width, height: height, channels: 3, pixels: out)
        default:
            // 2 (gray+alpha) or 4 (RGBA): colour samples then alpha last.
            let back = [UInt32(background.red), UInt32(background.green), UInt32(background.blue)]
            var out = [UInt8](repeating: 0, count: width * height * 3)
            for i in 0..<width * height {
                let base = i * channels
                let alpha = UInt32(pixels[base + channels - 1])
                for c in 0..<3 {
                    let sample = UInt32(pixels[base + (channels == 4 ? c : 0)])
                    // Rounded (sample * a + back * (255 - a)) / 255.
                    out[3 * i + c] = UInt8((sample * alpha + back[c] * (255 - alpha) + 127) / 255)
                }
            }
            return Image(width: width, height: height, channels: 3, pixels: out)
        }
    }

    /// The rectangle of `width` x `height` pixels whose top-left corner is at (`x`, `y`),
    /// clamped to the picture (never empty).
    public func cropped(x: Int, y: Int, width cropWidth: Int, height cropHeight: Int) -> Image {
        let left = min(max(x, 0), width - 1), top = min(max(y, 0), height - 1)
        let w = max(1, min(cropWidth, width - left)), h = max(1, min(cropHeight, height - top))
        if left == 0, top == 0, w == width, h == height { return self }
        var out = [UInt8]()
        out.reserveCapacity(w * h * channels)
        for row in top..<top + h {
            let start = (row * width + left) * channels
            out.append(contentsOf: pixels[start..<start + w * channels])
        }
        return Image(width: w, height: h, channels: channels, pixels: out)
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

/// How a non-square picture becomes square.
public enum SquareFit: String, CaseIterable, Sendable {
    /// Keep the centre square, cutting the longer side.
    case crop
    /// Keep everything, filling the margins of the shorter side with the background.
    case pad
}

extension Image {
    /// A `size` x `size` RGB picture: flattened on `background`, made square by `fit`, then resized
    /// with the Lanczos filter.
    public func squared(size: Int, fit: SquareFit, background: RGBColor = .white) -> Image {
        let rgb = flattened(on: background)
        switch fit {
        case .crop:
            let side = min(rgb.width, rgb.height)
            return rgb.cropped(x: (rgb.width - side) / 2, y: (rgb.height - side) / 2, width: side, height: side)
                .resized(width: size, height: size)
        case .pad:
            let longer = Double(max(rgb.width, rgb.height))
            let w = max(1, Int((Double(rgb.width) * Double(size) / longer).rounded()))
            let h = max(1, Int((Double(rgb.height) * Double(size) / longer).rounded()))
            let inner = rgb.resized(width: w, height: h)
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
