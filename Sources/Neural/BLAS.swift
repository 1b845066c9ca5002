import Dispatch
import Foundation
import COpenBLAS

/// C = alpha · op(A) · op(B) + beta · C, row-major, through OpenBLAS.
/// op(A) is m×k, op(B) is k×n, C is m×n; lda/ldb/ldc are the row strides as stored.
///
/// With `BLAS.threading == .engine` the product is cut into one block of C per engine worker (along
/// the longer side, on 16-element boundaries) and each block runs single-threaded OpenBLAS on its own
/// core; with `.openBLAS` one call lets OpenBLAS thread it. Every element of C is computed by one
/// thread in a fixed order either way, so results do not depend on timing.
func gemm(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
          alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
          beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
    func call(_ m: Int, _ n: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>) {
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    let parts = Parallel.workers
    guard BLAS.configuredThreading() == .engine, parts > 1, m * n * k >= 1 << 20, max(m, n) >= 32 * parts else {
        call(m, n, a, b, c)
        return
    }
    let splitColumns = n >= m
    let length = splitColumns ? n : m
    let blocks = (length + 15) / 16
    DispatchQueue.concurrentPerform(iterations: parts) { part in
        let start = min(length, blocks * part / parts * 16)
        let end = min(length, blocks * (part + 1) / parts * 16)
        guard start < end else { return }
        if splitColumns {
            call(m, end - start, a, transposeB ? b + start * ldb : b + start, c + start)
        } else {
            call(end - start, n, transposeA ? a + start : a + start * lda, b, c + start * ldc)
        }
    }
}

/// Who runs the two cores during a GEMM.
public enum GEMMThreading: String, Sendable, CaseIterable {
    /// OpenBLAS threads each GEMM itself (its pool then spins between calls while the engine's
    /// own loops run on the same cores).
    case openBLAS
    /// The engine splits each GEMM into one single-threaded OpenBLAS call per worker, on the same
    /// dispatch workers as its other loops (the default: measured faster, see scripts/bench-engine).
    case engine
}

/// OpenBLAS facts and settings for benchmarks and tools. OpenBLAS picks its kernels for the CPU at
/// load time (OPENBLAS_CORETYPE overrides that choice).
public enum BLAS {
    /// The kernel family OpenBLAS uses (e.g. "Cooperlake", "Haswell").
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// How GEMMs use the cores; set it before training, not while a step runs.
    public static var threading: GEMMThreading = .engine {
        didSet { applied = nil }
    }

    private static var applied: GEMMThreading?
    private static let lock = NSLock()

    /// Applies `threading` to OpenBLAS's thread count once per change and returns it.
    static func configuredThreading() -> GEMMThreading {
        lock.lock()
        defer { lock.unlock() }
        if applied != threading {
            openblas_set_num_threads(threading == .engine ? 1 : Int32(Parallel.workers))
            applied = threading
        }
        return threading
    }
}
