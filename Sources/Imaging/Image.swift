/// A picture in memory: 8-bit samples, row-major, interleaved channels (1 gray, 3 RGB, 4 RGBA),
/// top row first. This is the shape every decoder returns and every encoder takes, and a record of
/// an image stream is exactly `pixels` of a 3-channel image (height × width × 3).
public struct Image: Equatable, Sendable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var pixels: [UInt8]

    /// A black (all-zero) image.
    public init(width: Int, height: Int, channels: Int = 3) {
        precondition(width > 0 && height > 0 && (1...4).contains(channels), "bad image geometry")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = [UInt8](repeating: 0, count: width * height * channels)
    }

    /// Wraps existing samples; `pixels.count` must be `width * height * channels`.
    public init(width: Int, height: Int, channels: Int = 3, pixels: [UInt8]) {
        precondition(pixels.count == width * height * channels, "pixel count does not match the geometry")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// Bytes in one row.
    public var rowBytes: Int { width * channels }

    /// The sample at column `x`, row `y`, channel `c`.
    public subscript(x: Int, y: Int, c: Int) -> UInt8 {
        get { pixels[(y * width + x) * channels + c] }
        set { pixels[(y * width + x) * channels + c] = newValue }
    }
}
