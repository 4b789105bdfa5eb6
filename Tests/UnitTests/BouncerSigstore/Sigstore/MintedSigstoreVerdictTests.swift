import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools
import BouncerTestSupport

/// Keyless verdicts on bundles from a Sigstore instance minted at test time
/// (MintedSigstore: CA, TSA, no log, as GitHub's private instance), without
/// the corpus: the success, every refusal, and the timestamp threshold.
@Suite(.enabled(if: MintedSigstore.openssl != nil, "openssl is not installed"))
struct MintedSigstoreVerdictTests {
    static let artifact = Array("release bytes of a private repository\n".utf8)
    static let signer = IdentityPolicy(identity: .exact(MintedSigstore.workflowIdentity),
                                       issuer: .exact(MintedSigstore.gitHubActionsIssuer))

    static func verify(_ bundle: [UInt8], root: [UInt8], artifact: [UInt8] = artifact,
                       signer: IdentityPolicy = signer) throws -> BundleVerifier.Verified {
        try BundleVerifier.verify(bundle: try SigstoreBundle.parse(bundle), artifact: .bytes(artifact),
                                  trustedRoot: try SigstoreTrustedRoot.parse(root), policy: .keyless(signer))
    }

    /// The refusal's code and message, or ("pass", "").
    static func refusal(_ bundle: [UInt8], root: [UInt8], artifact: [UInt8] = artifact,
                        signer: IdentityPolicy = signer) -> (code: String, message: String) {
        do {
            _ = try verify(bundle, root: root, artifact: artifact, signer: signer)
            return ("pass", "")
        } catch let failure as any BouncerFailure {
            return (failure.code, failure.description)
        } catch {
            return ("not a BouncerFailure", "\(error)")
        }
    }

    @Test func aTimestampOnlyBundleVerifiesUnderItsInstancesRoot() throws {
        let sigstore = try MintedSigstore()
        let leaf = try sigstore.issueLeaf()
        let before = Date().addingTimeInterval(-1)
        let bundle = try sigstore.bundle(artifact: Self.artifact, leaf: leaf)
        let after = Date().addingTimeInterval(1)
        let verified = try Self.verify(bundle, root: try sigstore.trustedRootJSON())
        #expect(verified.identity == MintedSigstore.workflowIdentity)
        #expect(verified.issuer == MintedSigstore.gitHubActionsIssuer)
        #expect(verified.logIndexes.isEmpty)
        #expect(verified.timeSources == [.rfc3161])
        #expect(verified.timestampsNotVerified.isEmpty)
        // The TSA stamped the signature while the bundle was being made (second resolution).
        let time = try #require(verified.signingTimes.first)
        #expect(time >= before.addingTimeInterval(-1) && time <= after, "\(time) not in \(before)...\(after)")
        #expect(verified.artifactSHA256 == Hasher.digest(Self.artifact, .sha256))
    }

    @Test func withoutItsRootTheRefusalNamesGitHubsTrustedRoot() throws {
        let sigstore = try MintedSigstore()
        let bundle = try sigstore.bundle(artifact: Self.artifact, leaf: try sigstore.issueLeaf())
        // Public-good's root, and the instance's own root with a log added: both list logs.
        let production = Array(EmbeddedTrustedRoots.production.utf8)
        for root in [production, try sigstore.trustedRootJSON(withLog: true)] {
            let refused = Self.refusal(bundle, root: root)
            #expect(refused.code == "sigstore-other-instance", "\(refused)")
            #expect(refused.message.contains("GitHub's Sigstore instance (certificate issuer CN=Fulcio Intermediate l2, O=\(sigstore.organization))"), "\(refused.message)")
            #expect(refused.message.contains("--trusted-root"), "\(refused.message)")
        }
        // Another private instance: the missing log entry, and what would verify it.
        let other = try MintedSigstore(organization: "Example Corp")
        let otherBundle = try other.bundle(artifact: Self.artifact, leaf: try other.issueLeaf())
        let refused = Self.refusal(otherBundle, root: try other.trustedRootJSON(withLog: true))
        #expect(refused.code == "sigstore-tlog-entry", "\(refused)")
        #expect(refused.message.contains("only RFC 3161 timestamps") && !refused.message.contains("GitHub"), "\(refused.message)")
        #expect(Self.refusal(otherBundle, root: try other.trustedRootJSON()).code == "pass")
    }

