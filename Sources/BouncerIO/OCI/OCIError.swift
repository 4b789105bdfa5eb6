import BouncerBase

/// Why talking to a registry failed. The family is the exit code: a bad
/// reference or a forbidden plain-http registry is the command line's fault
/// (2), a registry that serves wrong or malformed bytes is refused (1), an
/// unreachable registry or a failed token request is transport (3).
public enum OCIError: BouncerFailure, Equatable {
    case reference(String, String)
    /// A `--platform` that is not OS/ARCH[/VARIANT].
    case platform(String)
    case plainHTTP(registry: String)
    case transport(FetchError)
    case auth(registry: String, String)
    case notFound(what: String, url: String)
    case digestMismatch(url: String, expected: Digest, actual: Digest)
    case malformed(what: String, String)
    case unsupportedMediaType(what: String, String)
    case noPlatform(String)

    public var family: ErrorFamily {
        switch self {
        case .reference, .platform, .plainHTTP: .configuration
        case .transport(let error): error.family
        case .auth: .transport
        case .notFound, .digestMismatch, .malformed, .unsupportedMediaType, .noPlatform: .evidence
        }
    }

    public var code: String {
        switch self {
        case .reference: "oci-reference"
        case .platform: "oci-platform"
        case .plainHTTP: "oci-plain-http"
        case .transport(let error): error.code
        case .auth: "oci-auth"
        case .notFound: "oci-not-found"
        case .digestMismatch: "oci-digest-mismatch"
        case .malformed: "oci-malformed"
        case .unsupportedMediaType: "oci-media-type"
        case .noPlatform: "oci-no-platform"
        }
    }

    public var description: String {
        switch self {
        case .reference(let text, let why): "image reference '\(text)': \(why)"
        case .platform(let text): "platform '\(text)': a platform is OS/ARCH[/VARIANT], e.g. linux/amd64"
        case .plainHTTP(let registry): "registry \(registry): plain http is refused; --allow-http-registry permits it (for a loopback or lab registry)"
        case .transport(let error): error.description
        case .auth(let registry, let why): "registry \(registry): authentication failed: \(why)"
        case .notFound(let what, let url): "\(what) not found (\(Redaction.url(url)))"
        case .digestMismatch(let url, let expected, let actual):
            "\(Redaction.url(url)): the registry served bytes with digest \(actual), not the \(expected) asked for"
        case .malformed(let what, let why): "\(what): \(why)"
        case .unsupportedMediaType(let what, let type): "\(what): unsupported media type '\(type.prefix(120))'"
        case .noPlatform(let why): why
        }
    }
}
