import Foundation
import Testing
import BouncerTestSupport
@testable import BouncerSigstore

/// The chain check verifies a trusted root's intermediate under its root once
/// and then each leaf with the intermediate as anchor (x509.c). It must give
/// exactly the verdict and issuer of checking the whole chain every time,
/// including where the shortcut does not apply: a root that allows no
/// intermediate (pathlen 0), a root expired at the signing time, a leaf the
/// root signed itself. Certificates minted with the openssl CLI.
@Suite(.blocking) struct ChainLinkShortcutTests {
    static let openssl = "/usr/bin/openssl"

    struct Minted {
        let dir: URL
        func run(_ args: [String]) throws {
            let result = try BouncerProcess.runProgram(ChainLinkShortcutTests.openssl, args, cwd: dir.path)
            guard result.status == 0 else { throw MintError(message: "openssl \(args.joined(separator: " ")): \(result.err)") }
        }
        func der(_ name: String) throws -> [UInt8] {
            try run(["x509", "-in", "\(name).pem", "-outform", "DER", "-out", "\(name).der"])
            return [UInt8](try Data(contentsOf: dir.appendingPathComponent("\(name).der")))
        }
        func write(_ name: String, _ text: String) throws {
            try Data(text.utf8).write(to: dir.appendingPathComponent(name))
        }
        func root(_ name: String, pathlen: Int, days: Int) throws {
            try run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "\(name).key",
                     "-out", "\(name).pem", "-subj", "/O=test/CN=\(name)", "-days", String(days),
                     "-addext", "basicConstraints=critical,CA:TRUE,pathlen:\(pathlen)", "-addext", "keyUsage=critical,keyCertSign"])
        }
        /// A certificate for `name` signed by `issuer`, a CA or a code-signing leaf.
        func issue(_ name: String, by issuer: String, ca: Bool, days: Int) throws {
            try run(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "\(name).key",
                     "-out", "\(name).csr", "-subj", "/O=test/CN=\(name)"])
            try write("\(name).ext", ca ? "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign\n"
                                        : "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n")
            try run(["x509", "-req", "-in", "\(name).csr", "-CA", "\(issuer).pem", "-CAkey", "\(issuer).key", "-CAcreateserial",
                     "-out", "\(name).pem", "-days", String(days), "-extfile", "\(name).ext"])
        }
    }
    struct MintError: Error { let message: String }

    /// Both ways at `time`: the same issuer, or both refused.
    func sameVerdict(leaf: [UInt8], chain: [[UInt8]], at time: Date) throws -> Bool? {
        let authority = SigstoreTrustedRoot.CertificateAuthority(uri: "test", chainDER: chain,
                                                                 validFor: .init(start: Date(timeIntervalSince1970: 0)))
        let cache = ParsedCertificates()
        func check(_ shortcut: Bool) -> [UInt8]? {
            try? CertificateChainCheck.verify(leaf: ParsedCertificate(der: leaf), authorities: [authority], at: time,
                                              cache: cache, linkShortcut: shortcut).issuerDER
        }
        let full = check(false)
        // Twice with the shortcut: the link is decided on the first, reused on the second.
        let first = check(true), second = check(true)
        #expect(first == full)
        #expect(second == full)
        return full.map { _ in true } ?? false
    }

    @Test func theShortcutGivesTheFullChainsVerdict() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.openssl) else { print("NOTICE: openssl CLI absent, skipped"); return }
        let dir = try BouncerProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let m = Minted(dir: dir)
        try m.root("root", pathlen: 1, days: 3650)
        try m.issue("inter", by: "root", ca: true, days: 3650)
        try m.issue("leaf", by: "inter", ca: false, days: 3650)
        try m.issue("direct", by: "root", ca: false, days: 3650)            // signed by the root itself
        try m.root("strict", pathlen: 0, days: 3650)                        // allows no intermediate
        try m.issue("inter0", by: "strict", ca: true, days: 3650)
        try m.issue("leaf0", by: "inter0", ca: false, days: 3650)
        try m.root("brief", pathlen: 1, days: 1)                            // expires tomorrow
        try m.issue("interB", by: "brief", ca: true, days: 3650)
        try m.issue("leafB", by: "interB", ca: false, days: 3650)

        let now = Date()
        let later = now.addingTimeInterval(3 * 86_400)
        let chain = [try m.der("inter"), try m.der("root")]
        #expect(try sameVerdict(leaf: try m.der("leaf"), chain: chain, at: now) == true)
        #expect(try sameVerdict(leaf: try m.der("leaf"), chain: chain, at: now.addingTimeInterval(-86_400 * 2)) == false)
        #expect(try sameVerdict(leaf: try m.der("direct"), chain: chain, at: now) == true)
        #expect(try sameVerdict(leaf: try m.der("inter"), chain: chain, at: now) != nil)
        #expect(try sameVerdict(leaf: try m.der("leaf0"), chain: [try m.der("inter0"), try m.der("strict")], at: now) == false)
        let brief = [try m.der("interB"), try m.der("brief")]
        #expect(try sameVerdict(leaf: try m.der("leafB"), chain: brief, at: now) == true)
        #expect(try sameVerdict(leaf: try m.der("leafB"), chain: brief, at: later) == false)
        // The shortcut takes the root's window as numbers: at its last second
        // and at notAfter itself (which OpenSSL counts as expired) both ways agree.
        let briefRoot = try #require(ParsedCertificate(der: brief[1]))
        let window = try #require(ValidityWindow(briefRoot))
        let end = Date(timeIntervalSince1970: TimeInterval(window.notAfter))
        #expect(try sameVerdict(leaf: try m.der("leafB"), chain: brief, at: end.addingTimeInterval(-1)) == true)
        #expect(try sameVerdict(leaf: try m.der("leafB"), chain: brief, at: end) == false)
        // Another root's intermediate is not this root's.
        #expect(try sameVerdict(leaf: try m.der("leaf"), chain: [try m.der("interB"), try m.der("brief")], at: now) == false)
    }
}
