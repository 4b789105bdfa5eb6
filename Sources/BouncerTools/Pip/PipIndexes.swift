import BouncerBase
import BouncerIO

/// Where pip looks, as its package finder holds it: the index URLs in
/// order (the first is the primary; `nil` stands for pip's built-in
/// index), `--no-index`, and the find-links locations. The command line and
/// pip's configuration set it first; then every option line of the
/// requirement files changes it the way pip's `handle_option_line` does, so
/// the shim's proxy reads from exactly the places pip would have.
struct PipIndexes: Equatable {
    var noIndex: Bool
    var indexes: [String?]
    var findLinks: [String]

    init(noIndex: Bool, primary: String?, extras: [String], findLinks: [String]) {
        self.noIndex = noIndex
        indexes = noIndex ? [] : [primary] + extras.map { Optional($0) }
        self.findLinks = findLinks
    }

    /// One option line of a requirement file. `--no-index` empties the
    /// indexes for good; `-i` replaces them all (the command line's extra
    /// indexes too); `--extra-index-url` adds; the line's first `-f` is
    /// taken relative to the file when that path exists, else as written.
    mutating func apply(_ line: RequirementLines.Line, cwd: String) {
        let options = line.options
        if options.contains(where: { $0.name == .noIndex }) {
            noIndex = true
            indexes = []
        }
        if !noIndex, let primary = options.last(where: { $0.name == .indexURL })?.value, !primary.isEmpty {
            indexes = [primary]
        }
        if !noIndex {
            indexes += options.filter { $0.name == .extraIndexURL }.compactMap(\.value).filter { !$0.isEmpty }.map { Optional($0) }
        }
        if let link = options.first(where: { $0.name == .findLinks })?.value {
            let beside = Filesystem.split(line.file).directory + "/" + link
            let written = !link.hasPrefix("/") && !link.contains("://") && (Filesystem.isFile(beside) || Filesystem.isDirectory(beside)) ? beside : link
            findLinks.append(PipConfiguration.findLinksLocation(written, cwd: cwd))
        }
    }

    /// The base URL of the `bouncer serve` on this machine that is pip's only
    /// place (its one index, `BASE/pypi/simple/`, no extra index, no
    /// find-links), when it is this user's own bouncer-serve under the shim's
    /// policy (`ProxyCoverage.localServe`): the shim then points pip at it
    /// and starts no proxy of its own over it (each file would be verified
    /// twice, and the lock would pin that serve's address, a free port).
    /// A serve on another machine (a team's) is an upstream like any index:
    /// the project's own policy applies on top of the team's.
    func runningServe(policy: String) -> String? {
        guard !noIndex, findLinks.isEmpty, indexes.count == 1, let primary = indexes.first ?? nil else { return nil }
        return ProxyCoverage.localServe(primary, suffix: "/pypi/simple", policy: policy)
    }

    /// The proxy's options for these places.
    var proxyArguments: [String] {
        var arguments: [String] = []
        if noIndex { return ["--pypi-no-index"] + findLinks.flatMap { ["--pypi-find-links", $0] } }
        if let first = indexes.first {
            if let primary = first {
                arguments += ["--pypi-upstream", primary]
            } else {
                // Nothing names an index (the shim read pip's configuration itself): the proxy asks only for pip's built-in one.
                arguments.append("--pypi-builtin-default")
            }
        }
        for extra in indexes.dropFirst() {
            // pip's built-in index named again as an extra (after a file's -i it cannot be): left to the primary.
            if let extra { arguments += ["--pypi-extra-upstream", extra] }
        }
        for link in findLinks { arguments += ["--pypi-find-links", link] }
        return arguments
    }
}
