import Testing
import COpenSSL
import COpenSSLShims
@testable import BouncerSigstore

@Suite struct ParsedCertificateTests {
    /// Parsing fills the certificate's extension cache with Bouncer's library
    /// context as the thread's default for that call only: afterwards the
    /// thread's default is what it was (TLS and anything else reading it keep
    /// the system's configured context), and never Bouncer's own.
    @Test func parsingLeavesTheThreadsDefaultLibraryContextAsItWas() throws {
        let trusted = try SigstoreTrustedRoot.production()
        let der = try #require(trusted.certificateAuthorities.last?.chainDER.first)
        let before = OSSL_LIB_CTX_set0_default(nil)
        let parsed = ParsedCertificate(der: der)
        let after = OSSL_LIB_CTX_set0_default(nil)
        #expect(parsed != nil)
        #expect(before != nil && before == after)
        #expect(after != bouncer_libctx())
        // The cache is filled: the flags say so (EXFLAG_SET), and say it is a CA.
        let flags = bouncer_x509_cache_extensions(try #require(parsed).x509)
        #expect(flags & 0x0100 != 0 && flags & 0x0010 != 0, "flags \(String(flags, radix: 16))")
    }
}
