import Neural

/// Gaussian and Laplacian pyramids (Burt and Adelson) of a picture set: each step blurs with the 5 × 5
/// binomial filter ([1 4 6 4 1] / 16 along rows, then along columns; edges mirrored without repeating
/// the edge value) and keeps every second row and column.
public enum Pyramid {
    static let taps: [Float] = [1, 4, 6, 4, 1].map { $0 / 16 }

    /// The Laplacian pyramid, finest level first: each level is the difference between a Gaussian
    /// level and the next, coarser one brought back up to its size (the detail lost by halving); the
    /// last is the Gaussian level itself, the coarsest with no side below `smallestSide` (or the
    /// pictures themselves when they are already that small).
    public static func laplacian(_ pictures: PictureSet, smallestSide: Int = 16) -> [PictureSet] {
        var levels: [PictureSet] = []
        var current = pictures
        while min(current.height, current.width) / 2 >= smallestSide {
            let coarser = down(current)
            let back = up(coarser, height: current.height, width: current.width)
            levels.append(PictureSet(count: current.count, height: current.height, width: current.width,
                                     values: zip(current.values, back.values).map { $0 - $1 }))
            current = coarser
        }
        return levels + [current]
    }

    /// The Gaussian level whose longer side is at most `side` (the pictures themselves when small enough).
    public static func reduced(_ pictures: PictureSet, toAtMost side: Int) -> PictureSet {
        var current = pictures
        // A side of 6 or more halves to at least 3, the least the filter's mirrored edges need.
        while max(current.height, current.width) > side, min(current.height, current.width) >= 6 { current = down(current) }
        return current
    }

    /// One Gaussian step: blur, then keep the even rows and columns ((side + 1) / 2 of each).
    public static func down(_ pictures: PictureSet) -> PictureSet {
        let (height, width) = (pictures.height, pictures.width)
        let blurred = blur(pictures.values, planes: pictures.count * 3, height: height, width: width, gain: 1)
        let (smallHeight, smallWidth) = ((height + 1) / 2, (width + 1) / 2)
        var values = [Float](repeating: 0, count: pictures.count * 3 * smallHeight * smallWidth)
        for plane in 0..<(pictures.count * 3) {
            for y in 0..<smallHeight {
                for x in 0..<smallWidth {
                    values[(plane * smallHeight + y) * smallWidth + x] = blurred[(plane * height + 2 * y) * width + 2 * x]
                }
            }
        }
        return PictureSet(count: pictures.count, height: smallHeight, width: smallWidth, values: values)
    }

    /// The inverse step to `height` × `width`: the values on the even rows and columns, zeros between,
    /// blurred with four times the filter's weight (each zero-filled direction halves the mean).
    public static func up(_ pictures: PictureSet, height: Int, width: Int) -> PictureSet {
        precondition((height + 1) / 2 == pictures.height && (width + 1) / 2 == pictures.width,
                     "up: \(pictures.sizeDescription) is not half of \(width)x\(height)")
        var spread = [Float](repeating: 0, count: pictures.count * 3 * height * width)
        for plane in 0..<(pictures.count * 3) {
            for y in 0..<pictures.height {
                for x in 0..<pictures.width {
                    spread[(plane * height + 2 * y) * width + 2 * x] = pictures.values[(plane * pictures.height + y) * pictures.width + x]
                }
            }
        }
        return PictureSet(count: pictures.count, height: height, width: width,
                          values: blur(spread, planes: pictures.count * 3, height: height, width: width, gain: 4))
    }

    /// Index `i` (up to two outside 0..<count) reflected back inside: -1 -> 1, count -> count - 2.
    @inline(__always)
    static func mirrored(_ i: Int, _ count: Int) -> Int {
        i < 0 ? -i : (i >= count ? 2 * (count - 1) - i : i)
    }

    /// Each `height` × `width` plane convolved with the binomial filter along rows then columns, times `gain`.
    static func blur(_ values: [Float], planes: Int, height: Int, width: Int, gain: Float) -> [Float] {
        precondition(height >= 3 && width >= 3, "blur: planes of \(width)x\(height) are too small to mirror")
        let plane = height * width
        var out = [Float](repeating: 0, count: values.count)
        let taps = Self.taps
        values.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                let (source, target) = (source.baseAddress!, target.baseAddress!)
                Parallel.chunks(planes, cost: plane * 20) { range in
                    var rowPass = [Float](repeating: 0, count: plane)
                    for p in range {
                        let input = source + p * plane, output = target + p * plane
                        for y in 0..<height {
                            for x in 0..<width {
                                var sum: Float = 0
                                for t in 0..<5 { sum += taps[t] * input[y * width + mirrored(x + t - 2, width)] }
                                rowPass[y * width + x] = sum
                            }
                        }
                        for y in 0..<height {
                            for x in 0..<width {
                                var sum: Float = 0
                                for t in 0..<5 { sum += taps[t] * rowPass[mirrored(y + t - 2, height) * width + x] }
                                output[y * width + x] = gain * sum
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}
