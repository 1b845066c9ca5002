import Dispatch
import Foundation

/// SIGINT/SIGTERM handling. Signals are taken through dispatch sources, so the handler runs on an
/// ordinary thread and may take locks and touch files; the work loop polls `requested`.
public enum StopSignal {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var stopRequested = false
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    /// True once SIGINT or SIGTERM arrived (graceful tools poll this between steps).
    public static var requested: Bool {
        lock.lock(); defer { lock.unlock() }
        return stopRequested
    }

    /// Raises the flag as a signal would (for tests and for tools that stop themselves).
    public static func request() {
        lock.lock(); stopRequested = true; lock.unlock()
    }

    static func install(graceful: Bool) {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                lock.lock()
                let second = stopRequested
                stopRequested = true
                lock.unlock()
                if !graceful || second {
                    // Not a tool that saves on stop, or the user insisted: leave no partial output.
                    AtomicFile.removeUnfinished()
                    report("interrupted")
                    _exit(ToolExit.interrupted)
                }
                report("stopping after this step (interrupt again to quit at once)")
            }
            source.resume()
            sources.append(source)
        }
    }
}
