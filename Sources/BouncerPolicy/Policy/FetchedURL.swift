/// A plain download's URL as libcurl will request it, which is what the
/// policy's globs, exceptions and `{dir}`/`{file}` templates must be read
/// against: the scheme in lower case, the path's `.` and `..` segments
/// resolved (libcurl resolves them before it sends the request), and a `/`
/// between the host and a `?` or `#` that follows it straight away (so a `*`
/// in a pattern's host never matches across them: `http://evil?.corp/x` is
/// host `evil`). A path segment that is `.` or `..` only once `%2e`, `%2f` or
/// `%5c` is decoded (or split at a `\`) is refused: servers resolve those
/// differently, so the file served need not be the one the rule named.
public enum FetchedURL {
    public struct Ambiguous: Error, Equatable {
        public let segment: String

        public var reason: String {
            "its path has a '\(segment)' segment once %2e, %2f or %5c is decoded (or at a backslash), which servers resolve differently, so the file served need not be the one a rule names; write the path without it"
        }
    }

    /// `given` as the guard reads it: a plain download's URL made canonical,
    /// or the reason it cannot be (other ecosystems' URLs are left as they are).
    public static func request(_ given: ArtifactRequest) -> (request: ArtifactRequest, ambiguous: Ambiguous?) {
        guard given.ecosystem == .url else { return (given, nil) }
        var request = given
        do { request.url = try canonical(given.url) } catch { return (given, error) }
        return (request, nil)
    }

    /// The URL to match and fetch; an URL without `://` is returned as it is.
    public static func canonical(_ url: String) throws(Ambiguous) -> String {
        guard let separator = url.firstRange(of: "://") else { return url }
        let scheme = url[..<separator.lowerBound].lowercased()
        let rest = url[separator.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        let afterAuthority = rest[authorityEnd...]
        let pathEnd = afterAuthority.firstIndex { $0 == "?" || $0 == "#" } ?? afterAuthority.endIndex
        let path = String(afterAuthority[..<pathEnd])
        let tail = afterAuthority[pathEnd...]
        let resolved = removingDotSegments(path)
        for segment in decoded(resolved).split(omittingEmptySubsequences: false, whereSeparator: { $0 == "/" || $0 == "\\" }) where segment == "." || segment == ".." {
            throw Ambiguous(segment: String(segment))
        }
        return scheme + "://" + authority + (resolved.isEmpty && !tail.isEmpty ? "/" : resolved) + tail
    }

    /// RFC 3986 section 5.2.4, on literal dots (as libcurl does).
    static func removingDotSegments(_ path: String) -> String {
        guard path.contains(".") else { return path }
        var output: [Substring] = []
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        for (index, segment) in segments.enumerated() {
            let last = index == segments.count - 1
            if index == 0 && segment.isEmpty { continue }
            switch segment {
            case ".": if last { output.append("") }
            case "..":
                if !output.isEmpty { output.removeLast() }
                if last { output.append("") }
            default: output.append(segment)
            }
        }
        return (path.hasPrefix("/") ? "/" : "") + output.joined(separator: "/")
    }

    /// `%2e`, `%2f` and `%5c` (either case) decoded: what a server that decodes before resolving sees.
    static func decoded(_ path: String) -> String {
        var text = path
        for (encoded, plain) in [("%2e", "."), ("%2E", "."), ("%2f", "/"), ("%2F", "/"), ("%5c", "\\"), ("%5C", "\\")] {
            text = text.replacing(encoded, with: plain)
        }
        return text
    }
}
