import Foundation
import Testing
import BouncerTestSupport

/// Publisher drift: a release signed by someone else than the versions
/// before it (a second key that slipped into a keyring, a new CI identity),
/// or by no one where they were signed. With `identity: "pin"` (the default)
/// the lock's record of who signed the locked version is the expectation: a
/// successor signed by another key of the trusted keyring is refused as
/// `identity-drift` (an exception allows it, with a warning), and an
/// unsigned successor as `trust-downgrade`. Nothing is written on refusal.
@Suite(.blocking, .serialized, .enabled(if: GnuPG.available)) struct PublisherDriftTests {
    let root: URL
    let project: URL
    let site: URL
    let server: DirectoryHTTPServer
    let gpg: GnuPG
    let alice: String
    let bob: String

    init() throws {
        root = try BouncerProcess.temporaryDirectory("bouncer-threat-drift")
        project = root.appendingPathComponent("project")
        site = root.appendingPathComponent("site")
        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: site, withIntermediateDirectories: true)
        server = try DirectoryHTTPServer(root: site.path)
        gpg = try GnuPG()
        alice = try gpg.generate("alice@example.test", algorithm: "ed25519")
        bob = try gpg.generate("bob@example.test", algorithm: "ed25519")
        // One keyring trusting both: the policy cannot tell them apart, only the lock can.
        let keyring = try gpg.run(["--armor", "--export", "alice@example.test", "bob@example.test"]).stdout
        try keyring.write(to: project.appendingPathComponent("release-keys.asc"))
    }

    /// Publishes `app-VERSION.tar.gz` under /files/VERSION/ with a SHA256SUMS
    /// (sums by sha256sum) signed by `signer`, or unsigned when nil.
    func publish(_ version: String, signedBy signer: String?) throws {
        let dir = site.appendingPathComponent("files/\(version)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let name = "app-\(version).tar.gz"
        try Data("app \(version) \(UUID().uuidString)\n".utf8).write(to: dir.appendingPathComponent(name))
        let sums = dir.appendingPathComponent("SHA256SUMS")
        try "\(try ThreatFixtures.sha256(dir.appendingPathComponent(name)))  \(name)\n".write(to: sums, atomically: true, encoding: .utf8)
        if let signer {
            try gpg.run(["--yes", "-u", signer, "--armor", "--detach-sign", "-o", dir.appendingPathComponent("SHA256SUMS.asc").path, sums.path])
        }
    }

    func url(_ version: String) -> String { server.baseURL + "/files/\(version)/app-\(version).tar.gz" }

    /// `signed`: the rule requires the list signed by the keyring; else only the list.
    func writePolicy(signed: Bool = true, exceptions: [String] = []) throws {
        let evidence = signed
            ? #"{ "checksums": { "url": "{dir}/SHA256SUMS", "signature": { "url": "{dir}/SHA256SUMS.asc", "key": "release" } } }"#
            : #"{ "checksums": { "url": "{dir}/SHA256SUMS" } }"#
        let policy = """
            { "version": 1, "mode": "enforce", "unmatched": "deny", "identity": "pin",
              "keys": { "release": { "type": "openpgp", "file": "release-keys.asc" } },
              "rules": [ { "name": "app", "match": { "url": "http://127.0.0.1:*/files/*/app-*.tar.gz" }, "require": [ \(evidence) ] } ],
              "exceptions": [ \(exceptions.joined(separator: ", ")) ] }
            """
        try policy.write(to: project.appendingPathComponent("policy.json"), atomically: true, encoding: .utf8)
    }

    /// `bouncer fetch URL -o FILE --json`: exit status and the reason codes of the report.
    func fetch(_ version: String) throws -> (status: Int32, codes: [String], decision: String?, out: String, err: String) {
        try Self.fetch(url(version), as: "app-\(version).tar.gz", root: root, project: project)
    }

    /// `bouncer fetch URL -o FILE --json` in `project`: exit status, the report's reason codes and decision.
    static func fetch(_ url: String, as file: String, root: URL, project: URL) throws -> (status: Int32, codes: [String], decision: String?, out: String, err: String) {
        let result = try BouncerProcess.run(["fetch", url, "-o", file, "--json"], cwd: project.path,
                                            environment: ["BOUNCER_CACHE": root.appendingPathComponent("cache").path,
                                                          "BOUNCER_STATE": root.appendingPathComponent("state").path, "CI": ""])
        let line = result.out.split(separator: "\n").first.map(String.init) ?? ""
        let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        let codes = (object?["reasons"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
        return (result.status, codes, object?["decision"] as? String, result.out, result.err)
    }

    func landed(_ version: String) -> Bool {
        FileManager.default.fileExists(atPath: project.appendingPathComponent("app-\(version).tar.gz").path)
    }

    @Test func aSuccessorSignedByAnotherTrustedKeyIsIdentityDriftUntilExcepted() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        try writePolicy()
        try publish("1.0", signedBy: "alice@example.test")
        let first = try fetch("1.0")
        #expect(first.status == 0, "\(first.out)\n\(first.err)")
        let lock = ThreatFixtures.lockEntries(project.appendingPathComponent("bouncer.lock"))
        let evidence = lock["url:" + url("1.0")]?["evidence"] as? [[String: Any]]
        #expect((evidence?.first?["signer"] as? String)?.contains(alice) == true, "the lock records alice's fingerprint: \(String(describing: evidence))")

        try publish("1.1", signedBy: "bob@example.test")
        let drifted = try fetch("1.1")
        #expect(drifted.status == 1, "\(drifted.out)\n\(drifted.err)")
        #expect(drifted.codes == ["identity-drift"], "\(drifted.out)")
        #expect(drifted.out.contains(bob) && drifted.out.contains(alice), "names both signers: \(drifted.out)")
        #expect(!landed("1.1"))
        #expect(ThreatFixtures.lockEntries(project.appendingPathComponent("bouncer.lock"))["url:" + url("1.1")] == nil)

        // The publisher really did rotate keys: an exception lets it through, loudly.
        let tomorrow = String(ThreatFixtures.utc(Date().addingTimeInterval(86_400)).prefix(10))
        try writePolicy(exceptions: [#"{ "match": { "url": "http://127.0.0.1:*/files/1.1/app-1.1.tar.gz" }, "until": "\#(tomorrow)", "reason": "app moved its release key to bob" }"#])
        let excepted = try fetch("1.1")
        #expect(excepted.status == 0, "\(excepted.out)\n\(excepted.err)")
        #expect(excepted.decision == "warned")
        #expect(excepted.codes == ["identity-drift"])
        #expect(landed("1.1"))
    }

    /// One more number in the version (1.0, then 1.0.1; 1.5.0-rc1) is the same URL family: a red-team
    /// pass had 1.0.1 signed by another key written, and that key pinned for every 1.x.y after it.
    @Test(arguments: ["1.0.1", "1.5.0-rc1"]) func aVersionWithMoreNumbersIsTheSameFamily(successor: String) throws {
        defer { try? FileManager.default.removeItem(at: root) }
        try writePolicy()
        try publish("1.0", signedBy: "alice@example.test")
        #expect(try fetch("1.0").status == 0)
        try publish(successor, signedBy: "bob@example.test")
        let drifted = try fetch(successor)
        #expect(drifted.status == 1, "\(drifted.out)\n\(drifted.err)")
        #expect(drifted.codes == ["identity-drift"], "\(drifted.out)")
        #expect(!landed(successor))
    }

    /// SSH: an allowed_signers file may list several keys for one principal (a team's, a rotated
    /// one). Each key is its own signer: the lock pins the key, not only the principal, so a
    /// successor signed by the principal's other key is identity drift (it had passed as the same).
    @Test func anSSHPrincipalsOtherKeyIsIdentityDrift() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        var keys: [String] = []
        for name in ["key-a", "key-b"] {
            let key = root.appendingPathComponent(name).path
            let made = try BouncerProcess.runProgram("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", key])
            try #require(made.status == 0, "\(made.err)")
            keys.append(try String(contentsOfFile: key + ".pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        try keys.map { "release@example.test \($0)\n" }.joined().write(to: project.appendingPathComponent("allowed_signers"), atomically: true, encoding: .utf8)
        let policy = """
            { "version": 1, "mode": "enforce", "unmatched": "deny", "identity": "pin",
              "keys": { "release": { "type": "ssh", "allowedSigners": "allowed_signers", "identity": "release@example.test", "namespace": "file" } },
              "rules": [ { "name": "app", "match": { "url": "http://127.0.0.1:*/files/*/app-*.tar.gz" },
                           "require": [ { "signature": { "url": "{url}.sig", "key": "release" } } ] } ] }
            """
        try policy.write(to: project.appendingPathComponent("policy.json"), atomically: true, encoding: .utf8)
        for (version, key) in [("1.0", "key-a"), ("1.1", "key-b"), ("1.2", "key-a")] {
            try publish(version, signedBy: nil)
            let file = site.appendingPathComponent("files/\(version)/app-\(version).tar.gz")
            let signed = try BouncerProcess.runProgram("/usr/bin/ssh-keygen", ["-Y", "sign", "-f", root.appendingPathComponent(key).path, "-n", "file", file.path])
            try #require(signed.status == 0, "\(signed.err)")
        }
        let first = try fetch("1.0")
        #expect(first.status == 0, "\(first.out)\n\(first.err)")
        let evidence = ThreatFixtures.lockEntries(project.appendingPathComponent("bouncer.lock"))["url:" + url("1.0")]?["evidence"] as? [[String: Any]]
        let signer = evidence?.first?["signer"] as? String ?? ""
        #expect(signer.hasPrefix("ssh:release@example.test key SHA256:"), "the lock pins the key: \(signer)")
        let drifted = try fetch("1.1")
        #expect(drifted.status == 1, "\(drifted.out)\n\(drifted.err)")
        #expect(drifted.codes == ["identity-drift"], "\(drifted.out)")
        #expect(!landed("1.1"))
        #expect(try fetch("1.2").status == 0, "the locked key again")
    }

    @Test func theUnsignedSuccessorOfASignedLockedVersionIsATrustDowngrade() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        try writePolicy()
        try publish("1.0", signedBy: "alice@example.test")
        #expect(try fetch("1.0").status == 0)

        // The publisher stopped signing, and someone relaxed the rule to match.
        try publish("1.2", signedBy: nil)
        try writePolicy(signed: false)
        let unsigned = try fetch("1.2")
        #expect(unsigned.status == 1, "\(unsigned.out)\n\(unsigned.err)")
        #expect(unsigned.codes == ["trust-downgrade"], "\(unsigned.out)")
        #expect(unsigned.out.contains("signed by no one"), "\(unsigned.out)")
        #expect(!landed("1.2"))
    }

    @Test func identityOffRecordsWithoutRefusing() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        try writePolicy()
        try publish("1.0", signedBy: "alice@example.test")
        #expect(try fetch("1.0").status == 0)
        try publish("1.1", signedBy: "bob@example.test")
        let text = try String(contentsOf: project.appendingPathComponent("policy.json"), encoding: .utf8)
        try text.replacingOccurrences(of: #""identity": "pin""#, with: #""identity": "off""#)
            .write(to: project.appendingPathComponent("policy.json"), atomically: true, encoding: .utf8)
        let result = try fetch("1.1")
        #expect(result.status == 0, "\(result.out)\n\(result.err)")
        #expect(result.codes.isEmpty)
        let evidence = ThreatFixtures.lockEntries(project.appendingPathComponent("bouncer.lock"))["url:" + url("1.1")]?["evidence"] as? [[String: Any]]
        #expect((evidence?.first?["signer"] as? String)?.contains(bob) == true, "bob is recorded: \(String(describing: evidence))")
    }
}

/// Keyless publisher drift, end to end: releases signed by a Sigstore
/// instance minted at test time (timestamp-only, like GitHub's own). Each
/// tagged release signs from its own ref (`release.yml@refs/tags/vN`), so
/// the lock pins the workflow without the ref: the next tag of the same
/// workflow passes, another workflow of the same repository (which the
/// rule's regexp admits) is `identity-drift`.
@Suite(.blocking, .serialized, .enabled(if: MintedSigstore.openssl != nil, "openssl is not installed"))
struct KeylessPublisherDriftTests {
    static let repository = "https://github.com/octo-org/private-repo"

    @Test func theNextTagOfTheLockedWorkflowPassesAndAnotherWorkflowIsIdentityDrift() throws {
        let sigstore = try MintedSigstore()
        let root = try BouncerProcess.temporaryDirectory("bouncer-threat-keyless-drift")
        defer { try? FileManager.default.removeItem(at: root) }
        let project = root.appendingPathComponent("project")
        let site = root.appendingPathComponent("site")
        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: site, withIntermediateDirectories: true)
        let server = try DirectoryHTTPServer(root: site.path)
        try Data(try sigstore.trustedRootJSON()).write(to: project.appendingPathComponent("trusted_root.json"))
        let policy = """
            { "version": 1, "mode": "enforce", "unmatched": "deny", "identity": "pin",
              "sigstore": { "trustedRoot": "trusted_root.json" },
              "rules": [ { "name": "app", "match": { "url": "http://127.0.0.1:*/files/*/app-*.tar.gz" },
                           "require": [ { "sigstore": { "bundle": "{url}.sigstore.json",
                                                        "identityRegexp": "\(Self.repository)/\\\\.github/workflows/.*",
                                                        "issuer": "\(MintedSigstore.gitHubActionsIssuer)" } } ] } ] }
            """
        try policy.write(to: project.appendingPathComponent("policy.json"), atomically: true, encoding: .utf8)

        func url(_ version: String) -> String { server.baseURL + "/files/\(version)/app-\(version).tar.gz" }
        /// Publishes app-VERSION.tar.gz and its bundle, signed from `workflow` at tag vVERSION.
        func publish(_ version: String, workflow: String) throws {
            let dir = site.appendingPathComponent("files/\(version)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let bytes = Array("app \(version) \(UUID().uuidString)\n".utf8)
            let identity = "\(Self.repository)/.github/workflows/\(workflow)@refs/tags/v\(version)"
            let extensions = MintedSigstore.gitHubExtensions.map { ext in
                (oid: ext.oid, value: ext.value.replacingOccurrences(of: MintedSigstore.workflowIdentity, with: identity)
                    .replacingOccurrences(of: "refs/tags/v1.0.0", with: "refs/tags/v\(version)"))
            }
            let bundle = try sigstore.bundle(artifact: bytes, leaf: try sigstore.issueLeaf(identity: identity, extensions: extensions))
            try Data(bytes).write(to: dir.appendingPathComponent("app-\(version).tar.gz"))
            try Data(bundle).write(to: dir.appendingPathComponent("app-\(version).tar.gz.sigstore.json"))
        }
        func fetch(_ version: String) throws -> (status: Int32, codes: [String], out: String) {
            let result = try PublisherDriftTests.fetch(url(version), as: "app-\(version).tar.gz", root: root, project: project)
            return (result.status, result.codes, result.out + result.err)
        }
        func landed(_ version: String) -> Bool { FileManager.default.fileExists(atPath: project.appendingPathComponent("app-\(version).tar.gz").path) }

        try publish("1.0", workflow: "release.yml")
        let first = try fetch("1.0")
        #expect(first.status == 0, "\(first.out)")
        let evidence = ThreatFixtures.lockEntries(project.appendingPathComponent("bouncer.lock"))["url:" + url("1.0")]?["evidence"] as? [[String: Any]]
        let signer = evidence?.first?["signer"] as? String ?? ""
        #expect(signer.contains("release.yml"), "the lock records the workflow: \(String(describing: evidence))")

        try publish("1.1", workflow: "release.yml")
        let nextTag = try fetch("1.1")
        #expect(nextTag.status == 0, "the next tag of the same workflow is the same signer: \(nextTag.out)")
        #expect(nextTag.codes.isEmpty, "\(nextTag.out)")
        #expect(landed("1.1"))

        try publish("1.2", workflow: "debug.yml")
        let other = try fetch("1.2")
        #expect(other.status == 1, "\(other.out)")
        #expect(other.codes == ["identity-drift"], "\(other.out)")
        #expect(other.out.contains("debug.yml") && other.out.contains("release.yml"), "names both workflows: \(other.out)")
        #expect(!landed("1.2"))
    }
}
