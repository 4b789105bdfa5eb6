import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools

/// The sample keys and signatures of RFC 9580 Appendix A: the only v6
/// material available here (no installed tool makes v6 keys yet).
@Suite struct RFC9580VectorTests {
    // A.3: sample v6 certificate (Ed25519 primary, X25519 subkey, no user ID).
    static let v6Certificate = """
        -----BEGIN PGP PUBLIC KEY BLOCK-----

        xioGY4d/4xsAAAAg+U2nu0jWCmHlZ3BqZYfQMxmZu52JGggkLq2EVD34laPCsQYf
        GwoAAABCBYJjh3/jAwsJBwUVCg4IDAIWAAKbAwIeCSIhBssYbE8GCaaX5NUt+mxy
        KwwfHifBilZwj2Ul7Ce62azJBScJAgcCAAAAAK0oIBA+LX0ifsDm185Ecds2v8lw
        gyU2kCcUmKfvBXbAf6rhRYWzuQOwEn7E/aLwIwRaLsdry0+VcallHhSu4RN6HWaE
        QsiPlR4zxP/TP7mhfVEe7XWPxtnMUMtf15OyA51YBM4qBmOHf+MZAAAAIIaTJINn
        +eUBXbki+PSAld2nhJh/LVmFsS+60WyvXkQ1wpsGGBsKAAAALAWCY4d/4wKbDCIh
        BssYbE8GCaaX5NUt+mxyKwwfHifBilZwj2Ul7Ce62azJAAAAAAQBIKbpGG2dWTX8
        j+VjFM21J0hqWlEg+bdiojWnKfA5AQpWUWtnNwDEM0g12vYxoWM8Y81W+bHBw805
        I8kWVkXU6vFOi+HWvv/ira7ofJu16NnoUkhclkUrk0mXubZvyl4GBg==
        -----END PGP PUBLIC KEY BLOCK-----
        """

    // A.6: cleartext-signed message with a v6 signature by the A.3 key.
    static let v6Cleartext = """
        -----BEGIN PGP SIGNED MESSAGE-----

        What we need from the grocery store:

        - - tofu
        - - vegetables
        - - noodles

        -----BEGIN PGP SIGNATURE-----

        wpgGARsKAAAAKQWCY5ijYyIhBssYbE8GCaaX5NUt+mxyKwwfHifBilZwj2Ul7Ce6
        2azJAAAAAGk2IHZJX1AhiJD39eLuPBgiUU9wUA9VHYblySHkBONKU/usJ9BvuAqo
        /FvLFuGWMbKAdA+epq7V4HOtAPlBWmU8QOd6aud+aSunHQaaEJ+iTFjP2OMW0KBr
        NK2ay45cX1IVAQ==
        -----END PGP SIGNATURE-----

        """

    static let fingerprint = "CB186C4F0609A697E4D52DFA6C722B0C1F1E27C18A56708F6525EC27BAD9ACC9"
    static var key: KeyMaterial { KeyMaterial(path: "rfc9580-a3.asc", bytes: Array(v6Certificate.utf8)) }

    @Test func v6CertificateFingerprint() throws {
        let ring = try PGPKeyring.load([Self.key])
        #expect(ring.certificates.count == 1)
        #expect(ring.certificates[0].primary.version == 6)
        #expect(ring.certificates[0].primary.fingerprintHex == Self.fingerprint)
        #expect(ring.certificates[0].primary.keyIDHex == "CB186C4F0609A697")
        #expect(ring.certificates[0].subkeys.count == 1)
    }

    @Test func v6CleartextSignatureVerifies() throws {
        let result = try OpenPGPFormat.verifyCleartext(Array(Self.v6Cleartext.utf8), source: "A.6", keys: [Self.key], options: .init())
        #expect(result.report.passed, "\(result.report.outcomes)")
        #expect(result.report.verifiedSigners.first?.signer == Self.fingerprint)
        #expect(result.report.verifiedSigners.first?.details["version"] == "6")
        #expect(result.text == Array("What we need from the grocery store:\n\n- tofu\n- vegetables\n- noodles\n\n".utf8))
    }

