import FoundationEssentials
import BouncerBase
import BouncerIO

/// Decides whether a key of a certificate could make a data signature at a
/// given time: self-signatures verified, not revoked, not expired, and for a
/// subkey a valid signing binding with its 0x19 back-signature
/// (RFC 9580 §5.2.1, §5.2.3.3, §10.1). Returns the reason it cannot, naming
/// the key fingerprint.
package struct PGPCertificateCheck {
    let now: UInt32

    static let allowedKeySignatureHashes: Set<UInt8> = [2, 8, 9, 10]

    func problem(certificate cert: PGPCertificate, key: PGPKey, signatureTime: UInt32) -> String? {
        let primary = cert.primary
        let pfpr = primary.fingerprintHex

        // Revocation of the whole certificate (0x20), by the primary key itself.
        // Designated revokers are not consulted (documented limitation).
        let direct = cert.directSignatures
        for sig in direct where sig.type == 0x20 {
            guard verifyKeySignature(sig, signer: primary, primary: primary, extra: []) else { continue }
            if let reason = revocationProblem(sig, what: "primary key \(pfpr)", signatureTime: signatureTime) { return reason }
        }

        // The newest valid self-signature carries the primary key's expiry and flags.
        var selfSigs: [(sig: PGPSignature, extra: [UInt8])] = direct.filter { $0.type == 0x1F }.map { ($0, []) }
        for uid in cert.userIDs {
            let framing = Self.userIDFraming(uid)
            for sig in cert.signatures(of: uid) where (0x10...0x13).contains(sig.type) && isFrom(sig, primary) {
                selfSigs.append((sig, framing))
            }
        }
        guard let newest = newestValid(selfSigs, signer: primary, primary: primary) else {
            return "primary key \(pfpr) has no valid self-signature (user ID certification or direct-key signature)"
        }
        if let why = expiryProblem(created: primary.created, expiration: newest.keyExpirationSeconds,
                                   what: "primary key \(pfpr)", signatureTime: signatureTime) { return why }

        if key === primary {
            if let flags = newest.keyFlags, flags & 0x02 == 0 {
                return "primary key \(pfpr) is not marked for signing data (key flags 0x\(hexByte(flags)))"
            }
        } else {
            guard let sub = cert.subkeys.first(where: { $0.key === key }) else {
                return "key \(key.fingerprintHex) is not part of certificate \(pfpr)"
            }
            let sfpr = key.fingerprintHex
            let framing = key.hashFraming
            let subSignatures = cert.signatures(of: sub)
            for sig in subSignatures where sig.type == 0x28 {
                guard verifyKeySignature(sig, signer: primary, primary: primary, extra: framing) else { continue }
                if let reason = revocationProblem(sig, what: "subkey \(sfpr) of \(pfpr)", signatureTime: signatureTime) { return reason }
            }
            let bindings = subSignatures.filter { $0.type == 0x18 && ($0.creationTime ?? 0) >= key.created }
            guard let binding = newestValid(bindings.map { ($0, framing) }, signer: primary, primary: primary) else {
                return "subkey \(sfpr) has no valid binding signature from primary key \(pfpr)"
            }
            guard let flags = binding.keyFlags, flags & 0x02 != 0 else {
                return "subkey \(sfpr) of \(pfpr) is not bound for signing data (its binding has no sign flag)"
            }
            // The back-signature proves the subkey's owner agreed to the binding;
            // without it anyone could claim someone else's signing subkey.
            let backSigned = binding.embeddedSignatures.contains { body in
                guard let back = try? PGPSignature.parse(body, offset: binding.offset, what: cert.source),
                      back.type == 0x19 else { return false }
                return verifyKeySignature(back, signer: key, primary: primary, extra: framing)
            }
            guard backSigned else {
                return "signing subkey \(sfpr) of \(pfpr) lacks a valid primary-key binding back-signature (0x19)"
            }
            if let why = expiryProblem(created: key.created, expiration: binding.keyExpirationSeconds,
                                       what: "subkey \(sfpr) of \(pfpr)", signatureTime: signatureTime) { return why }
        }
        if signatureTime < key.created {
            return "signature was made \(Self.date(signatureTime)), before key \(key.fingerprintHex) was created (\(Self.date(key.created)))"
        }
        return nil
    }

    /// The newest of `candidates` that verifies, a tie going to the one listed
    /// first: what `max(by:)` over the verified ones picks. Trying them newest
    /// first and stopping at the first that verifies gives that answer with
    /// fewer public-key operations (Debian's archive keys carry six
    /// self-signatures each, of which one decides).
    private func newestValid(_ candidates: [(sig: PGPSignature, extra: [UInt8])], signer: PGPKey, primary: PGPKey) -> PGPSignature? {
        let newestFirst = candidates.enumerated().sorted { a, b in
            let (ta, tb) = (a.element.sig.creationTime ?? 0, b.element.sig.creationTime ?? 0)
            return ta != tb ? ta > tb : a.offset < b.offset
        }
        return newestFirst.first { verifyKeySignature($0.element.sig, signer: signer, primary: primary, extra: $0.element.extra) }?.element.sig
    }

    private func isFrom(_ sig: PGPSignature, _ key: PGPKey) -> Bool {
        if let fpr = sig.issuerFingerprint { return fpr == key.fingerprint }
        if let id = sig.issuerKeyID { return id == key.keyID }
        return true
    }

    private func revocationProblem(_ sig: PGPSignature, what: String, signatureTime: UInt32) -> String? {
        // Reasons 1 (superseded), 3 (retired) and 32 (user ID) are "soft":
        // signatures made before the revocation stay good. Anything else,
        // including no reason (possible compromise), revokes every signature.
        let reason = sig.revocationReason
        let soft = reason == 1 || reason == 3 || reason == 32
        if soft, let at = sig.creationTime, signatureTime < at { return nil }
        let why = reason.map { " (reason code \($0))" } ?? ""
        return "\(what) is revoked\(why) since \(Self.date(sig.creationTime ?? 0))"
    }

    private func expiryProblem(created: UInt32, expiration: UInt32?, what: String, signatureTime: UInt32) -> String? {
        guard let expiration, expiration > 0 else { return nil }
        let end = UInt64(created) + UInt64(expiration)
        if UInt64(signatureTime) >= end || UInt64(now) >= end {
            return "\(what) expired on \(Self.date(UInt32(clamping: end)))"
        }
        return nil
    }

    /// A key signature (certification, binding, revocation) by `signer` over
    /// `primary` and `extra` (user ID or subkey framing).
    func verifyKeySignature(_ sig: PGPSignature, signer: PGPKey, primary: PGPKey, extra: [UInt8]) -> Bool {
        guard Self.allowedKeySignatureHashes.contains(sig.hashAlgorithm), let hash = sig.hash,
              sig.version == signer.version, sig.unknownCritical == nil, let created = sig.creationTime,
              isFrom(sig, signer) else { return false }
        if sig.version == 6 { guard PGPAlgorithms.v6SaltSize(sig.hashAlgorithm) == sig.salt.count else { return false } }
        if let expires = sig.expirationSeconds, expires > 0, UInt64(created) + UInt64(expires) <= UInt64(now) { return false }
        let hasher = Hasher(hash)
        hasher.update(sig.salt)
        hasher.update(primary.hashFraming)
        hasher.update(extra)
        hasher.update(sig.trailer)
        let digest = hasher.finalize().bytes
        guard digest.prefix(2).elementsEqual(sig.hashPrefix) else { return false }
        return signer.verify(sig, digest: digest)
    }

    static func userIDFraming(_ uid: PGPCertificate.UserID) -> [UInt8] {
        let n = UInt32(clamping: uid.packet.count)
        return [uid.isAttribute ? 0xD1 : 0xB4, UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + uid.packet
    }

    /// `2026-11-23T08:10:51Z`.
    package static func date(_ time: UInt32) -> String { UTCTime.format(seconds: Int64(time)) }
}
