import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerSigstore
import BouncerTestSupport

/// The precertificate TBS a CT log signed, cut from the leaf's DER: the same
/// bytes as Python cryptography's `tbs_precertificate_bytes` on every real
/// Fulcio leaf, and a refusal, never a trap, for anything that is not DER.
@Suite(.blocking) struct PrecertificateTBSTests {
    static func tlv(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
        // Written out here rather than with DERWalk.encode, so the test does not check the code with itself.
        if content.count < 128 { return [tag, UInt8(content.count)] + content }
        if content.count < 256 { return [tag, 0x81, UInt8(content.count)] + content }
        return [tag, 0x82, UInt8(content.count >> 8), UInt8(content.count & 0xFF)] + content
    }

    static let sctOID: [UInt8] = [0x06, 0x0A, 0x2B, 0x06, 0x01, 0x04, 0x01, 0xD6, 0x79, 0x02, 0x04, 0x02]
    static func sctExtension(_ list: [UInt8]) -> [UInt8] { tlv(0x30, sctOID + tlv(0x04, tlv(0x04, list))) }
    static func otherExtension(_ byte: UInt8, critical: Bool = false, size: Int = 3) -> [UInt8] {
        tlv(0x30, [0x06, 0x03, 0x55, 0x1D, byte] + (critical ? [0x01, 0x01, 0xFF] : []) + tlv(0x04, [UInt8](repeating: byte, count: size)))
    }
    /// A certificate-shaped DER: version, serial, a long subject, then `extensions` in [3].
    static func certificate(_ extensions: [[UInt8]]?) -> (der: [UInt8], fieldsBefore: [UInt8]) {
        let before = tlv(0xA0, [0x02, 0x01, 0x02]) + [0x02, 0x01, 0x07] + tlv(0x30, [0x06, 0x03, 0x2A, 0x03, 0x04])
            + tlv(0x30, [UInt8](repeating: 0x41, count: 150))
        let tbs = tlv(0x30, before + (extensions.map { tlv(0xA3, tlv(0x30, $0.flatMap { $0 })) } ?? []))
        return (tlv(0x30, tbs + tlv(0x30, [0x06, 0x01, 0x01]) + tlv(0x03, [0x00, 0x01])), before)
    }

    @Test func theSCTExtensionIsCutOutAndEveryLengthReEncoded() throws {
        let list = [UInt8](repeating: 0x5C, count: 300)
        let kept = [Self.otherExtension(0x0F, critical: true), Self.otherExtension(0x11, size: 140)]
        let (der, before) = Self.certificate([kept[0], Self.sctExtension(list), kept[1]])
        let (tbs, scts) = try PrecertificateTBS.split(der)
        #expect(scts == list)
        #expect(tbs == Self.tlv(0x30, before + Self.tlv(0xA3, Self.tlv(0x30, kept[0] + kept[1]))))
    }

    @Test func whatIsNotOnePrecertificateIsRefused() throws {
        let list = [UInt8](repeating: 1, count: 8)
        let other = Self.otherExtension(0x0F)
        #expect(throws: TransparencyError.sctMissing) { try PrecertificateTBS.split(Self.certificate([other]).der) }
        #expect(throws: TransparencyError.sctMissing) { try PrecertificateTBS.split(Self.certificate(nil).der) }
        #expect(throws: TransparencyError.malformedSCT("the leaf has two SCT-list extensions")) {
            try PrecertificateTBS.split(Self.certificate([Self.sctExtension(list), other, Self.sctExtension(list)]).der)
        }
        #expect(throws: TransparencyError.malformedCertificate("the SCT list is the leaf's only extension")) {
            try PrecertificateTBS.split(Self.certificate([Self.sctExtension(list)]).der)
        }
        // extnValue that is not exactly one OCTET STRING.
        let loose = Self.tlv(0x30, Self.sctOID + Self.tlv(0x04, Self.tlv(0x04, list) + [0x05, 0x00]))
        #expect(throws: TransparencyError.malformedSCT("the SCT-list extension is not an OCTET STRING")) {
            try PrecertificateTBS.split(Self.certificate([loose, other]).der)
        }
        let genuine = Self.certificate([other, Self.sctExtension(list)]).der
        _ = try PrecertificateTBS.split(genuine)
        // BER, not DER: an indefinite length, a length with a leading zero, a short length in long form.
        for (name, der) in [("indefinite", [0x30, 0x80] + genuine.dropFirst(2) + [0, 0]),
                            ("leading zero", [0x30, 0x83, 0x00] + genuine.dropFirst(2)),
                            ("long form for 5", [0x30, 0x81, 0x05, 0x30, 0x03, 0x02, 0x01, 0x01]),
                            ("trailing byte", genuine + [0]), ("truncated", Array(genuine.dropLast())), ("empty", [])] {
            #expect(throws: TransparencyError.self, "\(name)") { try PrecertificateTBS.split(der) }
        }
        // Every truncation and every single-byte change of a genuine one: a refusal or an answer, never a trap.
        var random = TestRandom.generator()
        for length in 0..<genuine.count { _ = try? PrecertificateTBS.split(Array(genuine.prefix(length))) }
        for _ in 0..<4000 {
            var mutated = genuine
            mutated[Int.random(in: 0..<mutated.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            _ = try? PrecertificateTBS.split(mutated)
        }
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func realFulcioLeavesGiveTheBytesPythonCryptographyGives() throws {
        guard Corpus.rootOrNotice("PrecertificateTBSTests") != nil else { return }
        var leaves: [[UInt8]] = []
        for item in LogFixture.cases() {
            if let leaf = item.leafDER, !leaves.contains(leaf), (try? PrecertificateTBS.split(leaf)) != nil { leaves.append(leaf) }
        }
        let script = """
            import sys
            from cryptography import x509
            for line in sys.stdin:
                print(x509.load_der_x509_certificate(bytes.fromhex(line.strip())).tbs_precertificate_bytes.hex())
            """
        let input = leaves.map { Hex.encode($0) }.joined(separator: "\n") + "\n"
        let peer = try BouncerProcess.runProgram("/usr/bin/env", ["python3", "-c", script], stdin: Data(input.utf8))
        try #require(peer.status == 0, "python cryptography: \(peer.err)")
        let expected = peer.out.split(separator: "\n").map(String.init)
        try #require(expected.count == leaves.count)
        for (leaf, theirs) in zip(leaves, expected) {
            #expect(Hex.encode(try PrecertificateTBS.split(leaf).tbs) == theirs)
        }
        print("PrecertificateTBSTests: \(leaves.count) distinct Fulcio leaves, the same precertificate TBS as Python cryptography")
        #expect(leaves.count >= 15)
    }
}
