import Foundation

/// Seeded, portable random numbers: PCG32 (O'Neill's XSH-RR output over a 64-bit LCG).
///
/// Integer arithmetic only, so a seed gives the same bits on every machine. Floats derive from them:
/// `uniform()` takes the top 24 bits of one draw; `normal()` uses the Box–Muller transform on two
/// uniforms, computed in Double, keeping the cosine branch only (no cached second value, so the
/// whole state is the two words below). The latent of "seed k" is `RNG(seed: k)` filled with normals.
public struct RNG: Sendable, Equatable {
    private var lcg: UInt64
    private var increment: UInt64

    private static let multiplier: UInt64 = 6364136223846793005

    /// A generator for `seed` (PCG's standard seeding, stream chosen from the seed too).
    public init(seed: UInt64) {
        lcg = 0
        increment = ((seed ^ 0xDA3E_39CB_94B9_5BDB) << 1) | 1
        _ = next32()
        lcg &+= seed
        _ = next32()
    }

    /// The full state, to save and restore exactly with `init(state:)`.
    public var state: [UInt64] { [lcg, increment] }

    /// Restores a state read from `state`; nil if it is not one.
    public init?(state: [UInt64]) {
        guard state.count == 2, state[1] & 1 == 1 else { return nil }
        lcg = state[0]
        increment = state[1]
    }

    /// The next 32 random bits.
    public mutating func next32() -> UInt32 {
        let old = lcg
        lcg = old &* RNG.multiplier &+ increment
        let xorShifted = UInt32(truncatingIfNeeded: ((old >> 18) ^ old) >> 27)
        let rotation = UInt32(truncatingIfNeeded: old >> 59)
        return (xorShifted >> rotation) | (xorShifted << ((~rotation &+ 1) & 31))
    }

    /// Uniform in [0, 1), a multiple of 2^-24.
    public mutating func uniform() -> Float {
        Float(next32() >> 8) * (1.0 / 16_777_216.0)
    }

    /// Uniform integer in 0..<bound (multiply-high of one draw; bias below 2^-32 · bound, fine here).
    public mutating func integer(below bound: Int) -> Int {
        precondition(bound > 0 && bound <= Int(UInt32.max))
        return Int((UInt64(next32()) &* UInt64(bound)) >> 32)
    }

    /// Standard normal by Box–Muller: sqrt(-2 ln u1) · cos(2π u2), u1 in (0, 1].
    public mutating func normal() -> Float {
        let u1 = 1.0 - Double(next32() >> 8) * (1.0 / 16_777_216.0)
        let u2 = Double(next32() >> 8) * (1.0 / 16_777_216.0)
        return Float((-2.0 * log(u1)).squareRoot() * cos(2.0 * Double.pi * u2))
    }

    /// Normal with the given mean and standard deviation.
    public mutating func normal(mean: Float, std: Float) -> Float { mean + std * normal() }

    /// Fills `buffer` with standard normals, in order (the same numbers as repeated `normal()`).
    public mutating func fillNormal(_ buffer: UnsafeMutableBufferPointer<Float>, mean: Float = 0, std: Float = 1) {
        for i in buffer.indices { buffer[i] = mean + std * normal() }
    }

    /// `count` standard normals, in order.
    public mutating func normals(_ count: Int) -> [Float] {
        (0..<count).map { _ in normal() }
    }
}
