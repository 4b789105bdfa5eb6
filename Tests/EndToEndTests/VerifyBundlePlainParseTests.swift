import ArgumentParser
import Testing
import BouncerTestSupport
@testable import BouncerCLI

/// `VerifyBundleCommand.parsePlain` (the start-up shortcut past
/// ArgumentParser) must accept only what ArgumentParser parses the same way,
/// and hand everything else to it, validation errors included.
@Suite(.blocking) struct VerifyBundlePlainParseTests {
    static let id = ["--certificate-identity", "https://github.com/o/r/.github/workflows/w.yml@refs/tags/v1"]
    static let iss = ["--certificate-oidc-issuer", "https://token.actions.githubusercontent.com"]

    static let accepted: [[String]] = [
        ["verify-bundle", "--bundle", "b.json"] + id + iss + ["a.whl"],
        ["verify-bundle", "a.whl", "--bundle", "b.json"] + iss + id + ["--json"],
        ["verify-bundle", "--bundle", "b.json", "--certificate-identity-regexp", "^https://x/.*$",
         "--certificate-oidc-issuer-regexp", "https://.*", "--staging", "sha256:00"],
        ["verify-bundle", "--bundle", "b.json"] + id + iss + ["--trusted-root", "root.json", "a file with spaces"],
        ["verify-bundle", "--bundle", "b.json", "--key", "k.pem", "a"],
    ]

    static let handedOn: [[String]] = [
        [], ["verify-bundle"], ["verify-signature", "f", "--key", "k"],
        ["verify-bundle", "--bundle", "b.json", "a"],                                 // no identity: validation error
        ["verify-bundle", "--bundle", "b.json"] + id + ["a"],                          // no issuer
        ["verify-bundle"] + id + iss + ["a"],                                          // no bundle
        ["verify-bundle", "--bundle", "b.json"] + id + iss,                            // no artifact
        ["verify-bundle", "--bundle", "b.json"] + id + iss + ["a", "b"],               // two artifacts
        ["verify-bundle", "--bundle", "b.json", "--key", "k.pem"] + id + ["a"],        // key with identity
        ["verify-bundle", "--bundle", "b.json"] + id + iss + ["--certificate-identity-regexp", "x", "a"],
        ["verify-bundle", "--bundle", "b.json"] + id + iss + ["--certificate-oidc-issuer-regexp", "x", "a"],
        ["verify-bundle", "--bundle", "b.json"] + id + iss + ["--staging", "--trusted-root", "r", "a"],
        ["verify-bundle", "--bundle", "b.json"] + id + iss + ["--json", "--json", "a"], // repeated flag
        ["verify-bundle", "--bundle", "b.json", "--bundle", "c.json"] + id + iss + ["a"],
        ["verify-bundle", "--bundle=b.json"] + id + iss + ["a"],                       // '=' form
        ["verify-bundle", "--bundle", "-b"] + id + iss + ["a"],                        // a value that looks like an option
        ["verify-bundle", "--bundle", "b.json"] + id + iss + ["--help", "a"],
        ["verify-bundle", "--bundle", "b.json"] + id + iss + ["help"],
        ["verify-bundle", "--bundle", "b.json"] + id + iss + ["--", "a"],
        ["verify-bundle", "--bundle", "b.json"] + id + iss + ["--unknown", "x", "a"],
        ["verify-bundle", "--bundle", "b.json"] + id + iss + [""],
        ["verify-bundle", "--bundle"],
    ]

    @Test(arguments: accepted) func agreesWithArgumentParser(_ argv: [String]) throws {
        let plain = try #require(VerifyBundleCommand.parsePlain(argv), "\(argv) should take the plain path")
        let c = try #require(try BouncerCommand.parseAsRoot(argv) as? VerifyBundleCommand)
        #expect(plain == VerifyBundleRun(bundle: c.bundle, key: c.key, identity: c.signer.identity,
                                         identityRegexp: c.signer.identityRegexp, issuer: c.signer.issuer,
                                         issuerRegexp: c.signer.issuerRegexp, trustedRoot: c.signer.trustedRoot,
                                         staging: c.signer.staging, json: c.json, artifact: c.artifact))
    }

    @Test(arguments: handedOn) func handsTheRestToArgumentParser(_ argv: [String]) {
        #expect(VerifyBundleCommand.parsePlain(argv) == nil, "\(argv)")
    }
}