    /// Signature packets in a keyring are parsed only when a check reads
    /// them; one that does not parse is still not evidence and still does
    /// not make the keyring unusable, wherever it sits.
    @Test func unreadableSignaturePacketsInTheKeyringAreSkipped() throws {
        let binary = try Armor.decode(Array(Self.v6Certificate.utf8), source: "A.3", strict: false)[0].data
        func packet(_ tag: Int, _ body: [UInt8]) -> [UInt8] {
            // New-format header with a one- or two-octet length (RFC 9580 §4.2.1).
            if body.count < 192 { return [0xC0 | UInt8(tag), UInt8(body.count)] + body }
            let n = body.count - 192
            return [0xC0 | UInt8(tag), UInt8(n >> 8 + 192), UInt8(n & 0xFF)] + body
        }
        let garbage = packet(PGPPacket.Tag.signature, [0x04, 0x1F, 0x16])   // a v4 direct-key signature cut short
        var rebuilt: [UInt8] = []
        for original in try PGPPacket.parse(binary, what: "A.3") {
            if original.tag == PGPPacket.Tag.signature { rebuilt += garbage }  // before each real signature
            rebuilt += packet(original.tag, original.body)
        }
        rebuilt += garbage
        let key = KeyMaterial(path: "rfc9580-a3-with-garbage.gpg", bytes: rebuilt)
        let ring = try PGPKeyring.load([key])
        let cert = try #require(ring.certificates.first)
        #expect(cert.directSignaturePackets.count == 2 && cert.directSignatures.count == 1)
        let subkey = try #require(cert.subkeys.first)
        #expect(subkey.signaturePackets.count == 3 && cert.signatures(of: subkey).count == 1)
        let result = try OpenPGPFormat.verifyCleartext(Array(Self.v6Cleartext.utf8), source: "A.6", keys: [key], options: .init())
        #expect(result.report.passed, "\(result.report.outcomes)")
    }

    @Test func v6CleartextTamperedIsRefused() throws {
        let tampered = Self.v6Cleartext.replacingOccurrences(of: "- - tofu", with: "- - tofU")
        let result = try OpenPGPFormat.verifyCleartext(Array(tampered.utf8), source: "A.6", keys: [Self.key], options: .init())
        #expect(!result.report.passed)
        guard case .refused(_, let reason) = result.report.outcomes.first else { Issue.record("no outcome"); return }
        #expect(reason.contains("BAD signature from key \(Self.fingerprint)"))
    }

    /// A.1/A.2: v4 legacy EdDSA key fingerprint, and its signature over "OpenPGP".
    @Test func v4LegacyEd25519Sample() throws {
        guard let keyBytes = Base64.decode("xjMEU/NfCxYJKwYBBAHaRw8BAQdAPwmJlL3ZFu1AUxl5NOSofIBzOhKA1i+AEJkuQ+47JAY="),
              let sigBytes = Base64.decode("iF4EABYIAAYFAlX5X5UACgkQjP3hIZeWWpr2IgD/VvkMypjiECY3vZg/2xbBMd/Sftgr9N3lYG4NdWrtM2YBANCcT6EVJ/A44PV/IgHYLy6iyQMyZfps60iehUuuYbQE") else {
            Issue.record("bad base64"); return
        }
        let keyPacket = try PGPPacket.parse(keyBytes, what: "A.1")[0]
        let key = try PGPKey(body: keyPacket.body, context: "A.1")
        #expect(key.fingerprintHex == "C959BDBAFA32A2F89A153B678CFDE12197965A9A")
        let sigPacket = try PGPPacket.parse(sigBytes, what: "A.2")[0]
        let signature = try PGPSignature.parse(sigPacket.body, offset: 0, what: "A.2")
        func digest(_ text: String) -> [UInt8] {
            let hasher = Hasher(.sha256)
            hasher.update(Array(text.utf8))
            hasher.update(signature.trailer)
            return hasher.finalize().bytes
        }
        #expect(key.verify(signature, digest: digest("OpenPGP")))
        #expect(!key.verify(signature, digest: digest("OpenPGQ")))
    }
}
