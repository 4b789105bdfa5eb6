import Foundation
import Testing
import COpenSSLShims
@testable import BouncerSigstore

/// The links `KnownCertificateLinks` lets every process take as verified are
/// exactly the embedded trusted roots' intermediate-under-root links, and
/// each of them passes the full check it stands for.
@Suite struct KnownCertificateLinksTests {
    @Test func everyEmbeddedLinkVerifiesAndIsKnownAndNothingElseIs() throws {
        var embedded: [String: ValidityWindow] = [:]
        var lines: [String] = []
        for trusted in [try SigstoreTrustedRoot.production(), try SigstoreTrustedRoot.staging()] {
            for authority in trusted.certificateAuthorities where authority.chainDER.count == 2 {
                let intermediateDER = authority.chainDER[0], rootDER = authority.chainDER[1]
                let intermediate = try #require(ParsedCertificate(der: intermediateDER))
                let root = try #require(ParsedCertificate(der: rootDER))
                #expect(bouncer_x509_link_eligible(intermediate.x509, root.x509) == 1, "\(authority.uri)")
                #expect(bouncer_x509_verify_link(intermediate.x509, root.x509) == 1, "\(authority.uri)")
                let window = try #require(ValidityWindow(root))
                let key = KnownCertificateLinks.key(intermediate: intermediateDER, root: rootDER)
                embedded[key] = window
                lines.append("\"\(key)\": ValidityWindow(notBefore: \(window.notBefore), notAfter: \(window.notAfter)),")
            }
        }
        #expect(!embedded.isEmpty)
        #expect(embedded == KnownCertificateLinks.verified,
                "KnownCertificateLinks.verified must hold exactly:\n\(lines.joined(separator: "\n"))")
    }

    /// The key names both certificates in order: the root under the
    /// intermediate, or either one with another, is not a known link.
    @Test func aKnownLinkIsNoOtherPair() throws {
        let trusted = try SigstoreTrustedRoot.production()
        let chain = try #require(trusted.certificateAuthorities.first { $0.chainDER.count == 2 }?.chainDER)
        #expect(KnownCertificateLinks.rootWindow(intermediate: chain[0], root: chain[1]) != nil)
        #expect(KnownCertificateLinks.rootWindow(intermediate: chain[1], root: chain[0]) == nil)
        #expect(KnownCertificateLinks.rootWindow(intermediate: chain[0], root: chain[0]) == nil)
        #expect(KnownCertificateLinks.rootWindow(intermediate: chain[0] + [0], root: chain[1]) == nil)
    }
}
