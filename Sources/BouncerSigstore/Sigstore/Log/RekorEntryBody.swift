import FoundationEssentials
import BouncerBase
import BouncerIO

/// Checks that a Rekor entry body (`canonicalizedBody`) describes this bundle:
/// the same signature, the same certificate or key, the same artifact or DSSE
/// payload (formats.md §5.3, §5.11). Without this an attacker could attach
/// the genuine log entry of another signature (CVE-2022-36056).
public enum RekorEntryBody {
    public static func check(canonicalizedBody: [UInt8], kind: String, version: String, expected: RekorEntryExpectation) throws(TransparencyError) {
        let body = try BodyJSON.parse(canonicalizedBody)
        let bodyKind = try body["kind"].string()
        let bodyVersion = try body["apiVersion"].string()
        guard bodyKind == kind, bodyVersion == version else {
            throw .entryKindMismatch(expected: "\(kind) \(version)", found: "\(bodyKind) \(bodyVersion)")
        }
        let spec = body["spec"]
        switch (kind, version) {
        case ("hashedrekord", "0.0.1"): try hashedRekordV001(spec, expected)
        // rekord 0.0.1 (2021 cosign image signatures): the same data.hash and signature fields.
        case ("rekord", "0.0.1"): try hashedRekordV001(spec, expected)
        case ("hashedrekord", "0.0.2"): try hashedRekordV002(spec["hashedRekordV002"], expected)
        case ("dsse", "0.0.1"): try dsseV001(spec, expected)
        case ("dsse", "0.0.2"): try dsseV002(spec["dsseV002"], expected)
        case ("intoto", "0.0.2"): try intotoV002(spec["content"], expected)
        default: throw .unsupportedEntryKind(kind: kind, version: version)
        }
    }

    // MARK: - Rekor v1

    /// spec.data.hash {algorithm, hex value}; spec.signature {content, publicKey.content (b64 PEM)}.
    static func hashedRekordV001(_ spec: BodyJSON, _ expected: RekorEntryExpectation) throws(TransparencyError) {
        let hash = spec["data"]["hash"]
        let algorithmName = try hash["algorithm"].string()
        guard let algorithm = HashAlgorithm(name: algorithmName), algorithm.isEvidence else {
            throw .malformedEntryBody("\(hash["algorithm"].path): unsupported hash algorithm '\(algorithmName)'")
        }
        guard let digestBytes = Hex.decode(try hash["value"].string()), digestBytes.count == algorithm.byteCount else {
            throw .malformedEntryBody("\(hash["value"].path): not a hex \(algorithm.rawValue) digest")
        }
        try requireDigest(algorithm: algorithm, bytes: digestBytes, expected)
        try requireSignature(try spec["signature"]["content"].base64(), expected)
        try requireMaterial(pem: try spec["signature"]["publicKey"]["content"].base64(), path: spec["signature"]["publicKey"]["content"].path, expected)
    }

    /// spec.payloadHash = SHA-256 of the DSSE payload; spec.signatures[] {signature, verifier (b64 PEM)}.
    static func dsseV001(_ spec: BodyJSON, _ expected: RekorEntryExpectation) throws(TransparencyError) {
        let envelope = try Envelope(expected)
        try requirePayloadHash(spec["payloadHash"], hexValue: true, envelope)
        let signatures = try spec["signatures"].array()
        try requireSignatureCount(signatures.count, envelope)
        for signature in signatures {
            try requireSignature(try signature["signature"].base64(), expected)
            try requireMaterial(pem: try signature["verifier"].base64(), path: signature["verifier"].path, expected)
        }
    }

    /// spec.content.envelope {payloadType, payload, signatures[{sig, publicKey}]}
    /// with `payload` and `sig` usually base64 of base64 text (some real
    /// entries hold `sig` encoded once); spec.content.payloadHash.
    static func intotoV002(_ content: BodyJSON, _ expected: RekorEntryExpectation) throws(TransparencyError) {
        let envelope = try Envelope(expected)
        try requirePayloadHash(content["payloadHash"], hexValue: true, envelope)
        let logged = content["envelope"]
        // Required, not only compared when present: a body whose type field was
        // dropped or renamed is not the body Rekor canonicalised for this envelope.
        guard try logged["payloadType"].string() == envelope.payloadType else {
            throw .entryBodyMismatch("the logged payload type is not the envelope's")
        }
        if logged["payload"].exists {
            guard try doubleBase64(logged["payload"]) == envelope.payload else {
                throw .entryBodyMismatch("the logged DSSE payload is not the bundle's payload")
            }
        }
        let signatures = try logged["signatures"].array()
        try requireSignatureCount(signatures.count, envelope)
        for signature in signatures {
            try requireSignature(try doubleBase64(signature["sig"]), expected)
            try requireMaterial(pem: try signature["publicKey"].base64(), path: signature["publicKey"].path, expected)
        }
    }

