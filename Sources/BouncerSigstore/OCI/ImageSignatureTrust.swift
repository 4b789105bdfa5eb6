import FoundationEssentials
import BouncerBase
import BouncerIO

/// Who must have signed an image and which trust material decides it, as
/// `cosign verify` takes it on its command line.
public struct ImageSignatureTrust: Sendable {
    public enum Signer: Sendable {
        /// A certificate from a trusted CA whose SAN (and issuer) match.
        case keyless(identity: IdentityPolicy.Matcher, issuer: IdentityPolicy.Matcher?)
        /// A self-managed key (`--key`).
        case key(PublicKey)
    }

    public var signer: Signer
    /// The Sigstore trusted root: Fulcio CAs, Rekor logs, CT logs, TSAs.
    public var trustedRoot: SigstoreTrustedRoot
    /// `--ca-roots` (with `--ca-intermediates`): a private PKI that replaces
    /// the trusted root's Fulcio CAs. Its certificates are long-lived, so
    /// without a log entry they are checked at the current time.
    public var privateAuthorities: [SigstoreTrustedRoot.CertificateAuthority]?
    /// `--insecure-ignore-tlog`: no log entry needed (key-based or private PKI only).
    public var ignoreTlog: Bool
    /// `--insecure-ignore-sct`: no embedded SCT needed (2021 Fulcio certificates have none).
    public var ignoreSCT: Bool
    /// A certificate without an OIDC-issuer extension is accepted (2021 Fulcio,
    /// private PKI); the SAN must still match. With an issuer matcher, a
    /// certificate that does carry an issuer must match it.
    public var allowMissingIssuer: Bool
    /// podman's `signedIdentity: matchExact`: the payload's docker-reference must be exactly this.
    public var exactReference: String?
    /// The time a private-PKI certificate is checked at when nothing signed a time.
    public var now: Date

    public init(signer: Signer, trustedRoot: SigstoreTrustedRoot, privateAuthorities: [SigstoreTrustedRoot.CertificateAuthority]? = nil,
                ignoreTlog: Bool = false, ignoreSCT: Bool = false, allowMissingIssuer: Bool = false,
                exactReference: String? = nil, now: Date = Date()) {
        self.signer = signer
        self.trustedRoot = trustedRoot
        self.privateAuthorities = privateAuthorities
        self.ignoreTlog = ignoreTlog
        self.ignoreSCT = ignoreSCT
        self.allowMissingIssuer = allowMissingIssuer
        self.exactReference = exactReference
        self.now = now
    }

    /// A private PKI from PEM bundles: one authority per root, each with
    /// every intermediate given (X.509 path building picks what it needs).
    public static func privateAuthorities(rootsPEM: String, intermediatesPEM: String?) throws(ImageSignatureError) -> [SigstoreTrustedRoot.CertificateAuthority] {
        let roots = PEM.decode(rootsPEM, label: "CERTIFICATE")
        guard !roots.isEmpty else { throw ImageSignatureError(.material, "--ca-roots holds no PEM CERTIFICATE") }
        let intermediates = intermediatesPEM.map { PEM.decode($0, label: "CERTIFICATE") } ?? []
        return roots.map { root in
            SigstoreTrustedRoot.CertificateAuthority(uri: "private-ca", chainDER: intermediates + [root], validFor: .init())
        }
    }
}

/// One signature that verified, and what it proves.
public struct ImageSignatureFact: Sendable {
    /// "cosign-legacy" (the `.sig` tag) or "sigstore-bundle" (a referrer).
    public var scheme: String
    /// Where it was found: the signature layer's or the bundle's digest.
    public var source: String
    public var identity: String?
    public var issuer: String?
    public var keyed: Bool
    public var logIndexes: [Int64]
    public var signingTimes: [Date]
    public var timeSources: [TimeSource]
    public var dockerReference: String?
    public var notes: [String]
}
