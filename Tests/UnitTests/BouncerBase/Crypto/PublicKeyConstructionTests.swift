import Foundation
import Testing
import BouncerTestSupport
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools

/// Regression for the RSA and EC constructors: OSSL_PARAM_BLD keeps the
/// pointers it is given until to_param, and Swift's temporary C strings did
/// not live that long, so every key was rejected. Keys and signatures are
/// made by the openssl CLI at test time.
@Suite(.blocking) struct PublicKeyConstructionTests {
    static let openssl = "/usr/bin/openssl"

    func run(_ args: [String], in dir: URL) throws -> ProcessResult {
        try BouncerProcess.runProgram(Self.openssl, args, cwd: dir.path)
    }

    @Test func rsaFromModulusAndExponent() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.openssl) else { print("NOTICE: openssl CLI absent, skipped"); return }
        let dir = try BouncerProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try run(["genrsa", "-out", "k.pem", "2048"], in: dir)
        let modulus = try run(["rsa", "-in", "k.pem", "-noout", "-modulus"], in: dir).out
            .trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "Modulus=", with: "")
        try Data("message".utf8).write(to: dir.appendingPathComponent("m"))
        _ = try run(["dgst", "-sha256", "-sign", "k.pem", "-out", "m.sig", "m"], in: dir)
        let n = try #require(Hex.decode(modulus))
        let key = try PublicKey(rsaModulus: n, exponent: [0x01, 0x00, 0x01])
        #expect(key.kind == .rsa(bits: 2048))
        #expect(key.byteSize == 256)
        let signature = [UInt8](try Data(contentsOf: dir.appendingPathComponent("m.sig")))
        #expect(key.verify(signature: signature, message: Array("message".utf8), scheme: .rsaPKCS1(.sha256)))
        #expect(!key.verify(signature: signature, message: Array("messagf".utf8), scheme: .rsaPKCS1(.sha256)))
    }

    @Test(arguments: [("prime256v1", PublicKey.Curve.p256), ("secp384r1", .p384), ("secp521r1", .p521)])
    func ecFromPoint(_ curve: (String, PublicKey.Curve)) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.openssl) else { print("NOTICE: openssl CLI absent, skipped"); return }
        let dir = try BouncerProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try run(["ecparam", "-name", curve.0, "-genkey", "-noout", "-out", "k.pem"], in: dir)
        _ = try run(["ec", "-in", "k.pem", "-pubout", "-outform", "DER", "-out", "pub.der"], in: dir)
        let spki = [UInt8](try Data(contentsOf: dir.appendingPathComponent("pub.der")))
        let point = Array(spki.suffix(2 * curve.1.fieldBytes + 1))    // the uncompressed point ends the SPKI
        let key = try PublicKey(ecPoint: point, curve: curve.1)
        #expect(key.isSameKey(as: try PublicKey(spkiDER: spki)))
        var offCurve = point
        offCurve[offCurve.count - 1] ^= 0x01
        #expect(throws: CryptoError.self) { try PublicKey(ecPoint: offCurve, curve: curve.1) }
    }

    /// A PEM block that is there but holds broken base64 is reported as such
    /// (corpus conformance__managed-key-wrong-key_fail: its key ends in
    /// "wrongkey==", whose last character leaves non-zero bits), not as "no
    /// PEM block found"; a missing END line and a missing block each say so.
    @Test func pemPublicKeyErrorsNameWhatIsWrong() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.openssl) else { print("NOTICE: openssl CLI absent, skipped"); return }
        let dir = try BouncerProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try run(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "k.pem"], in: dir)
        _ = try run(["ec", "-in", "k.pem", "-pubout", "-out", "pub.pem"], in: dir)
        let pem = try String(contentsOfFile: dir.appendingPathComponent("pub.pem").path, encoding: .utf8)
        let good = try PublicKey(pem: "a comment line\n" + pem)
        #expect(good.kind == .ecdsa(.p256))
        var lines = pem.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let last = try #require(lines.lastIndex { !$0.isEmpty && !$0.hasPrefix("-----") })
        func message(_ text: String) -> String {
            do { _ = try PublicKey(pem: text); return "accepted" } catch { return error.description }
        }
        // The P-256 SPKI is 91 bytes: its base64 ends in "==" after a character with 4 unused
        // bits, which must be zero; 'B' (000001) sets one, as the corpus's 'y' (110010) does.
        #expect(lines[last].hasSuffix("=="))
        var nonCanonical = lines
        nonCanonical[last] = nonCanonical[last].dropLast(3) + "B=="
        let said = message(nonCanonical.joined(separator: "\n"))
        #expect(said.contains("PEM 'PUBLIC KEY' block at line 1") && said.contains("base64 inside is invalid")
                && said.contains("non-zero unused bits"), "\(said)")
        #expect(!said.contains("no PEM"))
        var badCharacter = lines
        badCharacter[1] = "!" + badCharacter[1].dropFirst()
        let bad = message("# key\n" + badCharacter.joined(separator: "\n"))
        #expect(bad.contains("block at line 2") && bad.contains("'!' at offset 0 is not a base64 character"), "\(bad)")
        lines.removeAll { $0.hasPrefix("-----END") }
        #expect(message(lines.joined(separator: "\n")).contains("no '-----END PUBLIC KEY-----' line"))
        #expect(message(pem.replacingOccurrences(of: "PUBLIC KEY", with: "CERTIFICATE")).contains("no PEM 'PUBLIC KEY' block found"))
        #expect(message("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n").contains("the block is empty"))
    }
}
