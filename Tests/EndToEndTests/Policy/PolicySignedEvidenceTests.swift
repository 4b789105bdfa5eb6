import Foundation
import Testing
import BouncerTestSupport

/// A release served over loopback with a SHA256SUMS signed by a real `gpg`
/// key and a minisign signature made by the real `minisign`: it passes; each
/// evidence file missing, tampered or signed by the wrong key is refused
/// with a specific message and no destination file.
@Suite(.blocking, .serialized) struct PolicySignedEvidenceTests {
    /// Keys and signatures made once by the real tools.
    final class Release {
        let gpg: GnuPG
        let fingerprint: String
        let releaseKey: String
        let minisignKeyLine: String
        let artifact: [UInt8]
        let sums: [UInt8]
        let sumsSignature: [UInt8]
        let sumsSignedByMallory: [UInt8]
        let minisig: [UInt8]
        let minisigByOther: [UInt8]
        let tamperedSums: [UInt8]
        let name: String
        static let name = "app-1.4.0.tar.gz"

        /// `artifact` nil: 200 kB of random bytes named `app-1.4.0.tar.gz`.
        init(artifact given: [UInt8]? = nil, name: String = Release.name) throws {
            self.name = name
            gpg = try GnuPG()
            fingerprint = try gpg.generate("release@example.test", algorithm: "ed25519")
            try gpg.generate("mallory@example.test", algorithm: "ed25519")
            releaseKey = try gpg.export("release@example.test", to: "release.asc", armor: true)
            artifact = try given ?? PolicyFixture.randomBytes(200_000)
            let sha = try PolicyFixture.sha256sum(artifact)
            let other = try PolicyFixture.sha256sum(Array("another file".utf8))
            sums = Array("\(other)  README\n\(sha)  \(name)\n".utf8)
            tamperedSums = Array("\(other)  README\n\(String(sha.reversed()))  \(name)\n".utf8)
            let sumsPath = try gpg.write("SHA256SUMS", String(decoding: sums, as: UTF8.self))
            try gpg.sign("release@example.test", sumsPath, "SHA256SUMS.asc", ["--armor", "--detach-sign"])
            try gpg.sign("mallory@example.test", sumsPath, "SHA256SUMS.mallory.asc", ["--armor", "--detach-sign"])
            sumsSignature = [UInt8](try Data(contentsOf: URL(fileURLWithPath: gpg.file("SHA256SUMS.asc"))))
            sumsSignedByMallory = [UInt8](try Data(contentsOf: URL(fileURLWithPath: gpg.file("SHA256SUMS.mallory.asc"))))

            let minisign = "/usr/bin/minisign"
            let dir = gpg.work.path
            try Data(artifact).write(to: URL(fileURLWithPath: dir + "/" + name))
            for (pub, key) in [("k.pub", "k.key"), ("other.pub", "other.key")] {
                let made = try BouncerProcess.runProgram(minisign, ["-G", "-W", "-p", pub, "-s", key], cwd: dir)
                guard made.status == 0 else { throw GnuPG.Failed(description: "minisign -G: \(made.err)") }
            }
            func sign(_ key: String) throws -> [UInt8] {
                let signed = try BouncerProcess.runProgram(minisign, ["-S", "-s", key, "-m", name], cwd: dir)
                guard signed.status == 0 else { throw GnuPG.Failed(description: "minisign -S: \(signed.err)") }
                return [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name + ".minisig")))
            }
            minisigByOther = try sign("other.key")
            minisig = try sign("k.key")
            let pub = try String(contentsOfFile: dir + "/k.pub", encoding: .utf8)
            minisignKeyLine = pub.split(separator: "\n").map(String.init).last ?? ""
        }
    }

    static let available = GnuPG.available && FileManager.default.isExecutableFile(atPath: "/usr/bin/minisign")

    enum Variant: String, CaseIterable {
        case good
        case sumsMissing, sumsSignatureMissing, minisigMissing
        case sumsTampered, artifactTampered, minisigTampered
        case sumsSignedByWrongKey, minisigByWrongKey
        // Only with a Sigstore bundle in the rule:
        case bundleMissing, bundleTampered, bundleForAnotherIdentity
    }

    /// Serves the release (as altered by `variant`) and fetches it under the
    /// policy; with `sigstore`, the rule also requires the case's bundle
    /// (served as `{url}.sigstore.json`) signed by the case's identity.
    func run(_ release: Release, _ variant: Variant, sigstore: PolicySigstoreTests.Case? = nil) throws -> (PolicyFixture, ProcessResult) {
        let f = try PolicyFixture("bouncer-signed")
        try FileManager.default.createDirectory(atPath: f.path("keys"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: release.releaseKey, toPath: f.path("keys/release.asc"))
        var sigstoreRequirement = ""
        if let sigstore {
            let identity = variant == .bundleForAnotherIdentity ? sigstore.identity + "-other" : sigstore.identity
            sigstoreRequirement = """
            ,
                          { "sigstore": { "bundle": "{url}.sigstore.json", "identity": \(PolicySigstoreTests.json(identity)), "issuer": \(PolicySigstoreTests.json(sigstore.issuer)) } }
            """
        }
        try f.writePolicy("""
        {
          "version": 1, "mode": "enforce", "unmatched": "deny",
          "keys": {
            "release": { "type": "openpgp", "file": "keys/release.asc" },
            "zig": { "type": "minisign", "key": "\(release.minisignKeyLine)" }
          },
          "rules": [{
            "name": "app releases",
            "match": { "url": "\(f.server.baseURL)/files/rel/*" },
            "require": [
              { "checksums": { "url": "{dir}/SHA256SUMS", "signature": { "url": "{dir}/SHA256SUMS.asc", "key": "release" } } },
              { "signature": { "url": "{url}.minisig", "key": "zig" } }\(sigstoreRequirement)
            ]
          }]
        }
        """)
        var artifact = release.artifact
        if variant == .artifactTampered { artifact[1000] ^= 0x20 }
        f.server.register(release.name, artifact)
        switch variant {
        case .sumsMissing: break
        case .sumsTampered: f.server.register("SHA256SUMS", release.tamperedSums)
        default: f.server.register("SHA256SUMS", release.sums)
        }
        switch variant {
        case .sumsSignatureMissing: break
        case .sumsSignedByWrongKey: f.server.register("SHA256SUMS.asc", release.sumsSignedByMallory)
        default: f.server.register("SHA256SUMS.asc", release.sumsSignature)
        }
        switch variant {
        case .minisigMissing: break
        case .minisigByWrongKey: f.server.register(release.name + ".minisig", release.minisigByOther)
        case .minisigTampered:
            // Flip one character of the base64 signature line (line 2).
            var lines = String(decoding: release.minisig, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            var chars = Array(lines[1])
            chars[10] = chars[10] == "A" ? "B" : "A"
            lines[1] = String(chars)
            f.server.register(release.name + ".minisig", Array(lines.joined(separator: "\n").utf8))
        default: f.server.register(release.name + ".minisig", release.minisig)
        }
        if let sigstore {
            switch variant {
            case .bundleMissing: break
            case .bundleTampered: f.server.register(release.name + ".sigstore.json", try sigstore.bundleWithTamperedSignature())
            default: f.server.register(release.name + ".sigstore.json", sigstore.bundle)
            }
        }
        let result = try f.fetch(f.server.url("/files/rel/\(release.name)"), output: release.name, ["--json"])
        return (f, result)
    }

    /// Each variant is refused (exit 1, a fail verdict) with its message
    /// (`\\(base)` standing for the server's base URL), writing no
    /// destination, no lock and no temporary file.
    func expectRefusals(_ release: Release, _ expectations: [(Variant, String)], sigstore: PolicySigstoreTests.Case? = nil) throws {
        for (variant, expected) in expectations {
            let (f, result) = try run(release, variant, sigstore: sigstore)
            let message = expected.replacingOccurrences(of: "\\(base)", with: f.server.baseURL)
            #expect(result.status == 1, "\(variant): \(result.out)\(result.err)")
            #expect(result.out.contains("\"verdict\":\"fail\""), "\(variant)")
            #expect(result.out.contains(message), "\(variant): expected '\(message)' in \(result.out)")
            #expect(!f.exists(release.name), "\(variant): destination written")
            #expect(f.lockBytes == nil, "\(variant): lock written")
            #expect(f.leftoverTemporaryFiles().isEmpty, "\(variant)")
        }
    }

    @Test func signedReleasePassesAndEveryBrokenPieceIsRefused() throws {
        guard Self.available else {
            Issue.record("gpg and minisign are required (apt-get install gnupg minisign)")
            return
        }
        let release = try Release()

        let (good, passed) = try run(release, .good)
        #expect(passed.status == 0, "\(passed.out)\(passed.err)")
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: good.path(release.name)))) == release.artifact)
        #expect(passed.out.contains("listed in SHA256SUMS signed by openpgp key \(release.fingerprint)"), "\(passed.out)")
        #expect(passed.out.contains("signed by minisign key"), "\(passed.out)")
        let entry = try #require(try good.lockEntries().first)
        #expect(entry["sha256"] as? String == (try PolicyFixture.sha256sum(release.artifact)))
        let evidence = entry["evidence"] as? [[String: Any]] ?? []
        #expect(evidence.map { $0["kind"] as? String } == ["checksums", "signature"])
        #expect(evidence.first?["signer"] as? String == "openpgp:\(release.fingerprint)")
        #expect((evidence.last?["signer"] as? String)?.hasPrefix("minisign:") == true)
        #expect(good.leftoverTemporaryFiles().isEmpty)

        let expectations: [(Variant, String)] = [
            (.sumsMissing, "checksum list \\(base)/files/rel/SHA256SUMS could not be fetched"),
            (.sumsSignatureMissing, "checksum list signature \\(base)/files/rel/SHA256SUMS.asc could not be fetched"),
            (.minisigMissing, "signature \\(base)/files/rel/\(release.name).minisig could not be fetched"),
            (.sumsTampered, "not signed by key 'release': \\(base)/files/rel/SHA256SUMS.asc: signature at offset 0 by \(release.fingerprint): BAD signature"),
            (.artifactTampered, "\\(base)/files/rel/SHA256SUMS: sha256 of '\(release.name)' is "),
            (.minisigTampered, "not signed by key 'zig': \\(base)/files/rel/\(release.name).minisig: "),
            (.sumsSignedByWrongKey, "is not in the trusted keyring"),
            (.minisigByWrongKey, "not signed by key 'zig': \\(base)/files/rel/\(release.name).minisig: wrong key: signed by minisign key"),
        ]
        try expectRefusals(release, expectations)
        // The tampered artifact fails both the list and the minisign signature.
        let (_, tampered) = try run(release, .artifactTampered)
        #expect(tampered.out.contains("not signed by key 'zig'"), "\(tampered.out)")
    }

    /// The whole release the policy issue describes: a real artifact with its
    /// real Sigstore bundle from the corpus, a SHA256SUMS signed with gpg and a
    /// minisign signature made here, all required by one rule. It passes with
    /// all three recorded; each bundle problem is refused on its own.
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func signedListSignatureAndSigstoreBundleTogether() throws {
        guard Self.available else {
            Issue.record("gpg and minisign are required (apt-get install gnupg minisign)")
            return
        }
        guard let sigstore = try PolicySigstoreTests.Case(PolicySigstoreTests.wheelCase,
                                                          test: "PolicySignedEvidenceTests.signedListSignatureAndSigstoreBundleTogether") else { return }
        let release = try Release(artifact: sigstore.artifact, name: sigstore.fileName)

        let (good, passed) = try run(release, .good, sigstore: sigstore)
        #expect(passed.status == 0, "\(passed.out)\(passed.err)")
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: good.path(release.name)))) == sigstore.artifact)
        let entry = try #require(try good.lockEntries().first)
        let evidence = entry["evidence"] as? [[String: Any]] ?? []
        #expect(evidence.map { $0["kind"] as? String } == ["checksums", "signature", "sigstore"])
        let recorded = String(describing: evidence.last ?? [:])
        #expect(recorded.contains(sigstore.identity) && recorded.contains(sigstore.logIndex), "\(recorded)")

        let expectations: [(Variant, String)] = [
            (.bundleMissing, "\"code\":\"sigstore-unavailable\",\"message\":\"Sigstore bundle \\(base)/files/rel/\(release.name).sigstore.json could not be fetched"),
            (.bundleTampered, "\"code\":\"sigstore-signature\",\"message\":\"\\(base)/files/rel/\(release.name).sigstore.json: the signature does not verify over the artifact"),
            (.bundleForAnotherIdentity, "\"code\":\"sigstore-identity\",\"message\":\"\\(base)/files/rel/\(release.name).sigstore.json: the certificate's identity '\(sigstore.identity)' does not match '\(sigstore.identity)-other'"),
            (.minisigByWrongKey, "not signed by key 'zig'"),
            (.sumsSignedByWrongKey, "is not in the trusted keyring"),
        ]
        try expectRefusals(release, expectations, sigstore: sigstore)
    }

    @Test func aSignatureInTheWrongFormatForTheKeyIsRefused() throws {
        guard Self.available else { return }
        let release = try Release()
        let f = try PolicyFixture("bouncer-signed")
        try f.writePolicy("""
        {"version": 1, "keys": {"zig": {"type": "minisign", "key": "\(release.minisignKeyLine)"}},
         "rules": [{"match": {"host": "127.0.0.1"}, "require": [{"signature": {"url": "{url}.asc", "key": "zig"}}]}]}
        """)
        f.server.register("SHA256SUMS", release.sums)
        f.server.register("SHA256SUMS.asc", release.sumsSignature)
        let result = try f.fetch(f.url("SHA256SUMS"))
        #expect(result.status == 1)
        #expect(result.err.contains("is a signature in openpgp format, but key 'zig' is a minisign key"), "\(result.err)")
        #expect(!f.exists("out.bin"))
    }
}
