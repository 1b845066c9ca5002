/// The engine's GEMM for code outside the layers (metrics): every dot product of the rows of `a`
/// (`rowsA` × `length`, row-major) with the rows of `b` (`rowsB` × `length`), into `c` (`rowsA` ×
/// `rowsB`, row-major). Pairwise distances and random projections are both this product. Threaded and
/// deterministic like the layers' GEMMs (see `GEMMThreading`).
public func rowDotProducts(_ a: UnsafePointer<Float>, rows rowsA: Int, _ b: UnsafePointer<Float>, rows rowsB: Int,
                           length: Int, into c: UnsafeMutablePointer<Float>) {
    guard rowsA > 0, rowsB > 0 else { return }
    guard length > 0 else {
        c.update(repeating: 0, count: rowsA * rowsB)
        return
    }
    gemm(transposeB: true, m: rowsA, n: rowsB, k: length, a: a, lda: length, b: b, ldb: length, c: c, ldc: rowsB)
}
