import Foundation
import Testing
import BouncerTestSupport

/// `bouncer verify-attestation` and `bouncer verify-npm` end to end, on
/// envelopes and packuments signed at test time with openssl, on real corpus
/// bundles, and on derived ones.
@Suite(.blocking) struct VerifyAttestationCommandTests {
    final class Workspace {
        let dir: URL
        init() throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("bouncer-va-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "key.pem"])
            try openssl(["ec", "-in", "key.pem", "-pubout", "-out", "pub.pem"])
            try write("artifact.tar.gz", Array("release bytes\n".utf8))
        }
        deinit { try? FileManager.default.removeItem(at: dir) }

        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
        func write(_ name: String, _ bytes: [UInt8]) throws { try Data(bytes).write(to: dir.appendingPathComponent(name)) }
        func openssl(_ args: [String]) throws {
            let result = try BouncerProcess.runProgram("/usr/bin/openssl", args, cwd: dir.path)
            #expect(result.status == 0, "openssl \(args.joined(separator: " ")): \(result.err)")
        }
        func sign(_ message: [UInt8]) throws -> [UInt8] {
            let name = "m-\(UUID().uuidString)"
            try write(name, message)
            try openssl(["dgst", "-sha256", "-sign", "key.pem", "-out", name + ".sig", name])
            return Array(try Data(contentsOf: dir.appendingPathComponent(name + ".sig")))
        }
        func pae(_ type: String, _ body: [UInt8]) -> [UInt8] { Array("DSSEv1 \(type.utf8.count) \(type) \(body.count) ".utf8) + body }

        /// Writes a DSSE envelope over `statement` and returns its path.
        func envelope(_ statement: [UInt8], type: String = "application/vnd.in-toto+json") throws -> String {
            let object: [String: Any] = ["payload": Data(statement).base64EncodedString(), "payloadType": type,
                                         "signatures": [["keyid": "", "sig": Data(try sign(pae(type, statement))).base64EncodedString()]]]
            let name = "env-\(UUID().uuidString).json"
            try write(name, Array(try JSONSerialization.data(withJSONObject: object)))
            return path(name)
        }

        var sha256: String {
            get throws {
                let r = try BouncerProcess.run(["hash", path("artifact.tar.gz")])
                return String(r.out.prefix(64))
            }
        }
    }

    static func statement(_ sha256: String, repository: String = "https://github.com/org/repo", ref: String = "refs/tags/v1.0.0",
                          predicateType: String = "https://slsa.dev/provenance/v1") -> [UInt8] {
        let object: [String: Any] = [
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [["name": "artifact.tar.gz", "digest": ["sha256": sha256]]],
            "predicateType": predicateType,
            "predicate": [
                "buildDefinition": [
                    "buildType": "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
                    "externalParameters": ["workflow": ["ref": ref, "repository": repository, "path": ".github/workflows/release.yml"]],
                ],
                "runDetails": ["builder": ["id": "https://github.com/actions/runner/github-hosted"]],
            ],
        ]
        return Array((try? JSONSerialization.data(withJSONObject: object)) ?? Data())
    }