    /// Base64 of base64 text, or of the bytes themselves when the once-decoded
    /// value is not base64 text (a DER signature never is: it holds 0x02 bytes).
    static func doubleBase64(_ field: BodyJSON) throws(TransparencyError) -> [UInt8] {
        let once = try field.base64()
        return lenientBase64(String(decoding: once, as: UTF8.self)) ?? once
    }

    // MARK: - Rekor v2 (protobuf JSON)

    /// spec.hashedRekordV002 {data {algorithm, digest}, signature {content, verifier}}.
    /// For a DSSE bundle, Rekor v2 logs a hashedrekord over the PAE of the envelope.
    static func hashedRekordV002(_ spec: BodyJSON, _ expected: RekorEntryExpectation) throws(TransparencyError) {
        let data = spec["data"]
        let algorithm = try v2Algorithm(data["algorithm"])
        let digest = try data["digest"].base64()
        if expected.dsseEnvelopeJSON != nil {
            let envelope = try Envelope(expected)
            guard envelope.signatures.count == 1 else { throw .entryBodyMismatch("the DSSE envelope must carry exactly one signature") }
            let pae = DSSEEnvelope.pae(payloadType: envelope.payloadType, payload: envelope.payload)
            guard digest == Hasher.digest(pae, algorithm).bytes else {
                throw .entryBodyMismatch("the logged digest is not the \(algorithm.rawValue) of the envelope's signed payload (PAE)")
            }
        } else {
            try requireDigest(algorithm: algorithm, bytes: digest, expected)
        }
        try requireSignature(try spec["signature"]["content"].base64(), expected)
        try requireV2Verifier(spec["signature"]["verifier"], expected)
    }

    /// spec.dsseV002 {payloadHash {algorithm, digest}, signatures[{content, verifier}]}.
    static func dsseV002(_ spec: BodyJSON, _ expected: RekorEntryExpectation) throws(TransparencyError) {
        let envelope = try Envelope(expected)
        try requirePayloadHash(spec["payloadHash"], hexValue: false, envelope)
        let signatures = try spec["signatures"].array()
        try requireSignatureCount(signatures.count, envelope)
        for signature in signatures {
            try requireSignature(try signature["content"].base64(), expected)
            try requireV2Verifier(signature["verifier"], expected)
        }
    }

    static func v2Algorithm(_ field: BodyJSON) throws(TransparencyError) -> HashAlgorithm {
        switch try field.string() {
        case "SHA2_256": .sha256
        case "SHA2_384": .sha384
        case "SHA2_512": .sha512
        case let other: throw .malformedEntryBody("\(field.path): unsupported hash algorithm '\(other)'")
        }
    }

    /// verifier {publicKey {rawBytes} | x509Certificate {rawBytes}, keyDetails}: DER, compared as is.
    static func requireV2Verifier(_ verifier: BodyJSON, _ expected: RekorEntryExpectation) throws(TransparencyError) {
        let der: [UInt8]
        if verifier["x509Certificate"].exists {
            der = try verifier["x509Certificate"]["rawBytes"].base64()
        } else if verifier["publicKey"].exists {
            der = try verifier["publicKey"]["rawBytes"].base64()
        } else {
            throw .malformedEntryBody("\(verifier.path): neither x509Certificate nor publicKey")
        }
        guard der == expected.verificationMaterialDER else {
            throw .entryBodyMismatch("the logged certificate or key is not the bundle's")
        }
    }

    // MARK: - Shared comparisons

    static func requireDigest(algorithm: HashAlgorithm, bytes: [UInt8], _ expected: RekorEntryExpectation) throws(TransparencyError) {
        guard let artifact = expected.artifactDigest else {
            throw .entryBodyMismatch("a hashedrekord entry needs the artifact digest to compare with")
        }
        guard artifact.algorithm == algorithm else {
            throw .entryBodyMismatch("the logged digest is \(algorithm.rawValue), the artifact digest is \(artifact.algorithm.rawValue)")
        }
        guard MerkleInclusion.constantTimeEqual(artifact.bytes, bytes) else {
            throw .entryBodyMismatch("the logged artifact digest is not the artifact's")
        }
    }

    static func requireSignature(_ logged: [UInt8], _ expected: RekorEntryExpectation) throws(TransparencyError) {
        guard logged == expected.signature else { throw .entryBodyMismatch("the logged signature is not the bundle's signature") }
    }

