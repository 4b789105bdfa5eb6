import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools
import Testing

/// Detection hands a signature file to exactly one format, from its content.
@Suite struct SignatureFormatDetectionTests {
    private func detect(_ text: String) -> String? {
        SignatureFormats.detect(signature: Array(text.utf8))?.name
    }

    @Test func eachFormatIsRecognisedByItsOwnShape() {
        #expect(detect("-----BEGIN PGP SIGNATURE-----\n\n") == "openpgp")
        #expect(SignatureFormats.detect(signature: [0x89, 0x02, 0x33])?.name == "openpgp")
        #expect(SignatureFormats.detect(signature: [0xC2, 0x10])?.name == "openpgp")
        #expect(detect("-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n") == "ssh")
        // minisign and signify share the first line; only minisign has a trusted comment.
        #expect(detect("untrusted comment: x\nRWQ...\ntrusted comment: t\nAAAA\n") == "minisign")
        #expect(detect("untrusted comment: x\nRWQ...\n") == "signify")
    }

    @Test func nonSignaturesAreNotRecognised() {
        #expect(detect("-----BEGIN PGP SIGNED MESSAGE-----\n") == nil)
        #expect(SignatureFormats.detect(signature: [0x99, 0x01]) == nil)   // a public key packet is not a signature
        #expect(SignatureFormats.detect(signature: []) == nil)
        #expect(detect("sha256 0123 file\n") == nil)
    }
}
