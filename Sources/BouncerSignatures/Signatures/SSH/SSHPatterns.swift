import BouncerBase
import BouncerIO
/// OpenSSH pattern lists (ssh_config PATTERNS): comma-separated patterns
/// with `*` and `?` wildcards; a pattern starting with `!` that matches
/// vetoes the whole list. Used for allowed_signers principals and
/// `namespaces=`.
enum SSHPatterns {
    static func listMatches(_ value: String, list: String) -> Bool {
        var positive = false
        for item in list.split(separator: ",", omittingEmptySubsequences: true) {
            let negated = item.hasPrefix("!")
            let pattern = Array((negated ? item.dropFirst() : item).utf8)
            guard matches(Array(value.utf8), pattern) else { continue }
            if negated { return false }
            positive = true
        }
        return positive
    }

    /// Glob match with backtracking over the last `*` (linear in practice,
    /// never recursive, so hostile patterns cannot exhaust the stack).
    static func matches(_ text: [UInt8], _ pattern: [UInt8]) -> Bool {
        var t = 0, p = 0
        var star: Int? = nil, starText = 0
        while t < text.count {
            if p < pattern.count, pattern[p] == UInt8(ascii: "?") || pattern[p] == text[t] && pattern[p] != UInt8(ascii: "*") {
                t += 1; p += 1
            } else if p < pattern.count, pattern[p] == UInt8(ascii: "*") {
                star = p; starText = t; p += 1
            } else if let s = star {
                p = s + 1; starText += 1; t = starText
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }
}
