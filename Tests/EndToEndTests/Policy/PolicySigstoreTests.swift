import Foundation
import Testing
import BouncerTestSupport

/// `sigstore` requirements end to end: real artifacts and their real Sigstore
/// bundles from the corpus (copied into the test's temp dir at run time,
/// never into the repository), served over loopback and fetched by the real
/// `bouncer` binary under a policy. The expected identities, issuers and log
/// indexes are read from the corpus case and the bundle JSON (by Foundation),
/// never from Bouncer.
@Suite(.blocking) struct PolicySigstoreTests {
    /// A corpus case read in place.
    struct Case {
        let corpus: CorpusCase
        let artifact: [UInt8]
        let bundle: [UInt8]
        /// The bundle's tlog log index, read by Foundation.
        let logIndex: String

        init?(_ name: String, format: String = "sigstore-bundle", test: String) throws {
            guard let root = Corpus.rootOrNotice(test) else { return nil }
            let dir = root.appendingPathComponent("\(format)/\(name)")
            guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("case.json").path) else {
                print("NOTICE: \(test) skipped: corpus case \(name) is absent")
                return nil
            }
            corpus = try CorpusCase.load(dir)
            let artifactName = try #require(corpus.artifact)
            let bundleName = try #require(corpus.signature)
            artifact = [UInt8](try Data(contentsOf: URL(fileURLWithPath: corpus.path(artifactName))))
            bundle = [UInt8](try Data(contentsOf: URL(fileURLWithPath: corpus.path(bundleName))))
            let parsed = try JSONSerialization.jsonObject(with: Data(bundle))
            let object = try #require(parsed as? [String: Any])
            let material = try #require(object["verificationMaterial"] as? [String: Any])
            let entries = try #require(material["tlogEntries"] as? [[String: Any]])
            logIndex = try #require(entries.first?["logIndex"] as? String)
        }

        var fileName: String { corpus.artifact ?? "artifact" }
        var identity: String { corpus.identity?.san ?? "" }
        var issuer: String { corpus.identity?.issuer ?? "" }

        /// The bundle with one byte of its signature changed (re-encoded as valid JSON).
        func bundleWithTamperedSignature() throws -> [UInt8] {
            let parsed = try JSONSerialization.jsonObject(with: Data(bundle))
            var object = try #require(parsed as? [String: Any])
            var message = try #require(object["messageSignature"] as? [String: Any])
            let encoded = try #require(message["signature"] as? String)
            var signature = [UInt8](try #require(Data(base64Encoded: encoded)))
            signature[signature.count / 2] ^= 0x01
            message["signature"] = Data(signature).base64EncodedString()
            object["messageSignature"] = message
            return [UInt8](try JSONSerialization.data(withJSONObject: object))
        }
    }

    static let wheelCase = "sigstore-python__bundle_v3_github-whl"

    func policy(_ f: PolicyFixture, signer: String, extra: String = "") -> String {
        """
        {"version": 1, "mode": "enforce", "unmatched": "deny", \(extra)
         "rules": [{"name": "signed", "match": {"url": "\(f.server.baseURL)/files/*"},
                    "require": [{"sigstore": {"bundle": "{url}.sigstore.json", \(signer)}}]}]}
        """
    }

    func keyless(identity: String, issuer: String) -> String {
        "\"identity\": \(Self.json(identity)), \"issuer\": \(Self.json(issuer))"
    }

