import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools
import BouncerTestSupport

/// A bundle from GitHub's private Sigstore instance (its own Fulcio, a
/// timestamp authority, no transparency log) checked against a trusted root
/// that lists logs (here public-good's) is refused with what it needs: GitHub's
/// trusted root. Certificates are made at test time with openssl: a CA with the
/// issuer name GitHub's Fulcio uses (or Sigstore's), and a leaf it signs.
/// Verification with GitHub's root is in GitHubInstanceVerificationTests.
@Suite(.blocking) struct GitHubInstanceTests {
    static let statement = Statements.slsaV1(digests: ["sha256": Hasher.digest(Array("release bytes\n".utf8), .sha256).hex])

    /// A v0.3 DSSE bundle signed by a leaf that `caSubject` issued, with the
    /// given tlog entries and RFC 3161 tokens.
    static func bundle(caSubject: String, tlogEntries: [[String: Any]] = [], timestamps: [String] = []) throws -> SigstoreBundle {
        let dir = try BouncerProcess.temporaryDirectory("bouncer-ghinstance")
        defer { try? FileManager.default.removeItem(at: dir) }
        func openssl(_ args: [String]) throws {
            let result = try BouncerProcess.runProgram("/usr/bin/openssl", args, cwd: dir.path)
            #expect(result.status == 0, "openssl \(args.joined(separator: " ")): \(result.err)")
        }
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
                     "-out", "ca.pem", "-subj", caSubject, "-days", "1"])
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "leaf.key",
                     "-out", "leaf.der", "-outform", "DER", "-subj", "/O=bouncer-test", "-CA", "ca.pem", "-CAkey", "ca.key", "-days", "1",
                     "-addext", "subjectAltName=URI:https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1.0.0",
                     "-addext", "1.3.6.1.4.1.57264.1.8=ASN1:UTF8String:\(TrustedPublisher.gitHubIssuer)",
                     "-addext", "extendedKeyUsage=codeSigning"])
        let pae = DSSEEnvelope.pae(payloadType: InTotoStatement.payloadType, payload: statement)
        try Data(pae).write(to: dir.appendingPathComponent("pae"))
        try openssl(["dgst", "-sha256", "-sign", "leaf.key", "-out", "pae.sig", "pae"])
        var material: [String: Any] = [
            "certificate": ["rawBytes": Base64.encode(Array(try Data(contentsOf: dir.appendingPathComponent("leaf.der"))))],
            "tlogEntries": tlogEntries,
        ]
        if !timestamps.isEmpty {
            material["timestampVerificationData"] = ["rfc3161Timestamps": timestamps.map { ["signedTimestamp": $0] }]
        }
        let object: [String: Any] = [
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": material,
            "dsseEnvelope": ["payload": Base64.encode(statement), "payloadType": InTotoStatement.payloadType,
                             "signatures": [["keyid": "", "sig": Base64.encode(Array(try Data(contentsOf: dir.appendingPathComponent("pae.sig"))))]]],
        ]
        return try SigstoreBundle.parse(Array(try JSONSerialization.data(withJSONObject: object)))
    }

    /// The refusal code of AttestationVerifier.verify on this bundle.
    static func refusal(_ bundle: SigstoreBundle) throws -> (code: String, message: String) {
        let policy = IdentityPolicy(identity: .regex("https://github\\.com/org/repo/.+"), issuer: .exact(TrustedPublisher.gitHubIssuer))
        do {
            _ = try AttestationVerifier.verify(bundle: bundle, artifact: ArtifactDigests(bytes: Array("release bytes\n".utf8)),
                                               trustedRoot: try SigstoreTrustedRoot.production(), policy: .keyless(policy),
                                               requirements: AttestationRequirements())
            return ("pass", "")
        } catch let failure as any BouncerFailure {
            return (failure.code, failure.description)
        } catch {
            return ("not a BouncerFailure", "\(error)")
        }
    }

    static let gitHub = "/O=GitHub, Inc./CN=Fulcio Intermediate l2"
    static let sigstore = "/O=sigstore.dev/CN=sigstore-intermediate"

    @Test func certificateIssuedByGitHubWithNoLogEntryNamesGitHubsTrustedRoot() throws {
        // No timestamps, no log entry, a GitHub-issued certificate.
        let github = try Self.refusal(try Self.bundle(caSubject: Self.gitHub))
        #expect(github.code == "sigstore-other-instance", "\(github)")
        #expect(github.message.contains("GitHub's Sigstore instance (certificate issuer CN=Fulcio Intermediate l2, O=GitHub, Inc.)"), "\(github.message)")
        #expect(github.message.contains("--trusted-root") && github.message.contains("sigstore.trustedRoot"), "\(github.message)")
        // The same bundle shape from another issuer is an ordinary missing-log refusal, not this one.
        let other = try Self.refusal(try Self.bundle(caSubject: Self.sigstore))
        #expect(other.code == "sigstore-tlog-entry", "\(other)")
    }

    @Test func timestampsWithNoLogEntryNeedTheirInstancesRootWhoeverIssued() throws {
        // An RFC 3161 token and no log entry, from another issuer: a log entry is
        // required under a root with logs, and the refusal says what would verify it.
        let token = Base64.encode([0x30, 0x00])
        let tsaOnly = try Self.refusal(try Self.bundle(caSubject: Self.sigstore, timestamps: [token]))
        #expect(tsaOnly.code == "sigstore-tlog-entry", "\(tsaOnly)")
        #expect(tsaOnly.message.contains("only RFC 3161 timestamps") && tsaOnly.message.contains("--trusted-root"), "\(tsaOnly.message)")
        #expect(!tsaOnly.message.contains("GitHub"), "\(tsaOnly.message)")
    }

    @Test func aGitHubIssuedCertificateWithALogEntryIsNotRefusedAsPrivate() throws {
        // A log entry means the public-good path: whatever refuses it, it is not the private-instance check.
        let hash = Base64.encode([UInt8](repeating: 7, count: 32))
        let entry: [String: Any] = [
            "logIndex": "12", "logId": ["keyId": hash], "kindVersion": ["kind": "dsse", "version": "0.0.1"],
            "integratedTime": "1700000000", "inclusionPromise": ["signedEntryTimestamp": hash],
            "inclusionProof": ["logIndex": "3", "rootHash": hash, "treeSize": "9", "hashes": [hash],
                               "checkpoint": ["envelope": "origin\n9\nroot\n\n"]],
            "canonicalizedBody": hash,
        ]
        let logged = try Self.refusal(try Self.bundle(caSubject: Self.gitHub, tlogEntries: [entry]))
        #expect(logged.code != "sigstore-other-instance" && logged.code != "pass", "\(logged)")
    }
}
