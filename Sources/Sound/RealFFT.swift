import Foundation

/// The discrete Fourier transform of real samples, for one power-of-two size: a complex radix-2 FFT of
/// half the size over the even and odd samples packed as real and imaginary parts, then split into the
/// real signal's spectrum (the usual packing trick, half the work of a complex transform of full size).
/// Holds its tables and scratch space: one per thread.
public final class RealFFT {
    public let size: Int
    private let half: Int
    private let bitReversed: [Int]
    /// e^(-2πi t / half) for t < half / 2: the butterflies' twiddles.
    private let twiddleCos: [Float], twiddleSin: [Float]
    /// e^(-2πi k / size) for k ≤ half: the split's twiddles.
    private let splitCos: [Float], splitSin: [Float]
    private var re: [Float], im: [Float]

    public init(size: Int) {
        precondition(size >= 4 && size & (size - 1) == 0, "FFT size must be a power of two, at least 4")
        self.size = size
        half = size / 2
        let half = self.half
        let bits = half.trailingZeroBitCount
        bitReversed = (0..<half).map { index in
            var reversed = 0
            for bit in 0..<bits where index & (1 << bit) != 0 { reversed |= 1 << (bits - 1 - bit) }
            return reversed
        }
        twiddleCos = (0..<(half / 2)).map { Float(cos(2 * Double.pi * Double($0) / Double(half))) }
        twiddleSin = (0..<(half / 2)).map { Float(-sin(2 * Double.pi * Double($0) / Double(half))) }
        splitCos = (0...half).map { Float(cos(2 * Double.pi * Double($0) / Double(size))) }
        splitSin = (0...half).map { Float(-sin(2 * Double.pi * Double($0) / Double(size))) }
        re = [Float](repeating: 0, count: half)
        im = [Float](repeating: 0, count: half)
    }

    /// The magnitudes |X[k]| of bins k = 0 ... size/2 of `input` (`size` samples), into `magnitudes`
    /// (resized to size/2 + 1).
    public func magnitudes(of input: UnsafeBufferPointer<Float>, into magnitudes: inout [Float]) {
        precondition(input.count == size)
        transformPacked(input)
        if magnitudes.count != half + 1 { magnitudes = [Float](repeating: 0, count: half + 1) }
        re.withUnsafeBufferPointer { re in
            im.withUnsafeBufferPointer { im in
                magnitudes.withUnsafeMutableBufferPointer { out in
                    for k in 0...half {
                        let (xr, xi) = split(k, re, im)
                        out[k] = (xr * xr + xi * xi).squareRoot()
                    }
                }
            }
        }
    }

    /// X[k] from the half-size transform Z of the packed signal: X = (Z[k] + Z*[h-k]) / 2 + W^k (Z[k] - Z*[h-k]) / 2i.
    @inline(__always)
    private func split(_ k: Int, _ re: UnsafeBufferPointer<Float>, _ im: UnsafeBufferPointer<Float>) -> (Float, Float) {
        let a = k % half, b = (half - k) % half
        let evenRe = 0.5 * (re[a] + re[b]), evenIm = 0.5 * (im[a] - im[b])
        let oddRe = 0.5 * (im[a] + im[b]), oddIm = -0.5 * (re[a] - re[b])
        let wr = splitCos[k], wi = splitSin[k]
        return (evenRe + wr * oddRe - wi * oddIm, evenIm + wr * oddIm + wi * oddRe)
    }

    /// The half-size complex FFT of z[n] = x[2n] + i x[2n+1], in place in `re`, `im`.
    private func transformPacked(_ input: UnsafeBufferPointer<Float>) {
        let half = self.half
        re.withUnsafeMutableBufferPointer { re in
            im.withUnsafeMutableBufferPointer { im in
                bitReversed.withUnsafeBufferPointer { reversed in
                    for n in 0..<half {
                        re[reversed[n]] = input[2 * n]
                        im[reversed[n]] = input[2 * n + 1]
                    }
                }
                twiddleCos.withUnsafeBufferPointer { cosines in
                    twiddleSin.withUnsafeBufferPointer { sines in
                        var length = 2
                        while length <= half {
                            let halfLength = length / 2, step = half / length
                            var start = 0
                            while start < half {
                                for j in 0..<halfLength {
                                    let wr = cosines[j * step], wi = sines[j * step]
                                    let a = start + j, b = a + halfLength
                                    let tr = wr * re[b] - wi * im[b], ti = wr * im[b] + wi * re[b]
                                    re[b] = re[a] - tr
                                    im[b] = im[a] - ti
                                    re[a] += tr
                                    im[a] += ti
                                }
                                start += length
                            }
                            length *= 2
                        }
                    }
                }
            }
        }
    }
}
