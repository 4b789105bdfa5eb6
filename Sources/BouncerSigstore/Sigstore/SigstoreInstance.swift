import FoundationEssentials
import BouncerBase
import BouncerIO

/// Which Sigstore instance a bundle with no transparency-log entry needs.
///
/// GitHub signs attestations of private repositories with its own instance:
/// its own Fulcio, an RFC 3161 timestamp authority and no transparency log
/// (formats.md §6.4). Its trusted root lists no tlogs, and with such a root a
/// verified timestamp from one of its TSAs stands in for the log entry, as
/// sigstore-go does for a verifier configured with signed timestamps and no
/// transparency-log threshold. Against a root that lists logs, an entry stays
/// required; the refusal says which trusted root the bundle needs.
enum SigstoreInstance {
    /// nil when the bundle may go without a log entry under `trustedRoot`
    /// (its timestamps are then verified against the threshold), else the refusal.
    static func missingLogEntry(_ bundle: SigstoreBundle, trustedRoot: SigstoreTrustedRoot) -> SigstoreError? {
        guard bundle.tlogEntries.isEmpty else { return nil }
        let hasTimestamps = !bundle.rfc3161Timestamps.isEmpty
        if trustedRoot.tlogs.isEmpty {
            return hasTimestamps ? nil : SigstoreError(.signingTime, "the bundle has neither a transparency-log entry nor an RFC 3161 timestamp, so nothing proves when it was signed")
        }
        var issuer: CertificateIssuerName? = nil
        if case .certificates(let chain) = bundle.material, let leaf = chain.first {
            issuer = CertificateIssuerName(certificateDER: leaf)
        }
        if let issuer, issuer.organization == "GitHub, Inc." {
            return SigstoreError(.otherInstance, "this bundle was signed by GitHub's Sigstore instance (certificate issuer \(issuer)), which has no transparency log; the trusted root in use lists logs, so it cannot verify it: give GitHub's trusted_root.json (`gh attestation trusted-root`, the root whose CA is fulcio.githubapp.com) with --trusted-root, or as the policy's sigstore.trustedRoot")
        }
        if hasTimestamps {
            return SigstoreError(.tlogEntry, "the bundle has no transparency-log entry, only RFC 3161 timestamps, as a Sigstore instance without a log signs\(issuer.map { " (certificate issuer \($0))" } ?? ""); the trusted root in use lists logs, so an entry is required: give that instance's trusted root with --trusted-root, or as the policy's sigstore.trustedRoot")
        }
        return SigstoreError(.tlogEntry, "the bundle has no transparency-log entry")
    }
}

/// The organization and common name of a certificate's issuer, read for
/// messages only (never for a trust decision): a bounded DER walk to
/// TBSCertificate.issuer. Anything unexpected yields nil.
struct CertificateIssuerName: CustomStringConvertible, Equatable {
    var organization: String?
    var commonName: String?

    init?(certificateDER der: [UInt8]) {
        var certificate = DERWalk(der[...])
        guard let cert = certificate.next(), cert.tag == 0x30 else { return nil }
        var fields = DERWalk(cert.value)
        guard var tbs = fields.next().flatMap({ $0.tag == 0x30 ? DERWalk($0.value) : nil }) else { return nil }
        var item = tbs.next()
        if item?.tag == 0xA0 { item = tbs.next() }        // [0] version
        guard item?.tag == 0x02 else { return nil }        // serialNumber
        guard tbs.next()?.tag == 0x30, let name = tbs.next(), name.tag == 0x30 else { return nil }  // signature, issuer
        var rdns = DERWalk(name.value)
        while let rdn = rdns.next() {
            guard rdn.tag == 0x31 else { return nil }
            var attributes = DERWalk(rdn.value)
            while let attribute = attributes.next() {
                var parts = DERWalk(attribute.value)
                guard attribute.tag == 0x30, let oid = parts.next(), oid.tag == 0x06, let value = parts.next() else { return nil }
                let text = String(decoding: value.value, as: UTF8.self)
                switch Array(oid.value) {
                case [0x55, 0x04, 0x0A]: organization = organization ?? text
                case [0x55, 0x04, 0x03]: commonName = commonName ?? text
                default: break
                }
            }
        }
        guard organization != nil || commonName != nil else { return nil }
    }

    var description: String {
        [commonName.map { "CN=\($0)" }, organization.map { "O=\($0)" }].compactMap { $0 }.joined(separator: ", ")
    }
}
