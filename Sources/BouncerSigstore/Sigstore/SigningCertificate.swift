import COpenSSLShims
import FoundationEssentials
import BouncerBase
import BouncerIO

/// A Fulcio-style X.509 leaf, read through OpenSSL: validity, code-signing
/// EKU, public key, SANs and the Sigstore extensions (formats.md §5.8).
public struct SigningCertificate: Sendable {
    public enum SAN: Sendable, Equatable {
        case email(String)
        case uri(String)
        /// otherName 1.3.6.1.4.1.57264.1.7 (a username such as `foo!oidc.local`).
        case otherName(String)
        case dns(String)
        case unsupported
    }

    public let der: [UInt8]
    /// The same certificate parsed, for the chain check (parsed once: each
    /// parse decodes the key through OpenSSL's decoder).
    let parsed: ParsedCertificate
    public let notBefore: Date
    public let notAfter: Date
    public let hasCodeSigningUsage: Bool
    public let publicKey: PublicKey
    public let subjectAlternativeNames: [SAN]
    /// The OIDC issuer: extension .1.8 (DER UTF8String), else .1.1 (raw bytes).
    public let oidcIssuer: String?

    public init(der: [UInt8]) throws(SigstoreError) {
        // Parsed once for every field read below and for the chain check.
        guard let parsed = ParsedCertificate(der: der) else {
            throw SigstoreError(.material, "the signing certificate is not a valid DER X.509 certificate")
        }
        self.parsed = parsed
        let cert = parsed.x509
        var notBefore: Int64 = 0, notAfter: Int64 = 0
        var codeSigning: Int32 = 0
        var spki: UnsafeMutablePointer<UInt8>? = nil
        var spkiLength = 0
        guard bouncer_x509_info_of(cert, &notBefore, &notAfter, &codeSigning, &spki, &spkiLength) == 1, let spki else {
            throw SigstoreError(.material, "the signing certificate is not a valid DER X.509 certificate")
        }
        let spkiDER = Array(UnsafeBufferPointer(start: spki, count: spkiLength))
        bouncer_openssl_free(spki)
        do { publicKey = try PublicKey(spkiDER: spkiDER) } catch {
            throw SigstoreError(.material, "the signing certificate's public key: \(error)")
        }
        self.der = der
        self.notBefore = Date(timeIntervalSince1970: TimeInterval(notBefore))
        self.notAfter = Date(timeIntervalSince1970: TimeInterval(notAfter))
        hasCodeSigningUsage = codeSigning == 1

        var names: [SAN] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        for index in 0..<64 {
            var type: Int32 = 0
            let length = bouncer_x509_san_of(cert, Int32(index), &type, &buffer, buffer.count)
            if length < 0 { break }
            let text = String(decoding: buffer[0..<Int(length)], as: UTF8.self)
            switch type {
            case 1: names.append(.email(text))
            case 2: names.append(.uri(text))
            case 3: names.append(.otherName(text))
            case 4: names.append(.dns(text))
            default: names.append(.unsupported)
            }
        }
        subjectAlternativeNames = names

        let v2 = try Self.extensionValue(of: cert, oid: "1.3.6.1.4.1.57264.1.8").map { raw throws(SigstoreError) in
            // DER UTF8String: tag 0x0C, a definite length, the text.
            guard let text = DERString.utf8String(raw) else {
                throw SigstoreError(.material, "certificate extension 1.3.6.1.4.1.57264.1.8 (issuer) is not a DER UTF8String")
            }
            return text
        }
        let v1 = try Self.extensionValue(of: cert, oid: "1.3.6.1.4.1.57264.1.1").map { String(decoding: $0, as: UTF8.self) }
        if let v1, let v2, v1 != v2 {
            throw SigstoreError(.issuer, "the certificate's issuer extensions disagree: '\(v2)' (.1.8) and '\(v1)' (.1.1)")
        }
        oidcIssuer = v2 ?? v1
    }

    /// The raw extension value for a dotted OID, nil when absent.
    public static func extensionValue(_ der: [UInt8], oid: String) throws(SigstoreError) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 8192)
        return try extensionResult(bouncer_x509_extension(der, der.count, oid, &buffer, buffer.count), buffer, oid: oid)
    }

    static func extensionValue(of cert: OpaquePointer, oid: String) throws(SigstoreError) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 8192)
        return try extensionResult(bouncer_x509_extension_of(cert, oid, &buffer, buffer.count), buffer, oid: oid)
    }

    private static func extensionResult(_ length: Int, _ buffer: [UInt8], oid: String) throws(SigstoreError) -> [UInt8]? {
        switch length {
        case 0: return nil
        case -2: throw SigstoreError(.material, "certificate extension \(oid) appears more than once")
        case ..<0: throw SigstoreError(.material, "certificate extension \(oid) could not be read")
        default: return Array(buffer[0..<length])
        }
    }

    /// The identity as a person would name it (the first SAN that has a value).
    public var identityDescription: String {
        for name in subjectAlternativeNames {
            switch name {
            case .email(let v), .uri(let v), .otherName(let v), .dns(let v): return v
            case .unsupported: continue
            }
        }
        return "(no SAN)"
    }

    public func isValid(at date: Date) -> Bool { date >= notBefore && date <= notAfter }
}

