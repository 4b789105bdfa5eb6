import COpenSSLShims
import FoundationEssentials
import BouncerBase
import BouncerIO

/// Embedded signed certificate timestamps in a Fulcio leaf (RFC 6962 §3.2,
/// formats.md §5.7): proof that the certificate was published to a CT log.
public enum CertificateTransparency {
    /// One SCT from the TLS-encoded `SignedCertificateTimestampList`.
    struct SCT {
        let logID: [UInt8]
        let timestamp: UInt64  // milliseconds since the epoch
        let extensions: [UInt8]
        let hashAlgorithm: UInt8
        let signatureAlgorithm: UInt8
        let signature: [UInt8]
    }

    /// Verifies every embedded SCT whose log is in `ctLogs` and returns the
    /// IDs of the logs whose SCT verified; throws unless at least one did.
    /// `issuerDER` is the certificate that signed the leaf (its key hash is
    /// part of what the log signed). A log's key must be valid at the SCT's
    /// own timestamp. `at` is the signing time: an SCT dated more than a day
    /// (generous clock skew) after it cannot belong to this signature.
    public static func verifyEmbeddedSCTs(leafDER: [UInt8], issuerDER: [UInt8], ctLogs: [TransparencyLogKey], at: Date) throws(TransparencyError) -> [[UInt8]] {
        try verifyEmbeddedSCTs(leafDER: leafDER, issuerSPKI: { spki(issuerDER) }, ctLogs: ctLogs, at: at)
    }

    /// As above, with the issuer's SubjectPublicKeyInfo given (a trusted
    /// root's CA certificates are read once: `ParsedCertificates.spki`); nil
    /// when the issuer is not a certificate.
    static func verifyEmbeddedSCTs(leafDER: [UInt8], issuerSPKI readIssuerSPKI: () -> [UInt8]?, ctLogs: [TransparencyLogKey],
                                   at: Date) throws(TransparencyError) -> [[UInt8]] {
        let (tbs, list) = try PrecertificateTBS.split(leafDER)
        guard let issuerSPKI = readIssuerSPKI() else { throw .malformedCertificate("the issuer is not a DER X.509 certificate") }
        let issuerKeyHash = Hasher.digest(issuerSPKI, .sha256).bytes
        let scts = try parseList(list)
        guard !scts.isEmpty else { throw .sctMissing }

        var verified: [[UInt8]] = []
        var reasons: [String] = []
        for (number, sct) in scts.enumerated() {
            guard let log = ctLogs.first(where: { $0.logID == sct.logID }) else {
                reasons.append("SCT \(number) is from log \(Hex.encode(sct.logID)), not a trusted CT log")
                continue
            }
            let issued = Date(timeIntervalSince1970: TimeInterval(sct.timestamp) / 1000)
            guard log.isValid(at: issued) else {
                reasons.append("SCT \(number): the key of CT log \(Hex.encode(sct.logID)) was not valid at \(issued)")
                continue
            }
            guard issued.timeIntervalSince(at) <= 86_400 else {
                reasons.append("SCT \(number) is dated after the signing time")
                continue
            }
            let message = signedData(sct, issuerKeyHash: issuerKeyHash, tbs: tbs)
            guard let scheme = scheme(sct, key: log.key), log.key.verify(signature: sct.signature, message: message, scheme: scheme) else {
                reasons.append("SCT \(number): the signature by CT log \(Hex.encode(sct.logID)) does not verify")
                continue
            }
            if !verified.contains(log.logID) { verified.append(log.logID) }
        }
        guard !verified.isEmpty else { throw .sctNotVerified(reasons.joined(separator: "; ")) }
        return verified
    }

