import COpenSSL
import COpenSSLShims
import FoundationEssentials
import BouncerBase
import BouncerIO

/// RFC 3161 signed timestamps from a trusted timestamp authority
/// (formats.md §5.10): a signed time for Rekor v2 entries, which carry none.
public enum RFC3161Timestamp {
    /// Verifies a DER TimeStampResp or TimeStampToken over the bundle's
    /// signature bytes and returns its `genTime`. The message imprint must be
    /// the hash of `signature`. For one of the `authorities`: genTime lies in
    /// its validity window; the CMS signature verifies (one signer); the
    /// signer has the timeStamping EKU (critical or not: OpenSSL's own
    /// timestamp purpose insists on critical, which GitHub's TSA is not); the
    /// signer is the authority's named TSA certificate when the chain starts
    /// with one; and the signer chains to the authority's root at genTime.
    public static func verify(tokenDER: [UInt8], signature: [UInt8], authorities: [TimestampAuthority]) throws(TransparencyError) -> Date {
        try verify(tokenDER: tokenDER, signature: signature, authorities: authorities, cache: nil)
    }

    /// As above, with the authorities' certificates parsed once per trusted
    /// root (`cache`), and each authority's own chain verified once but for
    /// time: a token signed by the authority's named certificate then needs
    /// only its CMS signature checked and the chain valid at genTime.
    /// `chainShortcut: false` checks every chain the full way (tests compare the two).
    static func verify(tokenDER: [UInt8], signature: [UInt8], authorities: [TimestampAuthority],
                       cache: ParsedCertificates?, chainShortcut: Bool = true) throws(TransparencyError) -> Date {
        let token = try parse(tokenDER)
        guard MerkleInclusion.constantTimeEqual(token.imprint, Hasher.digest(signature, token.hash).bytes) else {
            throw .timestampImprintMismatch
        }
        let genTime = Date(timeIntervalSince1970: TimeInterval(token.genTime))
        guard !authorities.isEmpty else { throw .timestampUntrusted("the trusted root lists no timestamp authority") }
        var reasons: [String] = []
        for (number, authority) in authorities.enumerated() {
            guard !authority.certificateChainDER.isEmpty else {
                reasons.append("authority \(number) has no certificates")
                continue
            }
            guard authority.isValid(at: genTime) else {
                reasons.append("authority \(number) was not valid at \(genTime)")
                continue
            }
            var error = [CChar](repeating: 0, count: 256)
            let verified = chainVerify(token.parsed, authority.certificateChainDER, at: token.genTime, cache: cache,
                                       shortcut: chainShortcut, error: &error)
            if verified { return genTime }
            let reason = String(decoding: error.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            reasons.append("authority \(number): \(reason)")
        }
        throw .timestampUntrusted("no trusted timestamp authority signed it at \(genTime) (\(reasons.joined(separator: "; ")))")
    }

    struct Token {
        let hash: HashAlgorithm
        let imprint: [UInt8]
        let genTime: Int64
        /// The token as OpenSSL read it, verified without reading it again.
        let parsed: ParsedToken
    }

    final class ParsedToken {
        let pointer: UnsafeMutablePointer<pkcs7_st>
        init(_ pointer: UnsafeMutablePointer<pkcs7_st>) { self.pointer = pointer }
        deinit { bouncer_ts_token_free(pointer) }
    }

    static func parse(_ der: [UInt8]) throws(TransparencyError) -> Token {
        var nid: Int32 = 0
        var imprint = [UInt8](repeating: 0, count: 64)
        var imprintLength = imprint.count
        var genTime: Int64 = 0
        var status: Int32 = -1
        let read: UnsafeMutablePointer<pkcs7_st>? = bouncer_ts_token(der, der.count, &status)
        let parsed = read.map(ParsedToken.init)
        if let parsed { status = bouncer_ts_info_of(parsed.pointer, &nid, &imprint, &imprintLength, &genTime) }
        switch status {
        case 0: break
        case -2: throw .malformedTimestamp("the timestamp response's status is not 'granted'")
        case -3: throw .malformedTimestamp("the token does not hold a TSTInfo")
        case -4: throw .malformedTimestamp("the message imprint is missing or too long")
        case -5: throw .malformedTimestamp("genTime is not a valid GeneralizedTime")
        default: throw .malformedTimestamp("not a DER TimeStampResp or TimeStampToken")
        }
        let hash: HashAlgorithm
        switch nid {
        case NID_sha256: hash = .sha256
        case NID_sha384: hash = .sha384
        case NID_sha512: hash = .sha512
        default: throw .malformedTimestamp("the message imprint uses an unsupported hash (NID \(nid))")
        }
        guard imprintLength == hash.byteCount else {
            throw .malformedTimestamp("the \(hash.rawValue) message imprint is \(imprintLength) bytes")
        }
        guard let parsed else { throw .malformedTimestamp("not a DER TimeStampResp or TimeStampToken") }
        return Token(hash: hash, imprint: Array(imprint.prefix(imprintLength)), genTime: genTime, parsed: parsed)
    }

    private static func chainVerify(_ token: ParsedToken, _ chain: [[UInt8]], at time: Int64, cache: ParsedCertificates?,
                                    shortcut: Bool, error: inout [CChar]) -> Bool {
        let errorCapacity = error.count
        if let cache {
            let parsed = chain.map { cache.certificate($0) }
            // One that does not parse: the DER path below words the refusal as before.
            if !parsed.contains(where: { $0 == nil }) {
                let chainVerified: Int32 = shortcut && chain.count > 1 && cache.verifiedChain(chain) ? 1 : 0
                let pointers: [OpaquePointer?] = parsed.map { $0?.x509 }
                return pointers.withUnsafeBufferPointer { certs in
                    error.withUnsafeMutableBufferPointer { errorBuffer in
                        bouncer_ts_verify_token(token.pointer, certs.baseAddress, certs.count, time, chainVerified,
                                                errorBuffer.baseAddress, errorCapacity) == 1
                    }
                }
            }
        }
        // Pin every certificate buffer for the duration of the C call.
        let buffers = chain.map { certificate -> UnsafeMutableBufferPointer<UInt8> in
            let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(certificate.count, 1))
            _ = buffer.initialize(from: certificate)
            return buffer
        }
        defer { buffers.forEach { $0.deallocate() } }
        let pointers: [UnsafePointer<UInt8>?] = buffers.map { UnsafePointer($0.baseAddress) }
        let lengths = chain.map(\.count)
        return error.withUnsafeMutableBufferPointer { errorBuffer in
            bouncer_ts_verify(token.pointer, pointers, lengths, chain.count, time, errorBuffer.baseAddress, errorCapacity) == 1
        }
    }
}
