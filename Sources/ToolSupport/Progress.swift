import Foundation
import TensorStream

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
    private var plainLines = PlainLineSchedule()
    /// Where the count starts: a resumed run counts on from its own step (`150/200 steps`), and its rate
    /// and ETA come from the units done since.
    public let start: Int
    /// Seconds the work may take at most (`train --minutes`): the ETA is never later than that.
    public let timeLimit: Double?

    /// `total` units of work (0 when unknown), named `unit` (`images`, `steps`, `frames`), counted from
    /// `start`, to be done within `timeLimit` seconds if given.
    public init(total: Int, unit: String, quiet: Bool = false, start: Int = 0, timeLimit: Double? = nil) {
        self.total = total
        self.unit = unit
        self.quiet = quiet
        self.start = start
        self.timeLimit = timeLimit
        live = isTerminal(STDERR_FILENO)
    }

    /// Reports `done` units; `status` adds tool-specific figures (losses, skipped files).
    public func update(_ done: Int, status: String = "") {
        guard !quiet else { return }
        let now = Date()
        if live {
            guard now.timeIntervalSince(lastDraw) >= 0.1 || done == total else { return }
            lastDraw = now
            write("\r\u{1B}[K" + MessageText.escaped(line(done, now: now, status: status, bar: true)))
        } else {
            guard plainLines.due(done - start, of: total - start, at: now.timeIntervalSince(started)) else { return }
            report(line(done, now: now, status: status, bar: false))
        }
    }

    /// Ends the live line and prints the summary line.
    public func finish(_ summary: String) {
        guard !quiet else { return }
        if live { write("\r\u{1B}[K") }
        report(summary)
    }

    /// Seconds since the progress began.
    public var elapsed: Double { Date().timeIntervalSince(started) }

    /// The line `update` shows for `done` units at `now`: with the bar (a terminal) or without (a log).
    public func line(_ done: Int, now: Date, status: String, bar: Bool) -> String {
        let seconds = now.timeIntervalSince(started)
        let rate = seconds > 0 ? Double(done - start) / seconds : 0
        var parts: [String] = []
        if total > 0 {
            let fraction = max(0, min(1, Double(done) / Double(total)))
            if bar {
                let width = 24, filled = Int(fraction * Double(width))
                parts.append("[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]")
            }
            parts.append("\(done)/\(total) \(unit(for: total))")
            if rate > 0 && done < total {
                let remaining = min(Double(total - done) / rate, timeLimit.map { max(0, $0 - seconds) } ?? .infinity)
                parts.append("ETA " + Self.duration(remaining))
            }
        } else {
            parts.append("\(done) \(unit(for: done))")
        }
        parts.append(String(format: "%.1f %@/s", rate, unit))
        if !status.isEmpty { parts.append(status) }
        return parts.joined(separator: "  ")
    }

    /// The unit for `count` of it: `frame` for one, `frames` otherwise (units are named in the plural).
    func unit(for count: Int) -> String {
        count == 1 && unit.hasSuffix("s") ? String(unit.dropLast()) : unit
    }

    /// `1h02m`, `3m05s`, `12s`.
    public static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 3600 { return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) }
        if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return "\(s)s"
    }

    private func write(_ text: String) { writeToStandardError(text) }
}

/// When a log or a pipe gets its next progress line: at each tenth of the work (at most one every
/// 2 seconds) or after a minute without one. A minute's line that falls in the last 5% before a tenth
/// stands for that tenth, so the log does not get two lines a few steps apart.
public struct PlainLineSchedule {
    private var lastTenth = 0
    private var lastLine = 0.0

    public init() {}

    /// Whether a line is due at `seconds` since the start, with `done` of `total` (0: unknown) done.
    public mutating func due(_ done: Int, of total: Int, at seconds: Double) -> Bool {
        let tenth = total > 0 ? done * 10 / total : 0
        let sinceLine = seconds - lastLine
        if tenth > lastTenth && sinceLine >= 2 {
            lastTenth = tenth
        } else if sinceLine >= 60 {
            lastTenth = max(tenth, total > 0 ? (done + total / 20) * 10 / total : 0)
        } else {
            return false
        }
        lastLine = seconds
        return true
    }
}
