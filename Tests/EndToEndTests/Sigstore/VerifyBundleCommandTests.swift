import Foundation
import Testing
import BouncerTestSupport

/// `bouncer verify-bundle` on a real conformance bundle and hostile variants of it.
@Suite(.blocking) struct VerifyBundleCommandTests {
    static let identity = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
    static let issuer = "https://token.actions.githubusercontent.com"

    struct Fixture {
        let dir: URL
        let caseDir: URL
        var bundle: String { caseDir.appendingPathComponent("bundle.sigstore.json").path }
        var artifact: String { caseDir.appendingPathComponent("artifact").path }
        var root: String { caseDir.appendingPathComponent("trusted_root.json").path }

        func run(_ extra: [String], bundle: String? = nil, artifact: String? = nil,
                 identity: String = VerifyBundleCommandTests.identity, issuer: String = VerifyBundleCommandTests.issuer) throws -> ProcessResult {
            try BouncerProcess.run(["verify-bundle", "--bundle", bundle ?? self.bundle,
                                    "--certificate-identity", identity, "--certificate-oidc-issuer", issuer,
                                    "--trusted-root", root] + extra + [artifact ?? self.artifact])
        }

        /// The bundle with one JSON edit, written to the temporary directory.
        func edited(_ edit: (inout [String: Any]) -> Void) throws -> String {
            var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: bundle))) as? [String: Any])
            edit(&object)
            let path = dir.appendingPathComponent("edited-\(UUID().uuidString).json")
            try JSONSerialization.data(withJSONObject: object).write(to: path)
            return path.path
        }
    }

    static func fixture() throws -> Fixture? {
        guard let root = Corpus.rootOrNotice("VerifyBundleCommandTests") else { return nil }
        return Fixture(dir: try BouncerProcess.temporaryDirectory("bouncer-bundle"),
                       caseDir: root.appendingPathComponent("sigstore-bundle/conformance__happy-path-v0.3"))
    }

    static func reasonCode(_ result: ProcessResult) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: result.stdout) as? [String: Any],
              let reasons = object["reasons"] as? [[String: Any]] else { return nil }
        return reasons.first?["code"] as? String
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func happyPathReportsIdentityIssuerAndLogIndex() throws {
        guard let f = try Self.fixture() else { return }
        defer { try? FileManager.default.removeItem(at: f.dir) }
        let human = try f.run([])
        #expect(human.status == 0, "\(human.err)")
        #expect(human.out.contains(Self.identity) && human.out.contains(Self.issuer) && human.out.contains("log index"), "\(human.out)")
        let json = try f.run(["--json"])
        #expect(json.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [String: Any])
        #expect(object["verdict"] as? String == "pass")
        let evidence = try #require((object["evidence"] as? [[String: Any]])?.first)
        let details = try #require(evidence["details"] as? [String: String])
        #expect(details["identity"] == Self.identity)
        #expect(details["issuer"] == Self.issuer)
        #expect(!(details["logIndex"] ?? "").isEmpty)
        let sha = String(try BouncerProcess.runProgram("/usr/bin/sha256sum", [f.artifact]).out.prefix(64))
        #expect((object["artifact"] as? [String: Any])?["sha256"] as? String == sha)
        // The same verdict from the digest alone.
        let byDigest = try f.run([], artifact: "sha256:\(sha)")
        #expect(byDigest.status == 0, "\(byDigest.err)")
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func tamperedArtifactIsRefused() throws {
        guard let f = try Self.fixture() else { return }
        defer { try? FileManager.default.removeItem(at: f.dir) }
        let copy = f.dir.appendingPathComponent("artifact")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: f.artifact))
        bytes.append(0x0a)
        try bytes.write(to: copy)
        let result = try f.run(["--json"], artifact: copy.path)
        #expect(result.status == 1)
        #expect(Self.reasonCode(result) == "sigstore-artifact-digest" || Self.reasonCode(result) == "sigstore-signature", "\(result.out)")
        let wrongDigest = try f.run(["--json"], artifact: "sha256:" + String(repeating: "0", count: 64))
        #expect(wrongDigest.status == 1)
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func tamperedSignatureIsRefused() throws {
        guard let f = try Self.fixture() else { return }
        defer { try? FileManager.default.removeItem(at: f.dir) }
        let edited = try f.edited { object in
            var ms = object["messageSignature"] as? [String: Any] ?? [:]
            var sig = [UInt8](Data(base64Encoded: ms["signature"] as? String ?? "") ?? Data())
            if sig.count > 10 { sig[sig.count - 3] ^= 0x01 }
            ms["signature"] = Data(sig).base64EncodedString()
            object["messageSignature"] = ms
        }
        let result = try f.run(["--json"], bundle: edited)
        #expect(result.status == 1)
        #expect(Self.reasonCode(result) == "sigstore-signature", "\(result.out)")
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func wrongIdentityOrIssuerIsRefused() throws {
        guard let f = try Self.fixture() else { return }
        defer { try? FileManager.default.removeItem(at: f.dir) }
        let identity = try f.run(["--json"], identity: Self.identity + "x")
        #expect(identity.status == 1)
        #expect(Self.reasonCode(identity) == "sigstore-identity", "\(identity.out)")
        let issuer = try f.run(["--json"], issuer: "https://accounts.google.com")
        #expect(issuer.status == 1)
        #expect(Self.reasonCode(issuer) == "sigstore-issuer", "\(issuer.out)")
        // A regexp that matches only a prefix of the SAN is refused.
        let prefix = try BouncerProcess.run(["verify-bundle", "--bundle", f.bundle, "--certificate-identity-regexp",
                                             "https://github\\.com/sigstore-conformance/", "--certificate-oidc-issuer", Self.issuer,
                                             "--trusted-root", f.root, f.artifact])
        #expect(prefix.status == 1)
        let whole = try BouncerProcess.run(["verify-bundle", "--bundle", f.bundle, "--certificate-identity-regexp",
                                            "https://github\\.com/sigstore-conformance/.*", "--certificate-oidc-issuer-regexp", "https://token\\.actions\\..*",
                                            "--trusted-root", f.root, f.artifact])
        #expect(whole.status == 0, "\(whole.err)")
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func usageErrors() throws {
        guard let f = try Self.fixture() else { return }
        defer { try? FileManager.default.removeItem(at: f.dir) }
        // Keyless verification without an identity is a usage error, never a pass.
        let noIdentity = try BouncerProcess.run(["verify-bundle", "--bundle", f.bundle, "--trusted-root", f.root, f.artifact])
        #expect(noIdentity.status == 2)
        let noIssuer = try BouncerProcess.run(["verify-bundle", "--bundle", f.bundle, "--certificate-identity", Self.identity, f.artifact])
        #expect(noIssuer.status == 2)
        let badDigest = try f.run([], artifact: "sha256:abc")
        #expect(badDigest.status == 2)
        let badRoot = f.dir.appendingPathComponent("root.json")
        try Data("{\"mediaType\": 3}".utf8).write(to: badRoot)
        let root = try BouncerProcess.run(["verify-bundle", "--bundle", f.bundle, "--certificate-identity", Self.identity,
                                           "--certificate-oidc-issuer", Self.issuer, "--trusted-root", badRoot.path, f.artifact])
        #expect(root.status == 2)
        #expect(root.err.contains("$.mediaType"), "\(root.err)")
        let missingArtifact = try f.run([], artifact: f.dir.appendingPathComponent("nope").path)
        #expect(missingArtifact.status == 3)
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func embeddedProductionRootVerifiesAProductionBundle() throws {
        guard let f = try Self.fixture() else { return }
        defer { try? FileManager.default.removeItem(at: f.dir) }
        // No --trusted-root: the embedded public-good root is used.
        let result = try BouncerProcess.run(["verify-bundle", "--bundle", f.bundle, "--certificate-identity", Self.identity,
                                             "--certificate-oidc-issuer", Self.issuer, f.artifact])
        #expect(result.status == 0, "\(result.err)")
        // The staging root does not trust production certificates.
        let staging = try BouncerProcess.run(["verify-bundle", "--staging", "--bundle", f.bundle, "--certificate-identity", Self.identity,
                                              "--certificate-oidc-issuer", Self.issuer, f.artifact])
        #expect(staging.status == 1)
        // And a staging bundle (Rekor v2 entry, RFC 3161 time) verifies with the embedded staging root only.
        let dir = f.caseDir.deletingLastPathComponent().appendingPathComponent("sigstore-python__staging-rekor-v2")
        let c = try CorpusCase.load(dir)
        let args = ["--bundle", c.path("bundle.sigstore.json"), "--certificate-identity", c.identity?.san ?? "",
                    "--certificate-oidc-issuer", c.identity?.issuer ?? "", c.path("artifact")]
        let stagingBundle = try BouncerProcess.run(["verify-bundle", "--staging"] + args)
        #expect(stagingBundle.status == 0, "\(stagingBundle.err)")
        let stagingOnProduction = try BouncerProcess.run(["verify-bundle"] + args)
        #expect(stagingOnProduction.status == 1)
    }

    /// sigstore-python__tsa-txt-late_timestamp: its token is signed by the staging
    /// TSA, which the case's own trusted root does not list (so the corpus run is
    /// refused as tsa-untrusted). Under the embedded staging root, which lists
    /// that TSA, it is refused for what the case is about: the timestamp is
    /// later than the certificate's validity.
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func lateTimestampIsRefusedForItsTime() throws {
        guard let root = Corpus.rootOrNotice("VerifyBundleCommandTests") else { return }
        let c = try CorpusCase.load(root.appendingPathComponent("sigstore-bundle/sigstore-python__tsa-txt-late_timestamp"))
        let args = ["verify-bundle", "--bundle", c.path("bundle.sigstore.json"), "--certificate-identity", c.identity?.san ?? "",
                    "--certificate-oidc-issuer", c.identity?.issuer ?? "", "--json"]
        let staging = try BouncerProcess.run(args + ["--staging", c.path("artifact")])
        #expect(staging.status == 1)
        #expect(Self.reasonCode(staging) == "sigstore-timestamp", "\(staging.out)")
        #expect(staging.out.contains("outside the certificate's validity"), "\(staging.out)")
        let own = try BouncerProcess.run(args + ["--trusted-root", c.path("trusted_root.json"), c.path("artifact")])
        #expect(own.status == 1)
        #expect(Self.reasonCode(own) == "tsa-untrusted", "\(own.out)")
    }
}
