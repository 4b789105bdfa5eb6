import Foundation
import Testing
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools
import BouncerTestSupport

/// `bouncer verify-bundle` on a Sigstore instance minted at test time
/// (MintedSigstore, shaped like GitHub's private instance): a trusted root
/// with a window lacking its start is bad local configuration (exit 2, also
/// through the policy); a timestamp-only bundle verifies with its root and is
/// refused without it, saying which root it needs; a timestamp that does not
/// verify is reported and does not count.
@Suite(.blocking, .enabled(if: MintedSigstore.openssl != nil, "openssl is not installed"))
struct MintedInstanceCommandTests {
    static let artifact = Array("release bytes of a private repository\n".utf8)

    /// The instance's files: artifact, bundle, trusted root (as given).
    static func write(_ sigstore: MintedSigstore, bundle: [UInt8], root: [String: Any]) throws -> (artifact: String, bundle: String, root: String) {
        let dir = sigstore.directory
        let name = UUID().uuidString
        try Data(artifact).write(to: dir.appendingPathComponent("\(name).artifact"))
        try Data(bundle).write(to: dir.appendingPathComponent("\(name).sigstore.json"))
        try JSONSerialization.data(withJSONObject: root).write(to: dir.appendingPathComponent("\(name).root.json"))
        return (dir.appendingPathComponent("\(name).artifact").path, dir.appendingPathComponent("\(name).sigstore.json").path,
                dir.appendingPathComponent("\(name).root.json").path)
    }

    static func verify(_ files: (artifact: String, bundle: String, root: String), trustedRoot: Bool = true, json: Bool = true) throws -> ProcessResult {
        try BouncerProcess.run(["verify-bundle", "--bundle", files.bundle,
                                "--certificate-identity", MintedSigstore.workflowIdentity,
                                "--certificate-oidc-issuer", MintedSigstore.gitHubActionsIssuer]
                               + (trustedRoot ? ["--trusted-root", files.root] : []) + (json ? ["--json"] : []) + [files.artifact])
    }

