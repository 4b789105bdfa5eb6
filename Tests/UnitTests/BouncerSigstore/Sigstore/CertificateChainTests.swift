import Foundation
import Testing
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools
import BouncerTestSupport
import COpenSSLShims

/// Chain building to a trusted CA at a given time (OpenSSL X509_STORE with
/// the check time set), on a root → intermediate → leaf chain made by the
/// real openssl CLI.
@Suite(.blocking) struct CertificateChainTests {
    struct Chain { var root: [UInt8]; var intermediate: [UInt8]; var leaf: [UInt8]; var otherRoot: [UInt8] }

    static func make() throws -> Chain {
        let dir = try BouncerProcess.temporaryDirectory("bouncer-chain")
        defer { try? FileManager.default.removeItem(at: dir) }
        func openssl(_ args: [String]) throws {
            let result = try BouncerProcess.runProgram("/usr/bin/openssl", args, cwd: dir.path)
            #expect(result.status == 0, "openssl \(args.joined(separator: " ")): \(result.err)")
        }
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        for name in ["root", "other"] {
            try openssl(["req", "-x509"] + ec + ["-keyout", "\(name).key", "-out", "\(name).pem", "-subj", "/CN=\(name)", "-days", "10",
                         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"])
        }
        try Data("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n".utf8).write(to: dir.appendingPathComponent("int.ext"))
        try Data("extendedKeyUsage=codeSigning\nsubjectAltName=email:a@example.com\n".utf8).write(to: dir.appendingPathComponent("leaf.ext"))
        try openssl(["req", "-new"] + ec + ["-keyout", "int.key", "-out", "int.csr", "-subj", "/CN=int"])
        try openssl(["x509", "-req", "-in", "int.csr", "-CA", "root.pem", "-CAkey", "root.key", "-days", "5", "-extfile", "int.ext", "-out", "int.pem"])
        try openssl(["req", "-new"] + ec + ["-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=leaf"])
        try openssl(["x509", "-req", "-in", "leaf.csr", "-CA", "int.pem", "-CAkey", "int.key", "-days", "1", "-extfile", "leaf.ext", "-out", "leaf.pem"])
        func der(_ name: String) throws -> [UInt8] {
            try #require(PEM.decode(String(decoding: try Data(contentsOf: dir.appendingPathComponent(name)), as: UTF8.self), label: "CERTIFICATE").first)
        }
        return Chain(root: try der("root.pem"), intermediate: try der("int.pem"), leaf: try der("leaf.pem"), otherRoot: try der("other.pem"))
    }

    static func authority(_ chain: [[UInt8]], start: Date? = nil, end: Date? = nil) -> SigstoreTrustedRoot.CertificateAuthority {
        SigstoreTrustedRoot.CertificateAuthority(uri: "test", chainDER: chain, validFor: .init(start: start, end: end))
    }

    func step(_ body: () throws -> Void) -> SigstoreError.Step? {
        do { try body(); return nil } catch { return (error as? SigstoreError)?.step }
    }

    @Test func chainsOnlyWithinValidityAndOnlyToTheTrustedCA() throws {
        let c = try Self.make()
        let now = Date()
        let ca = Self.authority([c.intermediate, c.root])
        let verified = try CertificateChainCheck.verify(leaf: c.leaf, authorities: [ca], at: now)
        #expect(verified.issuerDER == c.intermediate)
        let leaf = try SigningCertificate(der: c.leaf)
        #expect(leaf.hasCodeSigningUsage)
        #expect(leaf.isValid(at: now))
        // Before the leaf's notBefore, after its notAfter: refused.
        #expect(step { _ = try CertificateChainCheck.verify(leaf: c.leaf, authorities: [ca], at: now - 3 * 86400) } == .certificateChain)
        #expect(step { _ = try CertificateChainCheck.verify(leaf: c.leaf, authorities: [ca], at: now + 3 * 86400) } == .certificateChain)
        // Another root, or the CA without its intermediate: refused.
        #expect(step { _ = try CertificateChainCheck.verify(leaf: c.leaf, authorities: [Self.authority([c.otherRoot])], at: now) } == .certificateChain)
        #expect(step { _ = try CertificateChainCheck.verify(leaf: c.leaf, authorities: [Self.authority([c.root])], at: now) } == .certificateChain)
        // The CA's validFor window must cover the signing time, whatever the certificates say.
        let expiredCA = Self.authority([c.intermediate, c.root], start: now - 86400, end: now - 3600)
        #expect(step { _ = try CertificateChainCheck.verify(leaf: c.leaf, authorities: [expiredCA], at: now) } == .certificateAuthority)
        // The trust anchor itself is not a signing certificate.
        #expect(step { _ = try CertificateChainCheck.verify(leaf: c.root, authorities: [ca], at: now) } == .certificateChain)
        // Garbage is refused, not trapped on.
        #expect(step { _ = try CertificateChainCheck.verify(leaf: [0x30, 0x03, 0x02, 0x01], authorities: [ca], at: now) } == .certificateChain)
        #expect(step { _ = try SigningCertificate(der: Array(c.leaf.dropLast())) } == .material)
    }

    @Test func selfSignedDetection() throws {
        let c = try Self.make()
        #expect(CertificateChainCheck.isSelfSigned(c.root))
        #expect(!CertificateChainCheck.isSelfSigned(c.intermediate))
        #expect(!CertificateChainCheck.isSelfSigned(c.leaf))
    }

    @Test func windowEndIsInclusive() {
        let start = Date(timeIntervalSince1970: 1000), end = Date(timeIntervalSince1970: 2000)
        let window = SigstoreTrustedRoot.Window(start: start, end: end)
        #expect(window.contains(start) && window.contains(end))
        #expect(!window.contains(start - 1) && !window.contains(end + 1))
        #expect(SigstoreTrustedRoot.Window(start: start, end: nil).contains(Date(timeIntervalSince1970: 4_000_000_000)))
    }

    /// Found by fuzz/ (target sigstore-bundle, LeakSanitizer): a bundle whose
    /// leaf had a malformed extendedKeyUsage (a SEQUENCE tag mutated) leaked the
    /// SPKI copy, because bouncer_x509_info handed it out and then failed on
    /// EXFLAG_INVALID, and a failing call's output is never freed by the caller.
    @Test func aCertificateWithAMalformedExtensionIsRefusedWithoutHandingOutItsKey() throws {
        let dir = try BouncerProcess.temporaryDirectory("bouncer-badext")
        defer { try? FileManager.default.removeItem(at: dir) }
        // extendedKeyUsage whose value is an OCTET STRING instead of a SEQUENCE.
        let made = try BouncerProcess.runProgram("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "leaf.key",
            "-subj", "/CN=leaf", "-days", "1", "-addext", "2.5.29.37=DER:04:00", "-outform", "DER", "-out", "leaf.der",
        ], cwd: dir.path)
        try #require(made.status == 0, "openssl: \(made.err)")
        let der = [UInt8](try Data(contentsOf: dir.appendingPathComponent("leaf.der")))
        var notBefore: Int64 = 0, notAfter: Int64 = 0
        var codeSigning: Int32 = 0
        var spki: UnsafeMutablePointer<UInt8>? = nil
        var spkiLength = 0
        #expect(bouncer_x509_info(der, der.count, &notBefore, &notAfter, &codeSigning, &spki, &spkiLength) == 0)
        #expect(spki == nil, "a failed bouncer_x509_info must not hand out an allocation")
        bouncer_openssl_free(spki)
        #expect(step { _ = try SigningCertificate(der: der) } == .material)
    }
}

/// The hand-written RFC 3339 parser used for trusted-root windows, against
/// the dates `date -u -d ... +%s` (GNU coreutils) gives.
@Suite(.blocking) struct RFC3339Tests {
    static func unix(_ text: String) throws -> Double {
        let result = try BouncerProcess.runProgram("/usr/bin/date", ["-u", "-d", text, "+%s"])
        return try #require(Double(result.out.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    @Test func parsesTheTrustedRootForms() throws {
        for text in ["2021-03-07T03:20:29Z", "2022-04-13T20:06:15.000Z", "2023-07-12T15:56:36Z", "2000-02-29T00:00:00Z",
                     "1970-01-01T00:00:00Z", "2025-04-09T00:00:00+02:00", "2024-12-31T23:59:59-05:30", "2100-03-01T12:00:00Z"] {
            let date = try #require(SigstoreTrustedRoot.Window.parseRFC3339(text), "\(text)")
            #expect(date.timeIntervalSince1970.rounded(.down) == (try Self.unix(text)), "\(text)")
        }
        #expect(SigstoreTrustedRoot.Window.parseRFC3339("2022-04-13T20:06:15.250Z")?.timeIntervalSince1970 == 1_649_880_375.25)
        for bad in ["", "2021-03-07", "2021-03-07T03:20:29", "2021-13-07T03:20:29Z", "2021-03-07 03:20:29Z", "2021-03-07T03:20:29Zx",
                    "2021-03-07T03:20:29+0100", "2021-03-07T03:20:29.Z", "２021-03-07T03:20:29Z", "2021-03-07T25:20:29Z"] {
            #expect(SigstoreTrustedRoot.Window.parseRFC3339(bad) == nil, "\(bad)")
        }
    }

}
