import Foundation

/// The taps of a 1-D resampling filter: for output sample i, inputs `first[i] ..< first[i] + count[i]`
/// weighted by `weights[offset[i] ...]`, the weights summing to one.
struct ResamplingTaps {
    var first: [Int] = []
    var count: [Int] = []
    var offset: [Int] = []
    var weights: [Float] = []

    /// Lanczos-3 taps mapping `inputSize` samples onto `outputSize`. When shrinking, the kernel is
    /// stretched by the ratio so every input sample contributes (that is what makes it antialiased).
    init(lanczos3From inputSize: Int, to outputSize: Int) {
        let ratio = Double(inputSize) / Double(outputSize)
        let stretch = max(ratio, 1)
        let support = 3 * stretch
        for i in 0..<outputSize {
            let centre = (Double(i) + 0.5) * ratio
            let lo = max(0, Int((centre - support).rounded(.down)))
            let hi = min(inputSize, Int((centre + support).rounded(.up)))
            var taps = [Double]()
            for j in lo..<hi {
                taps.append(Self.lanczos3((Double(j) + 0.5 - centre) / stretch))
            }
            let total = taps.reduce(0, +)
            first.append(lo)
            count.append(taps.count)
            offset.append(weights.count)
            // Normalising keeps a flat area flat even where the kernel is cut at the border.
            weights.append(contentsOf: taps.map { Float($0 / total) })
        }
    }

    static func lanczos3(_ x: Double) -> Double {
        if x == 0 { return 1 }
        guard abs(x) < 3 else { return 0 }
        let px = Double.pi * x
        return 3 * sin(px) * sin(px / 3) / (px * px)
    }
}

extension Image {
    /// The picture resampled to `newWidth` x `newHeight` with a separable Lanczos-3 filter,
    /// antialiased when shrinking; any ratio, either direction, any channel count.
    public func resized(width newWidth: Int, height newHeight: Int) -> Image {
        resampled(window: (0, 0, width, height), width: newWidth, height: newHeight, flattenedOn: nil)
    }

    /// The rectangle `window` (x, y, width, height; inside the picture) resampled to `newWidth` x
    /// `newHeight`, flattened on `background` (to RGB) when one is given: what cropping, flattening and
    /// resizing give one after the other, without a full-size copy for either of the first two.
    func resampled(window: (x: Int, y: Int, width: Int, height: Int), width newWidth: Int, height newHeight: Int,
                   flattenedOn background: RGBColor?) -> Image {
        precondition(newWidth > 0 && newHeight > 0, "resize to an empty image")
        if window == (0, 0, width, height) && newWidth == width && newHeight == height {
            return background.map { flattened(on: $0) } ?? self
        }
        var resampler = RowResampler(channels: channels, window: window, width: newWidth, height: newHeight,
                                     flattenedOn: background)
        pixels.withUnsafeBufferPointer { source in
            for row in window.y..<window.y + window.height { resampler.add(source.baseAddress! + row * rowBytes) }
        }
        return resampler.finish()
    }
}

/// A Lanczos resampling fed one source row at a time, top to bottom: each row is cut to the window's
/// columns (and flattened, when asked), then weighted into every output row whose filter reaches it. Only
/// the output rows at full width are held, never the source picture a second time. Columns are resampled
/// first because whole rows are weighted and summed, a contiguous loop the compiler vectorises, leaving
/// only the output's rows for the strided horizontal pass in `finish`.
struct RowResampler {
    private let channels: Int, outputChannels: Int
    private let left: Int, windowWidth: Int
    private let outputWidth: Int, outputHeight: Int
    private let background: RGBColor?
    private let horizontal: ResamplingTaps
    /// For window row r: the output rows it feeds and their weights, `uses[useStart[r] ..< useStart[r + 1]]`.
    private var useStart: [Int]
    private var uses: [(row: Int, weight: Float)]
    /// The output rows after the vertical pass, each `windowWidth * outputChannels` sums.
    private var middle: [Float]
    private var flattenedRow: [UInt8]
    private var rowsAdded = 0

    init(channels: Int, window: (x: Int, y: Int, width: Int, height: Int), width: Int, height: Int,
         flattenedOn background: RGBColor?) {
        self.channels = channels
        outputChannels = background == nil ? channels : 3
        (left, windowWidth, outputWidth, outputHeight) = (window.x, window.width, width, height)
        self.background = background
        horizontal = ResamplingTaps(lanczos3From: window.width, to: width)
        // The vertical taps turned around: from each output row's source rows to each source row's output rows,
        // in increasing output row order, so every sum adds its terms in the same order as a gather would.
        let vertical = ResamplingTaps(lanczos3From: window.height, to: height)
        var counts = [Int](repeating: 0, count: window.height + 1)
        for y in 0..<height { for t in 0..<vertical.count[y] { counts[vertical.first[y] + t + 1] += 1 } }
        for r in 0..<window.height { counts[r + 1] += counts[r] }
        useStart = counts
        var filled = counts
        uses = Array(repeating: (0, 0), count: counts[window.height])
        for y in 0..<height {
            for t in 0..<vertical.count[y] {
                let source = vertical.first[y] + t
                uses[filled[source]] = (y, vertical.weights[vertical.offset[y] + t])
                filled[source] += 1
            }
        }
        middle = [Float](repeating: 0, count: height * window.width * outputChannels)
        flattenedRow = background == nil || channels == 3 ? [] : [UInt8](repeating: 0, count: window.width * 3)
    }

    /// Adds the next source row (the whole row; the window's columns are taken from it).
    mutating func add(_ row: UnsafePointer<UInt8>) {
        let r = rowsAdded
        rowsAdded += 1
        let rowLength = windowWidth * outputChannels
        var samples = row + left * channels
        if let background, channels != 3 {
            flattenedRow.withUnsafeMutableBufferPointer {
                flatten(samples, count: windowWidth, channels: channels, on: background, into: $0.baseAddress!)
            }
        }
        flattenedRow.withUnsafeBufferPointer { flat in
            if !flat.isEmpty { samples = flat.baseAddress! }
            middle.withUnsafeMutableBufferPointer { target in
                for use in uses[useStart[r]..<useStart[r + 1]] {
                    let out = target.baseAddress! + use.row * rowLength
                    for i in 0..<rowLength { out[i] += use.weight * Float(samples[i]) }
                }
            }
        }
    }

    /// The resampled picture: the horizontal pass over the output rows, rounded and clamped back to bytes.
    func finish() -> Image {
        let ch = outputChannels, rowLength = windowWidth * ch
        var out = [UInt8](repeating: 0, count: outputHeight * outputWidth * ch)
        middle.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                horizontal.weights.withUnsafeBufferPointer { weights in
                    for y in 0..<outputHeight {
                        let sourceRow = source.baseAddress! + y * rowLength
                        let targetRow = target.baseAddress! + y * outputWidth * ch
                        for x in 0..<outputWidth {
                            let first = horizontal.first[x], taps = horizontal.count[x], w0 = horizontal.offset[x]
                            for c in 0..<ch {
                                var sum: Float = 0
                                var at = sourceRow + first * ch + c
                                for t in 0..<taps {
                                    sum += weights[w0 + t] * at.pointee
                                    at += ch
                                }
                                targetRow[x * ch + c] = UInt8(min(max(sum.rounded(), 0), 255))
                            }
                        }
                    }
                }
            }
        }
        return Image(width: outputWidth, height: outputHeight, channels: ch, pixels: out)
    }
}
