import FoundationEssentials
import BouncerBase
import BouncerIO

/// A Sigstore bundle (formats.md §5.1), parsed strictly into the parts the
/// verifier uses. Nothing here is trusted yet: this is only shape checking.
public struct SigstoreBundle: Sendable {
    public enum Version: Int, Sendable, Comparable {
        case v01 = 1, v02 = 2, v03 = 3
        public static func < (a: Version, b: Version) -> Bool { a.rawValue < b.rawValue }
    }

    public enum Material: Sendable {
        /// Leaf first. From v0.1/v0.2 chains, the extra certificates are kept only
        /// to refuse a chain that carries its own root; they are never trusted.
        case certificates([[UInt8]])
        case publicKey(hint: String?)
    }

    public enum Content: Sendable {
        case messageSignature(digest: Digest?, signature: [UInt8])
        case dsse(DSSEEnvelope)

        public var signature: [UInt8] {
            switch self {
            case .messageSignature(_, let signature): signature
            case .dsse(let envelope): envelope.signatures.first?.sig ?? []
            }
        }
    }

    public struct InclusionProof: Sendable {
        public var logIndex: Int64
        public var rootHash: [UInt8]
        public var treeSize: Int64
        public var hashes: [[UInt8]]
        public var checkpoint: String?
    }

    public struct TlogEntry: Sendable {
        public var logIndex: Int64
        public var logID: [UInt8]
        public var kind: String
        public var version: String
        public var integratedTime: Int64
        public var signedEntryTimestamp: [UInt8]?
        public var inclusionProof: InclusionProof?
        public var canonicalizedBody: [UInt8]
        public var path: String
    }

    public var mediaType: String
    public var version: Version
    public var material: Material
    public var tlogEntries: [TlogEntry]
    public var rfc3161Timestamps: [[UInt8]]
    public var content: Content

    public static let maxBytes = 16 << 20
    static let maxTlogEntries = 32
    static let maxTimestamps = 32
    static let maxCertificates = 10
    static let maxProofHashes = 64

    public static func parse(_ bytes: [UInt8]) throws(SigstoreError) -> SigstoreBundle {
        do {
            let root = try JSONNode.parse(bytes, limit: maxBytes) { path, why in SigstoreError.malformed(path, why) }
            if !root.has("mediaType"), root.has("rekorBundle") || root.has("base64Signature") {
                return try parseCosignLegacy(root)
            }
            return try parseBundle(root)
        } catch let error as SigstoreError {
            throw error
        } catch {
            throw SigstoreError.malformed("$", "\(error)")
        }
    }

    static func version(of mediaType: String) throws -> Version {
        switch mediaType {
        case "application/vnd.dev.sigstore.bundle+json;version=0.1": return .v01
        case "application/vnd.dev.sigstore.bundle+json;version=0.2": return .v02
        case "application/vnd.dev.sigstore.bundle+json;version=0.3",
             "application/vnd.dev.sigstore.bundle.v0.3+json": return .v03
        default:
            throw SigstoreError(.bundleVersion, "bundle $.mediaType: unsupported media type '\(mediaType.prefix(120))'")
        }
    }