    static func json(_ text: String) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])) ?? Data(), as: UTF8.self)
            .dropFirst().dropLast().description
    }

    /// Serves the case's artifact and bundle (either may be replaced or left out).
    func serve(_ c: Case, _ f: PolicyFixture, artifact: [UInt8]? = nil, bundle: [UInt8]?? = .some(nil)) {
        f.server.register(c.fileName, artifact ?? c.artifact)
        switch bundle {
        case .none: break  // not served: 404
        case .some(.none): f.server.register(c.fileName + ".sigstore.json", c.bundle)
        case .some(.some(let bytes)): f.server.register(c.fileName + ".sigstore.json", bytes)
        }
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func keylessBundlePassesAndTheLockRecordsTheSigner() throws {
        guard let c = try Case(Self.wheelCase, test: "keylessBundlePassesAndTheLockRecordsTheSigner") else { return }
        let f = try PolicyFixture("bouncer-sigstore")
        serve(c, f)
        try f.writePolicy(policy(f, signer: keyless(identity: c.identity, issuer: c.issuer)))

        let result = try f.fetch(f.url(c.fileName), ["--json"])
        #expect(result.status == 0, "\(result.out)\(result.err)")
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: f.path("out.bin")))) == c.artifact)
        #expect(result.out.contains("Sigstore: \(c.identity) via \(c.issuer), log index \(c.logIndex)"), "\(result.out)")

        let entries = try f.lockEntries()
        let entry = try #require(entries.first)
        #expect(entry["sha256"] as? String == c.corpus.artifact_sha256)
        #expect(entry["sha256"] as? String == (try PolicyFixture.sha256sum(c.artifact)))
        let evidence = try #require((entry["evidence"] as? [[String: Any]])?.first { $0["kind"] as? String == "sigstore" })
        #expect(evidence["signer"] as? String == c.identity)
        #expect(evidence["issuer"] as? String == c.issuer)
        #expect(evidence["logIndex"] as? String == c.logIndex)
        #expect(evidence["source"] as? String == f.url(c.fileName) + ".sigstore.json")
        #expect(f.leftoverTemporaryFiles().isEmpty)

        // Human output says what was proven, in one line.
        try FileManager.default.removeItem(atPath: f.path("out.bin"))
        let again = try f.bouncer(["fetch", f.url(c.fileName), "-o", f.path("out.bin"), "--policy", f.path("policy.json")])
        #expect(again.status == 0, "\(again.err)")
        #expect((again.out + again.err).contains("Sigstore: \(c.identity) via \(c.issuer), log index \(c.logIndex)"), "\(again.out)\(again.err)")

        // explain shows the requirement (and no longer a failure) without fetching.
        let requestsBefore = f.server.requests(to: "/files/\(c.fileName).sigstore.json")
        let explain = try f.bouncer(["explain", f.url(c.fileName), "--policy", f.path("policy.json")])
        #expect(explain.status == 0, "\(explain.err)")
        #expect(explain.out.contains("requires: Sigstore bundle \(f.url(c.fileName)).sigstore.json from identity \(c.identity) issued by \(c.issuer)"), "\(explain.out)")
        #expect(explain.out.contains("Sigstore public-good root"), "\(explain.out)")
        #expect(!explain.out.contains("would fail"), "\(explain.out)")
        #expect(f.server.requests(to: "/files/\(c.fileName).sigstore.json") == requestsBefore)
    }

    /// `bouncer check --frozen` re-verifies the bundle and finds the lock unchanged;
    /// a later version carrying no Sigstore bundle is a trust downgrade;
    /// audit mode lets a failing bundle through, loudly.
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func checkReverifiesAndAWeakerNextVersionIsADowngrade() throws {
        guard let c = try Case(Self.wheelCase, test: "checkReverifiesAndAWeakerNextVersionIsADowngrade") else { return }
        let f = try PolicyFixture("bouncer-sigstore-lock")
        serve(c, f)
        try f.writePolicy(policy(f, signer: keyless(identity: c.identity, issuer: c.issuer)))
        #expect(try f.fetch(f.url(c.fileName)).status == 0)
        let locked = try #require(f.lockBytes)
        let check = try f.bouncer(["check", "--frozen", "--policy", f.path("policy.json")])
        #expect(check.status == 0, "\(check.err)")
        #expect(f.lockBytes == locked)

        // The next version, pinned by digest only, lacks the Sigstore evidence the locked one had.
        let next = c.fileName.replacingOccurrences(of: "0.1.2", with: "0.1.3")
        #expect(next != c.fileName)
        let body = try PolicyFixture.randomBytes(5000)
        f.server.register(next, body)
        try f.writePolicy("""
        {"version": 1, "rules": [{"name": "pinned", "match": {"url": "\(f.server.baseURL)/files/*"}, "require": [{"digest": {}}]}]}
        """)
        let weaker = try f.fetch(f.url(next), ["--sha256", try PolicyFixture.sha256sum(body), "--json"])
        #expect(weaker.status == 1, "\(weaker.out)")
        #expect(weaker.out.contains("\"code\":\"trust-downgrade\""), "\(weaker.out)")
        #expect(weaker.out.contains("lacks sigstore"), "\(weaker.out)")

        // Audit mode: a bundle by the wrong signer is allowed with a warning naming the failure.
        let audit = try PolicyFixture("bouncer-sigstore-audit")
        serve(c, audit)
        try audit.writePolicy(policy(audit, signer: keyless(identity: c.identity, issuer: "https://gitlab.com"))
            .replacingOccurrences(of: "\"mode\": \"enforce\"", with: "\"mode\": \"audit\""))
        let warned = try audit.fetch(audit.url(c.fileName))
        #expect(warned.status == 0, "\(warned.err)")
        #expect(warned.err.contains("ALLOWED WITH WARNINGS"), "\(warned.err)")
        #expect(warned.err.contains("does not match 'https://gitlab.com'"), "\(warned.err)")
    }

    /// A DSSE bundle (in-toto statement naming the artifact) also satisfies
    /// `sigstore`: the verifier then gets the file's bytes, not a digest.
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func dsseBundlePassesOnTheArtifactBytes() throws {
        guard let c = try Case("conformance__happy-path-intoto-in-dsse-v3", format: "dsse", test: "dsseBundlePassesOnTheArtifactBytes") else { return }
        let f = try PolicyFixture("bouncer-sigstore-dsse")
        serve(c, f)
        try f.writePolicy(policy(f, signer: keyless(identity: c.identity, issuer: c.issuer)))
        let result = try f.fetch(f.url(c.fileName), ["--json"])
        #expect(result.status == 0, "\(result.out)\(result.err)")
        #expect(result.out.contains("log index \(c.logIndex)"), "\(result.out)")

        var altered = c.artifact
        altered[0] ^= 0x01
        f.server.register(c.fileName, altered)
        try FileManager.default.removeItem(atPath: f.path("out.bin"))
        try FileManager.default.removeItem(atPath: f.path("bouncer.lock"))
        let refused = try f.fetch(f.url(c.fileName), ["--json"])
        #expect(refused.status == 1, "\(refused.out)")
        #expect(refused.out.contains("\"code\":\"sigstore-dsse-subject\""), "\(refused.out)")
        #expect(!f.exists("out.bin"))
    }

    enum Refusal: CaseIterable {
        case bundleMissing, bundleTampered, artifactTampered, wrongIdentity, wrongIssuer, identityRegexpPrefix, bundleNotJSON
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)"), arguments: Refusal.allCases)
    func refusedWithASpecificReasonAndNoFile(_ refusal: Refusal) throws {
        guard let c = try Case(Self.wheelCase, test: "refusedWithASpecificReasonAndNoFile") else { return }
        let f = try PolicyFixture("bouncer-sigstore-refused")
        var signer = keyless(identity: c.identity, issuer: c.issuer)
        let expected: String
        switch refusal {
        case .bundleMissing:
            serve(c, f, bundle: .none)
            expected = "Sigstore bundle \(f.url(c.fileName)).sigstore.json could not be fetched"
        case .bundleTampered:
            serve(c, f, bundle: try c.bundleWithTamperedSignature())
            expected = "\"code\":\"sigstore-signature\""
        case .artifactTampered:
            var altered = c.artifact
            altered[altered.count / 3] ^= 0x20
            serve(c, f, artifact: altered)
            expected = "\"code\":\"sigstore-artifact-digest\""
        case .wrongIdentity:
            serve(c, f)
            let other = c.identity.replacingOccurrences(of: "release.yml", with: "nightly.yml")
            #expect(other != c.identity)
            signer = keyless(identity: other, issuer: c.issuer)
            expected = "\"code\":\"sigstore-identity\""
        case .wrongIssuer:
            serve(c, f)
            signer = keyless(identity: c.identity, issuer: "https://gitlab.com")
            expected = "\"code\":\"sigstore-issuer\""
        case .identityRegexpPrefix:
            serve(c, f)
            // Matches the start of the real SAN only: regexps are anchored, so this must not pass.
            let prefix = NSRegularExpression.escapedPattern(for: String(c.identity.prefix(while: { $0 != "@" })))
            signer = "\"identityRegexp\": \(Self.json(prefix)), \"issuer\": \(Self.json(c.issuer))"
            expected = "\"code\":\"sigstore-identity\""
        case .bundleNotJSON:
            serve(c, f, bundle: Array("<html>not a bundle</html>".utf8))
            expected = "\"code\":\"sigstore-bundle-malformed\""
        }
        try f.writePolicy(policy(f, signer: signer))
        let result = try f.fetch(f.url(c.fileName), ["--json"])
        #expect(result.status == 1, "\(refusal): \(result.out)\(result.err)")
        #expect(result.out.contains(expected), "\(refusal): \(result.out)")
        #expect(result.out.contains("\"verdict\":\"fail\""))
        #expect(!f.exists("out.bin"))
        #expect(f.lockBytes == nil)
        #expect(f.leftoverTemporaryFiles().isEmpty)
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func bundleSignedWithAPublicKeyPassesOnlyWithThatKey() throws {
        guard let c = try Case("conformance__managed-key-happy-path", test: "bundleSignedWithAPublicKeyPassesOnlyWithThatKey") else { return }
        let f = try PolicyFixture("bouncer-sigstore-key")
        serve(c, f)
        try FileManager.default.createDirectory(atPath: f.path("keys"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: c.corpus.path("key.pub"), toPath: f.path("keys/signer.pub"))
        try f.writePolicy(policy(f, signer: "\"key\": \"signer\"", extra: #""keys": {"signer": {"type": "publicKey", "file": "keys/signer.pub"}},"#))
        let good = try f.fetch(f.url(c.fileName), ["--json"])
        #expect(good.status == 0, "\(good.out)\(good.err)")
        #expect(good.out.contains("Sigstore: signed by key 'signer', log index \(c.logIndex)"), "\(good.out)")
        let locked = try f.lockEntries()
        let evidence = try #require((locked.first?["evidence"] as? [[String: Any]])?.first)
        #expect(evidence["signer"] as? String == "key:signer")
        #expect(evidence["logIndex"] as? String == c.logIndex)

        // Another P-256 key (made by the real openssl) is refused, and a keyless rule refuses a key-signed bundle.
        let other = try BouncerProcess.runProgram("/usr/bin/openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"])
        let otherPub = try BouncerProcess.runProgram("/usr/bin/openssl", ["pkey", "-pubout"], stdin: other.stdout)
        #expect(otherPub.status == 0, "\(otherPub.err)")
        try otherPub.stdout.write(to: URL(fileURLWithPath: f.path("keys/other.pub")))
        for (signer, code) in [("\"key\": \"other\"", "sigstore-signature"),
                               (keyless(identity: "someone@example.test", issuer: "https://accounts.google.com"), "sigstore-verification-material")] {
            try? FileManager.default.removeItem(atPath: f.path("out.bin"))
            try? FileManager.default.removeItem(atPath: f.path("bouncer.lock"))
            try f.writePolicy(policy(f, signer: signer, extra: #""keys": {"other": {"type": "publicKey", "file": "keys/other.pub"}},"#))
            let refused = try f.fetch(f.url(c.fileName), ["--json"])
            #expect(refused.status == 1, "\(refused.out)\(refused.err)")
            #expect(refused.out.contains("\"code\":\"\(code)\""), "\(refused.out)")
            #expect(!f.exists("out.bin"))
        }
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func policyTrustedRootIsUsedInsteadOfTheEmbeddedOne() throws {
        guard let c = try Case("conformance__rekor2-happy-path", test: "policyTrustedRootIsUsedInsteadOfTheEmbeddedOne") else { return }
        let f = try PolicyFixture("bouncer-sigstore-root")
        serve(c, f)
        try FileManager.default.createDirectory(atPath: f.path("trust"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: c.corpus.path("trusted_root.json"), toPath: f.path("trust/root.json"))
        let signer = keyless(identity: c.identity, issuer: c.issuer)

        // The case's own root is not the public-good one: the embedded root refuses its log.
        try f.writePolicy(policy(f, signer: signer))
        let embedded = try f.fetch(f.url(c.fileName), ["--json"])
        #expect(embedded.status == 1, "\(embedded.out)\(embedded.err)")
        #expect(!f.exists("out.bin"))

        try f.writePolicy(policy(f, signer: signer, extra: #""sigstore": {"trustedRoot": "trust/root.json"},"#))
        let named = try f.fetch(f.url(c.fileName), ["--json"])
        #expect(named.status == 0, "\(named.out)\(named.err)")
        #expect(named.out.contains("log index \(c.logIndex)"), "\(named.out)")
        let explain = try f.bouncer(["explain", f.url(c.fileName), "--policy", f.path("policy.json")])
        #expect(explain.out.contains("trusted root \(f.path("trust/root.json"))"), "\(explain.out)")
    }

    @Test func badSigstoreSettingsAreConfigurationErrorsWithTheirPath() throws {
        let f = try PolicyFixture("bouncer-sigstore-config")
        f.server.register("a.bin", Array("a".utf8))
        try Data("{\"mediaType\": \"nonsense\"}".utf8).write(to: URL(fileURLWithPath: f.path("bad-root.json")))
        let signer = keyless(identity: "a@example.test", issuer: "https://accounts.google.com")
        let cases: [(String, String)] = [
            (#""sigstore": {"trustedroot": "x.json"},"#, "$.sigstore.trustedroot: unknown key 'trustedroot'"),
            (#""sigstore": {"staging": "yes"},"#, "$.sigstore.staging: expected a boolean, found a string"),
            (#""sigstore": {"trustedRoot": 1},"#, "$.sigstore.trustedRoot: expected a string, found a number"),
            (#""sigstore": {"trustedRoot": "missing.json"},"#, "$.sigstore.trustedRoot: cannot read trusted root"),
            (#""sigstore": {"trustedRoot": "bad-root.json"},"#, "$.sigstore.trustedRoot:"),
            (#""sigstore": {"trustedRoot": "bad-root.json", "staging": true},"#, "$.sigstore.staging: give 'trustedRoot' or 'staging'"),
            (#""sigstore": [],"#, "$.sigstore: expected an object, found an array"),
        ]
        for (extra, message) in cases {
            try f.writePolicy(policy(f, signer: signer, extra: extra))
            let result = try f.fetch(f.url("a.bin"))
            #expect(result.status == 2, "\(extra): \(result.err)")
            #expect(result.err.contains(message), "\(extra): \(result.err)")
            #expect(!f.exists("out.bin"))
        }
        #expect(f.server.requests(to: "/files/a.bin") == 0)
    }
}
