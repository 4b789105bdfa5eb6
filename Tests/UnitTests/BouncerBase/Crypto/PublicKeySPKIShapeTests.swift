import Testing
@testable import BouncerBase

/// `PublicKey(spkiDER:)` builds P-256, P-384 (uncompressed) and Ed25519 keys
/// without OpenSSL's decoder (bouncer_spki_known_shape). It must accept and
/// refuse exactly what the decoder does, and give back the same SPKI.
/// Keys made with the openssl CLI.
@Suite struct PublicKeySPKIShapeTests {
    static let p256 = "3059301306072a8648ce3d020106082a8648ce3d030107034200044e6e9a1dfe84c35ca3d9b9aad83348ee3dda1fd5c893e43e7035d7d042bf18dbf16538432093c8d1067a00f5e162934c87f8e39b7d79c7c1c41a51487a1b39c9"
    static let p256Compressed = "3039301306072a8648ce3d020106082a8648ce3d030107032200034e6e9a1dfe84c35ca3d9b9aad83348ee3dda1fd5c893e43e7035d7d042bf18db"
    static let p384 = "3076301006072a8648ce3d020106052b81040022036200045e2d171de30319d1115f27aa9a90027dbe88b7b2e5e806ccefe4f839e2abc0d2809ad23732b06659511ad0979a01b24d021ac7aa1739ad791ccb7872028cb99e5e03cccb708946dcbea6eda925c12bedea511d5ba71ca870cfaa4b8517f557c5"
    static let ed25519 = "302a300506032b65700321002ad83238cc0eead9f0cd8089b6f93e104229a2c938aa9c08b67b4541f6bf2c5b"

    static func der(_ hex: String) throws -> [UInt8] { try #require(Hex.decode(hex)) }

    @Test(arguments: [(p256, PublicKey.Kind.ecdsa(.p256)), (p384, .ecdsa(.p384)), (ed25519, .ed25519)])
    func knownShapesRoundTrip(_ hex: String, _ kind: PublicKey.Kind) throws {
        let key = try PublicKey(spkiDER: try Self.der(hex))
        #expect(key.kind == kind)
        #expect(key.spkiDER == (try Self.der(hex)))
    }

    @Test func theSameKeyAsTheDecoderGives() throws {
        // The compressed form of the same point goes through the decoder.
        let fast = try PublicKey(spkiDER: try Self.der(Self.p256))
        let decoded = try PublicKey(spkiDER: try Self.der(Self.p256Compressed))
        #expect(fast.isSameKey(as: decoded))
    }

    @Test(arguments: [p256, p384])
    func aPointOffTheCurveIsRefused(_ hex: String) throws {
        var der = try Self.der(hex)
        der[der.count - 1] ^= 0x01   // y changed: no longer on the curve
        #expect(throws: CryptoError.self) { try PublicKey(spkiDER: der) }
    }

    @Test(arguments: [p256, p384, ed25519])
    func trailingOrMissingBytesAreRefused(_ hex: String) throws {
        let der = try Self.der(hex)
        #expect(throws: CryptoError.self) { try PublicKey(spkiDER: der + [0]) }
        #expect(throws: CryptoError.self) { try PublicKey(spkiDER: Array(der.dropLast())) }
    }
}