    private static func parseBundle(_ root: JSONNode) throws -> SigstoreBundle {
        let mediaType = try root.required("mediaType").string()
        let version = try version(of: mediaType)
        try root.only(["mediaType", "verificationMaterial", "messageSignature", "dsseEnvelope"])
        let vm = try root.required("verificationMaterial")
            .only(["x509CertificateChain", "certificate", "publicKey", "tlogEntries", "timestampVerificationData"])

        let kinds = ["x509CertificateChain", "certificate", "publicKey"].filter { vm.has($0) }
        guard kinds.count == 1 else {
            throw vm.error(kinds.isEmpty ? "no certificate, certificate chain or public key" : "more than one of \(kinds.joined(separator: ", "))")
        }
        let material: Material
        switch kinds[0] {
        case "x509CertificateChain":
            guard version < .v03 else { throw try vm.required("x509CertificateChain").error("not allowed from v0.3 on (use certificate)") }
            let certs = try vm.required("x509CertificateChain").required("certificates").array(max: maxCertificates)
            guard !certs.isEmpty else { throw try vm.required("x509CertificateChain").required("certificates").error("empty certificate chain") }
            material = .certificates(try certs.map { try $0.required("rawBytes").bytes() })
        case "certificate":
            material = .certificates([try vm.required("certificate").required("rawBytes").bytes()])
        default:
            material = .publicKey(hint: try vm.required("publicKey").optional("hint")?.string())
        }

        var entries: [TlogEntry] = []
        if let list = try vm.optional("tlogEntries") {
            entries = try list.array(max: maxTlogEntries).map(parseEntry)
        }
        for entry in entries {
            // v0.1 requires the SET; later versions require an inclusion proof with a checkpoint.
            if version == .v01, entry.signedEntryTimestamp == nil {
                throw SigstoreError.malformed("\(entry.path).inclusionPromise", "missing (required in v0.1 bundles)")
            }
            if version >= .v02 {
                guard let proof = entry.inclusionProof else {
                    throw SigstoreError.malformed("\(entry.path).inclusionProof", "missing (required from v0.2 on)")
                }
                if proof.checkpoint == nil {
                    throw SigstoreError.malformed("\(entry.path).inclusionProof.checkpoint", "missing (required from v0.2 on)")
                }
            }
        }

        var timestamps: [[UInt8]] = []
        if let tvd = try vm.optional("timestampVerificationData"), let list = try tvd.optional("rfc3161Timestamps") {
            for node in try list.array(max: maxTimestamps) {
                let token = try node.required("signedTimestamp").bytes()
                // The same token twice is one time source posing as two (sigstore-python refuses
                // it too): refused, whatever the rest of the bundle says.
                if let first = timestamps.firstIndex(of: token) {
                    throw node.error("the same timestamp as rfc3161Timestamps[\(first)]: duplicate timestamps are refused")
                }
                timestamps.append(token)
            }
        }

        let contents = ["messageSignature", "dsseEnvelope"].filter { root.has($0) }
        guard contents.count == 1 else {
            throw root.error(contents.isEmpty ? "neither messageSignature nor dsseEnvelope" : "both messageSignature and dsseEnvelope")
        }
        let content: Content
        if let ms = try root.optional("messageSignature")?.only(["messageDigest", "signature"]) {
            var digest: Digest? = nil
            if let md = try ms.optional("messageDigest")?.only(["algorithm", "digest"]) {
                let algorithmNode = try md.required("algorithm")
                let algorithm: HashAlgorithm
                switch try algorithmNode.string() {
                case "SHA2_256": algorithm = .sha256
                case "SHA2_384": algorithm = .sha384
                case "SHA2_512": algorithm = .sha512
                default: throw algorithmNode.error("unsupported hash algorithm")
                }
                let digestNode = try md.required("digest")
                do { digest = try Digest(algorithm: algorithm, bytes: try digestNode.bytes()) } catch {
                    throw digestNode.error("wrong length for \(algorithm.rawValue)")
                }
            }
            content = .messageSignature(digest: digest, signature: try ms.required("signature").bytes())
        } else {
            let envelope = try root.required("dsseEnvelope")
            content = .dsse(try DSSEEnvelope.parse(envelope))
        }
        return SigstoreBundle(mediaType: mediaType, version: version, material: material, tlogEntries: entries,
                              rfc3161Timestamps: timestamps, content: content)
    }

