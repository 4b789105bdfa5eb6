import Foundation

/// Checks data signatures (types 0x00 and 0x01) against a keyring: one
/// outcome per signature, each naming the key it concerns.
struct PGPDataVerifier {
    let keyring: PGPKeyring
    let now: UInt32
    /// Names of the key files, for "not in the keyring" messages.
    let keyFiles: String
    /// Signatures dated this far in the future are tolerated (clock skew).
    static let skew: UInt32 = 300

    /// Public-key algorithms this verifier checks: RSA, ECDSA, EdDSA (legacy and v6).
    static let supportedAlgorithms: Set<UInt8> = [1, 3, 19, 22, 27]

    /// Hashes OpenPGP accepts as evidence for data signatures.
    static let allowedDataHashes: Set<UInt8> = [8, 9, 10]

    enum Mode {
        /// A detached signature: binary (0x00) or canonical text (0x01).
        case detached
        /// A cleartext-signed message: only 0x01, and the hash must be one the
        /// `Hash:` header announced (nil: no header, any allowed hash).
        case cleartext(announced: Set<UInt8>?)
    }

    func verify(signatures: [Result<PGPSignature, OpenPGPError>], data: [UInt8], mode: Mode) -> [SignatureOutcome] {
        var canonical: [UInt8]? = nil
        return signatures.map { parsed in
            switch parsed {
            case .failure(let error):
                return .refused(signer: nil, reason: error.description)
            case .success(let sig):
                if sig.type == 0x01 && canonical == nil { canonical = Self.canonicalText(data) }
                return evaluate(sig, data: sig.type == 0x01 ? (canonical ?? data) : data, mode: mode)
            }
        }
    }

