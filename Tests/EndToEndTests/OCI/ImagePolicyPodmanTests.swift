import Foundation
import Testing
import BouncerBase
import BouncerTestSupport

/// Images under the project's policy.json, through the podman shim first on
/// PATH, a loopback `docker-registry` and a scratch podman storage: the rule
/// whose `match.image` covers the image names the signer, bouncer.lock pins
/// the digest each tag resolved to, a tag moved after locking is refused in
/// every mode (and frozen under CI), a different signer is identity drift,
/// and nothing refused lands in podman's storage.
@Suite(.blocking, .enabled(if: LoopbackRegistry.isAvailable && FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl")
                && FileManager.default.isExecutableFile(atPath: ContainerShimPodmanTests.podman),
                "needs docker-registry, curl, openssl and podman"))
struct ImagePolicyPodmanTests {
    typealias Fixture = ContainerShimPodmanTests.Fixture

    /// A project directory with policy.json (and, after a pull, bouncer.lock).
    struct Project {
        let directory: URL
        var policy: String { directory.appendingPathComponent("policy.json").path }
        var lock: String { directory.appendingPathComponent("bouncer.lock").path }

        init(_ fixture: Fixture) throws {
            directory = fixture.dir.appendingPathComponent("project-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }

        /// One image rule for `HOST/e2e/*` requiring a signature by `keyFile`, no log (key-signed, as skopeo signs).
        func write(host: String, keyFile: String, mode: String = "enforce", extra: String = "") throws {
            let text = """
                {"version": 1, "mode": "\(mode)", "unmatched": "deny", \(extra)
                 "keys": {"images": {"type": "publicKey", "file": \(LoopbackRegistry.jsonString(keyFile))}},
                 "rules": [{"name": "e2e images", "match": {"image": "\(host)/e2e/*"},
                            "require": [{"sigstore": {"key": "images", "requireLog": false}}]}]}
                """
            try text.write(toFile: policy, atomically: true, encoding: .utf8)
        }

        func lockText() -> String { (try? String(contentsOfFile: lock, encoding: .utf8)) ?? "" }
    }

    static func pull(_ fixture: Fixture, _ storage: PodmanStorage, _ project: Project, _ image: String,
                     environment extra: [String: String] = [:]) throws -> ProcessResult {
        let shims = Corpus.packageRoot.appendingPathComponent("shims").path
        var environment = ["PATH": "\(shims):/usr/local/bin:/usr/bin:/bin", "BOUNCER_BIN": BouncerProcess.executable,
                           "BOUNCER_POLICY": project.policy, "CI": "false", "BOUNCER_IMAGE_KEY": "", "BOUNCER_IMAGE_IDENTITY": ""]
        for (key, value) in extra { environment[key] = value }
        return try BouncerProcess.runProgram(shims + "/podman", storage.global + ["pull", "--tls-verify=false", image],
                                             cwd: project.directory.path, environment: environment)
    }

    /// The other key's public half, for a policy that trusts it.
    static func publicKey(of privateKey: String, in fixture: Fixture) throws -> String {
        let path = fixture.dir.appendingPathComponent("pub-\(UUID().uuidString.prefix(8)).pem").path
        try Fixture.run("/usr/bin/openssl", ["ec", "-in", privateKey, "-pubout", "-out", path])
        return path
    }

    @Test func policyRulePullPinsTheLockAndAMovedTagIsRefusedInEveryMode() throws {
        let f = try Fixture()
        let storage = try PodmanStorage()
        let project = try Project(f)
        try project.write(host: f.registry.host, keyFile: f.publicKey)
        let signed = try #require(f.digests["e2e/signed"])

        // The rule's key verifies the signed image; it lands by digest and is pinned per tag.
        let pull = try Self.pull(f, storage, project, f.image("e2e/signed"))
        #expect(pull.status == 0, "\(pull.err)")
        #expect(try storage.digests() == [signed])
        let lock = project.lockText()
        #expect(lock.contains("\"key\": \"oci:\(f.registry.host)/e2e/signed:v1\""), "\(lock)")
        #expect(lock.contains("\"url\": \"oci:\(f.registry.host)/e2e/signed@\(signed)\""), "\(lock)")
        #expect(lock.contains("\"sha256\": \"\(signed.dropFirst(7))\""), "\(lock)")
        #expect(lock.contains("\"ecosystem\": \"oci\""))
        #expect(lock.contains("\"signer\": \"key:sha256:"), "the key's fingerprint is the pinned identity: \(lock)")

        // Pulling the same tag again changes nothing.
        let again = try Self.pull(f, storage, project, f.image("e2e/signed"))
        #expect(again.status == 0, "\(again.err)")
        #expect(project.lockText() == lock)
        // bouncer check resolves the oci entry again and verifies it, frozen as under CI.
        let clean = try BouncerProcess.run(["check", "--frozen", "--policy", project.policy, "--json"],
                                           environment: ["BOUNCER_IMAGE_ALLOW_HTTP": "1"])
        #expect(clean.status == 0, "\(clean.out) \(clean.err)")
        #expect(clean.out.contains("\"decision\":\"allowed\""), "\(clean.out)")
        #expect(clean.out.contains("oci:\(f.registry.host)/e2e/signed@\(signed)"), "\(clean.out)")
        #expect(project.lockText() == lock)

        // Unsigned, signed by another key, a signature copied from another digest: refused, nothing lands.
        for repository in ["e2e/unsigned", "e2e/otherkey", "e2e/copied"] {
            let refused = try Self.pull(f, storage, project, f.image(repository))
            #expect(refused.status == 1, "\(repository): \(refused.err)")
            #expect(refused.err.contains("nothing was pulled"), "\(repository): \(refused.err)")
        }
        // An image no rule covers is refused like any unmatched artifact (unmatched: deny), even signed by the key.
        let outside = try f.pushImage("outside/app", content: "outside")
        try f.sign("outside/app", digest: outside, names: outside, with: f.key)
        let unmatched = try Self.pull(f, storage, project, f.image("outside/app"))
        #expect(unmatched.status == 1, "\(unmatched.err)")
        #expect(unmatched.err.contains("no rule in"), "\(unmatched.err)")

        // The tag moves to another image, properly signed by the same key: the lock refuses it.
        let moved = try f.pushImage("e2e/signed", content: "moved")
        try f.sign("e2e/signed", digest: moved, names: moved, with: f.key)
        let refusedMove = try Self.pull(f, storage, project, f.image("e2e/signed"))
        #expect(refusedMove.status == 1, "\(refusedMove.err)")
        #expect(refusedMove.err.contains("refused in every mode"), "\(refusedMove.err)")
        #expect(refusedMove.err.contains(String(moved.dropFirst(7))), "\(refusedMove.err)")
        #expect(project.lockText() == lock, "a refused pull never rewrites the lock")

        // ... in audit mode too (a changed pin is never a warning).
        try project.write(host: f.registry.host, keyFile: f.publicKey, mode: "audit")
        let audit = try Self.pull(f, storage, project, f.image("e2e/signed"))
        #expect(audit.status == 1, "\(audit.err)")
        try project.write(host: f.registry.host, keyFile: f.publicKey)

        // CI=true freezes the lock: a tag not pinned yet is refused, signed or not.
        let v2 = try f.pushImage("e2e/signed", content: "v2", tag: "v2")
        try f.sign("e2e/signed", digest: v2, names: v2, with: f.key)
        let frozen = try Self.pull(f, storage, project, f.image("e2e/signed", tag: "v2"), environment: ["CI": "true"])
        #expect(frozen.status == 1, "\(frozen.err)")
        #expect(frozen.err.contains("frozen"), "\(frozen.err)")

        // bouncer check reads the oci entry: it resolves the tag again and finds it moved.
        let check = try BouncerProcess.run(["check", "--policy", project.policy, "--json"],
                                           environment: ["BOUNCER_IMAGE_ALLOW_HTTP": "1", "CI": "false"])
        #expect(check.status == 1, "\(check.out) \(check.err)")
        #expect(check.out.contains("\"code\":\"lock-digest-changed\""), "\(check.out)")

        // Only the verified digest ever reached podman's storage.
        #expect(try storage.digests() == [signed])
        let images = try Fixture.run(ContainerShimPodmanTests.podman, storage.global + ["images", "--digests", "--format", "{{.Digest}}"])
        #expect(images.out.split(whereSeparator: \.isNewline).map(String.init) == [signed])
    }

    @Test func anImageReSignedWithAnotherKeyIsIdentityDrift() throws {
        let f = try Fixture()
        let storage = try PodmanStorage()
        let project = try Project(f)
        try project.write(host: f.registry.host, keyFile: f.publicKey)
        let first = try Self.pull(f, storage, project, f.image("e2e/signed"))
        #expect(first.status == 0, "\(first.err)")

        // v2 of the same repository, signed by another key, and the policy's key file replaced by it:
        // the signature verifies, but the locked tag of this repository was signed by the first key.
        let v2 = try f.pushImage("e2e/signed", content: "re-signed", tag: "v2")
        try f.sign("e2e/signed", digest: v2, names: v2, with: f.otherKey)
        try project.write(host: f.registry.host, keyFile: try Self.publicKey(of: f.otherKey, in: f))
        let drift = try Self.pull(f, storage, project, f.image("e2e/signed", tag: "v2"))
        #expect(drift.status == 1, "\(drift.err)")
        #expect(drift.err.contains("identity drift"), "\(drift.err)")
        #expect(try storage.digests() == [try #require(f.digests["e2e/signed"])])

        // "identity": "off" records the signer without comparing it.
        try project.write(host: f.registry.host, keyFile: try Self.publicKey(of: f.otherKey, in: f), extra: #""identity": "off","#)
        let off = try Self.pull(f, storage, project, f.image("e2e/signed", tag: "v2"))
        #expect(off.status == 0, "\(off.err)")
        #expect(try storage.digests().contains(v2))
    }

    @Test func keylessWithoutALogIsRefusedWhenThePolicyLoads() throws {
        let f = try Fixture()
        let storage = try PodmanStorage()
        let project = try Project(f)
        let text = """
            {"version": 1, "rules": [{"match": {"image": "\(f.registry.host)/e2e/*"},
              "require": [{"sigstore": {"identity": "dev@example.com", "issuer": "https://issuer.example", "requireLog": false}}]}]}
            """
        try text.write(toFile: project.policy, atomically: true, encoding: .utf8)
        let result = try Self.pull(f, storage, project, f.image("e2e/signed"))
        #expect(result.status == 2, "\(result.err)")
        #expect(result.err.contains("$.rules[0].require[0].sigstore.requireLog"), "\(result.err)")
        #expect(result.err.contains(project.policy), "\(result.err)")
        #expect(try storage.digests().isEmpty)
    }

    @Test func aKeySignatureWithoutALogCountsOnlyWithRequireLogFalse() throws {
        let f = try Fixture()
        let storage = try PodmanStorage()
        let project = try Project(f)
        // requireLog left at its default (true): the key-signed image has no Rekor entry.
        let text = """
            {"version": 1, "keys": {"images": {"type": "publicKey", "file": \(LoopbackRegistry.jsonString(f.publicKey))}},
             "rules": [{"match": {"image": "\(f.registry.host)/e2e/*"}, "require": [{"sigstore": {"key": "images"}}]}]}
            """
        try text.write(toFile: project.policy, atomically: true, encoding: .utf8)
        let refused = try Self.pull(f, storage, project, f.image("e2e/signed"))
        #expect(refused.status == 1, "\(refused.err)")
        #expect(refused.err.contains("no transparency-log entry"), "\(refused.err)")
        #expect(try storage.digests().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: project.lock))
    }

    @Test func aMinimumReleaseAgeNeedsAVerifiedSigningTime() throws {
        let f = try Fixture()
        let storage = try PodmanStorage()
        let project = try Project(f)
        // A key signature without a log entry carries no verified time: its age is unknown.
        try project.write(host: f.registry.host, keyFile: f.publicKey, extra: #""minimumReleaseAge": "48h","#)
        let result = try Self.pull(f, storage, project, f.image("e2e/signed"))
        #expect(result.status == 1, "\(result.err)")
        #expect(result.err.contains("release time is unknown"), "\(result.err)")
        #expect(try storage.digests().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: project.lock))
    }

    /// `provenance` for an image: cosign's own OCI-bundle fixture (a DSSE in-toto
    /// attestation whose subject is go-containerregistry's empty image), pushed
    /// with its referrer; the rule's predicate type and signer must hold.
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)"))
    func imageProvenanceFromABundleReferrer() throws {
        let f = try Fixture()
        let storage = try PodmanStorage()
        let c = try #require(try VerifyImageCorpusTests.load().first { $0.name == "cosign-bundle-attestation-valid" })
        let digest = try #require(c.string("manifest_digest"))
        // The empty image itself: its config (go-containerregistry's empty.Image, 115 bytes) and manifest.
        try f.registry.pushBlob("corpus/attested", Array(#"{"architecture":"","created":"0001-01-01T00:00:00Z","os":"","rootfs":{"type":"layers","diff_ids":null},"config":{}}"#.utf8))
        let pushed = try f.registry.pushManifest("corpus/attested", reference: "v1", try c.file(try #require(c.string("files", "image_manifest"))),
                                                 mediaType: "application/vnd.docker.distribution.manifest.v2+json")
        #expect(pushed == digest)
        _ = try VerifyImageCorpusTests.push(c, to: f.registry, repository: "corpus/attested", digest: digest)

        func policy(predicateType: String) throws -> Project {
            let project = try Project(f)
            let text = """
                {"version": 1, "sigstore": {"trustedRoot": \(LoopbackRegistry.jsonString(c.path("trust/trusted_root_pgi.json")))},
                 "rules": [{"match": {"image": "\(f.registry.host)/corpus/*"},
                            "require": [{"provenance": {"identity": "cody@soyland.com", "issuer": "https://github.com/login/oauth",
                                                        "predicateType": "\(predicateType)"}}]}]}
                """
            try text.write(toFile: project.policy, atomically: true, encoding: .utf8)
            return project
        }
        let image = f.image("corpus/attested")
        let wrong = try policy(predicateType: "https://slsa.dev/provenance/v1")
        let refused = try Self.pull(f, storage, wrong, image)
        #expect(refused.status == 1, "\(refused.err)")
        #expect(refused.err.contains("nothing was pulled"), "\(refused.err)")
        #expect(try storage.digests().isEmpty)

        let right = try policy(predicateType: "https://cosign.sigstore.dev/attestation/v1")
        let pulled = try Self.pull(f, storage, right, image)
        #expect(pulled.err.contains("OK: sha256 pinned in bouncer.lock; image provenance https://cosign.sigstore.dev/attestation/v1 signed by cody@soyland.com"), "\(pulled.err)")
        let lock = right.lockText()
        #expect(lock.contains("\"kind\": \"provenance\""), "\(lock)")
        #expect(lock.contains("\"sha256\": \"\(digest.dropFirst(7))\""), "\(lock)")
        #expect(pulled.status == 0, "podman: \(pulled.err)")
    }

    /// cosign's keyless layout, signed by a Sigstore instance minted here: the
    /// Fulcio-style leaf in the certificate annotation and an RFC 3161
    /// timestamp over the signature from the instance's TSA (its trusted root
    /// lists no log, so the timestamp is the signed time).
    static func signKeyless(_ fixture: Fixture, _ sigstore: MintedSigstore, _ repository: String, digest: String,
                            leaf: MintedSigstore.Leaf) throws {
        let payload = Array("{\"critical\":{\"identity\":{\"docker-reference\":\"\(fixture.registry.host)/\(repository)\"},\"image\":{\"docker-manifest-digest\":\"\(digest)\"},\"type\":\"cosign container image signature\"},\"optional\":null}".utf8)
        let signature = try sigstore.sign(payload, with: leaf)
        let stamp = try sigstore.timestamp(signature)
        var lines = ["-----BEGIN CERTIFICATE-----"]
        var body = Substring(Data(leaf.der).base64EncodedString())
        while !body.isEmpty { lines.append(String(body.prefix(64))); body = body.dropFirst(64) }
        lines.append("-----END CERTIFICATE-----")
        try fixture.registry.pushCosignSignatures(repository, signedDigest: digest, layers: [
            (payload, "application/vnd.dev.cosign.simplesigning.v1+json", [
                "dev.cosignproject.cosign/signature": Data(signature).base64EncodedString(),
                "dev.sigstore.cosign/certificate": lines.joined(separator: "\n") + "\n",
                "dev.sigstore.cosign/rfc3161timestamp": "{\"SignedRFC3161Timestamp\":\"\(Data(stamp).base64EncodedString())\"}",
            ]),
        ])
    }

    @Test func keylessImagesAreAgedByTheirSigningTimeAndPinnedToTheirIdentity() throws {
        guard let sigstore = try MintedSigstore.mint(for: "ImagePolicyPodmanTests") else { return }
        let f = try Fixture()
        let storage = try PodmanStorage()
        let root = f.dir.appendingPathComponent("minted-trusted-root.json")
        try Data(try sigstore.trustedRootJSON()).write(to: root)
        let releaser = "https://github.com/example/app/.github/workflows/release.yml@refs/heads/main"
        let intruder = "https://github.com/example/fork/.github/workflows/release.yml@refs/heads/main"
        let v1 = try f.pushImage("e2e/keyless", content: "keyless v1")
        try Self.signKeyless(f, sigstore, "e2e/keyless", digest: v1, leaf: try sigstore.issueLeaf(identity: releaser))
        let v2 = try f.pushImage("e2e/keyless", content: "keyless v2", tag: "v2")
        try Self.signKeyless(f, sigstore, "e2e/keyless", digest: v2, leaf: try sigstore.issueLeaf(identity: intruder))

        func project(_ extra: String) throws -> Project {
            let project = try Project(f)
            let text = """
                {"version": 1, \(extra) "sigstore": {"trustedRoot": \(LoopbackRegistry.jsonString(root.path))},
                 "rules": [{"match": {"image": "\(f.registry.host)/e2e/*"},
                            "require": [{"sigstore": {"identityRegexp": "https://github\\\\.com/example/.*",
                                                      "issuer": "\(MintedSigstore.gitHubActionsIssuer)"}}]}]}
                """
            try text.write(toFile: project.policy, atomically: true, encoding: .utf8)
            return project
        }
        // Signed seconds ago (the TSA's time): younger than 48 hours.
        let young = try project(#""minimumReleaseAge": "48h","#)
        let tooNew = try Self.pull(f, storage, young, f.image("e2e/keyless"))
        #expect(tooNew.status == 1, "\(tooNew.err)")
        #expect(tooNew.err.contains("younger than the policy's minimumReleaseAge of 48h"), "\(tooNew.err)")
        #expect(tooNew.err.contains("rfc3161"), "the signing time comes from the timestamp: \(tooNew.err)")
        #expect(try storage.digests().isEmpty)

        // Without a minimum it pulls, and the lock records who signed.
        let pinned = try project("")
        let first = try Self.pull(f, storage, pinned, f.image("e2e/keyless"))
        #expect(first.status == 0, "\(first.err)")
        let lock = pinned.lockText()
        #expect(lock.contains("\"signer\": \"\(releaser)\""), "\(lock)")
        #expect(lock.contains("\"issuer\": \"\(MintedSigstore.gitHubActionsIssuer)\""), "\(lock)")

        // v2 matches the rule's regexp, but was signed by another workflow than the locked v1.
        let drift = try Self.pull(f, storage, pinned, f.image("e2e/keyless", tag: "v2"))
        #expect(drift.status == 1, "\(drift.err)")
        #expect(drift.err.contains("identity drift"), "\(drift.err)")
        #expect(drift.err.contains(intruder), "\(drift.err)")
        #expect(try storage.digests() == [v1])
    }
}
