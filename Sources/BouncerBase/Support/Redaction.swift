/// Keeps credentials out of messages, logs and lockfiles.
public enum Redaction {
    /// The URL with any `user:password@` removed and the values of
    /// credential-like query parameters replaced by `REDACTED`.
    public static func url(_ url: String) -> String {
        // Nothing to redact without userinfo or a query (most URLs; checked bytewise, it is called per listed file).
        if !url.utf8.contains(where: { $0 == UInt8(ascii: "@") || $0 == UInt8(ascii: "?") }) { return url }
        var text = url
        if let scheme = text.firstRange(of: "://") {
            let afterScheme = text[scheme.upperBound...]
            let authorityEnd = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? afterScheme.endIndex
            if let at = afterScheme[..<authorityEnd].lastIndex(of: "@") {
                text.removeSubrange(scheme.upperBound...at)
            }
        }
        guard let question = text.firstIndex(of: "?") else { return text }
        let fragmentStart = text[question...].firstIndex(of: "#") ?? text.endIndex
        let query = text[text.index(after: question)..<fragmentStart]
        let redacted = query.split(separator: "&", omittingEmptySubsequences: false).map { pair -> String in
            guard let equals = pair.firstIndex(of: "=") else { return String(pair) }
            let key = pair[..<equals].lowercased()
            let secret = ["token", "key", "secret", "password", "passwd", "sig", "signature", "auth", "credential",
                          "x-amz-credential", "x-amz-signature", "access_token", "api_key", "apikey"]
            return secret.contains(where: { key.contains($0) }) ? "\(pair[..<equals])=REDACTED" : String(pair)
        }.joined(separator: "&")
        return String(text[..<question]) + "?" + redacted + String(text[fragmentStart...])
    }
}