    private func evaluate(_ sig: PGPSignature, data: [UInt8], mode: Mode) -> SignatureOutcome {
        let issuer = sig.issuerDescription
        let at = "signature at offset \(sig.offset)" + (issuer.map { " by \($0)" } ?? "")
        func refuse(_ why: String) -> SignatureOutcome { .refused(signer: issuer, reason: "\(at): \(why)") }

        switch (sig.type, mode) {
        case (0x00, .detached), (0x01, _): break
        case (0x00, .cleartext):
            return refuse("a cleartext-signed message needs a text signature (type 0x01), found binary (0x00)")
        default:
            return refuse("signature type 0x\(hexByte(sig.type)) is not a document signature (only 0x00 binary and 0x01 text count)")
        }
        guard Self.supportedAlgorithms.contains(sig.publicKeyAlgorithm) else {
            return refuse("\(PGPAlgorithms.publicKeyName(sig.publicKeyAlgorithm)) signatures are not supported (RSA, ECDSA, Ed25519)")
        }
        guard Self.allowedDataHashes.contains(sig.hashAlgorithm), let hash = sig.hash else {
            let name = PGPAlgorithms.hashName(sig.hashAlgorithm)
            if [1, 2, 3].contains(sig.hashAlgorithm) {
                return refuse("uses \(name), which is too weak to count for data signatures")
            }
            return refuse("\(name) is not supported for data signatures (SHA256, SHA384 or SHA512)")
        }
        if case .cleartext(let announced?) = mode, !announced.contains(sig.hashAlgorithm) {
            return refuse("uses \(PGPAlgorithms.hashName(sig.hashAlgorithm)), which the message's 'Hash:' header does not announce")
        }
        if sig.version == 6, PGPAlgorithms.v6SaltSize(sig.hashAlgorithm) != sig.salt.count {
            return refuse("v6 salt of \(sig.salt.count) bytes does not fit \(PGPAlgorithms.hashName(sig.hashAlgorithm))")
        }
        if let critical = sig.unknownCritical {
            return refuse("has a critical subpacket of unknown type \(critical)")
        }
        guard let created = sig.creationTime else {
            return refuse("has no hashed creation time")
        }
        if UInt64(created) > UInt64(now) + UInt64(Self.skew) {
            return refuse("is dated in the future (\(PGPCertificateCheck.date(created)))")
        }
        if let expires = sig.expirationSeconds, expires > 0, UInt64(created) + UInt64(expires) <= UInt64(now) {
            return refuse("expired on \(PGPCertificateCheck.date(UInt32(clamping: UInt64(created) + UInt64(expires))))")
        }
        let candidates = keyring.candidates(for: sig)
        guard !candidates.isEmpty else {
            return refuse("signing key \(issuer ?? "(unnamed)") is not in the trusted keyring (\(keyFiles))")
        }

        let hasher = Hasher(hash)
        hasher.update(sig.salt)
        hasher.update(data)
        hasher.update(sig.trailer)
        let digest = hasher.finalize().bytes
        let check = PGPCertificateCheck(now: now)

        var reasons: [String] = []
        for (cert, key) in candidates {
            let fpr = key.fingerprintHex
            let compatible = sig.publicKeyAlgorithm == key.algorithm || Set([sig.publicKeyAlgorithm, key.algorithm]).isSubset(of: [1, 3])
            if !compatible {
                reasons.append("a \(PGPAlgorithms.publicKeyName(sig.publicKeyAlgorithm)) signature cannot come from \(PGPAlgorithms.publicKeyName(key.algorithm)) key \(fpr)")
                continue
            }
            if sig.version != key.version {
                reasons.append("a v\(sig.version) signature cannot come from v\(key.version) key \(fpr)")
                continue
            }
            let publicKey: PublicKey
            switch key.verifier {
            case .failure(let problem):
                reasons.append("key \(fpr) cannot verify: \(problem.reason)")
                continue
            case .success(let value):
                publicKey = value
            }
            if case .rsa(let bits) = publicKey.kind, bits < 2048 {
                reasons.append("key \(fpr) is RSA-\(bits), below the 2048-bit minimum")
                continue
            }
            guard digest.prefix(2).elementsEqual(sig.hashPrefix), key.verify(sig, digest: digest) else {
                reasons.append("BAD signature from key \(fpr): the signed data or the signature was altered")
                continue
            }
            if let problem = check.problem(certificate: cert, key: key, signatureTime: created) {
                reasons.append(problem)
                continue
            }
            var details: [String: String] = [
                "fingerprint": cert.primary.fingerprintHex,
                "keyid": key.keyIDHex,
                "signingKey": fpr,
                "created": PGPCertificateCheck.date(created),
                "hash": PGPAlgorithms.hashName(sig.hashAlgorithm),
                "algorithm": PGPAlgorithms.publicKeyName(key.algorithm) + Self.sizeNote(publicKey),
                "type": sig.type == 0x00 ? "binary" : "text",
                "version": String(sig.version),
            ]
            if let uid = cert.displayName { details["userID"] = uid }
            return .verified(SignerFact(format: OpenPGPFormat.name, signer: cert.primary.fingerprintHex, details: details))
        }
        return refuse(reasons.joined(separator: "; "))
    }

    private static func sizeNote(_ key: PublicKey) -> String {
        switch key.kind {
        case .rsa(let bits): "-\(bits)"
        case .ecdsa(let curve): " \(curve.rawValue)"
        case .ed25519: ""
        }
    }

    /// Canonical text for type 0x01 (RFC 9580 §5.2.1.2): every line ending
    /// (CRLF, LF or a lone CR) becomes CRLF.
    static func canonicalText(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + data.count / 32)
        var index = 0
        while index < data.count {
            let byte = data[index]
            if byte == 0x0d {
                out.append(0x0d); out.append(0x0a)
                if index + 1 < data.count, data[index + 1] == 0x0a { index += 1 }
            } else if byte == 0x0a {
                out.append(0x0d); out.append(0x0a)
            } else {
                out.append(byte)
            }
            index += 1
        }
        return out
    }
}
