import Foundation
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools
import BouncerTestSupport

/// Reads the parts of real corpus bundles and trusted roots that the log
/// functions take. Test-only: the product's bundle parser lives elsewhere.
enum LogFixture {
    struct Failure: Error, CustomStringConvertible { let description: String }

    static func json(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw Failure(description: "\(path): not an object") }
        return object
    }

    static func b64(_ value: Any?) throws -> [UInt8] {
        guard let text = value as? String, let bytes = Base64.decode(text) else { throw Failure(description: "not base64: \(String(describing: value))") }
        return bytes
    }

    static func int(_ value: Any?) throws -> Int64 {
        if let text = value as? String, let n = Int64(text) { return n }
        if let n = value as? NSNumber { return n.int64Value }
        throw Failure(description: "not an int64: \(String(describing: value))")
    }

    static func date(_ value: Any?) -> Date? {
        guard let text = value as? String else { return nil }
        let plain = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return plain.date(from: text) ?? fractional.date(from: text)
    }

    /// `tlogs` or `ctlogs` of a trusted_root.json.
    static func logs(_ root: [String: Any], _ field: String) throws -> [TransparencyLogKey] {
        try (root[field] as? [[String: Any]] ?? []).map { log throws -> TransparencyLogKey in
            let publicKey = log["publicKey"] as? [String: Any] ?? [:]
            let validFor = publicKey["validFor"] as? [String: Any] ?? [:]
            let checkpointKeyID = try (log["checkpointKeyId"] as? [String: Any]).map { try b64($0["keyId"]) }
            return TransparencyLogKey(
                logID: try b64((log["logId"] as? [String: Any])?["keyId"]),
                key: (publicKey["keyDetails"] as? String ?? "").hasPrefix("PKCS1_RSA")
                    ? try PublicKey(pkcs1RSAPublicKeyDER: try b64(publicKey["rawBytes"]))
                    : try PublicKey(spkiDER: try b64(publicKey["rawBytes"])),
                validFrom: date(validFor["start"]), validUntil: date(validFor["end"]),
                baseURL: log["baseUrl"] as? String ?? "", checkpointKeyID: checkpointKeyID)
        }
    }

    static func authorities(_ root: [String: Any]) throws -> [TimestampAuthority] {
        try (root["timestampAuthorities"] as? [[String: Any]] ?? []).map { tsa in
            let chain = (tsa["certChain"] as? [String: Any])?["certificates"] as? [[String: Any]] ?? []
            let validFor = tsa["validFor"] as? [String: Any] ?? [:]
            return TimestampAuthority(certificateChainDER: try chain.map { try b64($0["rawBytes"]) },
                                      validFrom: date(validFor["start"]), validUntil: date(validFor["end"]))
        }
    }

    /// One case: its bundle, trusted root and first tlog entry.
    struct Case {
        let name: String
        let corpusCase: CorpusCase
        let bundle: [String: Any]
        let root: [String: Any]

        var material: [String: Any] { bundle["verificationMaterial"] as? [String: Any] ?? [:] }
        var entries: [[String: Any]] { material["tlogEntries"] as? [[String: Any]] ?? [] }
        var entry: [String: Any] { entries.first ?? [:] }
        var proof: [String: Any]? { entry["inclusionProof"] as? [String: Any] }
        var body: [UInt8] { (try? b64(entry["canonicalizedBody"])) ?? [] }
        var checkpoint: String? { (proof?["checkpoint"] as? [String: Any])?["envelope"] as? String }
        var tlogs: [TransparencyLogKey] { (try? logs(root, "tlogs")) ?? [] }
        var ctlogs: [TransparencyLogKey] { (try? logs(root, "ctlogs")) ?? [] }
        var kind: String { (entry["kindVersion"] as? [String: Any])?["kind"] as? String ?? "" }
        var version: String { (entry["kindVersion"] as? [String: Any])?["version"] as? String ?? "" }

        /// Leaf certificate DER (v0.3 `certificate` or the chain's first), if any.
        var leafDER: [UInt8]? {
            if let cert = material["certificate"] as? [String: Any] { return try? b64(cert["rawBytes"]) }
            if let chain = (material["x509CertificateChain"] as? [String: Any])?["certificates"] as? [[String: Any]] {
                return chain.first.flatMap { try? b64($0["rawBytes"]) }
            }
            return nil
        }

        /// messageSignature.signature or the DSSE envelope's first sig.
        var signature: [UInt8]? {
            if let message = bundle["messageSignature"] as? [String: Any] { return try? b64(message["signature"]) }
            if let envelope = bundle["dsseEnvelope"] as? [String: Any],
               let first = (envelope["signatures"] as? [[String: Any]])?.first { return try? b64(first["sig"]) }
            return nil
        }

        var dsseEnvelopeJSON: [UInt8]? {
            guard let envelope = bundle["dsseEnvelope"] else { return nil }
            return (try? JSONSerialization.data(withJSONObject: envelope)).map { Array($0) }
        }

        var timestamps: [[UInt8]] {
            let data = material["timestampVerificationData"] as? [String: Any]
            let list = data?["rfc3161Timestamps"] as? [[String: Any]] ?? []
            return list.compactMap { try? b64($0["signedTimestamp"]) }
        }
    }

    /// All sigstore-bundle and dsse cases that have a bundle JSON file and a trusted root.
    static func cases(formats: [String] = ["sigstore-bundle", "dsse"]) -> [Case] {
        formats.flatMap { Corpus.cases(format: $0) }.compactMap { directory in
            guard let corpusCase = try? CorpusCase.load(directory),
                  let signature = corpusCase.signature, signature.hasSuffix(".json"),
                  let rootName = corpusCase.trust?.first(where: { $0.hasSuffix("trusted_root.json") }),
                  let bundle = try? json(corpusCase.path(signature)),
                  let root = try? json(corpusCase.path(rootName)) else { return nil }
            return Case(name: corpusCase.name, corpusCase: corpusCase, bundle: bundle, root: root)
        }
    }

    static func named(_ name: String) -> Case? { cases().first { $0.name == name } }
}
