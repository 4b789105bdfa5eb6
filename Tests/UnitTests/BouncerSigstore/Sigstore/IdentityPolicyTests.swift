import Foundation
import Testing
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools
import BouncerTestSupport

/// Identity and issuer matching on certificates made by the real openssl CLI
/// with Fulcio's extensions, including the negative cases of issue 4.
@Suite(.blocking) struct IdentityPolicyTests {
    static let gha = "https://token.actions.githubusercontent.com"
    static let workflow = "https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1"

    /// A self-signed P-256 certificate with these -addext values, as DER.
    static func certificate(_ extensions: [String]) throws -> SigningCertificate {
        let dir = try BouncerProcess.temporaryDirectory("bouncer-identity")
        defer { try? FileManager.default.removeItem(at: dir) }
        var args = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", "key.pem", "-out", "cert.der", "-outform", "DER", "-subj", "/O=bouncer-test", "-days", "1"]
        for ext in extensions { args += ["-addext", ext] }
        let made = try BouncerProcess.runProgram("/usr/bin/openssl", args, cwd: dir.path)
        #expect(made.status == 0, "\(made.err)")
        let der = [UInt8](try Data(contentsOf: dir.appendingPathComponent("cert.der")))
        return try SigningCertificate(der: der)
    }

    static func issuerV2(_ issuer: String) -> String { "1.3.6.1.4.1.57264.1.8=ASN1:UTF8String:\(issuer)" }
    static func issuerV1(_ issuer: String) -> String { "1.3.6.1.4.1.57264.1.1=DER:\(Array(issuer.utf8).map { String(format: "%02X", $0) }.joined())" }

    func refusal(_ policy: IdentityPolicy, _ cert: SigningCertificate) -> SigstoreError.Step? {
        do { try policy.check(cert); return nil } catch { return error.step }
    }

    @Test func exactURIAndIssuerMatch() throws {
        let cert = try Self.certificate(["subjectAltName=URI:\(Self.workflow)", Self.issuerV2(Self.gha), "extendedKeyUsage=codeSigning"])
        #expect(cert.subjectAlternativeNames == [.uri(Self.workflow)])
        #expect(cert.oidcIssuer == Self.gha)
        #expect(cert.hasCodeSigningUsage)
        let matched = try IdentityPolicy(identity: .exact(Self.workflow), issuer: .exact(Self.gha)).check(cert)
        #expect(matched == Self.workflow)
    }

    @Test func wrongIssuerIsRefused() throws {
        let cert = try Self.certificate(["subjectAltName=URI:\(Self.workflow)", Self.issuerV2(Self.gha)])
        #expect(refusal(IdentityPolicy(identity: .exact(Self.workflow), issuer: .exact("https://accounts.google.com")), cert) == .issuer)
        // A trailing slash is another issuer.
        #expect(refusal(IdentityPolicy(identity: .exact(Self.workflow), issuer: .exact(Self.gha + "/")), cert) == .issuer)
    }

    @Test func sanOfAnotherTypeDoesNotCount() throws {
        // A DNS SAN equal to the expected identity is not an identity.
        let dns = try Self.certificate(["subjectAltName=DNS:example.com", Self.issuerV2(Self.gha)])
        #expect(refusal(IdentityPolicy(identity: .exact("example.com"), issuer: .exact(Self.gha)), dns) == .identity)
        // The otherName username 'foo!oidc.local' is not the email 'foo@oidc.local'.
        let other = try Self.certificate(["subjectAltName=otherName:1.3.6.1.4.1.57264.1.7;UTF8:foo!oidc.local", Self.issuerV2("http://oidc.local:8080")])
        #expect(other.subjectAlternativeNames == [.otherName("foo!oidc.local")])
        #expect(refusal(IdentityPolicy(identity: .exact("foo@oidc.local"), issuer: .exact("http://oidc.local:8080")), other) == .identity)
        #expect(refusal(IdentityPolicy(identity: .exact("foo!oidc.local"), issuer: .exact("http://oidc.local:8080")), other) == nil)
        // An email SAN matches as an email.
        let email = try Self.certificate(["subjectAltName=email:foo@oidc.local", Self.issuerV2("http://oidc.local:8080")])
        #expect(refusal(IdentityPolicy(identity: .exact("foo@oidc.local"), issuer: .exact("http://oidc.local:8080")), email) == nil)
    }

    @Test func regexpMustMatchTheWholeValue() throws {
        let cert = try Self.certificate(["subjectAltName=URI:\(Self.workflow)", Self.issuerV2(Self.gha)])
        let issuer = IdentityPolicy.Matcher.exact(Self.gha)
        // Prefix-only and substring matches fail.
        #expect(refusal(IdentityPolicy(identity: .regex("https://github\\.com/o/r/"), issuer: issuer), cert) == .identity)
        #expect(refusal(IdentityPolicy(identity: .regex("release\\.yml"), issuer: issuer), cert) == .identity)
        #expect(refusal(IdentityPolicy(identity: .regex("https://github\\.com/o/r/.*|x"), issuer: issuer), cert) == nil)
        #expect(refusal(IdentityPolicy(identity: .regex("https://github\\.com/o/r/.*"), issuer: issuer), cert) == nil)
        // An alternation whose first branch matches only a prefix still needs a whole match.
        #expect(refusal(IdentityPolicy(identity: .regex("https://github\\.com/o/|https://github\\.com/o/r/\\.github/workflows/release\\.yml@refs/tags/v1"), issuer: issuer), cert) == nil)
        // The issuer regexp is anchored too.
        #expect(refusal(IdentityPolicy(identity: .exact(Self.workflow), issuer: .regex("https://token")), cert) == .issuer)
        #expect(refusal(IdentityPolicy(identity: .exact(Self.workflow), issuer: .regex("https://token\\.actions\\.githubusercontent\\.com")), cert) == nil)
        // A broken pattern is refused, not treated as "match anything".
        #expect(refusal(IdentityPolicy(identity: .regex("(unclosed"), issuer: issuer), cert) == .identity)
    }

    @Test func issuerFallsBackToV1AndBothMustAgree() throws {
        let v1 = try Self.certificate(["subjectAltName=email:a@example.com", Self.issuerV1("https://github.com/login/oauth")])
        #expect(v1.oidcIssuer == "https://github.com/login/oauth")
        let none = try Self.certificate(["subjectAltName=email:a@example.com"])
        #expect(none.oidcIssuer == nil)
        #expect(refusal(IdentityPolicy(identity: .exact("a@example.com"), issuer: .regex(".*")), none) == .issuer)
        #expect(throws: SigstoreError.self) {
            try Self.certificate(["subjectAltName=email:a@example.com", Self.issuerV1("https://a.example"), Self.issuerV2("https://b.example")])
        }
    }
}