    static func report(_ result: ProcessResult) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: result.stdout) as? [String: Any]) ?? [:]
    }

    static func reasons(_ result: ProcessResult) -> [[String: Any]] { report(result)["reasons"] as? [[String: Any]] ?? [] }

    static func details(_ result: ProcessResult) -> [String: String] {
        ((report(result)["evidence"] as? [[String: Any]])?.first?["details"] as? [String: String]) ?? [:]
    }

    @Test func aRootWhoseLogWindowHasNoStartIsBadConfiguration() throws {
        let sigstore = try MintedSigstore()
        let bundle = try sigstore.bundle(artifact: Self.artifact, leaf: try sigstore.issueLeaf())
        var root = sigstore.trustedRoot(withLog: true)
        let good = try Self.write(sigstore, bundle: bundle, root: root)
        // The control: the same root with its start is usable (the bundle is refused for its missing entry).
        #expect(try Self.verify(good).status == 1)
        var logs = root["tlogs"] as? [[String: Any]] ?? []
        var key = logs[0]["publicKey"] as? [String: Any] ?? [:]
        key["validFor"] = [String: Any]()
        logs[0]["publicKey"] = key
        root["tlogs"] = logs
        let files = try Self.write(sigstore, bundle: bundle, root: root)
        let result = try Self.verify(files)
        #expect(result.status == 2, "\(result.out) \(result.err)")
        #expect(result.err.contains("$.tlogs[0].publicKey.validFor.start: missing"), "\(result.err)")

        // The same root as the policy's sigstore.trustedRoot.
        let policy = sigstore.directory.appendingPathComponent("policy.json")
        let text = #"{"version": 1, "mode": "enforce", "unmatched": "deny", "rules": [], "sigstore": {"trustedRoot": "\#(URL(fileURLWithPath: files.root).lastPathComponent)"}}"#
        try Data(text.utf8).write(to: policy)
        let explained = try BouncerProcess.run(["explain", "https://example.com/a.bin", "--policy", policy.path])
        #expect(explained.status == 2, "\(explained.out) \(explained.err)")
        #expect(explained.err.contains("$.sigstore.trustedRoot") && explained.err.contains("$.tlogs[0].publicKey.validFor.start"), "\(explained.err)")
    }

    @Test func aGitHubInstanceBundleVerifiesWithItsRootAndNamesItWithout() throws {
        let sigstore = try MintedSigstore()
        let bundle = try sigstore.bundle(artifact: Self.artifact, leaf: try sigstore.issueLeaf())
        let files = try Self.write(sigstore, bundle: bundle, root: sigstore.trustedRoot())
        let verified = try Self.verify(files)
        #expect(verified.status == 0, "\(verified.out) \(verified.err)")
        #expect(Self.report(verified)["verdict"] as? String == "pass")
        #expect(Self.details(verified)["timeSource"] == "rfc3161")
        #expect(Self.details(verified)["identity"] == MintedSigstore.workflowIdentity)

        let refused = try Self.verify(files, trustedRoot: false)
        #expect(refused.status == 1, "\(refused.out) \(refused.err)")
        let reason = Self.reasons(refused).first
        #expect(reason?["code"] as? String == "sigstore-other-instance", "\(refused.out)")
        let message = reason?["message"] as? String ?? ""
        #expect(message.contains("GitHub's Sigstore instance") && message.contains("O=GitHub, Inc.") && message.contains("--trusted-root"), "\(message)")
    }

    @Test func aGitHubInstanceAttestationVerifiesWithItsRoot() throws {
        let sigstore = try MintedSigstore()
        let digest = Hasher.digest(Self.artifact, .sha256).hex
        let statement: [String: Any] = [
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [["name": "app.tar.gz", "digest": ["sha256": digest]]],
            "predicateType": "https://example.com/predicate/v1", "predicate": [String: Any](),
        ]
        let bundle = try sigstore.bundle(artifact: Self.artifact, leaf: try sigstore.issueLeaf(),
                                         stamps: [.over(Array("unrelated".utf8)), .overSignature],
                                         statement: Array(try JSONSerialization.data(withJSONObject: statement)))
        let files = try Self.write(sigstore, bundle: bundle, root: sigstore.trustedRoot())
        let args = ["verify-attestation", "--bundle", files.bundle, "--signer-workflow", "octo-org/private-repo/.github/workflows/release.yml"]
        let verified = try BouncerProcess.run(args + ["--trusted-root", files.root, files.artifact])
        #expect(verified.status == 0, "\(verified.out) \(verified.err)")
        #expect(verified.out.contains("no transparency log (RFC 3161 timestamp)"), "\(verified.out)")
        #expect(verified.out.contains("did not verify") && verified.out.contains("rfc3161Timestamps[0]"), "\(verified.out)")
        let refused = try BouncerProcess.run(args + ["--json", files.artifact])
        #expect(refused.status == 1, "\(refused.out) \(refused.err)")
        #expect(Self.reasons(refused).first?["code"] as? String == "sigstore-other-instance", "\(refused.out)")
    }

    @Test func anUnrelatedTimestampIsReportedAndTwoAreRefused() throws {
        let sigstore = try MintedSigstore()
        let leaf = try sigstore.issueLeaf()
        let one = try sigstore.bundle(artifact: Self.artifact, leaf: leaf, stamps: [.overSignature, .over(Array("unrelated".utf8))])
        let files = try Self.write(sigstore, bundle: one, root: sigstore.trustedRoot())
        let passed = try Self.verify(files)
        #expect(passed.status == 0, "\(passed.out) \(passed.err)")
        let note = Self.details(passed)["timestampsNotVerified"] ?? ""
        #expect(note.contains("rfc3161Timestamps[1]") && note.contains("message imprint"), "\(passed.out)")
        #expect(!note.contains("rfc3161Timestamps[0]"), "\(note)")
        // The human line says it too.
        let human = try Self.verify(files, json: false)
        #expect(human.status == 0)
        #expect(human.out.contains("OK:") && human.out.contains("did not verify") && human.out.contains("rfc3161Timestamps[1]"), "\(human.out)")

        let both = try sigstore.bundle(artifact: Self.artifact, leaf: leaf, stamps: [.over(Array("a".utf8)), .over(Array("b".utf8))])
        let refused = try Self.verify(try Self.write(sigstore, bundle: both, root: sigstore.trustedRoot()))
        #expect(refused.status == 1, "\(refused.out) \(refused.err)")
        let message = Self.reasons(refused).first?["message"] as? String ?? ""
        #expect(message.contains("rfc3161Timestamps[0]") && message.contains("rfc3161Timestamps[1]"), "\(refused.out)")
    }
}