enum DERString {
    /// Decodes a DER UTF8String (tag 0x0C) that spans all of `raw`.
    static func utf8String(_ raw: [UInt8]) -> String? {
        guard raw.count >= 2, raw[0] == 0x0C else { return nil }
        var length = 0
        var offset = 2
        if raw[1] < 0x80 {
            length = Int(raw[1])
        } else {
            let count = Int(raw[1] & 0x7f)
            guard count >= 1, count <= 3, raw.count >= 2 + count else { return nil }
            for byte in raw[2..<(2 + count)] { length = length << 8 | Int(byte) }
            offset = 2 + count
        }
        guard raw.count == offset + length else { return nil }
        return String(validating: raw[offset...], as: UTF8.self)
    }
}

/// Building the chain from a leaf to a trusted Fulcio CA at a given time.
public enum CertificateChainCheck {
    /// Verifies `leaf` against each CA whose window covers `time`, using only
    /// the CA's own chain (never the bundle's extra certificates). Returns the
    /// issuer's DER (for the SCT) and the CA used.
    public static func verify(leaf: [UInt8], authorities: [SigstoreTrustedRoot.CertificateAuthority],
                              at time: Date) throws(SigstoreError) -> (issuerDER: [UInt8], authority: SigstoreTrustedRoot.CertificateAuthority) {
        try verify(leaf: ParsedCertificate(der: leaf), authorities: authorities, at: time, cache: ParsedCertificates())
    }

    /// As above, on a leaf parsed already, with the CA certificates parsed
    /// once per trusted root (`cache`). A leaf that did not parse is refused
    /// as before, by every authority.
    /// `linkShortcut: false` checks every chain the full way (tests compare the two).
    static func verify(leaf: ParsedCertificate?, authorities: [SigstoreTrustedRoot.CertificateAuthority], at time: Date,
                       cache: ParsedCertificates, linkShortcut: Bool = true) throws(SigstoreError) -> (issuerDER: [UInt8], authority: SigstoreTrustedRoot.CertificateAuthority) {
        let candidates = authorities.filter { $0.validFor.contains(time) }
        guard !candidates.isEmpty else {
            throw SigstoreError(.certificateAuthority, "no trusted certificate authority is valid at the signing time \(time)")
        }
        // X.509 times end in year 9999; anything outside cannot be a signing time (and would trap in Int64()).
        let seconds = time.timeIntervalSince1970.rounded(.down)
        guard seconds >= 0, seconds < 253_402_300_800 else {
            throw SigstoreError(.certificateChain, "the signing time \(seconds) is outside the range of X.509 times")
        }
        var last = "no trusted certificate authority"
        for authority in candidates {
            guard let anchorDER = authority.chainDER.last else { continue }
            // intermediate <- root with the link verified once for this root: the leaf alone.
            if linkShortcut, let leaf, authority.chainDER.count == 2,
               let (intermediate, root) = cache.verifiedLink(intermediate: authority.chainDER[0], root: anchorDER) {
                var issuer: UnsafeMutablePointer<UInt8>? = nil
                var issuerLength = 0
                if bouncer_x509_verify_under(leaf.x509, intermediate.x509, root.notBefore, root.notAfter, Int64(seconds),
                                             &issuer, &issuerLength) == 1,
                   let issuer {
                    let der = Array(UnsafeBufferPointer(start: issuer, count: issuerLength))
                    bouncer_openssl_free(issuer)
                    return (der, authority)
                }
                // Not verified that way: the full check below decides, and words any refusal.
            }
            var issuer: UnsafeMutablePointer<UInt8>? = nil
            var issuerLength = 0
            var error: Int32 = -1  // a certificate could not be parsed
            var ok: Int32 = 0
            let intermediates = authority.chainDER.dropLast().map { cache.certificate($0) }
            if let leaf, let anchor = cache.certificate(anchorDER), !intermediates.contains(where: { $0 == nil }) {
                // The objects stay alive (held here and by the cache) for the call.
                let pointers: [OpaquePointer?] = intermediates.map { $0?.x509 }
                ok = pointers.withUnsafeBufferPointer { untrusted in
                    bouncer_x509_verify_chain_of(leaf.x509, untrusted.baseAddress, untrusted.count, anchor.x509,
                                                 Int64(seconds), &issuer, &issuerLength, &error)
                }
            }
            if ok == 1, let issuer {
                let der = Array(UnsafeBufferPointer(start: issuer, count: issuerLength))
                bouncer_openssl_free(issuer)
                return (der, authority)
            }
            last = String(cString: bouncer_x509_verify_error_string(error))
        }
        throw SigstoreError(.certificateChain, "the signing certificate does not chain to a trusted Fulcio CA at \(time): \(last)")
    }

    /// Whether a certificate is self-signed (a root), which a bundle must not carry.
    public static func isSelfSigned(_ der: [UInt8]) -> Bool {
        bouncer_x509_is_self_signed(der, der.count) != 0
    }
}

