/// URL pieces without Foundation's URL type (which rejects some real URLs):
/// the one place every layer splits, matches and names URLs.
public enum URLParts {
    /// Where the authority (`user@host:port`) sits: after `://`, up to the
    /// first `/`, `?` or `#`; nil without `://`.
    private static func authority(_ url: String) -> Range<String.Index>? {
        guard let scheme = url.firstRange(of: "://") else { return nil }
        let rest = url[scheme.upperBound...]
        return scheme.upperBound..<(rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex)
    }

    /// The URL with any `user:password@` removed (credentials never take part in matching).
    public static func withoutCredentials(_ url: String) -> String {
        guard let authority = authority(url), let at = url[authority].lastIndex(of: "@") else { return url }
        return String(url[..<authority.lowerBound]) + String(url[url.index(after: at)...])
    }

    /// For a URL with `user[:password]@`: its origin and the HTTP Basic
    /// value for them, percent-decoded as pip takes them (pip sends them with
    /// every request to that host and port); nil for a URL without.
    public static func basicAuthorization(_ url: String) -> (origin: String, authorization: String)? {
        guard let range = authority(url), let at = url[range].lastIndex(of: "@") else { return nil }
        let userinfo = url[range.lowerBound..<at]
        let user: Substring, password: Substring
        if let colon = userinfo.firstIndex(of: ":") {
            (user, password) = (userinfo[..<colon], userinfo[userinfo.index(after: colon)...])
        } else {
            (user, password) = (userinfo, "")
        }
        let pair = percentDecoded(String(user)) + ":" + percentDecoded(String(password))
        return (origin(url), "Basic " + Base64.encode(Array(pair.utf8)))
    }

    /// The lower-cased host, without port or credentials.
    public static func host(_ url: String) -> String? {
        let clean = withoutCredentials(url)
        guard let range = authority(clean) else { return nil }
        var authority = clean[range]
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            return String(authority[...close]).lowercased()
        }
        if let colon = authority.firstIndex(of: ":") { authority = authority[..<colon] }
        return authority.isEmpty ? nil : authority.lowercased()
    }

    /// The port written in the URL, else its scheme's (443 for https, 80 otherwise).
    public static func port(_ url: String) -> UInt16 {
        let clean = withoutCredentials(url)
        let fallback: UInt16 = clean.lowercased().hasPrefix("https://") ? 443 : 80
        guard let range = authority(clean) else { return fallback }
        var authority = clean[range]
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return fallback }
            authority = authority[authority.index(after: close)...]
        }
        guard let colon = authority.lastIndex(of: ":") else { return fallback }
        return UInt16(authority[authority.index(after: colon)...]) ?? fallback
    }

    /// `scheme://host[:port]`, lower-cased, without credentials; empty without `://`.
    public static func origin(_ url: String) -> String {
        let clean = withoutCredentials(url)
        guard let range = authority(clean) else { return "" }
        return clean[..<range.upperBound].lowercased()
    }

    /// `{dir}` and `{file}`: the URL (query and fragment dropped) split at its last `/`.
    public static func dirAndFile(_ url: String) -> (dir: String, file: String) {
        var base = Substring(url)
        if let end = base.firstIndex(where: { $0 == "?" || $0 == "#" }) { base = base[..<end] }
        guard let scheme = base.firstRange(of: "://"),
              let slash = base[scheme.upperBound...].lastIndex(of: "/") else { return (String(base), "") }
        return (String(base[..<slash]), String(base[base.index(after: slash)...]))
    }

    /// The URL's path (from the first `/` after the authority, without query
    /// or fragment), undecoded; "" when it has none.
    public static func path(of url: String) -> String {
        var rest = Substring(url)
        if let scheme = rest.firstRange(of: "://") { rest = rest[scheme.upperBound...] }
        if let end = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<end] }
        guard let slash = rest.firstIndex(of: "/") else { return "" }
        return String(rest[slash...])
    }

    /// The URL's last path segment, undecoded (what `curl -O` uses), or nil when empty.
    public static func lastSegment(of url: String) -> String? {
        var rest = Substring(url)
        if let scheme = rest.firstRange(of: "://") { rest = rest[scheme.upperBound...] }
        if let end = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<end] }
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        guard let last = rest[slash...].split(separator: "/", omittingEmptySubsequences: false).last,
              !last.isEmpty, last != ".", last != ".." else { return nil }
        return String(last)
    }

    /// One path segment with everything but RFC 3986's unreserved characters
    /// (and the ASCII characters in `alsoKeeping`) percent-encoded, bytewise.
    public static func pathSegmentEncoded(_ text: String, alsoKeeping kept: String = "") -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        let extra = Array(kept.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            case _ where extra.contains(byte):
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Every `%XX` decoded; nil when an escape is malformed or the result is
    /// not UTF-8 (Foundation's `removingPercentEncoding`).
    public static func percentDecodedStrictly(_ text: some StringProtocol) -> String? {
        var bytes: [UInt8] = []
        var source = Substring(text).utf8[...]
        while let byte = source.popFirst() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard let high = source.popFirst().flatMap(Hex.value), let low = source.popFirst().flatMap(Hex.value) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    public static func percentDecoded(_ text: String) -> String {
        var bytes: [UInt8] = []
        let source = Array(text.utf8)
        var i = 0
        while i < source.count {
            if source[i] == 0x25, i + 2 < source.count, let value = UInt8(String(decoding: source[(i + 1)...(i + 2)], as: UTF8.self), radix: 16),
               value >= 0x20, value != 0x7f {
                bytes.append(value)
                i += 3
            } else {
                bytes.append(source[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
