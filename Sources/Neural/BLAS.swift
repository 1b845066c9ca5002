import COpenBLAS

/// C = alpha · op(A) · op(B) + beta · C, row-major, through OpenBLAS.
/// op(A) is m×k, op(B) is k×n, C is m×n; lda/ldb/ldc are the row strides as stored.
@inline(__always)
func gemm(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
          alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
          beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
    cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// Sets the number of threads OpenBLAS uses for its GEMMs (the engine's own loops use `Parallel`).
public func setBLASThreads(_ count: Int) {
    openblas_set_num_threads(Int32(count))
}