    @Test(arguments: [0, 1])
    func oneTimestampOverOtherDataIsReportedAndTheOtherCounts(badIndex: Int) throws {
        let sigstore = try MintedSigstore()
        let unrelated = MintedSigstore.Stamp.over(Array("some other signature".utf8))
        let stamps: [MintedSigstore.Stamp] = badIndex == 0 ? [unrelated, .overSignature] : [.overSignature, unrelated]
        let bundle = try sigstore.bundle(artifact: Self.artifact, leaf: try sigstore.issueLeaf(), stamps: stamps)
        let verified = try Self.verify(bundle, root: try sigstore.trustedRootJSON())
        #expect(verified.timeSources == [.rfc3161])
        #expect(verified.timestampsNotVerified.count == 1)
        let note = try #require(verified.timestampsNotVerified.first)
        #expect(note.contains("rfc3161Timestamps[\(badIndex)]") && note.contains("message imprint"), "\(note)")
    }

    @Test func tooFewVerifiedTimestampsAreRefusedNamingEach() throws {
        let sigstore = try MintedSigstore()
        let leaf = try sigstore.issueLeaf()
        let root = try sigstore.trustedRootJSON()
        let unrelated = try sigstore.bundle(artifact: Self.artifact, leaf: leaf,
                                            stamps: [.over(Array("a".utf8)), .over(Array("b".utf8))])
        let refused = Self.refusal(unrelated, root: root)
        #expect(refused.code == "tsa-imprint-mismatch", "\(refused)")
        #expect(refused.message.contains("0 of the bundle's 2 RFC 3161 timestamps verified"), "\(refused.message)")
        #expect(refused.message.contains("rfc3161Timestamps[0]") && refused.message.contains("rfc3161Timestamps[1]"), "\(refused.message)")
        // Two different failures: the general code, both named.
        let stranger = try MintedSigstore()
        let mixed = try sigstore.bundle(artifact: Self.artifact, leaf: leaf, stamps: [.over(Array("a".utf8)), .byTSA(of: stranger)])
        let mixedRefusal = Self.refusal(mixed, root: root)
        #expect(mixedRefusal.code == "sigstore-timestamp", "\(mixedRefusal)")
        #expect(mixedRefusal.message.contains("rfc3161Timestamps[1]: ") && mixedRefusal.message.contains("no trusted timestamp authority"), "\(mixedRefusal.message)")
    }

