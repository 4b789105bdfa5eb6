import ArgumentParser
import Testing
import BouncerTestSupport
@testable import BouncerCLI

/// `VerifySignatureCommand.parsePlain` (the start-up shortcut past
/// ArgumentParser) must accept only what ArgumentParser parses the same way,
/// and hand everything else to it.
@Suite(.blocking) struct VerifySignaturePlainParseTests {
    static let accepted: [[String]] = [
        ["verify-signature", "InRelease", "--key", "k.gpg"],
        ["verify-signature", "--key", "k.gpg", "InRelease"],
        ["verify-signature", "InRelease", "--key", "a.gpg", "--key", "b.gpg", "--json"],
        ["verify-signature", "--json", "f", "--signature", "f.sig", "--key", "k"],
        ["verify-signature", "f", "--signature", "f.sig", "--key", "allowed", "--identity", "me@x", "--namespace", "file"],
        ["verify-signature", "a file with spaces", "--key", "/k/key ring.gpg"],
    ]

    static let handedOn: [[String]] = [
        [], ["--version"], ["verify-signature"], ["verify", "f", "--key", "k"],
        ["verify-signature", "f"],                                   // no --key: ArgumentParser's validation error
        ["verify-signature", "f", "g", "--key", "k"],                // two files
        ["verify-signature", "f", "--key=k"],                        // '=' form
        ["verify-signature", "f", "--key"],                          // missing value
        ["verify-signature", "f", "--key", "-k"],                    // a value that looks like an option
        ["verify-signature", "f", "--key", "k", "--json", "--json"], // repeated flag
        ["verify-signature", "f", "--key", "k", "--signature", "a", "--signature", "b"],
        ["verify-signature", "f", "--key", "k", "--help"], ["verify-signature", "-h"], ["verify-signature", "help"],
        ["verify-signature", "f", "--key", "k", "--", "g"], ["verify-signature", "", "--key", "k"],
        ["verify-signature", "f", "--key", "k", "--unknown", "x"], ["verify-signature", "f", "-k", "k"],
    ]

    @Test(arguments: accepted) func agreesWithArgumentParser(_ argv: [String]) throws {
        let plain = try #require(VerifySignatureCommand.parsePlain(argv), "\(argv) should take the plain path")
        let c = try #require(try BouncerCommand.parseAsRoot(argv) as? VerifySignatureCommand)
        #expect(plain == VerifySignatureRun(file: c.file, signature: c.signature, keys: c.keys, identity: c.identity, namespace: c.namespace, json: c.json))
    }

    @Test(arguments: handedOn) func handsTheRestToArgumentParser(_ argv: [String]) {
        #expect(VerifySignatureCommand.parsePlain(argv) == nil, "\(argv)")
    }
}