/// A certificate's notBefore and notAfter, in Unix seconds.
struct ValidityWindow: Sendable, Equatable {
    let notBefore: Int64
    let notAfter: Int64

    init(notBefore: Int64, notAfter: Int64) {
        self.notBefore = notBefore
        self.notAfter = notAfter
    }

    init?(_ certificate: ParsedCertificate) {
        var notBefore: Int64 = 0, notAfter: Int64 = 0
        guard bouncer_x509_validity(certificate.x509, &notBefore, &notAfter) == 1 else { return nil }
        self.init(notBefore: notBefore, notAfter: notAfter)
    }
}

/// An X.509 certificate parsed once by OpenSSL, for every check that reads it.
final class ParsedCertificate: @unchecked Sendable {
    /// Only read once parsed (OpenSSL locks the caches it fills inside).
    let x509: OpaquePointer

    init?(der: [UInt8]) {
        guard let x509 = bouncer_x509_parse(der, der.count) else { return nil }
        self.x509 = x509
    }

    deinit { bouncer_x509_free(x509) }
}

/// What one trusted root's CA and TSA certificates give every bundle alike:
/// each certificate parsed, its public key read, and the chains made of them
/// verified but for time — each worked out on first use and kept for the next
/// bundle. Keyed by the DER itself, so an edited copy of the root can never be
/// answered with another certificate's facts; nothing a bundle brings is kept.
final class ParsedCertificates: @unchecked Sendable {
    private let lock = Lock()
    private var parsed: [[UInt8]: ParsedCertificate?] = [:]

    func certificate(_ der: [UInt8]) -> ParsedCertificate? {
        lock.lock()
        defer { lock.unlock() }
        if let known = parsed[der] { return known }
        let certificate = ParsedCertificate(der: der)
        parsed[der] = .some(certificate)
        return certificate
    }

    /// `table[key]`, worked out by `compute` the first time. Computed outside
    /// the lock: two bundles asking at once both work it out, with the same result.
    private func remembered<Key: Hashable, Value>(_ table: ReferenceWritableKeyPath<ParsedCertificates, [Key: Value]>, _ key: Key,
                                                  _ compute: () -> Value) -> Value {
        lock.lock()
        let known = self[keyPath: table][key]
        lock.unlock()
        if let known { return known }
        let value = compute()
        lock.lock()
        self[keyPath: table][key] = value
        lock.unlock()
        return value
    }

    private struct Link: Hashable {
        let intermediate: [UInt8]
        let root: [UInt8]
    }

    /// The root's validity window where the intermediate, under the root,
    /// passed the full chain check but for time (which depends on the bundle
    /// and is checked on each use) and is eligible for checking leaves with it
    /// as anchor; nil where not. A verified fact, so keyed by both
    /// certificates whole.
    private var links: [Link: ValidityWindow?] = [:]

    /// The intermediate, parsed, and the root's validity window when the link
    /// between them is verified. A link of the embedded roots is known
    /// (`KnownCertificateLinks`, with the root's window): its root is never
    /// parsed, which would build a key decoder for nothing.
    func verifiedLink(intermediate: [UInt8], root: [UInt8]) -> (ParsedCertificate, ValidityWindow)? {
        guard let parsedIntermediate = certificate(intermediate) else { return nil }
        let window = remembered(\.links, Link(intermediate: intermediate, root: root)) { () -> ValidityWindow? in
            if let known = KnownCertificateLinks.rootWindow(intermediate: intermediate, root: root) { return known }
            guard let parsedRoot = certificate(root),
                  bouncer_x509_link_eligible(parsedIntermediate.x509, parsedRoot.x509) == 1,
                  bouncer_x509_verify_link(parsedIntermediate.x509, parsedRoot.x509) == 1 else { return nil }
            return ValidityWindow(parsedRoot)
        }
        return window.map { (parsedIntermediate, $0) }
    }

    /// The SubjectPublicKeyInfo of a CA certificate (its hash is part of
    /// what a CT log signs); nil when it is not a certificate.
    private var spkis: [[UInt8]: [UInt8]?] = [:]

    func spki(_ der: [UInt8]) -> [UInt8]? {
        // From the certificate parsed for the chain check: parsing it again
        // would decode its key a second time.
        remembered(\.spkis, der) { certificate(der).flatMap(CertificateTransparency.spki(of:)) }
    }

    /// Whether a timestamp authority's chain (its certificate first, the root
    /// last) passed the full check but for time, exactly as given. A verified
    /// fact, keyed by the whole chain.
    private var chains: [[[UInt8]]: Bool] = [:]

    func verifiedChain(_ chain: [[UInt8]]) -> Bool {
        remembered(\.chains, chain) {
            let parsed = chain.map { certificate($0) }
            guard !parsed.contains(where: { $0 == nil }) else { return false }
            // The objects stay alive (held here and by the cache) for the call.
            let pointers: [OpaquePointer?] = parsed.map { $0?.x509 }
            return pointers.withUnsafeBufferPointer { bouncer_x509_verify_chain_except_time($0.baseAddress, $0.count) == 1 }
        }
    }
}
