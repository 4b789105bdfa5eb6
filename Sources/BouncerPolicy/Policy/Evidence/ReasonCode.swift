import BouncerBase

/// A reason code: the stable, machine-readable name of why an artifact was
/// refused or warned about, as `--json` reports it. Typed so that decisions
/// never compare strings: what refuses in every mode is a property of the
/// problem (`EvidenceProblem.refusesInEveryMode`), set where it is found.
/// The codes the policy layer itself produces are catalogued below; codes
/// from the verifiers (`sigstore-identity`, `checksums-mismatch`, …) pass
/// through unchanged from the failure that carries them.
public struct ReasonCode: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    init(_ rawValue: String) { self.rawValue = rawValue }

    /// The code of a verifier's failure, passed through.
    public init(_ failure: any BouncerFailure) { rawValue = failure.code }

    /// A code a verifier's report carries (`checksums-mismatch`, …), passed through.
    init(reported code: String) { rawValue = code }

    public var description: String { rawValue }

    // MARK: - The policy layer's catalogue

    public static let attestationArtifactChanged = ReasonCode("attestation-artifact-changed")
    public static let attestationEnvironment = ReasonCode("attestation-environment")
    public static let attestationNotPep740 = ReasonCode("attestation-not-pep740")
    public static let attestationRefused = ReasonCode("attestation-refused")
    public static let attestationUnavailable = ReasonCode("attestation-unavailable")
    public static let checksumsInvalid = ReasonCode("checksums-invalid")
    public static let checksumsNotSigned = ReasonCode("checksums-not-signed")
    public static let checksumsRefused = ReasonCode("checksums-refused")
    public static let checksumsRollback = ReasonCode("checksums-rollback")
    public static let checksumsSignatureUnavailable = ReasonCode("checksums-signature-unavailable")
    public static let checksumsUnavailable = ReasonCode("checksums-unavailable")
    public static let digestMismatch = ReasonCode("digest-mismatch")
    public static let digestMissing = ReasonCode("digest-missing")
    public static let digestWeak = ReasonCode("digest-weak")
    public static let evidenceUnavailable = ReasonCode("evidence-unavailable")
    public static let exoticSource = ReasonCode("exotic-source")
    public static let identityDrift = ReasonCode("identity-drift")
    public static let installScript = ReasonCode("install-script")
    public static let integrityMissing = ReasonCode("integrity-missing")
    public static let ioError = ReasonCode("io-error")
    public static let lockDigestChanged = ReasonCode("lock-digest-changed")
    public static let lockFrozen = ReasonCode("lock-frozen")
    public static let npmIntegrity = ReasonCode("npm-integrity")
    public static let policyUnmatched = ReasonCode("policy-unmatched")
    public static let provenanceArtifactChanged = ReasonCode("provenance-artifact-changed")
    public static let provenanceNpmResponse = ReasonCode("provenance-npm-response")
    public static let provenanceRefused = ReasonCode("provenance-refused")
    public static let provenanceUnavailable = ReasonCode("provenance-unavailable")
    public static let redirectHost = ReasonCode("redirect-host")
    public static let releaseAgeUnknown = ReasonCode("release-age-unknown")
    public static let releaseTooNew = ReasonCode("release-too-new")
    public static let registryKeysMissing = ReasonCode("registry-keys-missing")
    public static let registrySignatureCoordinates = ReasonCode("registry-signature-coordinates")
    public static let registrySignatureLayout = ReasonCode("registry-signature-layout")
    public static let registrySignatureUnavailable = ReasonCode("registry-signature-unavailable")
    public static let signatureArtifactChanged = ReasonCode("signature-artifact-changed")
    public static let signatureRefused = ReasonCode("signature-refused")
    public static let signatureUnavailable = ReasonCode("signature-unavailable")
    public static let signatureUnrecognised = ReasonCode("signature-unrecognised")
    public static let signatureWrongFormat = ReasonCode("signature-wrong-format")
    public static let sigstoreArtifactTooLarge = ReasonCode("sigstore-artifact-too-large")
    public static let sigstoreArtifactChanged = ReasonCode("sigstore-artifact-changed")
    public static let sigstoreKeyInvalid = ReasonCode("sigstore-key-invalid")
    public static let sigstoreRefused = ReasonCode("sigstore-refused")
    public static let sigstoreSignerMissing = ReasonCode("sigstore-signer-missing")
    public static let sigstoreUnavailable = ReasonCode("sigstore-unavailable")
    public static let trustDowngrade = ReasonCode("trust-downgrade")
    public static let urlAmbiguous = ReasonCode("url-ambiguous")
}
