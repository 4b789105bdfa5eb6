import FoundationEssentials
import BouncerBase
import BouncerIO

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

    /// One outcome per signature. The data is read once, feeding every
    /// signature's hash and the `observers` (e.g. the sha256 reported for the
    /// artifact), so all of them see the same bytes. Throws only when the
    /// data cannot be read.
    func verify(signatures: [Result<PGPSignature, OpenPGPError>], data: PGPSignedData, mode: Mode,
                observers: [Hasher] = []) throws(BouncerError) -> [SignatureOutcome] {
        var size: UInt64 = 0
        return try verify(signatures: signatures, data: data, mode: mode, observers: observers, size: &size)
    }

    func verify(signatures: [Result<PGPSignature, OpenPGPError>], data: PGPSignedData, mode: Mode,
                observers: [Hasher], size: inout UInt64) throws(BouncerError) -> [SignatureOutcome] {
        enum Step {
            case done(SignatureOutcome)
            case pending(PGPSignature, Hasher)
        }
        var steps: [Step] = []
        // Unsalted (v4) signatures of one type and hash read the same bytes:
        // they share one hasher, and each adds its trailer to a copy of it
        // (a Debian InRelease carries two such signatures).
        var shared: [(type: UInt8, hasher: Hasher)] = []
        for parsed in signatures {
            switch parsed {
            case .failure(let error):
                steps.append(.done(.refused(signer: nil, reason: error.description)))
            case .success(let sig):
                switch precheck(sig, mode: mode) {
                case .failure(let refusal): steps.append(.done(refusal.outcome))
                case .success(let hash):
                    if sig.salt.isEmpty, let same = shared.first(where: { $0.type == sig.type && $0.hasher.algorithm == hash }) {
                        steps.append(.pending(sig, same.hasher))
                        continue
                    }
                    let hasher = Hasher(hash)
                    hasher.update(sig.salt)
                    if sig.salt.isEmpty { shared.append((sig.type, hasher)) }
                    steps.append(.pending(sig, hasher))
                }
            }
        }
        var binary = observers, text: [Hasher] = []
        for case .pending(let sig, let hasher) in steps where !(binary + text).contains(where: { $0 === hasher }) {
            if sig.type == 0x01 { text.append(hasher) } else { binary.append(hasher) }
        }
        if !binary.isEmpty || !text.isEmpty {
            size = try data.feed(binary: binary, text: text)
        }
        return steps.map { step in
            switch step {
            case .done(let outcome): return outcome
            case .pending(let sig, let hasher):
                let own = hasher.copy()
                own.update(sig.trailer)
                return finish(sig, digest: own.finalize().bytes)
            }
        }
    }

    private struct Refusal: Error { let outcome: SignatureOutcome }

    private func refusal(_ sig: PGPSignature, _ why: String) -> SignatureOutcome {
        let issuer = sig.issuerDescription
        let at = "signature at offset \(sig.offset)" + (issuer.map { " by \($0)" } ?? "")
        return .refused(signer: issuer, reason: "\(at): \(why)")
    }

    /// Everything that can be decided before hashing the data; the hash to use.
    private func precheck(_ sig: PGPSignature, mode: Mode) -> Result<HashAlgorithm, Refusal> {
        let issuer = sig.issuerDescription
        func refuse(_ why: String) -> Result<HashAlgorithm, Refusal> { .failure(Refusal(outcome: refusal(sig, why))) }

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
        guard !keyring.candidates(for: sig).isEmpty else {
            return refuse("signing key \(issuer ?? "(unnamed)") is not in the trusted keyring (\(keyFiles))")
        }
        return .success(hash)
    }

    /// The public-key and certificate checks, given the signature's digest.
    private func finish(_ sig: PGPSignature, digest: [UInt8]) -> SignatureOutcome {
        let candidates = keyring.candidates(for: sig)
        let created = sig.creationTime ?? 0
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
            return .verified(SignerFact(format: OpenPGPFormat.name, signer: cert.primary.fingerprintHex, details: details,
                                        signedAt: Date(timeIntervalSince1970: TimeInterval(created))))
        }
        return refusal(sig, reasons.joined(separator: "; "))
    }

    private static func sizeNote(_ key: PublicKey) -> String {
        switch key.kind {
        case .rsa(let bits): "-\(bits)"
        case .ecdsa(let curve): " \(curve.rawValue)"
        case .ed25519: ""
        }
    }

    /// Canonical text for type 0x01 (RFC 9580 §5.2.1.2), in one piece.
    static func canonicalText(_ data: [UInt8]) -> [UInt8] {
        var canonicalizer = TextCanonicalizer()
        var out: [UInt8] = []
        data.withUnsafeBytes { canonicalizer.process($0) { out += $0 } }
        canonicalizer.finish()
        return out
    }
}
