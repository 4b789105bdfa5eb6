import BouncerBase

/// An image reference as docker and cosign write it: `REGISTRY/REPO:TAG`,
/// `REGISTRY/REPO@sha256:<hex>` (a tag before the digest is only a label).
/// A first component without `.` or `:` that is not `localhost` is a Docker
/// Hub path (`alpine` → `docker.io/library/alpine`), as docker resolves it.
public struct ImageReference: Sendable, Equatable, CustomStringConvertible {
    /// `docker.io`, `127.0.0.1:5000`, `ghcr.io`.
    public var registry: String
    /// `library/alpine`, `owner/repo/sub`.
    public var repository: String
    public var tag: String?
    public var digest: Digest?

    public init(registry: String, repository: String, tag: String?, digest: Digest?) {
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    public static let dockerHub = "docker.io"

    public init(parsing text: String) throws(OCIError) {
        guard !text.isEmpty, text.utf8.count <= 1024, !text.contains(where: { $0.isWhitespace || $0.isNewline }) else {
            throw .reference(text, "not an image reference")
        }
        var rest = Substring(text)
        var digest: Digest? = nil
        if let at = rest.firstIndex(of: "@") {
            let digestText = String(rest[rest.index(after: at)...])
            guard digestText.hasPrefix("sha256:"), let parsed = try? Digest(parsing: digestText) else {
                throw .reference(text, "the digest must be sha256:<64 hex digits>")
            }
            digest = parsed
            rest = rest[..<at]
        }
        var tag: String? = nil
        // A tag's colon comes after the last slash (a registry's port colon comes before it).
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            tag = String(rest[rest.index(after: colon)...])
            rest = rest[..<colon]
        }
        if let tag {
            let allowed = tag.utf8.allSatisfy { $0.isASCIIAlnum || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
            guard !tag.isEmpty, tag.utf8.count <= 128, allowed, tag.first != "." && tag.first != "-" else {
                throw .reference(text, "invalid tag '\(tag)'")
            }
        }
        var components = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard !components.isEmpty, components.allSatisfy({ !$0.isEmpty }) else { throw .reference(text, "empty path component") }
        var registry = Self.dockerHub
        if components.count > 1, components[0].contains(".") || components[0].contains(":") || components[0] == "localhost" {
            registry = components.removeFirst()
        }
        if registry == Self.dockerHub || registry == "index.docker.io" {
            registry = Self.dockerHub
            if components.count == 1 { components.insert("library", at: 0) }
        }
        for component in components {
            // The distribution spec's path-component grammar: lowercase alphanumerics with . _ __ - separators.
            let ok = component.utf8.allSatisfy { ($0.isASCIIAlnum && !(65...90).contains($0)) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
            guard ok, component.first.map({ $0.isLetter || $0.isNumber }) == true else {
                throw .reference(text, "invalid repository component '\(component)' (lowercase letters, digits, '.', '_', '-')")
            }
        }
        let hostOK = registry.utf8.allSatisfy { $0.isASCIIAlnum || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "]") }
        guard hostOK else { throw .reference(text, "invalid registry '\(registry)'") }
        if tag == nil && digest == nil { tag = "latest" }
        self.init(registry: registry, repository: components.joined(separator: "/"), tag: tag, digest: digest)
    }

    /// `REGISTRY/REPO`, what policy `match.image` globs over.
    public var name: String { "\(registry)/\(repository)" }

    /// `REGISTRY/REPO@sha256:…` for a resolved digest.
    public func pinned(_ digest: Digest) -> String { "\(name)@\(digest)" }

    public var description: String {
        var text = name
        if let tag { text += ":\(tag)" }
        if let digest { text += "@\(digest)" }
        return text
    }

    /// The host the API is served on (Docker Hub's API is not at docker.io).
    public var apiHost: String { registry == Self.dockerHub ? "registry-1.docker.io" : registry }
}

extension UInt8 {
    var isASCIIAlnum: Bool { (48...57).contains(self) || (65...90).contains(self) || (97...122).contains(self) }
}
