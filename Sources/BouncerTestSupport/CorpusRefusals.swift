import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools
/// Why each `"expect": "fail"` case of the corpus's Sigstore and attestation
/// formats is refused, as the CLI reports it: the exit code, the `--json`
/// reason code and a fragment of its message. The corpus tests require the
/// case to fail for exactly this reason, so a case refused for another one
/// (a placeholder identity that does not match, a digest that is no
/// subject, a usage error) fails the test instead of counting as agreement.
///
/// The reason recorded is the one the bytes actually fail for. Where that is
/// not the manifest's `why`, `note` says so and where the other reason is
/// checked. `LogEntryCorpusTests` holds the same cases to the log step
/// (SET, inclusion proof, entry body) wherever the code is a `tlog-` one.
public struct CorpusRefusal: Sendable {
    /// 1 (refused) unless the CLI stops before verifying: 2 for trust material
    /// the user supplied that cannot be used.
    public let exit: Int32
    /// `reasons[].code` in the `--json` report; nil when the exit is 2 (the
    /// error is on stderr, with no report).
    public let code: String?
    /// A fragment of that reason's message (or of stderr for exit 2).
    public let says: String

    public static func refused(_ code: String, _ says: String) -> CorpusRefusal { CorpusRefusal(exit: 1, code: code, says: says) }
    public static func configuration(_ says: String) -> CorpusRefusal { CorpusRefusal(exit: 2, code: nil, says: says) }
}

public struct CorpusFailCase: Sendable {
    /// Through `verify-bundle` (sigstore-bundle and dsse cases).
    public let verifyBundle: CorpusRefusal?
    /// Through `verify-attestation` (dsse, pep740, npm-attestations) and
    /// `verify-npm` (npm-attestations, npm-registry-signature).
    public let verifyAttestation: CorpusRefusal?
    /// Where the bytes fail for another reason than the manifest's `why`.
    public let note: String?

    init(bundle: CorpusRefusal? = nil, attestation: CorpusRefusal? = nil, note: String? = nil) {
        verifyBundle = bundle
        verifyAttestation = attestation
        self.note = note
    }
}

public enum CorpusRefusals {
    /// The formats whose fail cases are all listed here.
    public static let formats = ["sigstore-bundle", "dsse", "pep740", "npm-attestations", "npm-registry-signature"]

    /// Keyless fail cases whose manifest names no identity (there is no
    /// certificate to take one from): the CLI is given this one so that it
    /// gets past the usage check to the defect the case is about. The
    /// expected refusal is never `sigstore-identity`, so the placeholder
    /// cannot be what refuses the case.
    public static let placeholderIdentity = ["--certificate-identity", "placeholder@bouncer.invalid",
                                             "--certificate-oidc-issuer", "https://placeholder.bouncer.invalid"]

    /// Fail cases with no artifact, no sha256 and no sha256 subject in the
    /// manifest: this digest (which no statement names) stands in, and the
    /// expected refusal is never the subject check.
    public static let placeholderDigest = "sha256:" + String(repeating: "0", count: 64)