    private static func parseEntry(_ node: JSONNode) throws -> TlogEntry {
        try node.only(["logIndex", "logId", "kindVersion", "integratedTime", "inclusionPromise", "inclusionProof", "canonicalizedBody"])
        let kindVersion = try node.required("kindVersion")
        var proof: InclusionProof? = nil
        if let p = try node.optional("inclusionProof")?.only(["logIndex", "rootHash", "treeSize", "hashes", "checkpoint"]) {
            proof = InclusionProof(
                logIndex: try p.required("logIndex").nonNegativeInt64(),
                rootHash: try p.required("rootHash").bytes(),
                treeSize: try p.required("treeSize").nonNegativeInt64(),
                hashes: try (p.optional("hashes")?.array(max: maxProofHashes) ?? []).map { try $0.bytes() },
                checkpoint: try p.optional("checkpoint")?.required("envelope").string())
        }
        return TlogEntry(
            logIndex: try node.required("logIndex").nonNegativeInt64(),
            logID: try node.required("logId").required("keyId").bytes(),
            kind: try kindVersion.required("kind").string(),
            version: try kindVersion.required("version").string(),
            integratedTime: try node.optional("integratedTime")?.nonNegativeInt64() ?? 0,
            signedEntryTimestamp: try node.optional("inclusionPromise")?.required("signedEntryTimestamp").bytes(),
            inclusionProof: proof,
            canonicalizedBody: try node.required("canonicalizedBody").bytes(),
            path: node.path)
    }

    /// cosign `sign-blob --bundle` (formats.md §5.12): a v0.1-style bundle with
    /// a SET and no inclusion proof; kind and version come from the body.
    private static func parseCosignLegacy(_ root: JSONNode) throws -> SigstoreBundle {
        let signature = try root.required("base64Signature").bytes()
        let certNode = try root.required("cert")
        let certRaw = try certNode.bytes()
        let certText = String(decoding: certRaw, as: UTF8.self)
        let certDER: [UInt8]
        if certText.hasPrefix("-----BEGIN") {
            guard let der = PEM.decode(certText, label: "CERTIFICATE").first else { throw certNode.error("no PEM CERTIFICATE block") }
            certDER = der
        } else {
            certDER = certRaw
        }
        let rekor = try root.required("rekorBundle")
        let set = try rekor.required("SignedEntryTimestamp").bytes()
        let payload = try rekor.required("Payload")
        let bodyNode = try payload.required("body")
        let body = try bodyNode.bytes()
        let logIDNode = try payload.required("logID")
        guard let logID = Hex.decode(try logIDNode.string()), logID.count == 32 else { throw logIDNode.error("not a 32-byte hex log ID") }
        // The kind and version are taken from the body; the body-consistency step checks them again.
        let bodyPath = bodyNode.path
        let bodyJSON = try JSONNode.parse(body, limit: maxBytes) { path, why in
            SigstoreError.malformed("\(bodyPath) (decoded)\(path.dropFirst())", why)
        }
        let entry = TlogEntry(
            logIndex: try payload.required("logIndex").nonNegativeInt64(),
            logID: logID,
            kind: try bodyJSON.required("kind").string(),
            version: try bodyJSON.required("apiVersion").string(),
            integratedTime: try payload.required("integratedTime").nonNegativeInt64(),
            signedEntryTimestamp: set,
            inclusionProof: nil,
            canonicalizedBody: body,
            path: rekor.path)
        // The legacy format has no messageDigest: take the hash algorithm and value
        // from the hashedrekord body (which the entry-consistency step checks
        // against the artifact anyway), so a P-384 key that signed SHA-256 verifies.
        var digest: Digest? = nil
        if entry.kind == "hashedrekord", let hash = try bodyJSON.optional("spec")?.optional("data")?.optional("hash") {
            let name = try hash.required("algorithm").string()
            let value = try hash.required("value")
            guard let algorithm = HashAlgorithm(name: name), algorithm.isEvidence,
                  let parsed = try? Digest(algorithm: algorithm, hex: try value.string()) else {
                throw value.error("not a sha256/384/512 hex digest")
            }
            digest = parsed
        }
        return SigstoreBundle(mediaType: "cosign-bundle", version: .v01, material: .certificates([certDER]),
                              tlogEntries: [entry], rfc3161Timestamps: [], content: .messageSignature(digest: digest, signature: signature))
    }
}
