import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase

/// A one-line progress bar on stderr, drawn only when stderr is a terminal
/// and at most ten times a second. Silent otherwise (logs, CI, `--quiet`).
final class ProgressBar {
    private let enabled: Bool
    private var lastDraw = Date.distantPast
    private var drawn = false
    private let started = Date()

    init(enabled: Bool) {
        self.enabled = enabled && isatty(STDERR_FILENO) == 1
    }

    func update(_ transfers: [Transfer]) {
        guard enabled, !transfers.isEmpty, Date().timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = Date()
        let now = transfers.reduce(Int64(0)) { $0 + $1.downloaded }
        let total = transfers.reduce(Int64(0)) { $0 + max($1.expected, $1.downloaded) }
        let elapsed = max(Date().timeIntervalSince(started), 0.001)
        let rate = Double(now) / elapsed
        let width = 30
        let fraction = total > 0 ? min(1, Double(now) / Double(total)) : 0
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
        let label = transfers.count == 1
            ? (URLParts.lastSegment(of: transfers[0].request.url).map(URLParts.percentDecoded) ?? "")
            : "\(transfers.count) transfers"
        func size(_ count: Int64) -> String { ByteCount.describe(UInt64(clamping: count)) }
        let sizes = total > 0 ? "\(size(now)) / \(size(total))" : size(now)
        let line = "\r[\(bar)] \(total > 0 ? String(Int(fraction * 100)).rightAligned(3) + "%" : "   ") \(sizes)  \(size(Int64(rate)))/s  \(label.prefix(40))\u{1b}[K"
        write(STDERR_FILENO, line, line.utf8.count)
        drawn = true
    }

    func clear() {
        guard drawn else { return }
        let erase = "\r\u{1b}[K"
        write(STDERR_FILENO, erase, erase.utf8.count)
    }
}