    func json(_ result: ProcessResult) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: result.stdout)) as? [String: Any] ?? [:]
    }

    func reasonCodes(_ result: ProcessResult) -> [String] {
        (json(result)["reasons"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func signedProvenancePassesAndTheReportShowsWhatWasProven() throws {
        let w = try Workspace()
        let env = try w.envelope(Self.statement(try w.sha256))
        let result = try BouncerProcess.run(["verify-attestation", "--bundle", env, "--key", w.path("pub.pem"),
                                             "--predicate-type", "https://slsa.dev/provenance/v1",
                                             "--source-repo", "github.com/org/repo", "--source-ref", "refs/tags/v1.0.0",
                                             "--builder-id", "https://github.com/actions/runner/github-hosted",
                                             "--workflow", ".github/workflows/release.yml", "--json", w.path("artifact.tar.gz")])
        #expect(result.status == 0, "\(result.err)")
        let report = json(result)
        #expect(report["verdict"] as? String == "pass")
        let details = (report["evidence"] as? [[String: Any]])?.first?["details"] as? [String: String] ?? [:]
        #expect(details["sourceRepo"] == "https://github.com/org/repo")
        #expect(details["sourceRef"] == "refs/tags/v1.0.0")
        #expect(details["builderId"] == "https://github.com/actions/runner/github-hosted")
        #expect(details["workflow"] == ".github/workflows/release.yml")
        #expect(details["predicateType"] == "https://slsa.dev/provenance/v1")
        #expect(Set((details["checked"] ?? "").split(separator: ",").map(String.init))
                == ["subject-digest", "predicate-type", "source-repo", "source-ref", "builder-id", "workflow"])
        #expect((report["artifact"] as? [String: Any])?["sha256"] as? String == (try w.sha256))
    }

    @Test func eachRequirementRefusesWithItsOwnCode() throws {
        let w = try Workspace()
        let sha = try w.sha256
        let good = try w.envelope(Self.statement(sha))
        func run(_ env: String, _ extra: [String], artifact: String? = nil) throws -> ProcessResult {
            try BouncerProcess.run(["verify-attestation", "--bundle", env, "--key", w.path("pub.pem"), "--json"] + extra + [artifact ?? w.path("artifact.tar.gz")])
        }
        let cases: [(String, [String], String, String?)] = [
            (good, ["--builder-id", "https://github.com/actions/runner/self-hosted"], "attestation-builder", nil),
            (good, ["--source-repo", "https://github.com/org/repo-evil"], "attestation-source-repo", nil),
            (try w.envelope(Self.statement(sha, repository: "https://github.com/org/repo-evil")), ["--source-repo", "github.com/org/repo"], "attestation-source-repo", nil),
            (try w.envelope(Self.statement(sha, repository: "https://github.com/org/repo/../other")), ["--source-repo", "github.com/org/repo"], "attestation-source-repo", nil),
            (good, ["--source-ref", "refs/tags/v1.0.1"], "attestation-source-ref", nil),
            (good, ["--predicate-type", "https://slsa.dev/provenance/v0.2"], "attestation-predicate-type", nil),
            (good, [], "attestation-subject", "sha256:" + String(repeating: "ab", count: 32)),
            (try w.envelope(Self.statement(sha), type: "application/json"), [], "attestation-payload-type", nil),
            (try w.envelope(Array("not json at all".utf8)), [], "attestation-statement", nil),
        ]
        for (env, extra, code, artifact) in cases {
            let result = try run(env, extra, artifact: artifact)
            #expect(result.status == 1, "\(extra): exit \(result.status) \(result.err)")
            #expect(reasonCodes(result).contains(code), "\(extra): \(reasonCodes(result)) \(result.out)")
        }
        // A valid envelope whose statement names a different artifact.
        try w.write("other.bin", Array("other".utf8))
        let other = try run(good, [], artifact: w.path("other.bin"))
        #expect(other.status == 1 && reasonCodes(other) == ["attestation-subject"])
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func nothingToVerifyIsNeverSuccess() throws {
        let w = try Workspace()
        for (name, text) in [("empty.json", ""), ("blank.json", " \n\n "), ("none.json", "{\"attestations\":[]}"),
                             ("garbage.jsonl", "not json\nstill not\n"), ("pep.json", "{\"version\":1,\"attestation_bundles\":[]}")] {
            try w.write(name, Array(text.utf8))
            let result = try BouncerProcess.run(["verify-attestation", "--bundle", w.path(name), "--key", w.path("pub.pem"), "--json", w.path("artifact.tar.gz")])
            #expect(result.status == 1, "\(name): exit \(result.status) \(result.err)")
            #expect(json(result)["verdict"] as? String == "fail", "\(name)")
        }
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func usageErrorsAreExitTwo() throws {
        let w = try Workspace()
        let env = try w.envelope(Self.statement(try w.sha256))
        let cases: [[String]] = [
            ["verify-attestation", "--bundle", env, w.path("artifact.tar.gz")],                                  // keyless with no signer
            ["verify-attestation", "--bundle", env, "--certificate-identity", "x", w.path("artifact.tar.gz")],   // identity without issuer
            ["verify-attestation", "--bundle", env, "--key", w.path("pub.pem"), "--staging", "--trusted-root", env, w.path("artifact.tar.gz")],
            ["verify-attestation", "--bundle", env, "--key", w.path("pub.pem"), "--source-repo", "github.com/org/repo/../x", w.path("artifact.tar.gz")],
            ["verify-attestation", "--bundle", env, "--signer-workflow", "org", w.path("artifact.tar.gz")],
            ["verify-npm", "--package", "x", "--version", "1.0.0", "--registry-keys", env],
            ["verify-npm", "--package", "x", "--version", "1.0.0", "--registry-keys", env, "--packument", env],    // keys file is no keys file
        ]
        for args in cases {
            let result = try BouncerProcess.run(args)
            #expect(result.status == 2, "\(args.joined(separator: " ")): exit \(result.status) \(result.err)")
        }
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func aTimestampOnlyBundleUnderARootWithLogsSaysWhichRootItNeeds() throws {
        guard let root = Corpus.rootOrNotice("VerifyAttestationCommandTests") else { return }
        let dir = root.appendingPathComponent("dsse/gh-cli__reusable-workflow")
        // DERIVED at test time: the real bundle as GitHub's private instance shapes it, TSA time and no log entry.
        var bundle = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("bundle.sigstore.json"))) as? [String: Any] ?? [:]
        var material = bundle["verificationMaterial"] as? [String: Any] ?? [:]
        material["tlogEntries"] = []
        material["timestampVerificationData"] = ["rfc3161Timestamps": [["signedTimestamp": "MAA="]]]
        bundle["verificationMaterial"] = material
        let w = try Workspace()
        try w.write("private.json", Array(try JSONSerialization.data(withJSONObject: bundle)))
        let result = try BouncerProcess.run(["verify-attestation", "--bundle", w.path("private.json"), "--trusted-root", dir.appendingPathComponent("trusted_root.json").path,
                                             "--signer-workflow", "github/artifact-attestations-workflows/.github/workflows/attest.yml", "--json",
                                             dir.appendingPathComponent("reusable-workflow-artifact").path])
        #expect(result.status == 1)
        #expect(reasonCodes(result) == ["sigstore-tlog-entry"])
        #expect(result.out.contains("only RFC 3161 timestamps") && result.out.contains("--trusted-root"), "\(result.out)")
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func gitHubAttestationFromTheCorpusReportsLogIndexAndSource() throws {
        guard let root = Corpus.rootOrNotice("VerifyAttestationCommandTests") else { return }
        let dir = root.appendingPathComponent("dsse/gh-cli__reusable-workflow")
        let base = ["verify-attestation", "--bundle", dir.appendingPathComponent("bundle.sigstore.json").path,
                    "--trusted-root", dir.appendingPathComponent("trusted_root.json").path, "--json"]
        let artifact = dir.appendingPathComponent("reusable-workflow-artifact").path
        let result = try BouncerProcess.run(base + ["--signer-workflow", "github/artifact-attestations-workflows/.github/workflows/attest.yml",
                                                    "--source-repo", "https://github.com/malancas/attest-demo", "--owner", "malancas", artifact])
        #expect(result.status == 0, "\(result.out) \(result.err)")
        let report = json(result)
        #expect(report["verdict"] as? String == "pass")
        let evidence = report["evidence"] as? [[String: Any]] ?? []
        #expect(evidence.count == 1)
        let details = evidence.first?["details"] as? [String: String] ?? [:]
        // Expected values read from the bundle itself: its log entry and its signed predicate.
        let bundle = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("bundle.sigstore.json"))) as? [String: Any] ?? [:]
        let entries = (bundle["verificationMaterial"] as? [String: Any])?["tlogEntries"] as? [[String: Any]] ?? []
        let logIndex = try #require(entries.first?["logIndex"] as? String)
        let payload = try #require(Data(base64Encoded: (bundle["dsseEnvelope"] as? [String: Any])?["payload"] as? String ?? ""))
        let statement = try JSONSerialization.jsonObject(with: payload) as? [String: Any] ?? [:]
        let builder = try #require((((statement["predicate"] as? [String: Any])?["runDetails"] as? [String: Any])?["builder"] as? [String: Any])?["id"] as? String)
        #expect(entries.count == 1)
        // One keyless report shows who signed, what built it, from where, and where it is logged.
        #expect(details["builderId"] == builder)
        #expect(details["logIndex"] == logIndex)
        #expect(details["issuer"] == "https://token.actions.githubusercontent.com")
        #expect(details["identity"]?.hasPrefix("https://github.com/github/artifact-attestations-workflows/") == true)
        #expect(details["sourceRepo"] == "https://github.com/malancas/attest-demo")
        #expect(details["sourceRef"] == "refs/heads/main")
        #expect(details["workflow"] == ".github/workflows/shared.yml")
        #expect(Set((details["checked"] ?? "").split(separator: ",").map(String.init)) == ["subject-digest", "source-repo", "signer-workflow", "owner"])
        // Refused: the caller workflow did not sign and a look-alike repository (both at the signer identity
        // these flags imply), and another owner under an explicit identity (at the owner check).
        for (extra, code) in [(["--signer-workflow", "malancas/attest-demo/.github/workflows/shared.yml"], "sigstore-identity"),
                              (["--source-repo", "https://github.com/malancas/attest-demo-evil"], "sigstore-identity"),
                              (["--certificate-identity-regexp", ".*", "--certificate-oidc-issuer", "https://token.actions.githubusercontent.com", "--owner", "malancas-evil"], "attestation-owner")] {
            let refused = try BouncerProcess.run(base + extra + [artifact])
            #expect(refused.status == 1, "\(extra): \(refused.out)")
            #expect(reasonCodes(refused) == [code], "\(extra): \(refused.out)")
        }
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func verifyNpmOnATestSignedPackument() throws {
        let w = try Workspace()
        let tarball = Array("npm tarball bytes".utf8)
        try w.write("pkg.tgz", tarball)
        let sri = try BouncerProcess.run(["hash", "--algorithm", "sha512", "--sri", w.path("pkg.tgz")]).out
            .split(separator: " ").first.map(String.init) ?? ""
        #expect(sri.hasPrefix("sha512-"))
        let sig = try w.sign(Array("@scope/pkg@1.2.3:\(sri)".utf8))
        let pem = try String(contentsOfFile: w.path("pub.pem"), encoding: .utf8)
        let spki = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        try w.write("keys.json", Array("{\"keys\":[{\"expires\":null,\"keyid\":\"SHA256:k\",\"keytype\":\"ecdsa-sha2-nistp256\",\"scheme\":\"ecdsa-sha2-nistp256\",\"key\":\"\(spki)\"}]}".utf8))
        let packument: [String: Any] = ["name": "@scope/pkg", "versions": ["1.2.3": ["name": "@scope/pkg", "version": "1.2.3",
            "dist": ["integrity": sri, "signatures": [["keyid": "SHA256:k", "sig": Data(sig).base64EncodedString()]]]]]]
        try w.write("packument.json", Array(try JSONSerialization.data(withJSONObject: packument)))
        let args = ["verify-npm", "--package", "@scope/pkg", "--version", "1.2.3", "--registry-keys", w.path("keys.json"),
                    "--packument", w.path("packument.json"), "--json"]
        let ok = try BouncerProcess.run(args + ["--tarball", w.path("pkg.tgz")])
        #expect(ok.status == 0, "\(ok.out) \(ok.err)")
        let kinds = (json(ok)["evidence"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }
        #expect(kinds == ["npm-registry-signature", "integrity"])
        // Another tarball under the same signed record, and another version's name.
        try w.write("evil.tgz", tarball + [0x0A])
        let swapped = try BouncerProcess.run(args + ["--tarball", w.path("evil.tgz")])
        #expect(swapped.status == 1 && reasonCodes(swapped) == ["npm-integrity"])
        let otherVersion = try BouncerProcess.run(["verify-npm", "--package", "@scope/pkg", "--version", "1.2.4", "--registry-keys", w.path("keys.json"),
                                                   "--packument", w.path("packument.json"), "--json"])
        #expect(otherVersion.status == 1 && reasonCodes(otherVersion) == ["npm-packument"])
    }
}

/// PEP 740 attestations against a Trusted Publisher requirement, with no
/// identity flags: the publisher names the issuer, repository and workflow.
@Suite(.blocking) struct VerifyAttestationPublisherTests {
    func run(_ name: String, _ publisher: String) throws -> ProcessResult? {
        guard let root = Corpus.rootOrNotice("VerifyAttestationPublisherTests") else { return nil }
        let c = try CorpusCase.load(root.appendingPathComponent("pep740").appendingPathComponent(name))
        guard let artifact = c.artifact, let signature = c.signature else { return nil }
        return try BouncerProcess.run(["verify-attestation", "--bundle", c.path(signature), "--trusted-root", c.path("trusted_root.json"),
                                       "--trusted-publisher", publisher, "--json", c.path(artifact)])
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func gitHubAndGitLabPublishers() throws {
        let cases: [(String, String, Int32)] = [
            ("pypi-attestations__pypi_attestations-0.0.19-provenance", "github:trailofbits/pypi-attestations/release.yml", 0),
            ("pypi-attestations__pypi_attestations-0.0.19-publish", "github:trailofbits/pypi-attestations/release.yml", 0),
            ("pypi-attestations__pypi_attestations-0.0.19-publish", "github:trailofbits/pypi-attestations/wrong.yml", 1),
            ("pypi-attestations__pypi_attestations-0.0.19-publish", "github:trailofbits/pypi-attestations-evil/release.yml", 1),
            ("pypi-attestations__gitlab-sdist", "gitlab:facutuesca/gitlab-oidc-project//.gitlab-ci.yml", 0),
            ("pypi-attestations__gitlab-sdist", "gitlab:facutuesca/gitlab-oidc-project//wrong.yml", 1),
            ("pypi-attestations__gitlab-sdist", "github:facutuesca/gitlab-oidc-project/.gitlab-ci.yml", 1),
            ("pypi-attestations__rfc8785-whl-wrong-identity_fail", "google:fake@example.com", 1),
        ]
        for (name, publisher, status) in cases {
            guard let result = try run(name, publisher) else { return }
            #expect(result.status == status, "\(name) \(publisher): exit \(result.status) \(result.out.prefix(300))")
            if status == 0 {
                let report = (try? JSONSerialization.jsonObject(with: result.stdout)) as? [String: Any] ?? [:]
                let details = (report["evidence"] as? [[String: Any]])?.first?["details"] as? [String: String] ?? [:]
                #expect(details["checked"]?.contains("trusted-publisher") == true, "\(details)")
                #expect(details["sourceRepo"] != nil)
            }
        }
    }
}

/// verify-npm on the corpus's real npm attestations response: both
/// attestations verify, and the package named must be the one attested.
@Suite(.blocking) struct VerifyNpmAttestationsTests {
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func purlSourceRepoAndRegistryKey() throws {
        guard let root = Corpus.rootOrNotice("VerifyNpmAttestationsTests") else { return }
        let dir = root.appendingPathComponent("npm-attestations/slsa-verifier__npm-gundam-visor-cli-v1-tag")
        func run(_ version: String, _ repo: String, keys: String = "npm-keys.json") throws -> ProcessResult {
            try BouncerProcess.run(["verify-npm", "--package", "gundam-visor", "--version", version,
                                    "--tarball", dir.appendingPathComponent("gundam-visor-cli-v1-tag.tgz").path,
                                    "--attestations", dir.appendingPathComponent("attestations.json").path,
                                    "--registry-keys", dir.appendingPathComponent(keys).path,
                                    "--trusted-root", dir.appendingPathComponent("trusted_root.json").path,
                                    "--source-repo", repo, "--json"])
        }
        let ok = try run("1.0.1", "https://github.com/ramonpetgrave64/gundam-visor")
        #expect(ok.status == 0, "\(ok.out)")
        let evidence = (try? JSONSerialization.jsonObject(with: ok.stdout) as? [String: Any])?["evidence"] as? [[String: Any]] ?? []
        let details = evidence.compactMap { $0["details"] as? [String: String] }
        #expect(details.contains { $0["registryKeyId"] == "SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA" && $0["role"] == "npm-publish" })
        #expect(details.contains { $0["sourceRepo"] == "https://github.com/ramonpetgrave64/gundam-visor" && $0["sourceRef"] == "refs/tags/v1.0.1"
                                   && $0["checked"]?.contains("npm-purl") == true && !($0["logIndex"] ?? "").isEmpty })
        // The same attestations for another version, or from a look-alike repository: refused.
        #expect(try run("1.0.2", "https://github.com/ramonpetgrave64/gundam-visor").status == 1)
        #expect(try run("1.0.1", "https://github.com/ramonpetgrave64/gundam-visor-evil").status == 1)
        // Registry keys without the attestation key: the publish attestation cannot be checked.
        let w = FileManager.default.temporaryDirectory.appendingPathComponent("bouncer-npmkeys-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: w) }
        var keys = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("npm-keys.json"))) as? [String: Any] ?? [:]
        keys["keys"] = (keys["keys"] as? [[String: Any]] ?? []).filter { $0["keyUsage"] as? String != "npm:attestations" }
        try JSONSerialization.data(withJSONObject: keys).write(to: w)
        let noKey = try BouncerProcess.run(["verify-npm", "--package", "gundam-visor", "--version", "1.0.1",
                                            "--tarball", dir.appendingPathComponent("gundam-visor-cli-v1-tag.tgz").path,
                                            "--attestations", dir.appendingPathComponent("attestations.json").path,
                                            "--registry-keys", w.path, "--trusted-root", dir.appendingPathComponent("trusted_root.json").path,
                                            "--source-repo", "https://github.com/ramonpetgrave64/gundam-visor", "--json"])
        #expect(noKey.status == 1 && noKey.out.contains("npm-key-unknown"), "\(noKey.out)")
    }
}

/// How a file with several attestations passes: a list of bundles (gh) when
/// one verifies; a PEP 740 provenance object only when every one does.
@Suite(.blocking) struct AttestationSetRulesTests {
    func object(_ url: URL) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] ?? [:]
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func jsonLinesNeedOneVerifiedBundleAndShowTheOthers() throws {
        guard let root = Corpus.rootOrNotice("AttestationSetRulesTests") else { return }
        let dir = root.appendingPathComponent("dsse/gh-cli__reusable-workflow")
        let good = try object(dir.appendingPathComponent("bundle.sigstore.json"))
        var bad = good
        if var envelope = bad["dsseEnvelope"] as? [String: Any], var signatures = envelope["signatures"] as? [[String: Any]],
           let sig = signatures.first?["sig"] as? String, var raw = Data(base64Encoded: sig) {
            raw[raw.count - 1] ^= 0x01   // DERIVED at test time: the last signature byte flipped
            signatures[0]["sig"] = raw.base64EncodedString()
            envelope["signatures"] = signatures
            bad["dsseEnvelope"] = envelope
        }
        func line(_ o: [String: Any]) throws -> String { String(decoding: try JSONSerialization.data(withJSONObject: o), as: UTF8.self) }
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("bouncer-jsonl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        let mixed = tmp.appendingPathComponent("mixed.jsonl"), allBad = tmp.appendingPathComponent("bad.jsonl")
        try (try line(bad) + "\n" + line(good) + "\n").write(to: mixed, atomically: true, encoding: .utf8)
        try (try line(bad) + "\n" + line(bad) + "\n").write(to: allBad, atomically: true, encoding: .utf8)
        func run(_ file: URL) throws -> ProcessResult {
            try BouncerProcess.run(["verify-attestation", "--bundle", file.path, "--trusted-root", dir.appendingPathComponent("trusted_root.json").path,
                                    "--signer-workflow", "github/artifact-attestations-workflows/.github/workflows/attest.yml", "--json",
                                    dir.appendingPathComponent("reusable-workflow-artifact").path])
        }
        let ok = try run(mixed)
        #expect(ok.status == 0, "\(ok.out)")
        let report = try JSONSerialization.jsonObject(with: ok.stdout) as? [String: Any] ?? [:]
        #expect((report["evidence"] as? [Any])?.count == 1)
        #expect((report["signatures"] as? [[String: Any]])?.first?["status"] as? String == "refused")
        #expect(try run(allBad).status == 1)
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func provenanceObjectsNeedEveryAttestation() throws {
        guard let root = Corpus.rootOrNotice("AttestationSetRulesTests") else { return }
        let dir = root.appendingPathComponent("pep740/pypi-attestations__pypi_attestations-0.0.19-provenance")
        var provenance = try object(dir.appendingPathComponent("pypi_attestations-0.0.19.tar.gz.provenance"))
        var groups = provenance["attestation_bundles"] as? [[String: Any]] ?? []
        var attestations = groups.first?["attestations"] as? [[String: Any]] ?? []
        guard var second = attestations.first, var envelope = second["envelope"] as? [String: Any],
              let sig = envelope["signature"] as? String, var raw = Data(base64Encoded: sig) else { Issue.record("unexpected provenance shape"); return }
        raw[raw.count - 1] ^= 0x01   // DERIVED at test time: a second copy with its signature altered
        envelope["signature"] = raw.base64EncodedString()
        second["envelope"] = envelope
        attestations.append(second)
        groups[0]["attestations"] = attestations
        provenance["attestation_bundles"] = groups
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bouncer-prov-\(UUID().uuidString).provenance")
        defer { try? FileManager.default.removeItem(at: file) }
        try JSONSerialization.data(withJSONObject: provenance).write(to: file)
        let args = ["--trusted-root", dir.appendingPathComponent("trusted_root.json").path,
                    "--trusted-publisher", "github:trailofbits/pypi-attestations/release.yml",
                    dir.appendingPathComponent("pypi_attestations-0.0.19.tar.gz").path]
        #expect(try BouncerProcess.run(["verify-attestation", "--bundle", dir.appendingPathComponent("pypi_attestations-0.0.19.tar.gz.provenance").path] + args).status == 0)
        let mixed = try BouncerProcess.run(["verify-attestation", "--bundle", file.path] + args)
        #expect(mixed.status == 1, "\(mixed.out) \(mixed.err)")
    }
}
