/// What a CT log signed for a Fulcio leaf (RFC 6962 §3.2): the leaf's
/// TBSCertificate without its SCT-list extension — the precertificate's TBS —
/// and that extension's TLS-encoded SCT list, both cut from the leaf's DER.
///
/// Only tag and length headers are read (`DERWalk`). Decoding the leaf
/// through OpenSSL again, to delete the extension and re-encode, decoded its
/// public key again too, a twentieth of a bundle's verification.
enum PrecertificateTBS {
    /// The extension's OID, 1.3.6.1.4.1.11129.2.4.2, as DER content.
    static let sctListOID: [UInt8] = [0x2B, 0x06, 0x01, 0x04, 0x01, 0xD6, 0x79, 0x02, 0x04, 0x02]

    static func split(_ leaf: [UInt8]) throws(TransparencyError) -> (tbs: [UInt8], scts: [UInt8]) {
        guard let certificate = DERWalk.all(leaf[...]), certificate.count == 1, certificate[0].tag == 0x30,
              let parts = DERWalk.all(certificate[0].value), let tbs = parts.first, tbs.tag == 0x30,
              let fields = DERWalk.all(tbs.value) else {
            throw .malformedCertificate("the leaf is not a DER X.509 certificate")
        }
        // extensions [3] EXPLICIT Extensions (RFC 5280 §4.1), at most once.
        let wrappers = fields.filter { $0.tag == 0xA3 }
        guard wrappers.count <= 1 else { throw .malformedCertificate("the leaf's TBSCertificate has two extension fields") }
        guard let wrapper = wrappers.first else { throw .sctMissing }
        guard let inner = DERWalk.all(wrapper.value), inner.count == 1, inner[0].tag == 0x30,
              let extensions = DERWalk.all(inner[0].value) else {
            throw .malformedCertificate("the leaf's extensions are not one DER SEQUENCE")
        }
        var kept: [UInt8] = []
        var lists: [ArraySlice<UInt8>] = []
        for element in extensions {
            // Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
            guard element.tag == 0x30, let items = DERWalk.all(element.value), (2...3).contains(items.count),
                  items[0].tag == 0x06, let value = items.last, value.tag == 0x04 else {
                throw .malformedCertificate("an extension of the leaf is not an OID and an OCTET STRING")
            }
            if Array(items[0].value) == sctListOID { lists.append(value.value) } else { kept += element.whole }
        }
        guard lists.count <= 1 else { throw .malformedSCT("the leaf has two SCT-list extensions") }
        guard let list = lists.first else { throw .sctMissing }
        // extnValue holds one DER OCTET STRING whose content is the TLS-encoded list.
        guard let octets = DERWalk.all(list), octets.count == 1, octets[0].tag == 0x04 else {
            throw .malformedSCT("the SCT-list extension is not an OCTET STRING")
        }
        // RFC 5280 allows no empty extension list, and no log signs one.
        guard !kept.isEmpty else { throw .malformedCertificate("the SCT list is the leaf's only extension") }

        let newWrapper = DERWalk.encode(0xA3, DERWalk.encode(0x30, kept))
        var content: [UInt8] = []
        for field in fields { content += field.whole.startIndex == wrapper.whole.startIndex ? newWrapper[...] : field.whole }
        return (DERWalk.encode(0x30, content), Array(octets[0].value))
    }
}
