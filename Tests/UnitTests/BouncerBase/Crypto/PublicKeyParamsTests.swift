import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools

/// `PublicKey(ecPoint:)` and `PublicKey(rsaModulus:exponent:)` build keys
/// through OSSL_PARAM_BLD, which keeps pointers until EVP_PKEY_fromdata; these
/// pin the fix that keeps those pointers alive.
@Suite struct PublicKeyParamsTests {
    // The P-256 base point G (SEC 2 / FIPS 186-4), uncompressed.
    static let p256G = "04" + "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
        + "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"

    @Test func ecPointOnTheCurveIsAccepted() throws {
        let point = try #require(Hex.decode(Self.p256G))
        let key = try PublicKey(ecPoint: point, curve: .p256)
        #expect(key.kind == .ecdsa(.p256))
        // The same point again is the same key; built repeatedly, nothing dangles.
        for _ in 0..<50 { #expect(try PublicKey(ecPoint: point, curve: .p256).isSameKey(as: key)) }
    }

    @Test func ecPointOffTheCurveIsRejected() throws {
        var point = try #require(Hex.decode(Self.p256G))
        point[point.count - 1] ^= 1
        #expect(throws: CryptoError.self) { try PublicKey(ecPoint: point, curve: .p256) }
        #expect(throws: CryptoError.self) { try PublicKey(ecPoint: Array(point.prefix(33)), curve: .p384) }
    }

    /// The same point in hybrid (0x06/0x07) or compressed (0x02/0x03) form is
    /// refused: otherwise an SSH or OpenPGP key blob with a changed prefix
    /// byte would still compare equal to the trusted key.
    @Test func onlyTheUncompressedEncodingIsAccepted() throws {
        let point = try #require(Hex.decode(Self.p256G))
        for prefix: UInt8 in [0x06, 0x07] {
            #expect(throws: CryptoError.self) { try PublicKey(ecPoint: [prefix] + point.dropFirst(), curve: .p256) }
        }
        for prefix: UInt8 in [0x02, 0x03] {
            #expect(throws: CryptoError.self) { try PublicKey(ecPoint: [prefix] + point[1...32], curve: .p256) }
        }
    }

    @Test func rsaFromModulusAndExponent() throws {
        // 2048-bit modulus with the top bit set; any odd value makes a public key.
        let modulus = [0xc1] + [UInt8](repeating: 0x5a, count: 254) + [0x01]
        let key = try PublicKey(rsaModulus: modulus, exponent: [1, 0, 1])
        #expect(key.kind == .rsa(bits: 2048))
    }
}
