import FoundationEssentials
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore

/// policy.json, version 1 (design.md, "policy.json, version 1"), as loaded
/// and checked: every key reference resolves, every regexp compiles, every
/// rule requires something. Paths in it are absolute (resolved against the
/// policy file's directory).
public struct Policy: Sendable {
    /// `sha256:HEX` of a policy file's real path: how a `bouncer serve`
    /// names the policy it judges by on its root page (the path itself is
    /// not shown to the network), and how a shim recognises its own there.
    public static func fileMark(_ file: String) -> String {
        Hasher.digest(Array(Filesystem.realPath(file).utf8), .sha256).description
    }

    public enum Mode: String, Sendable { case enforce, audit }
    /// What happens to an artifact no rule matches.
    public enum Unmatched: String, Sendable { case deny, pin, allow }

    public var file: String
    public var directory: String
    public var mode: Mode
    public var unmatched: Unmatched
    /// Absolute path of the lockfile (default `bouncer.lock` beside the policy).
    public var lockfile: String
    public var keys: [String: PolicyKey]
    public var rules: [PolicyRule]
    public var exceptions: [PolicyException]
    /// Extension `"sigstore": {"trustedRoot": FILE, "staging": BOOL}`: the trust root for `sigstore` and `provenance`.
    public var sigstore = SigstoreSettings()
    /// Extension `"archive": {"maxUnpackedSize", "maxEntries", "maxRatio", "refuseCaseCollisions"}`:
    /// the limits for every archive inspected or unpacked under this policy.
    public var archive = ArchivePolicy.defaults
    /// The top-level threat policies (`minimumReleaseAge`, `installScripts`,
    /// `exoticSources`, `identity`), defaults filled in.
    public var threats = ThreatPolicy.defaults

    /// The threat policies for `request`: its rule's where set, else the top level's.
    public func threats(for request: ArtifactRequest) -> ThreatPolicy {
        rule(for: request).map { $0.rule.threats.over(threats) } ?? threats
    }

    /// The first rule that matches (design: "the first matching rule wins").
    public func rule(for request: ArtifactRequest) -> (index: Int, rule: PolicyRule)? {
        for (index, rule) in rules.enumerated() where rule.match.matches(request) {
            return (index, rule)
        }
        return nil
    }

    /// The first exception that covers `request` and has not expired.
    public func activeException(for request: ArtifactRequest, at now: Date) -> PolicyException? {
        exceptions.first { $0.match.matches(request) && $0.isActive(at: now) }
    }

    /// Whether a minimum release age is set at the top level or in any rule.
    public var usesReleaseAge: Bool {
        !(threats.minimumReleaseAge ?? .off).isOff || rules.contains { !($0.threats.minimumReleaseAge ?? .off).isOff }
    }

    /// Why `request` would be refused for its release age (too new, or of
    /// unknown age while a minimum applies), or nil: what a registry proxy
    /// leaves out of the pages it offers. Audit mode and an active exception
    /// refuse nothing for it.
    public func releaseAgeRefusal(_ request: ArtifactRequest, at now: Date) -> String? {
        guard mode == .enforce, activeException(for: request, at: now) == nil else { return nil }
        let minimum = threats(for: request).minimumReleaseAge ?? .off
        return ReleaseAgeCheck.describe(ReleaseAgeCheck.judge(request.releaseTime, minimum: minimum, now: now), minimum: minimum)
    }

    /// Exceptions that would cover `request` but have expired (said, so nobody wonders).
    public func expiredExceptions(for request: ArtifactRequest, at now: Date) -> [PolicyException] {
        exceptions.filter { $0.match.matches(request) && !$0.isActive(at: now) }
    }
}

/// The Sigstore trust root keyless evidence is checked against: Sigstore's
/// public-good production root (embedded) unless the policy names a
/// `trustedRoot` file (read and parsed when the policy loads, like keys) or
/// asks for the embedded `staging` root.
public struct SigstoreSettings: Sendable {
    /// The parsed trusted_root.json the policy names, and its absolute path.
    public var trustedRoot: SigstoreTrustedRoot?
    public var trustedRootPath: String?
    public var staging = false

    public init(trustedRoot: SigstoreTrustedRoot? = nil, trustedRootPath: String? = nil, staging: Bool = false) {
        self.trustedRoot = trustedRoot
        self.trustedRootPath = trustedRootPath
        self.staging = staging
    }

    /// Where the root comes from, in words (explain, messages).
    public var rootDescription: String {
        trustedRootPath.map { "trusted root \($0)" } ?? (staging ? "Sigstore staging root (embedded)" : "Sigstore public-good root (embedded)")
    }
}

