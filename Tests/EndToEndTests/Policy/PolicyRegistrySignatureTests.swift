import Foundation
import Testing
import BouncerTestSupport

/// `registrySignature` (npm) end to end: a registry on loopback serving a
/// packument whose `dist.signatures` were made by the real `openssl` with a
/// P-256 key listed in an npm-registry keys file, and the tarball under the
/// registry layout `REGISTRY/NAME/-/NAME-VERSION.tgz`; plus the real registry
/// packuments and keys from the corpus.
@Suite(.blocking, .serialized) struct PolicyRegistrySignatureTests {
    static let openssl = "/usr/bin/openssl"

    /// A registry key and a second key, made by openssl in a temp directory.
    final class Registry {
        let dir: URL
        let keysJSON: [UInt8]
        let tarball: [UInt8]
        let integrity: String

        init() throws {
            dir = try BouncerProcess.temporaryDirectory("bouncer-npm-keys")
            for name in ["registry", "other"] {
                let made = try BouncerProcess.runProgram(PolicyRegistrySignatureTests.openssl,
                                                         ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "\(name).pem"], cwd: dir.path)
                guard made.status == 0 else { throw GnuPG.Failed(description: "openssl genpkey: \(made.err)") }
            }
            let spki = try BouncerProcess.runProgram(PolicyRegistrySignatureTests.openssl, ["pkey", "-in", "registry.pem", "-pubout", "-outform", "DER"], cwd: dir.path)
            let keys: [String: Any] = ["keys": [["keyId": "SHA256:loopback-registry", "keyUsage": "npm:signatures",
                                                 "publicKey": ["rawBytes": spki.stdout.base64EncodedString(), "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                                                               "validFor": ["start": "1999-01-01T00:00:00Z"]]]]]
            keysJSON = [UInt8](try JSONSerialization.data(withJSONObject: keys))
            tarball = try PolicyFixture.randomBytes(30_000)
            let sha512 = try BouncerProcess.runProgram(PolicyRegistrySignatureTests.openssl, ["dgst", "-sha512", "-binary"], stdin: Data(tarball))
            integrity = "sha512-" + sha512.stdout.base64EncodedString()
        }

        deinit { try? FileManager.default.removeItem(at: dir) }

        func sign(_ message: String, with key: String) throws -> String {
            let signed = try BouncerProcess.runProgram(PolicyRegistrySignatureTests.openssl, ["dgst", "-sha256", "-sign", "\(key).pem"],
                                                       cwd: dir.path, stdin: Data(message.utf8))
            guard signed.status == 0 else { throw GnuPG.Failed(description: "openssl dgst -sign: \(signed.err)") }
            return signed.stdout.base64EncodedString()
        }

        func packument(name: String, version: String, integrity: String? = nil, signatures: [[String: String]]) throws -> [UInt8] {
            let dist: [String: Any] = ["integrity": integrity ?? self.integrity, "signatures": signatures]
            let object: [String: Any] = ["name": name, "versions": [version: ["name": name, "version": version, "dist": dist]],
                                         "time": [version: "2024-05-01T00:00:00.000Z"]]
            return [UInt8](try JSONSerialization.data(withJSONObject: object))
        }
    }

    static let available = FileManager.default.isExecutableFile(atPath: openssl)

    func policy(_ f: PolicyFixture, key: String? = "npm") -> String {
        """
        {"version": 1, "keys": {"npm": {"type": "npm-registry", "file": "keys.json"}},
         "rules": [{"name": "npm", "match": {"url": "\(f.server.baseURL)/files/**"},
                    "require": [{"registrySignature": {\(key.map { "\"key\": \"\($0)\"" } ?? "")}}]}]}
        """
    }

    enum Variant: CaseIterable {
        case good, tarballTampered, signedByOtherKey, noSignatures, signatureForOtherVersion, packumentMissing, otherPackageName
    }

    @Test(arguments: Variant.allCases)
    func registrySignedIntegrityMustCoverTheTarball(_ variant: Variant) throws {
        guard Self.available else { print("NOTICE: registrySignature tests skipped: no openssl"); return }
        let registry = try Registry()
        let f = try PolicyFixture("bouncer-npm-sig")
        try f.write("keys.json", registry.keysJSON)
        try f.writePolicy(policy(f))
        let (name, version) = ("demo-pkg", "1.4.0")
        let good = ["keyid": "SHA256:loopback-registry", "sig": try registry.sign("\(name)@\(version):\(registry.integrity)", with: "registry")]
        var tarball = registry.tarball
        var packument: [UInt8]? = try registry.packument(name: name, version: version, signatures: [good])
        var code: String? = nil
        switch variant {
        case .good: break
        case .tarballTampered:
            tarball[100] ^= 0x01
            code = "npm-integrity"
        case .signedByOtherKey:
            let forged = ["keyid": "SHA256:loopback-registry", "sig": try registry.sign("\(name)@\(version):\(registry.integrity)", with: "other")]
            packument = try registry.packument(name: name, version: version, signatures: [forged])
            code = "npm-registry-signature"
        case .noSignatures:
            packument = try registry.packument(name: name, version: version, signatures: [])
            code = "npm-signatures-missing"
        case .signatureForOtherVersion:
            // A real signature, replayed from another version.
            let replayed = ["keyid": "SHA256:loopback-registry", "sig": try registry.sign("\(name)@1.3.9:\(registry.integrity)", with: "registry")]
            packument = try registry.packument(name: name, version: version, signatures: [replayed])
            code = "npm-registry-signature"
        case .packumentMissing:
            packument = nil
            code = "registry-signature-unavailable"
        case .otherPackageName:
            packument = try registry.packument(name: "other-pkg", version: version, signatures: [good])
            code = "npm-packument"
        }
        f.server.register("\(name)-\(version).tgz", tarball)
        if let packument { f.server.register(name, packument) }
        let url = f.server.url("/files/\(name)/-/\(name)-\(version).tgz")
        let result = try f.fetch(url, ["--json"])
        if let code {
            #expect(result.status == 1, "\(variant): \(result.out)\(result.err)")
            #expect(result.out.contains("\"code\":\"\(code)\""), "\(variant): \(result.out)")
            #expect(!f.exists("out.bin"))
            #expect(f.lockBytes == nil)
        } else {
            #expect(result.status == 0, "\(result.out)\(result.err)")
            #expect(result.out.contains("npm registry signature by SHA256:loopback-registry over \(name)@\(version)"), "\(result.out)")
            #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: f.path("out.bin")))) == tarball)
            let entries = try f.lockEntries()
            let evidence = try #require((entries.first?["evidence"] as? [[String: Any]])?.first)
            #expect(evidence["kind"] as? String == "registrySignature")
            #expect(evidence["signer"] as? String == "SHA256:loopback-registry")
            #expect(evidence["source"] as? String == f.server.url("/files/\(name)"))
        }
    }

    @Test func withoutAKeyItIsAConfigurationError() throws {
        let f = try PolicyFixture("bouncer-npm-nokey")
        try f.write("keys.json", Array("{\"keys\": []}".utf8))
        try f.writePolicy(policy(f, key: nil))
        f.server.register("p-1.0.0.tgz", Array("x".utf8))
        let result = try f.fetch(f.server.url("/files/p/-/p-1.0.0.tgz"))
        #expect(result.status == 2, "\(result.err)")
        #expect(result.err.contains("registrySignature needs 'key'"), "\(result.err)")
        #expect(f.server.requests(to: "/files/p/-/p-1.0.0.tgz") == 0)
        try f.writePolicy(policy(f))
        let empty = try f.fetch(f.server.url("/files/p/-/p-1.0.0.tgz"))
        #expect(empty.status == 2, "\(empty.err)")
        #expect(empty.err.contains("keys.json"), "\(empty.err)")
        #expect(!f.exists("out.bin"))
    }

    /// The real registry packument and keys: the signature over the real
    /// integrity verifies (so the refusal is the tarball's), and the corpus's
    /// tampered packument is refused for its signature.
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)"), arguments: [("npm-cli__has-package-exports-1.0.0", "npm-integrity"),
                      ("npm-cli__has-package-exports-tampered-integrity_fail", "npm-registry-signature")])
    func realRegistryPackuments(_ name: String, _ code: String) throws {
        guard let root = Corpus.rootOrNotice("realRegistryPackuments") else { return }
        let dir = root.appendingPathComponent("npm-registry-signature/\(name)")
        guard FileManager.default.fileExists(atPath: dir.path) else { print("NOTICE: \(name) absent"); return }
        let extraObject = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("case.json")))
        let extra = try #require((extraObject as? [String: Any])?["extra"] as? [String: Any])
        let package = try #require(extra["package"] as? String)
        let version = try #require(extra["version"] as? String)
        let f = try PolicyFixture("bouncer-npm-real")
        try f.write("keys.json", [UInt8](try Data(contentsOf: dir.appendingPathComponent("npm-keys.json"))))
        try f.writePolicy(policy(f))
        var packument = [UInt8](try Data(contentsOf: dir.appendingPathComponent("packument.json")))
        if let altered = extra["integrity"] as? String {
            // The case's integrity (altered for the _fail case) put into the served packument, as a tampering mirror would.
            var object = try #require(try JSONSerialization.jsonObject(with: Data(packument)) as? [String: Any])
            var versions = try #require(object["versions"] as? [String: Any])
            var manifest = try #require(versions[version] as? [String: Any])
            var dist = try #require(manifest["dist"] as? [String: Any])
            dist["integrity"] = altered
            manifest["dist"] = dist
            versions[version] = manifest
            object["versions"] = versions
            packument = [UInt8](try JSONSerialization.data(withJSONObject: object))
        }
        f.server.register(package, packument)
        // Not the real tarball (the corpus has none): a stand-in the signed integrity cannot match.
        f.server.register("\(package)-\(version).tgz", try PolicyFixture.randomBytes(1000))
        let result = try f.fetch(f.server.url("/files/\(package)/-/\(package)-\(version).tgz"), ["--json"])
        #expect(result.status == 1, "\(result.out)\(result.err)")
        #expect(result.out.contains("\"code\":\"\(code)\""), "\(name): \(result.out)")
        #expect(!f.exists("out.bin"))
    }
}
