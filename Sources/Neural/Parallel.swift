import Dispatch
import Foundation

/// Work splitting for the engine's loops and, by default, its GEMMs (one single-threaded OpenBLAS
/// call per worker, see `GEMMThreading`), so one pool of workers keeps the cores busy.
public enum Parallel {
    /// Workers for the engine's loops: the cores available, at most 8, or MNEMOSYNE_THREADS when set
    /// (benchmarks compare one thread with one thread).
    public static let workers: Int = {
        if let value = ProcessInfo.processInfo.environment["MNEMOSYNE_THREADS"].flatMap(Int.init), value > 0 { return value }
        let cores = sysconfCores()
        return max(1, min(cores, 8))
    }()

    /// Runs `body` over contiguous chunks of 0..<count, in parallel when the work is worth it.
    /// `cost` is a rough number of float operations per index, to keep tiny loops serial.
    public static func chunks(_ count: Int, cost: Int = 1, _ body: (Range<Int>) -> Void) {
        let parts = min(workers, count)
        if parts <= 1 || count * cost < 32_768 {
            if count > 0 { body(0..<count) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let start = count * part / parts
            let end = count * (part + 1) / parts
            if start < end { body(start..<end) }
        }
    }

    private static func sysconfCores() -> Int {
        #if canImport(Glibc)
        return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #else
        return 1
        #endif
    }
}

#if canImport(Glibc)
import Glibc
#endif