/// A named key from `keys`. Files are read when the policy loads, so an
/// unreadable key is a configuration error up front, not a refusal later.
public struct PolicyKey: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case openpgp, minisign, signify, ssh
        case npmRegistry = "npm-registry"
        case publicKey
    }

    public var name: String
    public var kind: Kind
    /// The trust material (file contents or the inline key).
    public var material: KeyMaterial
    /// SSH: the signature namespace (required) and an optional principal.
    public var namespace: String?
    public var identity: String?

    /// The signature format this key verifies ("openpgp", "minisign", ...).
    public var signatureFormat: String? {
        switch kind {
        case .openpgp, .minisign, .signify, .ssh: kind.rawValue
        case .npmRegistry, .publicKey: nil
        }
    }
}

/// `match`: every field given must match (glob on URL and package name).
public struct PolicyMatch: Sendable {
    public var url: Glob?
    public var host: Glob?
    public var ecosystem: Ecosystem?
    public var package: Glob?
    /// `"index": "primary"` (the tool's own primary index, whatever its
    /// address) or a glob over the index URL: an artifact the adapter found
    /// on no index, or on another one, does not match.
    public var index: IndexMatch? = nil
    /// `"image": "ghcr.io/org/*"`: a glob over a container image's
    /// `REGISTRY/REPO` (no tag, no digest). Images are matched only by rules
    /// that name `image` or `"ecosystem": "oci"`, and such rules match only images.
    public var image: Glob? = nil

    /// Whether this match is for container images.
    public var isImage: Bool { image != nil || ecosystem == .oci }

    public enum IndexMatch: Sendable {
        case primary
        case url(Glob)
    }

    public func matches(_ request: ArtifactRequest) -> Bool {
        guard isImage == (request.ecosystem == .oci) else { return false }
        if let image {
            guard let name = request.package, image.matches(name) else { return false }
        }
        if let ecosystem, ecosystem != request.ecosystem { return false }
        if let url, !url.matches(URLParts.withoutCredentials(request.url)) { return false }
        if let host {
            guard let requestHost = URLParts.host(request.url), host.matches(requestHost) else { return false }
        }
        if let package {
            guard let name = request.package, package.matches(name) else { return false }
        }
        if let index {
            guard let found = request.index else { return false }
            switch index {
            case .primary: guard found.isPrimary else { return false }
            case .url(let glob): guard glob.matches(found.url) else { return false }
            }
        }
        return true
    }
}

public struct PolicyRule: Sendable {
    public var name: String?
    public var match: PolicyMatch
    public var require: [Requirement]
    /// Hosts a redirect may end on (besides the URL's own host); nil: any.
    public var redirectHosts: [Glob]?
    /// Largest body accepted for the artifact.
    public var maxSize: UInt64?
    /// Threat policies this rule overrides (nil fields: the top level's).
    public var threats = ThreatPolicy()

    public func label(index: Int) -> String { name.map { "rule '\($0)'" } ?? "rule #\(index + 1)" }
}

/// `exceptions: [{match, until, reason}]`: until the end of `until` (UTC),
/// refusals for matching artifacts are reported as warnings instead. A lock
/// digest change is never excepted.
public struct PolicyException: Sendable {
    public var match: PolicyMatch
    /// Last day the exception applies, `YYYY-MM-DD` (inclusive, UTC).
    public var until: String
    public var expiry: Date
    public var reason: String

    public func isActive(at now: Date) -> Bool { now < expiry }
}

/// A URL template: `{url}` the artifact URL, `{dir}` it without its last
/// path segment, `{file}` (or `{filename}`) its last segment; for a pypi or
/// npm rule also `{project}` and `{version}`. Anything else in braces is an
/// error at load time.
public struct URLTemplate: Sendable, Equatable, CustomStringConvertible {
    public let text: String

    static let placeholders = ["{url}", "{dir}", "{file}", "{project}", "{version}", "{filename}"]
    /// Only a package (pypi, npm) has these: its name and version, and the file name of the artifact.
    static let packagePlaceholders: Set<String> = ["{project}", "{version}"]

    public func expand(for url: String) -> String {
        let (dir, file) = URLParts.dirAndFile(url)
        return text.replacing("{url}", with: url)
            .replacing("{dir}", with: dir)
            .replacing("{file}", with: file)
            .replacing("{filename}", with: file)
    }

    /// As `expand(for:)`, with a package's `{project}` and `{version}` (PyPI's
    /// Integrity API: `…/integrity/{project}/{version}/{filename}/provenance`).
    public func expand(for request: ArtifactRequest) -> String {
        expand(for: request.url)
            .replacing("{project}", with: request.package.map { URLParts.pathSegmentEncoded($0) } ?? "")
            .replacing("{version}", with: request.version.map { URLParts.pathSegmentEncoded($0) } ?? "")
    }

    public var description: String { text }
}