    /// RFC 6962 §3.2 digitally-signed struct for a precert entry.
    static func signedData(_ sct: SCT, issuerKeyHash: [UInt8], tbs: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0, 0]  // version v1, signature_type certificate_timestamp
        out += bigEndian(sct.timestamp, bytes: 8)
        out += [0, 1]              // entry_type precert_entry
        out += issuerKeyHash
        out += bigEndian(UInt64(tbs.count), bytes: 3) + tbs
        out += bigEndian(UInt64(sct.extensions.count), bytes: 2) + sct.extensions
        return out
    }

    /// TLS SignatureAndHashAlgorithm: hash 4 = SHA-256 (5/6 = SHA-384/512); signature 3 = ECDSA, 1 = RSA.
    static func scheme(_ sct: SCT, key: PublicKey) -> SignatureScheme? {
        let hash: HashAlgorithm
        switch sct.hashAlgorithm {
        case 4: hash = .sha256
        case 5: hash = .sha384
        case 6: hash = .sha512
        default: return nil
        }
        switch (sct.signatureAlgorithm, key.kind) {
        case (3, .ecdsa): return .ecdsa(hash, .der)
        case (1, .rsa): return .rsaPKCS1(hash)
        default: return nil
        }
    }

    static func bigEndian(_ value: UInt64, bytes: Int) -> [UInt8] {
        (0..<bytes).reversed().map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }

    /// `u16 list_len || (u16 sct_len || SCT)*`, every length checked against what is left.
    static func parseList(_ bytes: [UInt8]) throws(TransparencyError) -> [SCT] {
        var reader = TLSReader(bytes)
        let listLength = try reader.integer(2, "the SCT list length")
        guard listLength == reader.remaining else { throw .malformedSCT("the SCT list length \(listLength) does not match its \(reader.remaining) bytes") }
        var scts: [SCT] = []
        while reader.remaining > 0 {
            let length = try reader.integer(2, "SCT \(scts.count) length")
            var item = TLSReader(try reader.bytes(Int(length), "SCT \(scts.count)"))
            let number = scts.count
            let version = try item.integer(1, "SCT \(number) version")
            guard version == 0 else { throw .malformedSCT("SCT \(number) has version \(version), only v1 (0) is known") }
            let logID = try item.bytes(32, "SCT \(number) log ID")
            let timestamp = try item.integer(8, "SCT \(number) timestamp")
            let extensions = try item.bytes(Int(try item.integer(2, "SCT \(number) extensions length")), "SCT \(number) extensions")
            let hash = UInt8(try item.integer(1, "SCT \(number) hash algorithm"))
            let signatureAlgorithm = UInt8(try item.integer(1, "SCT \(number) signature algorithm"))
            let signature = try item.bytes(Int(try item.integer(2, "SCT \(number) signature length")), "SCT \(number) signature")
            guard item.remaining == 0 else { throw .malformedSCT("SCT \(number) has \(item.remaining) trailing bytes") }
            scts.append(SCT(logID: logID, timestamp: timestamp, extensions: extensions, hashAlgorithm: hash,
                            signatureAlgorithm: signatureAlgorithm, signature: signature))
        }
        return scts
    }

    struct TLSReader {
        let data: [UInt8]
        var offset = 0
        init(_ data: [UInt8]) { self.data = data }
        var remaining: Int { data.count - offset }

        mutating func bytes(_ count: Int, _ what: String) throws(TransparencyError) -> [UInt8] {
            guard count >= 0, count <= remaining else { throw .malformedSCT("\(what) runs past the end of the data") }
            defer { offset += count }
            return Array(data[offset..<(offset + count)])
        }

        mutating func integer(_ width: Int, _ what: String) throws(TransparencyError) -> UInt64 {
            try bytes(width, what).reduce(0) { $0 << 8 | UInt64($1) }
        }
    }

    static func spki(_ certificateDER: [UInt8]) -> [UInt8]? {
        copied { bouncer_x509_spki(certificateDER, certificateDER.count, &$0, &$1) }
    }

    /// As above, of a certificate parsed already (a trusted root's CA).
    static func spki(of certificate: ParsedCertificate) -> [UInt8]? {
        copied { bouncer_x509_spki_of(certificate.x509, &$0, &$1) }
    }

    private static func copied(_ read: (inout UnsafeMutablePointer<UInt8>?, inout Int) -> Int32) -> [UInt8]? {
        var out: UnsafeMutablePointer<UInt8>? = nil
        var length = 0
        guard read(&out, &length) == 1, let out else { return nil }
        defer { bouncer_openssl_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: length))
    }
}