    /// By `format/case`.
    public static let table: [String: CorpusFailCase] = [
        // sigstore-bundle: verify-bundle only.
        "sigstore-bundle/conformance__bundle-empty-certificate-chain_fail":
            .init(bundle: .refused("sigstore-bundle-malformed", "x509CertificateChain.certificates: empty certificate chain")),
        "sigstore-bundle/conformance__bundle-invalid-base64-signature_fail":
            .init(bundle: .refused("sigstore-bundle-malformed", "messageSignature.signature: not base64")),
        "sigstore-bundle/conformance__bundle-malformed-json_fail":
            .init(bundle: .refused("sigstore-bundle-malformed", "not valid JSON")),
        "sigstore-bundle/conformance__bundle-negative-log-index_fail":
            .init(bundle: .refused("sigstore-bundle-malformed", "logIndex: negative")),
        "sigstore-bundle/conformance__bundle-with-root-cert_fail":
            .init(bundle: .refused("sigstore-verification-material", "carries a root certificate")),
        "sigstore-bundle/conformance__checkpoint-bad-keyhint_fail":
            .init(bundle: .refused("tlog-checkpoint-unknown-key", "is by a trusted log key")),
        "sigstore-bundle/conformance__checkpoint-wrong-roothash_fail":
            .init(bundle: .refused("sigstore-tlog-checkpoint", "tree size or root hash differs from the proof's")),
        "sigstore-bundle/conformance__incorrect-public-key_fail":
            .init(bundle: .refused("tlog-body-mismatch", "the logged certificate or key is not the bundle's")),
        "sigstore-bundle/conformance__integrated-time-in-future_fail":
            .init(bundle: .refused("sigstore-tlog-time", "integrated time")),
        "sigstore-bundle/conformance__invalid-checkpoint-signature_fail":
            .init(bundle: .refused("tlog-checkpoint-signature-invalid", "does not verify")),
        "sigstore-bundle/conformance__invalid-inclusion-proof_fail":
            .init(bundle: .refused("sigstore-bundle-malformed", "inclusionProof.checkpoint: missing"),
                  note: "this v0.2 bundle has no checkpoint, so it is refused before its (also wrong) proof is computed; LogEntryCorpusTests refuses the proof itself: tlog-inclusion-root-mismatch"),
        "sigstore-bundle/conformance__managed-key-no-key_fail":
            .init(bundle: .refused("sigstore-verification-material", "verify it with --key")),
        "sigstore-bundle/conformance__managed-key-wrong-key_fail":
            .init(bundle: .configuration("base64 inside is invalid"),
                  note: "the key file given with --key has non-canonical base64 (its last character leaves non-zero bits), so no key can be read from it: an unusable trusted key is the user's configuration (exit 2), never a pass"),
        "sigstore-bundle/conformance__rekor2-checkpoint-missing-log-signature_fail":
            .init(bundle: .refused("tlog-checkpoint-malformed", "no signature line")),
        "sigstore-bundle/conformance__rekor2-checkpoint-missing-origin_fail":
            .init(bundle: .refused("tlog-checkpoint-malformed", "needs an origin, a tree size and a root hash line")),
        "sigstore-bundle/conformance__rekor2-checkpoint-missing-root-hash_fail":
            .init(bundle: .refused("tlog-checkpoint-malformed", "needs an origin, a tree size and a root hash line")),
        "sigstore-bundle/conformance__rekor2-checkpoint-no-matching-signature_fail":
            .init(bundle: .refused("tlog-checkpoint-unknown-key", "'log2025-alpha1.rekor.github.dev'")),
        "sigstore-bundle/conformance__rekor2-no-inclusion-proof_fail":
            .init(bundle: .refused("sigstore-bundle-malformed", "inclusionProof: missing")),
        "sigstore-bundle/conformance__rekor2-no-timestamp_fail":
            .init(bundle: .refused("sigstore-signing-time", "neither a signed entry timestamp nor an RFC 3161 timestamp")),
        "sigstore-bundle/conformance__rekor2-timestamp-outside-tsa-cert-validity_fail":
            .init(bundle: .refused("tsa-untrusted", "does not verify at genTime: certificate has expired")),
        "sigstore-bundle/conformance__rekor2-timestamp-payload-mismatch_fail":
            .init(bundle: .refused("tsa-imprint-mismatch", "message imprint is not the hash of the bundle's signature")),
        "sigstore-bundle/conformance__rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail":
            .init(bundle: .refused("tsa-untrusted", "the signer is not the authority's timestamping certificate")),
        "sigstore-bundle/conformance__rekor2-timestamp-with-incorrect-time_fail":
            .init(bundle: .refused("sigstore-timestamp", "RFC 3161 time 2025-07-15 10:33:31 +0000 is outside the certificate's validity")),
        "sigstore-bundle/conformance__set-invalid-signature_fail":
            .init(bundle: .refused("tlog-set-signature-invalid", "does not verify over the entry")),
        "sigstore-bundle/conformance__signature-mismatch_fail":
            .init(bundle: .refused("sigstore-signature", "does not verify over the artifact")),
        "sigstore-bundle/conformance__wrong-hashedrekord-artifact_fail":
            .init(bundle: .refused("tlog-body-mismatch", "the logged artifact digest is not the artifact's")),
        "sigstore-bundle/conformance__wrong-hashedrekord-cert-and-sig_fail":
            .init(bundle: .refused("tlog-body-mismatch", "the logged signature is not the bundle's signature")),
        "sigstore-bundle/conformance__wrong-hashedrekord-entry_fail":
            .init(bundle: .refused("tlog-body-mismatch", "the logged artifact digest is not the artifact's")),
        "sigstore-bundle/sigstore-go__othername-san-as-email_fail":
            .init(bundle: .refused("sigstore-identity", "'foo!oidc.local' does not match 'foo@oidc.local'")),
        "sigstore-bundle/sigstore-python__bundle_cve_2022_36056":
            .init(bundle: .refused("tlog-body-mismatch", "the logged signature is not the bundle's signature")),
        "sigstore-bundle/sigstore-python__bundle_no_cert_v1":
            .init(bundle: .refused("sigstore-bundle-malformed", "x509CertificateChain.certificates: empty certificate chain"),
                  note: "no identity in the manifest (no certificate): run with the placeholder identity"),
        "sigstore-bundle/sigstore-python__bundle_no_checkpoint":
            .init(bundle: .refused("sigstore-bundle-malformed", "inclusionProof.checkpoint: missing")),
        "sigstore-bundle/sigstore-python__bundle_no_log_entry":
            .init(bundle: .refused("sigstore-tlog-entry", "no transparency-log entry")),
        "sigstore-bundle/sigstore-python__tsa-duplicate":
            .init(bundle: .refused("sigstore-bundle-malformed", "rfc3161Timestamps[2]: the same timestamp as rfc3161Timestamps[0]"),
                  note: "its tokens are also over another signature (tsa-imprint-mismatch), which was the only reason it failed before duplicates were refused"),
        "sigstore-bundle/sigstore-python__tsa-many_timestamp":
            .init(bundle: .refused("sigstore-bundle-malformed", "more than the 32 allowed")),
        "sigstore-bundle/sigstore-python__tsa-txt-late_timestamp":
            .init(bundle: .refused("tsa-untrusted", "the signer is not the authority's timestamping certificate"),
                  note: "the case's trusted root lists only the local test TSA and this token is signed by the staging TSA; under the embedded staging root it is refused for its late time (VerifyBundleCommandTests.lateTimestampIsRefusedForItsTime)"),

        // dsse: verify-bundle and verify-attestation.
        "dsse/conformance__dsse-invalid-sig_fail":
            .init(bundle: .refused("sigstore-signature", "DSSE signature does not verify over PAE"),
                  attestation: .refused("sigstore-signature", "DSSE signature does not verify over PAE")),
        "dsse/conformance__dsse-mismatch-sig_fail":
            .init(bundle: .refused("tlog-body-mismatch", "the logged signature is not the bundle's signature"),
                  attestation: .refused("tlog-body-mismatch", "the logged signature is not the bundle's signature")),
        "dsse/conformance__intoto-expired-certificate_fail":
            .init(bundle: .refused("sigstore-tlog-time", "outside the certificate's validity"),
                  attestation: .refused("sigstore-tlog-time", "outside the certificate's validity")),
        "dsse/conformance__intoto-log-entry-mismatch_fail":
            .init(bundle: .refused("tlog-body-mismatch", "the logged signature is not the bundle's signature"),
                  attestation: .refused("tlog-body-mismatch", "the logged signature is not the bundle's signature")),
        "dsse/conformance__intoto-set-outside-signing-cert-validity_fail":
            .init(bundle: .refused("sigstore-tlog-time", "outside the certificate's validity"),
                  attestation: .refused("sigstore-tlog-time", "outside the certificate's validity")),
        "dsse/conformance__intoto-tsa-timestamp-outside-cert-validity_fail":
            .init(bundle: .refused("sigstore-timestamp", "RFC 3161 time"),
                  attestation: .refused("sigstore-timestamp", "RFC 3161 time")),
        "dsse/conformance__rekor2-dsse-invalid-sig_fail":
            .init(bundle: .refused("sigstore-signature", "DSSE signature does not verify over PAE"),
                  attestation: .refused("sigstore-signature", "DSSE signature does not verify over PAE")),
        "dsse/conformance__rekor2-dsse-mismatch-sig_fail":
            .init(bundle: .refused("tlog-body-mismatch", "the logged signature is not the bundle's signature"),
                  attestation: .refused("tlog-body-mismatch", "the logged signature is not the bundle's signature")),
        "dsse/gh-cli__invalid-signature_fail":
            .init(bundle: .refused("sigstore-dsse", "payloadType 'text/plain'"),
                  attestation: .refused("attestation-payload-type", "payloadType 'text/plain'"),
                  note: "the envelope is 'hello, world!' as text/plain, no in-toto statement, so no subject and no digest (the placeholder digest stands in): it is refused for its payload type, checked before the (bad) signature; CorpusProvenanceTests.invalidSignatureCaseHasABadSignatureNotOnlyAPayloadType refuses the signature itself"),
        "dsse/gh-cli__provenance-demo-whl-missing-verification-material_fail":
            .init(attestation: .refused("attestation-malformed", "$.verificationMaterial: missing"),
                  note: "JSON lines, so verify-attestation only; no identity in the manifest (no certificate): run with the placeholder identity"),
        "dsse/pypi-attestations__models-sdist-wrong-workflow_fail":
            .init(bundle: .refused("sigstore-identity", "release.yml@refs/tags/v0.0.4a2' does not match"),
                  attestation: .refused("sigstore-identity", "release.yml@refs/tags/v0.0.4a2' does not match")),
        "dsse/sigstore-go__dsse-2sigs_fail":
            .init(bundle: .refused("sigstore-bundle-malformed", "exactly one signature, found 2"),
                  attestation: .refused("attestation-malformed", "exactly one signature, found 2"),
                  note: "its subject is named by sha512 only; verify-bundle takes a sha256, so it gets the placeholder digest"),
        "dsse/slsa-verifier__bcr-MODULE-wrong-signer-bazel_fail":
            .init(bundle: .refused("sigstore-identity", "malicious_attestation.yaml@refs/heads/main' does not match"),
                  attestation: .refused("sigstore-identity", "malicious_attestation.yaml@refs/heads/main' does not match")),

        // pep740: verify-attestation.
        "pep740/pypi-attestations__gitlab-sdist-wrong-workflow_fail":
            .init(attestation: .refused("sigstore-identity", "does not match")),
        "pep740/pypi-attestations__rfc8785-whl-filename-mismatch_fail":
            .init(attestation: .refused("pypi-filename", "is for 'rfc8785-0.1.2-py3-none-any.whl', not 'wrong_name-0.1.2-py3-none-any.whl'")),
        "pep740/pypi-attestations__rfc8785-whl-wrong-identity_fail":
            .init(attestation: .refused("sigstore-identity", "'william@yossarian.net' does not match 'fake@example.com'")),

        // npm-attestations: verify-attestation and verify-npm.
        "npm-attestations/slsa-verifier__npm-gundam-visor-cli-v1-tag-invalidsigprov_fail":
            .init(attestation: .refused("sigstore-signature", "$.attestations[1] (https://slsa.dev/provenance/v1): the DSSE signature does not verify")),
        "npm-attestations/slsa-verifier__npm-provenance-npm-test-cli-v1-prega-invalidsigprov_fail":
            .init(attestation: .refused("sigstore-signature", "$.attestations[1] (https://slsa.dev/provenance/v1): the DSSE signature does not verify")),
        "npm-attestations/slsa-verifier__npm-provenance-npm-test-cli-v1-prega-invalidsigpub_fail":
            .init(attestation: .refused("sigstore-signature", "$.attestations[0] (https://github.com/npm/attestation/tree/main/specs/publish/v0.1): the DSSE signature does not verify")),

        // npm-registry-signature: verify-npm on the manifest's (package, version, integrity, signature).
        "npm-registry-signature/npm-cli__has-package-exports-replayed-sig_fail":
            .init(attestation: .refused("npm-registry-signature", "does not verify over 'has-package-exports@1.1.0:")),
        "npm-registry-signature/npm-cli__has-package-exports-tampered-integrity_fail":
            .init(attestation: .refused("npm-registry-signature", "does not verify over 'has-package-exports@1.2.0:")),
    ]
}
