import Foundation

/// Progress on stderr: a live one-line bar redrawn in place on a terminal, plain periodic lines
/// otherwise: a log file or a pipe gets a line per tenth of the work (at most one each 2 seconds, so short
/// runs stay quiet) or per minute, whichever comes first.
public final class Progress {
    public let total: Int
    public let unit: String
    private let live: Bool
    private let quiet: Bool
    private let started = Date()
    private var lastDraw = Date.distantPast
    private var lastTenth = 0
    private var lastLine = Date()

    /// `total` units of work (0 when unknown), named `unit` (`images`, `steps`, `frames`).
    public init(total: Int, unit: String, quiet: Bool = false) {
        self.total = total
        self.unit = unit
        self.quiet = quiet
        live = isTerminal(STDERR_FILENO)
    }

    /// Reports `done` units; `status` adds tool-specific figures (losses, skipped files).
    public func update(_ done: Int, status: String = "") {
        guard !quiet else { return }
        let now = Date()
        if live {
            guard now.timeIntervalSince(lastDraw) >= 0.1 || done == total else { return }
            lastDraw = now
            write("\r\u{1B}[K" + line(done, now: now, status: status, bar: true))
        } else {
            let tenth = total > 0 ? done * 10 / total : 0
            let sinceLine = now.timeIntervalSince(lastLine)
            guard (tenth > lastTenth && sinceLine >= 2) || sinceLine >= 60 else { return }
            lastTenth = tenth
            lastLine = now
            write("\(toolName): " + line(done, now: now, status: status, bar: false) + "\n")
        }
    }

    /// Ends the live line and prints the summary line.
    public func finish(_ summary: String) {
        guard !quiet else { return }
        if live { write("\r\u{1B}[K") }
        write("\(toolName): \(summary)\n")
    }

    /// Seconds since the progress began.
    public var elapsed: Double { Date().timeIntervalSince(started) }

    func line(_ done: Int, now: Date, status: String, bar: Bool) -> String {
        let seconds = now.timeIntervalSince(started)
        let rate = seconds > 0 ? Double(done) / seconds : 0
        var parts: [String] = []
        if total > 0 {
            let fraction = min(1, Double(done) / Double(total))
            if bar {
                let width = 24, filled = Int(fraction * Double(width))
                parts.append("[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]")
            }
            parts.append("\(done)/\(total) \(unit)")
            if rate > 0 && done < total { parts.append("ETA " + Self.duration(Double(total - done) / rate)) }
        } else {
            parts.append("\(done) \(unit)")
        }
        parts.append(String(format: "%.1f %@/s", rate, unit))
        if !status.isEmpty { parts.append(status) }
        return parts.joined(separator: "  ")
    }

    /// `1h02m`, `3m05s`, `12s`.
    public static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 3600 { return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) }
        if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return "\(s)s"
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
