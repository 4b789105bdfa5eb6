import BouncerBase
import BouncerIO
/// Source repository URIs in one comparable form: `github.com/OWNER/REPO`
/// (scheme, `git+`, a trailing `.git` or `/` removed; host lowercased). A
/// path with `.` or `..` segments, a query, a fragment, credentials or an
/// empty segment is refused, so `github.com/org/repo/../other` can never
/// pass for `github.com/org/repo`; comparison is then exact, so
/// `github.com/org/repo-evil` is a different repository.
public enum SourceRepository {
    public static func canonical(_ raw: String) -> String? {
        var text = Substring(raw)
        if text.hasPrefix("git+") { text = text.dropFirst(4) }
        for scheme in ["https://", "http://", "ssh://", "git://"] where text.lowercased().hasPrefix(scheme) {
            text = text.dropFirst(scheme.count)
            break
        }
        while text.hasSuffix("/") { text = text.dropLast() }
        if text.hasSuffix(".git") { text = text.dropLast(4) }
        guard !text.isEmpty, !text.contains(where: { "?#@\\ %".contains($0) || $0.isNewline }) else { return nil }
        let segments = text.split(separator: "/", omittingEmptySubsequences: false)
        guard segments.count >= 2, !segments.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else { return nil }
        return ([segments[0].lowercased()] + segments.dropFirst().map(String.init)).joined(separator: "/")
    }

    /// Splits `git+https://github.com/OWNER/REPO@refs/tags/v1` into repository and ref.
    public static func splitRef(_ uri: String) -> (repository: String, ref: String?) {
        // An '@' in the authority (user@host) is not a ref separator: look after the host.
        let afterScheme = uri.firstRange(of: "://")?.upperBound ?? uri.startIndex
        guard let slash = uri[afterScheme...].firstIndex(of: "/"), let at = uri[slash...].lastIndex(of: "@") else {
            return (uri, nil)
        }
        let repo = String(uri[..<at])
        return (repo, String(uri[uri.index(after: at)...]))
    }

    /// Whether two repository URIs name the same repository.
    public static func same(_ a: String, _ b: String) -> Bool {
        guard let x = canonical(a), let y = canonical(b) else { return false }
        return x == y
    }
}
