import Foundation

/// SIGINT/SIGTERM handling. The signal handler itself only writes a byte to a pipe (the one thing that
/// is safe there); a watcher thread reads it and does the real work: raising `requested` for a graceful
/// tool, or removing unfinished outputs and exiting 130. The handler is in place before `install`
/// returns, so no early signal is lost.
public enum StopSignal {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var stopRequested = false
    /// Whether the first signal only raises `requested` (the tool then saves its work).
    nonisolated(unsafe) private static var graceful = false
    /// Nesting depth of `whileSaving`: while above 0, no signal ends the process.
    nonisolated(unsafe) private static var savingDepth = 0
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

    /// From now on the first SIGINT/SIGTERM only raises `requested`, and the tool saves its work. Before
    /// that (while reading its input, say) a signal ends it at once: there is nothing to save yet, and a
    /// tool blocked on a read would never look at the flag.
    public static func saveOnStop() {
        lock.lock(); graceful = true; lock.unlock()
    }

    /// Runs `body` (the writing of a result that cannot be written atomically, such as a checkpoint to
    /// stdout) with signals deferred: an insistent second Ctrl-C must not leave it cut short.
    public static func whileSaving<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock(); savingDepth += 1; lock.unlock()
        defer { lock.lock(); savingDepth -= 1; lock.unlock() }
        return try body()
    }

    static func install() {
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
                onSignal()
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

    private static func onSignal() {
        lock.lock()
        let second = stopRequested
        stopRequested = true
        let (graceful, saving) = (self.graceful, savingDepth > 0)
        lock.unlock()
        if saving {
            report("saving; the tool stops once the file is complete")
            return
        }
        if !graceful || second {
            // Not a tool that saves on stop, or the user insisted: leave no partial output.
            AtomicFile.removeUnfinished()
            report("interrupted")
            _exit(ToolExit.interrupted)
        }
        report("stopping after this step (interrupt again to quit at once)")
    }
}
