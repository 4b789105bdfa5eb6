import Foundation
import Testing
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools

/// Strict, bounded bundle parsing: every malformed field is refused with an
/// error naming its JSON path; nothing traps on hostile input.
@Suite struct BundleParsingTests {
    static let b64 = Base64.encode(Array("bytes".utf8))
    static let hash32 = Base64.encode([UInt8](repeating: 7, count: 32))

    /// A well-formed v0.3 bundle (content is not verifiable; this is only shape).
    static func bundle() -> [String: Any] {
        [
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": [
                "certificate": ["rawBytes": b64],
                "tlogEntries": [[
                    "logIndex": "12", "logId": ["keyId": hash32],
                    "kindVersion": ["kind": "hashedrekord", "version": "0.0.1"],
                    "integratedTime": "1700000000",
                    "inclusionPromise": ["signedEntryTimestamp": b64],
                    "inclusionProof": ["logIndex": "3", "rootHash": hash32, "treeSize": "9",
                                       "hashes": [hash32], "checkpoint": ["envelope": "origin\n9\nroot\n\n"]],
                    "canonicalizedBody": b64,
                ]],
            ],
            "messageSignature": ["messageDigest": ["algorithm": "SHA2_256", "digest": hash32], "signature": b64],
        ]
    }

    static func encode(_ object: Any) throws -> [UInt8] {
        [UInt8](try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    func refusal(_ object: Any) throws -> SigstoreError? {
        let bytes = try Self.encode(object)
        do { _ = try SigstoreBundle.parse(bytes); return nil } catch { return error }
    }

    /// Sets a value at a key path (array indices as Int) in a JSON object tree.
    static func setting(_ root: Any, _ path: [Any], _ value: Any?) -> Any {
        guard let head = path.first else { return value ?? NSNull() }
        let rest = Array(path.dropFirst())
        if let key = head as? String, var dict = root as? [String: Any] {
            if rest.isEmpty, value == nil { dict.removeValue(forKey: key) } else {
                dict[key] = setting(dict[key] ?? [String: Any](), rest, value)
            }
            return dict
        }
        if let index = head as? Int, var array = root as? [Any], index < array.count {
            array[index] = setting(array[index], rest, value)
            return array
        }
        return root
    }

    @Test func wellFormedBundleParses() throws {
        let parsed = try SigstoreBundle.parse(try Self.encode(Self.bundle()))
        #expect(parsed.version == .v03)
        #expect(parsed.tlogEntries.count == 1)
        #expect(parsed.tlogEntries[0].logIndex == 12)
        #expect(parsed.tlogEntries[0].inclusionProof?.treeSize == 9)
        #expect(parsed.content.signature == Array("bytes".utf8))
        // int64 fields also accepted as JSON numbers; bytes also as unpadded URL-safe base64.
        var numeric = Self.setting(Self.bundle(), ["verificationMaterial", "tlogEntries", 0, "logIndex"], 12)
        numeric = Self.setting(numeric, ["messageSignature", "signature"], Base64.encode([0xfb, 0xff], alphabet: .urlSafe, padding: false))
        let reparsed = try SigstoreBundle.parse(try Self.encode(numeric))
        #expect(reparsed.tlogEntries[0].logIndex == 12)
        #expect(reparsed.content.signature == [0xfb, 0xff])
    }

    nonisolated(unsafe) static let mutations: [([Any], Any, String, String)] = [
        (["mediaType"] as [Any], "x" as Any, "sigstore-bundle-unsupported", "$.mediaType"),
        (["mediaType"], "application/vnd.dev.sigstore.bundle+json;version=99.9", "sigstore-bundle-unsupported", "$.mediaType"),
        (["verificationMaterial"], NSNull(), "sigstore-bundle-malformed", "$.verificationMaterial"),
        (["verificationMaterial", "certificate", "rawBytes"], "not base64!", "sigstore-bundle-malformed", "$.verificationMaterial.certificate.rawBytes"),
        (["verificationMaterial", "certificate", "rawBytes"], 5, "sigstore-bundle-malformed", "$.verificationMaterial.certificate.rawBytes"),
        (["verificationMaterial", "x509CertificateChain"], ["certificates": [["rawBytes": b64]]], "sigstore-bundle-malformed", "$.verificationMaterial"),
        (["verificationMaterial", "tlogEntries", 0, "logIndex"], "-1", "sigstore-bundle-malformed", "$.verificationMaterial.tlogEntries[0].logIndex"),
        (["verificationMaterial", "tlogEntries", 0, "logIndex"], "12abc", "sigstore-bundle-malformed", "$.verificationMaterial.tlogEntries[0].logIndex"),
        (["verificationMaterial", "tlogEntries", 0, "logIndex"], ["n": 1], "sigstore-bundle-malformed", "$.verificationMaterial.tlogEntries[0].logIndex"),
        (["verificationMaterial", "tlogEntries", 0, "logIndex"], 1.5, "sigstore-bundle-malformed", "$.verificationMaterial.tlogEntries[0].logIndex"),
        (["verificationMaterial", "tlogEntries", 0, "logId"], NSNull(), "sigstore-bundle-malformed", "$.verificationMaterial.tlogEntries[0].logId"),
        (["verificationMaterial", "tlogEntries", 0, "kindVersion", "kind"], [1], "sigstore-bundle-malformed", "kindVersion.kind"),
        (["verificationMaterial", "tlogEntries", 0, "inclusionProof", "treeSize"], "1e3", "sigstore-bundle-malformed", "inclusionProof.treeSize"),
        (["verificationMaterial", "tlogEntries", 0, "inclusionProof", "hashes"], "abc", "sigstore-bundle-malformed", "inclusionProof.hashes"),
        (["verificationMaterial", "tlogEntries", 0, "inclusionProof", "checkpoint"], NSNull(), "sigstore-bundle-malformed", "inclusionProof.checkpoint"),
        (["verificationMaterial", "tlogEntries", 0, "canonicalizedBody"], NSNull(), "sigstore-bundle-malformed", "canonicalizedBody"),
        (["verificationMaterial", "tlogEntries"], "none", "sigstore-bundle-malformed", "$.verificationMaterial.tlogEntries"),
        (["messageSignature", "messageDigest", "algorithm"], "MD5", "sigstore-bundle-malformed", "messageDigest.algorithm"),
        (["messageSignature", "messageDigest", "digest"], b64, "sigstore-bundle-malformed", "messageDigest.digest"),
        (["messageSignature", "signature"], "", "sigstore-bundle-malformed", "$.messageSignature.signature"),
        (["messageSignature"], NSNull(), "sigstore-bundle-malformed", "neither messageSignature nor dsseEnvelope"),
        // Unknown (e.g. misspelt) fields are refused, not ignored.
        (["messageSignature", "messageDigestt"], ["algorithm": "SHA2_256"], "sigstore-bundle-malformed", "$.messageSignature.messageDigestt: unknown field"),
        (["verificationMaterial", "tlogEntries", 0, "logIndexx"], "1", "sigstore-bundle-malformed", "tlogEntries[0].logIndexx: unknown field"),
        (["verificationMaterial", "tlogEntries", 0, "inclusionProof", "root_hash"], hash32, "sigstore-bundle-malformed", "inclusionProof.root_hash: unknown field"),
        (["extra"], 1, "sigstore-bundle-malformed", "$.extra: unknown field"),
        (["dsseEnvelope"], ["payload": b64, "payloadType": "t", "signatures": [["sig": b64], ["sig": b64]]], "sigstore-bundle-malformed", "both"),
    ]

    @Test func malformedFieldNamesItsPath() throws {
        for (path, value, code, mention) in Self.mutations {
            guard let error = try refusal(Self.setting(Self.bundle(), path, value)) else {
                Issue.record("accepted a bundle with \(path) = \(value)")
                continue
            }
            #expect(error.code == code, "\(path): \(error)")
            #expect(error.description.contains(mention), "\(path): \(error.description)")
        }
    }

    @Test func dsseEnvelopeNeedsExactlyOneSignature() throws {
        var two = Self.setting(Self.bundle(), ["messageSignature"], nil)
        two = Self.setting(two, ["dsseEnvelope"], ["payload": Self.b64, "payloadType": "application/vnd.in-toto+json",
                                                   "signatures": [["sig": Self.b64], ["sig": Self.b64]]])
        let error = try #require(try refusal(two))
        #expect(error.description.contains("exactly one signature"))
        let one = Self.setting(two, ["dsseEnvelope", "signatures"], [["sig": Self.b64, "keyid": ""]])
        #expect(try refusal(one) == nil)
    }

    @Test func versionRules() throws {
        // v0.1 entries need the SET; v0.2+ entries need a proof with a checkpoint.
        var v01 = Self.setting(Self.bundle(), ["mediaType"], "application/vnd.dev.sigstore.bundle+json;version=0.1")
        v01 = Self.setting(v01, ["verificationMaterial", "tlogEntries", 0, "inclusionPromise"], nil)
        #expect(try refusal(v01)?.description.contains("inclusionPromise") == true)
        let v02 = Self.setting(Self.bundle(), ["verificationMaterial", "tlogEntries", 0, "inclusionProof"], nil)
        #expect(try refusal(v02)?.description.contains("inclusionProof") == true)
        // A chain is allowed before v0.3 only, and must not be empty.
        var chain = Self.setting(Self.bundle(), ["mediaType"], "application/vnd.dev.sigstore.bundle+json;version=0.2")
        chain = Self.setting(chain, ["verificationMaterial", "certificate"], nil)
        chain = Self.setting(chain, ["verificationMaterial", "x509CertificateChain"], ["certificates": [["rawBytes": Self.b64]]])
        #expect(try refusal(chain) == nil)
        let empty = Self.setting(chain, ["verificationMaterial", "x509CertificateChain"], ["certificates": [Any]()])
        #expect(try refusal(empty)?.description.contains("empty") == true)
    }

    @Test func absurdCountsAndNestingAreRefused() throws {
        let entry = (Self.bundle()["verificationMaterial"] as? [String: Any])?["tlogEntries"] as? [Any] ?? []
        let many = Self.setting(Self.bundle(), ["verificationMaterial", "tlogEntries"], Array(repeating: entry[0], count: 101))
        #expect(try refusal(many)?.description.contains("more than") == true)
        let hashes = Self.setting(Self.bundle(), ["verificationMaterial", "tlogEntries", 0, "inclusionProof", "hashes"],
                                  Array(repeating: Self.hash32, count: 1000))
        #expect(try refusal(hashes) != nil)
        // Deep nesting: refused, no stack overflow.
        let deep = Array(String(repeating: "[", count: 100_000).utf8) + Array(String(repeating: "]", count: 100_000).utf8)
        #expect(throws: SigstoreError.self) { try SigstoreBundle.parse(deep) }
        let huge = [UInt8](repeating: 0x20, count: SigstoreBundle.maxBytes + 1)
        #expect(throws: SigstoreError.self) { try SigstoreBundle.parse(huge) }
    }

    /// Regression (corpus sigstore-python__tsa-duplicate): the same RFC 3161
    /// token twice was accepted by the parser, and the case was refused only
    /// because its tokens are over another signature.
    @Test func duplicateTimestampsAreRefused() throws {
        let a = Base64.encode(Array("token a".utf8)), b = Base64.encode(Array("token b".utf8))
        func with(_ tokens: [String]) -> Any {
            Self.setting(Self.bundle(), ["verificationMaterial", "timestampVerificationData"],
                         ["rfc3161Timestamps": tokens.map { ["signedTimestamp": $0] }])
        }
        let distinct = try SigstoreBundle.parse(try Self.encode(with([a, b])))
        #expect(distinct.rfc3161Timestamps == [Array("token a".utf8), Array("token b".utf8)])
        let error = try #require(try refusal(with([a, b, a])))
        #expect(error.code == "sigstore-bundle-malformed")
        #expect(error.description.contains("rfc3161Timestamps[2]") && error.description.contains("rfc3161Timestamps[0]"), "\(error)")
        #expect(error.description.contains("duplicate"), "\(error)")
    }

    @Test func everyTruncationIsRefusedWithoutATrap() throws {
        let bytes = try Self.encode(Self.bundle())
        for length in 0..<bytes.count {
            #expect(throws: SigstoreError.self) { try SigstoreBundle.parse(Array(bytes[0..<length])) }
        }
    }

    @Test func cosignLegacyBundleMapsToAV01Entry() throws {
        let body = Base64.encode(Array(#"{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{}}"#.utf8))
        let pem = "-----BEGIN CERTIFICATE-----\n\(Self.b64)\n-----END CERTIFICATE-----\n"
        let legacy: [String: Any] = [
            "base64Signature": Self.b64, "cert": Base64.encode(Array(pem.utf8)),
            "rekorBundle": ["SignedEntryTimestamp": Self.b64,
                            "Payload": ["body": body, "integratedTime": 1700000000, "logIndex": 5,
                                        "logID": String(repeating: "ab", count: 32)]],
        ]
        let parsed = try SigstoreBundle.parse(try Self.encode(legacy))
        #expect(parsed.version == .v01)
        #expect(parsed.tlogEntries.first?.kind == "hashedrekord")
        #expect(parsed.tlogEntries.first?.logID == [UInt8](repeating: 0xab, count: 32))
        #expect(parsed.tlogEntries.first?.signedEntryTimestamp == Array("bytes".utf8))
        guard case .certificates(let certs) = parsed.material else { Issue.record("no certificate"); return }
        #expect(certs == [Array("bytes".utf8)])
        let badID = Self.setting(legacy, ["rekorBundle", "Payload", "logID"], "zz")
        #expect(try refusal(badID)?.description.contains("logID") == true)
    }

    @Test func paeMatchesTheDSSESpecification() {
        // The worked example of the DSSE protocol document.
        let pae = DSSEEnvelope.pae(payloadType: "http://example.com/HelloWorld", payload: Array("hello world".utf8))
        #expect(String(decoding: pae, as: UTF8.self) == "DSSEv1 29 http://example.com/HelloWorld 11 hello world")
        #expect(String(decoding: DSSEEnvelope.pae(payloadType: "", payload: []), as: UTF8.self) == "DSSEv1 0  0 ")
        // Lengths count bytes, not characters.
        #expect(String(decoding: DSSEEnvelope.pae(payloadType: "é", payload: Array("ü".utf8)), as: UTF8.self) == "DSSEv1 2 é 2 ü")
    }
}
