/// A final release's version as PEP 440 orders it (`1.2`, `1.2.0.post3`,
/// `2!1.0`), for guessing which file a client will pick. Pre-releases, dev
/// releases and local versions are not parsed: pip passes them over by
/// default, and a wrong guess only costs an unused download.
struct ReleaseNumber: Comparable {
    var epoch = 0
    var release: [Int]
    var post = -1

    init?(_ text: String) {
        var rest = Substring(text.lowercased())
        if let bang = rest.firstIndex(of: "!") {
            guard let epoch = Int(rest[..<bang]) else { return nil }
            self.epoch = epoch
            rest = rest[rest.index(after: bang)...]
        }
        var parts = rest.split(separator: ".", omittingEmptySubsequences: false)
        if let last = parts.last, last.hasPrefix("post") {
            guard let post = Int(last.dropFirst(4)) else { return nil }
            self.post = post
            parts.removeLast()
        }
        var release: [Int] = []
        for part in parts {
            guard !part.isEmpty, part.allSatisfy(\.isASCII), let number = Int(part) else { return nil }
            release.append(number)
        }
        guard !release.isEmpty else { return nil }
        self.release = release
    }

    static func < (a: ReleaseNumber, b: ReleaseNumber) -> Bool {
        if a.epoch != b.epoch { return a.epoch < b.epoch }
        // Trailing zeros do not count: 1.0 == 1.0.0.
        for index in 0..<max(a.release.count, b.release.count) {
            let x = index < a.release.count ? a.release[index] : 0
            let y = index < b.release.count ? b.release[index] : 0
            if x != y { return x < y }
        }
        return a.post < b.post
    }

    static func == (a: ReleaseNumber, b: ReleaseNumber) -> Bool { !(a < b) && !(b < a) }
}
