import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools
import BouncerTestSupport

@Suite struct NpmRegistrySignatureTests {
    static func corpusCase(_ name: String) throws -> (CorpusCase, [String: Any])? {
        guard let root = Corpus.rootOrNotice("NpmRegistrySignatureTests") else { return nil }
        let dir = root.appendingPathComponent("npm-registry-signature").appendingPathComponent(name)
        let raw = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("case.json"))) as? [String: Any] ?? [:]
        return (try CorpusCase.load(dir), raw["extra"] as? [String: Any] ?? [:])
    }

    /// The packument's own record for the case's version.
    func run(_ c: CorpusCase, _ extra: [String: Any], keys: [UInt8]? = nil) throws -> NpmRegistrySignature.Verified {
        let record = try NpmRegistrySignature.record(packument: try AttestationCorpus.bytes(c, "packument.json"),
                                                     name: extra["package"] as? String ?? "", version: extra["version"] as? String ?? "")
        return try NpmRegistrySignature.verify(record, keys: try NpmRegistryKeys.parse(keys ?? AttestationCorpus.bytes(c, "npm-keys.json")))
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func everyCorpusCaseMatchesTheManifest() throws {
        guard let root = Corpus.rootOrNotice("NpmRegistrySignatureTests") else { return }
        var agree = 0, total = 0
        for dir in Corpus.cases(format: "npm-registry-signature") {
            guard let (c, extra) = try Self.corpusCase(dir.lastPathComponent) else { return }
            total += 1
            // The case is (name, version, integrity, keyid, sig) as the manifest gives them; the
            // packument holds the real record (derived cases replay or alter it in `extra`).
            let name = extra["package"] as? String ?? "", version = extra["version"] as? String ?? ""
            let real = try NpmRegistrySignature.record(packument: try AttestationCorpus.bytes(c, "packument.json"), name: name, version: version)
            let sig = SigstoreBase64.decode(extra["sig"] as? String ?? "") ?? []
            let record = NpmRegistrySignature.VersionRecord(name: name, version: version, integrity: extra["integrity"] as? String ?? "",
                                                            signatures: [.init(keyID: extra["keyid"] as? String ?? "", sig: sig)],
                                                            published: real.published)
            do {
                let verified = try NpmRegistrySignature.verify(record, keys: try NpmRegistryKeys.parse(try AttestationCorpus.bytes(c, "npm-keys.json")))
                #expect(c.expect == "pass", "\(c.name) verified but the manifest expects \(c.expect)")
                #expect(verified.message == extra["signed_message"] as? String)
                if c.expect == "pass" { agree += 1 }
            } catch let error as AttestationError {
                #expect(c.expect == "fail", "\(c.name): \(error)")
                #expect(error.check == .npmSignature, "\(c.name): \(error)")
                if c.expect == "fail" { agree += 1 }
            }
        }
        _ = root
        print("npm registry signatures: \(agree)/\(total) corpus cases agree with the manifest")
        #expect(total >= 4 && agree == total)
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func keyExpiryUnknownKeysAndMissingSignatures() throws {
        guard let (c, extra) = try Self.corpusCase("npm-cli__has-package-exports-1.0.0") else { return }
        var keys = try JSONSerialization.jsonObject(with: Data(AttestationCorpus.bytes(c, "npm-keys.json"))) as? [String: Any] ?? [:]
        var list = keys["keys"] as? [[String: Any]] ?? []
        // The same real key, but its window ends before npm's default publication time (2015-01-01).
        for index in list.indices {
            var publicKey = list[index]["publicKey"] as? [String: Any] ?? [:]
            publicKey["validFor"] = ["start": "1999-01-01T00:00:00.000Z", "end": "2014-12-31T00:00:00.000Z"]
            list[index]["publicKey"] = publicKey
        }
        keys["keys"] = list
        do {
            _ = try run(c, extra, keys: Array(try JSONSerialization.data(withJSONObject: keys)))
            Issue.record("an expired key verified")
        } catch let error as AttestationError { #expect(error.check == .npmKeyExpired, "\(error)") }

        // Keys from the registry endpoint's shape, none with the signature's key id.
        let signer = try TestSigner()
        let pem = try String(contentsOfFile: signer.publicPath, encoding: .utf8)
        let spki = PEM.decode(pem, label: "PUBLIC KEY").first ?? []
        let other = "{\"keys\":[{\"expires\":null,\"keyid\":\"SHA256:other\",\"keytype\":\"ecdsa-sha2-nistp256\",\"scheme\":\"ecdsa-sha2-nistp256\",\"key\":\"\(Base64.encode(spki))\"}]}"
        do {
            _ = try run(c, extra, keys: Array(other.utf8))
            Issue.record("an unknown key id verified")
        } catch let error as AttestationError { #expect(error.check == .npmKeyUnknown, "\(error)") }

        let record = NpmRegistrySignature.VersionRecord(name: "x", version: "1.0.0", integrity: "sha512-AAAA", signatures: [], published: nil)
        #expect(throws: AttestationError(.npmSignaturesMissing, "")) { try NpmRegistrySignature.verify(record, keys: try NpmRegistryKeys.parse(Array(other.utf8))) }
    }

    /// The TUF target's shape: a key usage or key type this reader does not know is refused by its
    /// JSON path (exit 2), not read as a key for every usage or as a P-256 key.
    @Test func aKeysFileWithAnUnknownUsageOrKeyTypeIsRefused() throws {
        let signer = try TestSigner()
        let spki = Base64.encode(PEM.decode(try String(contentsOfFile: signer.publicPath, encoding: .utf8), label: "PUBLIC KEY").first ?? [])
        func keys(usage: String, details: String) -> [UInt8] {
            Array(#"{"keys":[{"keyId":"SHA256:k","keyUsage":"\#(usage)","publicKey":{"rawBytes":"\#(spki)","keyDetails":"\#(details)","validFor":{"start":"1999-01-01T00:00:00.000Z"}}}]}"#.utf8)
        }
        #expect(try NpmRegistryKeys.parse(keys(usage: "npm:attestations", details: "PKIX_ECDSA_P256_SHA_256")).keys.first?.usage == "npm:attestations")
        for (usage, details, says) in [("npm:signature", "PKIX_ECDSA_P256_SHA_256", "keys[0].keyUsage: 'npm:signature' is not npm:signatures or npm:attestations"),
                                       ("npm:signatures", "PKIX_ED25519", "keys[0].publicKey.keyDetails: unsupported key type 'PKIX_ED25519'")] {
            do {
                _ = try NpmRegistryKeys.parse(keys(usage: usage, details: details), source: "keys.json")
                Issue.record("accepted \(usage) \(details)")
            } catch {
                #expect(error.family == .configuration, "\(error)")
                #expect("\(error)".contains("keys.json") && "\(error)".contains(says), "\(error)")
            }
        }
    }

    @Test func signedAtTestTimeWithTheEndpointKeyShape() throws {
        let signer = try TestSigner()
        let spki = PEM.decode(try String(contentsOfFile: signer.publicPath, encoding: .utf8), label: "PUBLIC KEY").first ?? []
        let keysJSON = Array("{\"keys\":[{\"expires\":\"2030-01-01T00:00:00.000Z\",\"keyid\":\"SHA256:test\",\"keytype\":\"ecdsa-sha2-nistp256\",\"scheme\":\"ecdsa-sha2-nistp256\",\"key\":\"\(Base64.encode(spki))\"}]}".utf8)
        let keys = try NpmRegistryKeys.parse(keysJSON)
        let tarball = Array("tarball bytes".utf8)
        let integrity = Hasher.digest(tarball, .sha512).sri
        let message = NpmRegistrySignature.message(name: "@scope/pkg", version: "1.2.3", integrity: integrity)
        #expect(message == "@scope/pkg@1.2.3:\(integrity)")
        let sig = try signer.sign(Array(message.utf8))
        func packument(name: String = "@scope/pkg", time: String = "2024-05-01T00:00:00.000Z", integrity: String = integrity) -> [UInt8] {
            let object: [String: Any] = ["name": name, "time": ["1.2.3": time],
                                         "versions": ["1.2.3": ["name": name, "version": "1.2.3",
                                                                "dist": ["integrity": integrity, "signatures": [["keyid": "SHA256:test", "sig": Base64.encode(sig)]]]]]]
            return Array((try? JSONSerialization.data(withJSONObject: object)) ?? Data())
        }
        let record = try NpmRegistrySignature.record(packument: packument(), name: "@scope/pkg", version: "1.2.3")
        #expect(try NpmRegistrySignature.verify(record, keys: keys).keyID == "SHA256:test")
        #expect(try NpmRegistrySignature.checkIntegrity(tarball: tarball, integrity: record.integrity).algorithm == .sha512)
        #expect(throws: AttestationError(.npmIntegrity, "")) { _ = try NpmRegistrySignature.checkIntegrity(tarball: tarball + [0], integrity: record.integrity) }
        // Published after the key expired.
        let late = try NpmRegistrySignature.record(packument: packument(time: "2031-01-01T00:00:00.000Z"), name: "@scope/pkg", version: "1.2.3")
        #expect(throws: AttestationError(.npmKeyExpired, "")) { _ = try NpmRegistrySignature.verify(late, keys: keys) }
        // A packument for another package, and an altered integrity.
        #expect(throws: AttestationError(.npmPackument, "")) { _ = try NpmRegistrySignature.record(packument: packument(name: "@scope/other"), name: "@scope/pkg", version: "1.2.3") }
        let altered = try NpmRegistrySignature.record(packument: packument(integrity: Hasher.digest(tarball + [1], .sha512).sri), name: "@scope/pkg", version: "1.2.3")
        #expect(throws: AttestationError(.npmSignature, "")) { _ = try NpmRegistrySignature.verify(altered, keys: keys) }
    }
}
