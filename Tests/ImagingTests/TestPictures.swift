import Foundation
import Imaging

/// Deterministic pictures for the tests: smooth waves whose frequencies depend on `seed`, so
/// different seeds give unrelated pictures while each stays friendly to JPEG.
func wavePicture(width: Int, height: Int, seed: Int) -> Image {
    var image = Image(width: width, height: height)
    let fx = 1.0 + Double(seed % 5), fy = 1.0 + Double((seed / 5) % 5), phase = Double(seed) * 0.7
    for y in 0..<height {
        for x in 0..<width {
            let u = Double(x) / Double(width), v = Double(y) / Double(height)
            let a = sin(2 * .pi * (fx * u + phase)), b = cos(2 * .pi * (fy * v - phase)), c = sin(2 * .pi * (u + v) * 1.5 + phase)
            image[x, y, 0] = UInt8(127.5 + 120 * a)
            image[x, y, 1] = UInt8(127.5 + 120 * b)
            image[x, y, 2] = UInt8(127.5 + 60 * (a * b + c))
        }
    }
    return image
}

/// A picture filled with one colour.
func solidPicture(width: Int, height: Int, _ samples: [UInt8]) -> Image {
    Image(width: width, height: height, channels: samples.count,
          pixels: Array((0..<width * height).map { _ in samples }.joined()))
}

/// Mean absolute difference of two pictures of the same geometry.
func meanAbsoluteDifference(_ a: Image, _ b: Image) -> Double {
    precondition(a.pixels.count == b.pixels.count)
    let total = zip(a.pixels, b.pixels).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }
    return Double(total) / Double(a.pixels.count)
}

/// The average of each channel.
func channelMeans(_ image: Image) -> [Double] {
    (0..<image.channels).map { c in
        Double(stride(from: c, to: image.pixels.count, by: image.channels).reduce(0) { $0 + Int(image.pixels[$1]) })
            / Double(image.width * image.height)
    }
}

/// A deterministic "scene": soft discs of random colours on a gradient, closer to a photograph's
/// mix of large and small shapes than `wavePicture`. Different seeds give unrelated scenes.
func scenePicture(width: Int, height: Int, seed: UInt64) -> Image {
    var generator = SeededGenerator(seed: seed)
    func next() -> Double { Double(generator.next() >> 11) / Double(1 << 53) }
    var canvas = [Double](repeating: 0, count: width * height * 3)
    let top = (0..<3).map { _ in next() * 255 }, bottom = (0..<3).map { _ in next() * 255 }
    for y in 0..<height {
        for x in 0..<width {
            for c in 0..<3 {
                canvas[(y * width + x) * 3 + c] = top[c] + (bottom[c] - top[c]) * Double(y) / Double(height)
            }
        }
    }
    for _ in 0..<24 {
        let cx = next() * Double(width), cy = next() * Double(height)
        let radius = (0.05 + 0.3 * next()) * Double(min(width, height))
        let colour = (0..<3).map { _ in next() * 255 }
        for y in 0..<height {
            for x in 0..<width {
                let d = ((Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy)).squareRoot()
                let cover = min(max(radius - d, 0), 1.5) / 1.5
                for c in 0..<3 {
                    let i = (y * width + x) * 3 + c
                    canvas[i] += (colour[c] - canvas[i]) * cover
                }
            }
        }
    }
    return Image(width: width, height: height, channels: 3, pixels: canvas.map { UInt8(min(max($0, 0), 255)) })
}

/// A repeatable generator for the tests (SplitMix64).
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
