import BouncerBase

/// Dependency specs that do not come from the registry (`exoticSources`):
/// whoever controls the URL, repository or path decides the bytes, and no
/// registry record (integrity, time, signature) stands behind them.
///
/// npm's specs are read as npm's own spec parser (npm-package-arg) reads
/// them, since a spec Bouncer took for a registry range while npm took it for
/// a path was installed unchecked: a bare `evil.tgz`, `.evil`, `x:evil`, `@x/y`
/// as a dependency's value are all local files or folders to npm.
public enum ExoticSource {
    /// Schemes and hosted-git prefixes (the rest of a URL is caught by `isURL`).
    static let prefixes = ["git+", "git:", "github:", "gitlab:", "bitbucket:", "gist:", "http:", "https:", "file:", "link:",
                           "portal:", "hg+", "svn+", "bzr+"]

    /// Whether an npm dependency spec (the value in `dependencies`, `overrides`
    /// or after `NAME@`) names something outside the registry: a git, hosted
    /// git, tarball-URL, local file or folder spec. An `npm:` alias is judged by what it names.
    public static func isExoticNpmSpec(_ spec: String) -> Bool {
        let text = spec.trimmingSpaces()
        let lower = text.lowercased()
        // npm-package-arg, in its order: a path (`.`, `~/`, `/`, `C:`), `file:`, an alias, hosted git, a URL, slashes or a tarball's name.
        if isPathLike(lower) || lower.hasPrefix("file:") { return true }
        if lower.hasPrefix("npm:") { return isExoticNpmArgument(String(text.dropFirst(4))) }
        if prefixes.contains(where: { lower.hasPrefix($0) }) || isURL(lower) || isSCPGit(lower) { return true }
        return lower.contains("/") || lower.contains("\\") || isTarballName(lower)
    }

    /// Whether a package argument on npm's command line (`NAME`, `NAME@SPEC`,
    /// `@SCOPE/NAME@SPEC` or a bare spec: a URL, a path, `user/repo`, a tarball) names something outside the registry.
    public static func isExoticNpmArgument(_ argument: String) -> Bool {
        let lower = argument.lowercased()
        // A URL (`x:evil` too) or `user@host.tld:path` is a spec whole, as npm reads it first.
        if isURL(lower) || isSCPGit(lower) { return isExoticNpmSpec(argument) }
        let nameEnd = argument.hasPrefix("@") ? argument.dropFirst().firstIndex(of: "@") : argument.firstIndex(of: "@")
        let namePart = nameEnd.map { argument[..<$0] } ?? argument[...]
        if !namePart.hasPrefix("@"), namePart.contains("/") || isTarballName(namePart.lowercased()) { return true }
        if let nameEnd { return isExoticNpmSpec(String(argument[argument.index(after: nameEnd)...])) }
        return !isPackageName(argument) && isExoticNpmSpec(argument)
    }

    /// Whether a lock's `resolved` is fetched from a registry-like URL at all
    /// (http or https). git, GitHub and file specs resolve to other schemes. A
    /// tarball URL given as a spec is caught by its spec (`isExoticNpmSpec`):
    /// registries may serve tarballs from any host, so the URL alone cannot tell.
    public static func isRegistryTarball(_ resolved: String) -> Bool {
        let lower = resolved.lowercased()
        return lower.hasPrefix("https://") || lower.hasPrefix("http://")
    }

    /// A folder or tarball on disk as npm reads a command-line spec (`./dir`,
    /// `/abs`, `x.tgz`), not a URL, git or GitHub spec.
    public static func isLocalNpmPath(_ argument: String) -> Bool {
        let lower = argument.lowercased()
        if isURL(lower) || isSCPGit(lower) { return false }
        return isPathLike(lower) || (isTarballName(lower) && !lower.contains("/"))
    }

    /// `.`, `~/`, `/` or a drive letter and a colon first: a path to npm.
    static func isPathLike(_ lower: String) -> Bool {
        let bytes = Array(lower.utf8)
        guard let first = bytes.first else { return false }
        if first == UInt8(ascii: ".") || first == UInt8(ascii: "/") || first == UInt8(ascii: "\\") { return true }
        if bytes.count >= 2, first == UInt8(ascii: "~"), bytes[1] == UInt8(ascii: "/") { return true }
        return bytes.count >= 2 && (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first) && bytes[1] == UInt8(ascii: ":")
    }

    /// `SCHEME:` (letters), or `git+SCHEME:`: a URL to npm, whatever the scheme.
    static func isURL(_ lower: String) -> Bool {
        let rest = lower.hasPrefix("git+") ? lower.dropFirst(4) : lower[...]
        guard let colon = rest.firstIndex(of: ":"), colon != rest.startIndex else { return false }
        return rest[..<colon].allSatisfy { ("a"..."z").contains($0) }
    }

    /// `USER@HOST.TLD:PATH`, which npm reads as `git+ssh://USER@HOST.TLD:PATH`.
    static func isSCPGit(_ lower: String) -> Bool {
        guard let at = lower.firstIndex(of: "@"), at != lower.startIndex else { return false }
        let rest = lower[lower.index(after: at)...]
        guard let colon = rest.firstIndex(of: ":") else { return false }
        let host = rest[..<colon]
        guard let dot = host.firstIndex(of: "."), dot != host.startIndex, host.index(after: dot) != host.endIndex else { return false }
        return rest.index(after: colon) != rest.endIndex
    }

    /// A name ending as a tarball does (`.tgz`, `.tar`, `.tar.gz`): a local file to npm.
    static func isTarballName<S: StringProtocol>(_ lower: S) -> Bool {
        if lower.hasSuffix(".tgz") || lower.hasSuffix(".tar") { return true }
        let bytes = Array(lower.utf8)
        // npm's pattern is `.tar.gz` with an unescaped dot: any one character between.
        return bytes.count >= 7 && Array(bytes.suffix(7).prefix(4)) == Array(".tar".utf8) && Array(bytes.suffix(2)) == Array("gz".utf8)
    }

    /// A registry package name as npm accepts one on the command line (old
    /// packages' rules: capitals allowed): `NAME` or `@SCOPE/NAME`, each part
    /// characters a URL keeps as they are, not starting with `.` or `_`.
    static func isPackageName(_ name: String) -> Bool {
        func urlSafe(_ part: Substring) -> Bool {
            !part.isEmpty && part.unicodeScalars.allSatisfy { $0.isASCII && (("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "-_.!~*'()".unicodeScalars.contains($0)) }
        }
        var rest = name[...]
        if rest.hasPrefix("@") {
            guard let slash = rest.firstIndex(of: "/"), urlSafe(rest[rest.index(after: rest.startIndex)..<slash]) else { return false }
            rest = rest[rest.index(after: slash)...]
        }
        return urlSafe(rest) && !rest.hasPrefix(".") && !rest.hasPrefix("_")
    }
}