    @Test func everyRefusalHasItsOwnStep() throws {
        let sigstore = try MintedSigstore()
        let root = try sigstore.trustedRootJSON()
        let good = try sigstore.bundle(artifact: Self.artifact, leaf: try sigstore.issueLeaf())
        #expect(Self.refusal(good, root: root).code == "pass")

        // Wrong identity: the policy names another workflow.
        let elsewhere = IdentityPolicy(identity: .exact("https://github.com/octo-org/other/.github/workflows/release.yml@refs/tags/v1.0.0"),
                                       issuer: .exact(MintedSigstore.gitHubActionsIssuer))
        #expect(Self.refusal(good, root: root, signer: elsewhere).code == "sigstore-identity")
        // Wrong issuer: the certificate was issued for another OIDC issuer.
        let otherIssuer = try sigstore.bundle(artifact: Self.artifact, leaf: try sigstore.issueLeaf(issuer: "https://oidc.example.com"))
        #expect(Self.refusal(otherIssuer, root: root).code == "sigstore-issuer")
        // Expired when signed: the certificate ended an hour before the timestamp.
        let expiredLeaf = try sigstore.issueLeaf(notBefore: Date().addingTimeInterval(-7200), notAfter: Date().addingTimeInterval(-3600))
        let expired = Self.refusal(try sigstore.bundle(artifact: Self.artifact, leaf: expiredLeaf), root: root)
        #expect(expired.code == "sigstore-timestamp" && expired.message.contains("outside the certificate's validity"), "\(expired)")
        // Tampered artifact.
        var tampered = Self.artifact
        tampered[0] ^= 1
        #expect(Self.refusal(good, root: root, artifact: tampered).code == "sigstore-artifact-digest")
        // Missing log entry, where the trusted root lists a log.
        #expect(Self.refusal(good, root: try sigstore.trustedRootJSON(withLog: true)).code == "sigstore-other-instance")
        // Bad timestamp: by a TSA the trusted root does not list.
        let stranger = try MintedSigstore()
        let untrusted = try sigstore.bundle(artifact: Self.artifact, leaf: try sigstore.issueLeaf(), stamps: [.byTSA(of: stranger)])
        #expect(Self.refusal(untrusted, root: root).code == "tsa-untrusted")
        // No timestamp and no log entry: nothing says when it was signed.
        let unstamped = try sigstore.bundle(artifact: Self.artifact, leaf: try sigstore.issueLeaf(), stamps: [])
        #expect(Self.refusal(unstamped, root: root).code == "sigstore-signing-time")
        // A leaf from another instance's CA does not chain to this root.
        let foreign = try stranger.bundle(artifact: Self.artifact, leaf: try stranger.issueLeaf(), stamps: [.byTSA(of: sigstore)])
        #expect(Self.refusal(foreign, root: root).code == "sigstore-certificate-chain")
    }

    @Test func theIssuerNameForMessagesIsReadWithoutTrappingOnAnyPrefix() throws {
        let sigstore = try MintedSigstore(organization: "Example, Inc.")
        let leaf = try sigstore.issueLeaf()
        let name = try #require(CertificateIssuerName(certificateDER: leaf.der))
        #expect(name.organization == "Example, Inc." && name.commonName == "Fulcio Intermediate l2", "\(name)")
        for length in 0..<leaf.der.count {
            // A cut certificate has no well-formed outer element; its name is not read.
            #expect(CertificateIssuerName(certificateDER: Array(leaf.der.prefix(length))) == nil)
        }
    }

    @Test func aGitHubInstanceAttestationVerifiesWithItsRequirements() throws {
        let sigstore = try MintedSigstore()
        let digest = Hasher.digest(Self.artifact, .sha256).hex
        let statement = Statements.slsaV1(digests: ["sha256": digest], repository: "https://github.com/octo-org/private-repo")
        let bundle = try SigstoreBundle.parse(try sigstore.bundle(artifact: Self.artifact, leaf: try sigstore.issueLeaf(), statement: statement))
        var requirements = AttestationRequirements()
        requirements.signerWorkflow = "octo-org/private-repo/.github/workflows/release.yml"
        requirements.sourceRepository = .exact("https://github.com/octo-org/private-repo")
        requirements.owner = "octo-org"
        func verify(_ root: [UInt8]) throws -> AttestationVerifier.Facts {
            try AttestationVerifier.verify(bundle: bundle, artifact: ArtifactDigests(bytes: Self.artifact),
                                           trustedRoot: try SigstoreTrustedRoot.parse(root), policy: .keyless(Self.signer),
                                           requirements: requirements)
        }
        let facts = try verify(try sigstore.trustedRootJSON())
        #expect(facts.identity == MintedSigstore.workflowIdentity)
        #expect(facts.logIndexes.isEmpty && facts.signingTimes.count == 1)
        #expect(facts.certificate.sourceRepositoryURI == "https://github.com/octo-org/private-repo")
        #expect(facts.checked.contains("source-repo") && facts.checked.contains("owner"), "\(facts.checked)")
        do {
            _ = try verify(Array(EmbeddedTrustedRoots.production.utf8))
            Issue.record("a GitHub-instance attestation verified under public-good's root")
        } catch let error as SigstoreError {
            #expect(error.step == .otherInstance, "\(error)")
        }
    }
}
