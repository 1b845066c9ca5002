/// Sorts floats ascending by their bits: three counting passes of 11 bits each (least significant first).
/// The sliced Wasserstein distance sorts 1024 projections of some 45,000 values per level, and a
/// comparison sort took 80% of `score`'s time (measured with perf); this is several times faster.
/// Unsafe pointers: a measured hot loop. One sorter per thread: it keeps its scratch buffers.
public struct RadixSort {
    private var keys: [UInt32] = []
    private var spare: [UInt32] = []
    private var counts = [Int](repeating: 0, count: 3 << 11)

    public init() {}

    /// Sorts `values` (no NaN) in place; -0 sorts before +0.
    public mutating func sort(_ values: UnsafeMutableBufferPointer<Float>) {
        let n = values.count
        if keys.count < n {
            keys = [UInt32](repeating: 0, count: n)
            spare = keys
        }
        counts.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        keys.withUnsafeMutableBufferPointer { keyBuffer in
            spare.withUnsafeMutableBufferPointer { spareBuffer in
                counts.withUnsafeMutableBufferPointer { countBuffer in
                    var (source, target) = (keyBuffer.baseAddress!, spareBuffer.baseAddress!)
                    let counts = countBuffer.baseAddress!
                    // Keys whose unsigned order is the floats' order: negatives flipped whole, positives
                    // with the sign bit set. All three passes' counts in one sweep.
                    for i in 0..<n {
                        let bits = values[i].bitPattern
                        let key = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
                        source[i] = key
                        counts[Int(key & 0x7FF)] += 1
                        counts[2048 + Int((key >> 11) & 0x7FF)] += 1
                        counts[4096 + Int(key >> 22)] += 1
                    }
                    for pass in 0..<3 {
                        let bucketStart = counts + pass * 2048
                        var total = 0
                        for bucket in 0..<2048 {
                            let count = bucketStart[bucket]
                            bucketStart[bucket] = total
                            total += count
                        }
                        let shift = UInt32(11 * pass)
                        for i in 0..<n {
                            let key = source[i]
                            let bucket = Int((key >> shift) & 0x7FF)
                            target[bucketStart[bucket]] = key
                            bucketStart[bucket] += 1
                        }
                        swap(&source, &target)
                    }
                    for i in 0..<n {
                        let key = source[i]
                        values[i] = Float(bitPattern: key & 0x8000_0000 != 0 ? key & 0x7FFF_FFFF : ~key)
                    }
                }
            }
        }
    }
}
