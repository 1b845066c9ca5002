import Foundation

/// SIGINT/SIGTERM handling. The signal handler itself only writes a byte to a pipe (the one thing that
/// is safe there); a watcher thread reads it and does the real work: raising `requested` for a graceful
/// tool, or removing unfinished outputs and exiting 130. The handler is in place before `install`
/// returns, so no early signal is lost.
public enum StopSignal {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var stopRequested = false
    /// The pipe's write end, read by the signal handler (set before the handler is installed).
    nonisolated(unsafe) private static var wakeFD: Int32 = -1

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
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return }  // no pipe: keep the default action (exit at once)
        wakeFD = fds[1]
        let readFD = fds[0]
        let watcher = Thread {
            var byte: UInt8 = 0
            while true {
                let n = read(readFD, &byte, 1)
                if n < 0 && errno == EINTR { continue }
                guard n == 1 else { return }
                onSignal(graceful: graceful)
            }
        }
        watcher.start()
        for signalNumber in [SIGINT, SIGTERM] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { _ in
                var byte: UInt8 = 1
                _ = write(StopSignal.wakeFD, &byte, 1)
            }
            action.sa_flags = SA_RESTART
            sigemptyset(&action.sa_mask)
            sigaction(signalNumber, &action, nil)
        }
    }

    private static func onSignal(graceful: Bool) {
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
}
