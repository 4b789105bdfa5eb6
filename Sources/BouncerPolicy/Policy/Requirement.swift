import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
/// One entry of a rule's `require` list: exactly one evidence kind, with its
/// settings. Every kind is parsed and checked fully when the policy loads,
/// including the kinds this build cannot verify yet (those refuse at run
/// time, as a configuration error; they never pass).
public enum Requirement: Sendable {
    /// `{"digest": {}}`: the tool's own metadata must state a digest (pip
    /// `--hash`, an index's `#sha256=`) and the bytes must match it.
    /// Extension: `{"digest": {"sha256": "<hex>"}}` pins a digest in the policy.
    case digest(pinned: Digest?)
    /// `{"integrity": {}}`: npm's SRI `integrity` (as a claimed digest) must be present and match.
    case integrity
    case checksums(ChecksumsRequirement)
    case signature(SignatureRequirement)
    case sigstore(SigstoreRequirement)
    case provenance(ProvenanceRequirement)
    case registrySignature(keyName: String?)
    case attestation(AttestationRequirement)

    public static let kinds = ["digest", "integrity", "checksums", "signature", "sigstore", "provenance",
                               "registrySignature", "attestation"]
    /// What an image rule (match.image or ecosystem oci) may require.
    public static let imageKinds = ["sigstore", "provenance"]

    /// A checksum list that must be signed: the kind whose freshness is tracked.
    public var isSignedList: Bool {
        if case .checksums(let spec) = self { return spec.signature != nil || spec.clearsignedKey != nil }
        return false
    }

    public var kind: EvidenceKind {
        switch self {
        case .digest: .digest
        case .integrity: .integrity
        case .checksums: .checksums
        case .signature: .signature
        case .sigstore: .sigstore
        case .provenance: .provenance
        case .registrySignature: .registrySignature
        case .attestation: .attestation
        }
    }

    /// What it demands, in words (for `bouncer explain` and refusals).
    public var summary: String {
        switch self {
        case .digest(let pinned):
            pinned.map { "sha256 equal to the policy's pin \($0.hex)" }
                ?? "a digest stated by the tool's metadata (pip --hash, #sha256=) or --sha256, and matching"
        case .integrity: "npm integrity (SRI) stated by the lockfile or packument, and matching"
        case .checksums(let c):
            "listed in \(c.url)" + (c.signature.map { ", the list signed (\($0.url)) by key '\($0.key)'" }
                ?? c.clearsignedKey.map { ", the list clearsigned by key '\($0)'" } ?? " (list unsigned)")
        case .signature(let s): "detached signature \(s.url) by key '\(s.key)'"
        case .sigstore(let s):
            (s.bundle.map { "Sigstore bundle \($0) " } ?? "an image signature (cosign .sig or Sigstore bundle referrer) ")
                + s.signerSummary + (s.requireLog ? "" : ", no transparency log required")
        case .provenance(let p):
            (p.attestation.map { "provenance attestation \($0) " } ?? "an image provenance attestation (Sigstore bundle referrer) ")
                + p.signerSummary
        case .registrySignature(let key): "npm registry signature" + (key.map { " by key '\($0)'" } ?? "")
        case .attestation(let a): "PyPI attestation (PEP 740) from publisher \(a.publisherSummary)"
        }
    }
}

public struct DetachedSignatureSpec: Sendable {
    public var url: URLTemplate
    public var key: String
}

/// `{"checksums": {"url": "{dir}/SHA256SUMS", "signature": {"url": …, "key": …}}}`.
/// Extension: `"key"` directly on checksums for a clearsigned list.
public struct ChecksumsRequirement: Sendable {
    public var url: URLTemplate
    public var signature: DetachedSignatureSpec?
    public var clearsignedKey: String?
    /// The list entry to look up (default: `{file}`).
    public var entry: URLTemplate?
}

/// `{"signature": {"url": "{url}.asc", "key": "release"}}`: a detached signature over the artifact.
public struct SignatureRequirement: Sendable {
    public var url: URLTemplate
    public var key: String
}

/// A keyless signer (certificate SAN + OIDC issuer), or a named public key.
public struct SignerRequirement: Sendable {
    public var identity: IdentityPolicy.Matcher?
    public var issuer: IdentityPolicy.Matcher?
    public var key: String?

    var summary: String {
        if let key { return "signed by key '\(key)'" }
        return "from identity \(identity.map(Self.shown) ?? "?") issued by \(issuer.map(Self.shown) ?? "?")"
    }

    /// An exact value as written, a regexp between slashes.
    static func shown(_ matcher: IdentityPolicy.Matcher) -> String {
        switch matcher {
        case .exact(let value): value
        case .regex(let pattern): "/\(pattern)/"
        }
    }
}

public struct SigstoreRequirement: Sendable {
    /// The bundle's URL for a file; nil in an image rule (an image's
    /// signatures come from its registry: cosign's `.sig` tag and referrers).
    public var bundle: URLTemplate?
    public var signer: SignerRequirement
    /// `"requireLog": false` (image rules, key-based only): a signature with
    /// no transparency-log entry counts (cosign's `--insecure-ignore-tlog`).
    public var requireLog = true
    var signerSummary: String { signer.summary }
}

/// SLSA / in-toto provenance: the attestation bundle and what it must say.
public struct ProvenanceRequirement: Sendable {
    /// The attestation's URL for a file; nil in an image rule (a Sigstore
    /// bundle referrer of the image carries it).
    public var attestation: URLTemplate?
    public var signer: SignerRequirement
    public var predicateType: String?
    public var sourceRepo: String?
    public var sourceRef: String?
    public var builderId: String?
    public var signerWorkflow: String?
    var signerSummary: String {
        var parts = [signer.summary]
        if let sourceRepo { parts.append("source \(sourceRepo)") }
        if let sourceRef { parts.append("ref \(sourceRef)") }
        if let builderId { parts.append("builder \(builderId)") }
        return parts.joined(separator: ", ")
    }
}

/// PyPI PEP 740: the Trusted Publisher that must have attested the file.
public struct AttestationRequirement: Sendable {
    public var publisherKind: String
    public var repository: String
    public var workflow: String?
    public var environment: String?
    /// Where the provenance document is fetched (default: decided by the pip adapter).
    public var url: URLTemplate?
    var publisherSummary: String {
        "\(publisherKind) \(repository)" + (workflow.map { " workflow \($0)" } ?? "")
            + (environment.map { " environment \($0)" } ?? "")
    }
}
