import COpenSSL
import COpenSSLShims

/// How a signature was made: the algorithm and its encoding. The caller picks
/// the scheme from the evidence format, never from the signature bytes alone.
public enum SignatureScheme: Sendable, Equatable {
    /// Pure Ed25519 (RFC 8032) over the message.
    case ed25519
    /// ECDSA with the given hash; `r || s` fixed-width (`raw`) or ASN.1 DER.
    case ecdsa(HashAlgorithm, ECDSAEncoding)
    /// RSASSA-PKCS1-v1_5 (RFC 8017 §8.2) with the given hash.
    case rsaPKCS1(HashAlgorithm)
    /// RSASSA-PSS with MGF1 of the same hash and a salt as long as the digest.
    case rsaPSS(HashAlgorithm)

    public enum ECDSAEncoding: Sendable, Equatable { case der, raw }

    var hash: HashAlgorithm? {
        switch self {
        case .ed25519: nil
        case .ecdsa(let hash, _), .rsaPKCS1(let hash), .rsaPSS(let hash): hash
        }
    }
}

extension PublicKey {
    /// Verifies `signature` over `message`. False for any mismatch, including
    /// a key that does not fit the scheme or a malformed signature encoding.
    public func verify(signature: [UInt8], message: [UInt8], scheme: SignatureScheme) -> Bool {
        guard fits(scheme), let signature = normalised(signature, scheme) else { return false }
        guard let ctx = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(ctx) }
        var pctx: OpaquePointer? = nil
        // In Bouncer's library context (see bouncer_libctx), by name: the
        // legacy EVP_DigestVerifyInit would fetch from the default context.
        let initialised = if let hash = scheme.hash {
            EVP_DigestVerifyInit_ex(ctx, &pctx, Hasher.name(hash), bouncer_libctx(), nil, pkey, nil)
        } else {
            EVP_DigestVerifyInit_ex(ctx, &pctx, nil, bouncer_libctx(), nil, pkey, nil)
        }
        guard initialised == 1 else { return false }
        if case .rsaPSS = scheme, let pctx, !configurePSS(pctx) { return false }
        return EVP_DigestVerify(ctx, signature, signature.count, message, message.count) == 1
    }

    /// Verifies `signature` over an already computed `digest` (OpenPGP signs
    /// a hash it builds itself). Not available for Ed25519, which is pure.
    public func verify(signature: [UInt8], digest: [UInt8], scheme: SignatureScheme) -> Bool {
        guard let hash = scheme.hash, digest.count == hash.byteCount,
              fits(scheme), let signature = normalised(signature, scheme),
              let pctx = EVP_PKEY_CTX_new_from_pkey(bouncer_libctx(), pkey, nil) else { return false }
        defer { EVP_PKEY_CTX_free(pctx) }
        guard EVP_PKEY_verify_init(pctx) == 1,
              EVP_PKEY_CTX_set_signature_md(pctx, Hasher.evp(hash)) == 1 else { return false }
        switch scheme {
        case .rsaPKCS1: guard EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 else { return false }
        case .rsaPSS: guard configurePSS(pctx) else { return false }
        default: break
        }
        return EVP_PKEY_verify(pctx, signature, signature.count, digest, digest.count) == 1
    }

    private func fits(_ scheme: SignatureScheme) -> Bool {
        switch (kind, scheme) {
        case (.ed25519, .ed25519), (.ecdsa, .ecdsa), (.rsa, .rsaPKCS1), (.rsa, .rsaPSS): true
        default: false
        }
    }

    private func configurePSS(_ pctx: OpaquePointer) -> Bool {
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1
            && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1
    }

    /// OpenSSL wants DER for ECDSA; turn a fixed-width `r || s` into DER.
    private func normalised(_ signature: [UInt8], _ scheme: SignatureScheme) -> [UInt8]? {
        guard case .ecdsa(_, .raw) = scheme, case .ecdsa(let curve) = kind else { return signature }
        return ECDSASignature.derFromRaw(signature, fieldBytes: curve.fieldBytes)
    }
}

/// Conversions between ECDSA signature encodings.
public enum ECDSASignature {
    /// `r || s`, each `fieldBytes` long, to a DER `ECDSA-Sig-Value`.
    public static func derFromRaw(_ raw: [UInt8], fieldBytes: Int) -> [UInt8]? {
        guard raw.count == 2 * fieldBytes else { return nil }
        return derFromIntegers(r: Array(raw[0..<fieldBytes]), s: Array(raw[fieldBytes...]))
    }

    /// Big-endian unsigned integers r and s (any length, as in OpenPGP or SSH MPIs) to DER.
    public static func derFromIntegers(r: [UInt8], s: [UInt8]) -> [UInt8]? {
        guard r.count <= 133, s.count <= 133, let sig = ECDSA_SIG_new() else { return nil }
        defer { ECDSA_SIG_free(sig) }
        guard let bnR = BN_bin2bn(r, Int32(r.count), nil) else { return nil }
        guard let bnS = BN_bin2bn(s, Int32(s.count), nil) else { BN_free(bnR); return nil }
        guard ECDSA_SIG_set0(sig, bnR, bnS) == 1 else { BN_free(bnR); BN_free(bnS); return nil }
        var out: UnsafeMutablePointer<UInt8>? = nil
        let length = i2d_ECDSA_SIG(sig, &out)
        guard length > 0, let out else { return nil }
        defer { bouncer_openssl_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: Int(length)))
    }
}