    /// The body holds base64 of one PEM certificate or public key and nothing
    /// around it but blanks (bytes the log signed beside it would be unread);
    /// compare its DER.
    static func requireMaterial(pem: [UInt8], path: String, _ expected: RekorEntryExpectation) throws(TransparencyError) {
        // Blanks as the PEM reader knows them (a vertical tab is none).
        let text = String(decoding: pem, as: UTF8.self).trimming([" ", "\t", "\r", "\n", "\r\n"])
        let single = ["CERTIFICATE", "PUBLIC KEY"].lazy.compactMap { label -> [UInt8]? in
            let blocks = PEM.decode(text, label: label)
            guard blocks.count == 1, text.hasPrefix("-----BEGIN \(label)-----"), text.hasSuffix("-----END \(label)-----") else { return nil }
            return blocks[0]
        }.first
        guard let der = single else {
            throw .malformedEntryBody("\(path): not one PEM certificate or public key (with nothing else around it)")
        }
        guard der == expected.verificationMaterialDER else {
            throw .entryBodyMismatch("the logged certificate or key is not the bundle's")
        }
    }

    static func requirePayloadHash(_ field: BodyJSON, hexValue: Bool, _ envelope: Envelope) throws(TransparencyError) {
        let algorithm: HashAlgorithm
        let bytes: [UInt8]
        if hexValue {
            let name = try field["algorithm"].string()
            guard let parsed = HashAlgorithm(name: name), parsed.isEvidence else {
                throw .malformedEntryBody("\(field["algorithm"].path): unsupported hash algorithm '\(name)'")
            }
            guard let decoded = Hex.decode(try field["value"].string()) else { throw .malformedEntryBody("\(field["value"].path): not hex") }
            (algorithm, bytes) = (parsed, decoded)
        } else {
            (algorithm, bytes) = (try v2Algorithm(field["algorithm"]), try field["digest"].base64())
        }
        guard MerkleInclusion.constantTimeEqual(bytes, Hasher.digest(envelope.payload, algorithm).bytes) else {
            throw .entryBodyMismatch("the logged payload hash is not the hash of the envelope's payload")
        }
    }

    static func requireSignatureCount(_ logged: Int, _ envelope: Envelope) throws(TransparencyError) {
        guard logged == envelope.signatures.count else {
            throw .entryBodyMismatch("the entry logs \(logged) signatures, the envelope carries \(envelope.signatures.count)")
        }
    }

    /// Standard or URL-safe base64, padded or not (protobuf JSON accepts all).
    static func lenientBase64(_ text: String) -> [UInt8]? {
        Base64.decode(text) ?? Base64.decode(text, alphabet: .urlSafe)
            ?? Base64.decode(text, padding: false) ?? Base64.decode(text, alphabet: .urlSafe, padding: false)
    }

    /// The bundle's DSSE envelope, decoded from `expected.dsseEnvelopeJSON`.
    struct Envelope {
        let payloadType: String
        let payload: [UInt8]
        let signatures: [[UInt8]]

        init(_ expected: RekorEntryExpectation) throws(TransparencyError) {
            guard let json = expected.dsseEnvelopeJSON else {
                throw .entryBodyMismatch("a DSSE entry needs the bundle's DSSE envelope to compare with")
            }
            let envelope = try BodyJSON.parse(json, name: "dsseEnvelope")
            payloadType = try envelope["payloadType"].string()
            guard let payload = lenientBase64(try envelope["payload"].string()) else {
                throw .malformedEntryBody("dsseEnvelope.payload: not base64")
            }
            self.payload = payload
            var signatures: [[UInt8]] = []
            for signature in try envelope["signatures"].array() {
                guard let sig = lenientBase64(try signature["sig"].string()) else {
                    throw .malformedEntryBody("\(signature["sig"].path): not base64")
                }
                signatures.append(sig)
            }
            self.signatures = signatures
        }
    }
}

/// Read-only access to parsed JSON (the one strict reader) that names the
/// path of whatever is missing or of the wrong type.
struct BodyJSON {
    let value: JSON?
    let path: String

    static func parse(_ bytes: [UInt8], name: String = "canonicalizedBody") throws(TransparencyError) -> BodyJSON {
        let value: JSON
        do { value = try JSON.parse(bytes) } catch {
            throw .malformedEntryBody("\(name) is not valid JSON: \(error)")
        }
        guard case .object = value else { throw .malformedEntryBody("\(name) is not a JSON object") }
        return BodyJSON(value: value, path: name)
    }

    subscript(key: String) -> BodyJSON {
        BodyJSON(value: value?[key], path: "\(path).\(key)")
    }

    var exists: Bool { value != nil && value != .null }

    func string() throws(TransparencyError) -> String {
        guard case .string(let text)? = value else { throw .malformedEntryBody("\(path): missing or not a string") }
        return text
    }

    func base64() throws(TransparencyError) -> [UInt8] {
        guard let bytes = RekorEntryBody.lenientBase64(try string()) else { throw .malformedEntryBody("\(path): not base64") }
        return bytes
    }

    func array() throws(TransparencyError) -> [BodyJSON] {
        guard case .array(let items)? = value else { throw .malformedEntryBody("\(path): missing or not an array") }
        return items.enumerated().map { BodyJSON(value: $1, path: "\(path)[\($0)]") }
    }
}
