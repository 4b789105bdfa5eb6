import Foundation
import Testing
import BouncerTestSupport

/// The policies the README tells people to copy must load and say what
/// they require: the release policy block, loaded as written, with a real
/// OpenPGP key made by gpg where it names `keys/release.asc`.
@Suite(.blocking, .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/gpg"), "needs gpg"))
struct ReadmePolicyTests {
    static func block(_ marker: String) throws -> String {
        let readme = try String(contentsOf: Corpus.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        guard let start = readme.range(of: "<!-- \(marker) -->\n```json\n"),
              let end = readme.range(of: "```\n<!-- /\(marker) -->", range: start.upperBound..<readme.endIndex) else {
            throw SetupError("README.md has no \(marker) block")
        }
        return String(readme[start.upperBound..<end.lowerBound])
    }

    struct SetupError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    @Test func theReleasePolicyLoadsAndRequiresBothSignatures() throws {
        let dir = try BouncerProcess.temporaryDirectory("bouncer-readme")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("keys"), withIntermediateDirectories: true)
        let gnupg = dir.appendingPathComponent("gnupg").path
        try FileManager.default.createDirectory(atPath: gnupg, withIntermediateDirectories: true)
        let env = ["GNUPGHOME": gnupg]
        let made = try BouncerProcess.runProgram("/usr/bin/gpg", ["--batch", "--pinentry-mode", "loopback", "--passphrase", "",
                                                                  "--quick-generate-key", "Release <release@example.test>", "ed25519", "sign", "never"],
                                                 environment: env)
        #expect(made.status == 0, "\(made.err)")
        let exported = try BouncerProcess.runProgram("/usr/bin/gpg", ["--batch", "--armor", "--export", "release@example.test"], environment: env)
        try exported.stdout.write(to: dir.appendingPathComponent("keys/release.asc"))
        try Data(try Self.block("release-policy").utf8).write(to: dir.appendingPathComponent("policy.json"))

        let url = "https://github.com/example/app/releases/download/v1.4.0/app-1.4.0.tar.gz"
        let explained = try BouncerProcess.run(["explain", url, "--policy", dir.appendingPathComponent("policy.json").path], cwd: dir.path)
        #expect(explained.status == 0, "\(explained.out)\(explained.err)")
        let text = explained.out + explained.err
        #expect(text.contains("rule: rule 'example/app releases'"), "\(text)")
        #expect(text.contains("https://github.com/example/app/releases/download/v1.4.0/SHA256SUMS.asc"), "\(text)")
        #expect(text.contains("app-1.4.0.tar.gz.sigstore.json"), "\(text)")
        #expect(text.contains("https://token.actions.githubusercontent.com"), "\(text)")
        // A file of another project matches no rule: denied.
        let other = try BouncerProcess.run(["explain", "https://github.com/other/app/releases/download/v1/x.tgz",
                                            "--policy", dir.appendingPathComponent("policy.json").path], cwd: dir.path)
        #expect((other.out + other.err).contains("none matches"), "\(other.out)\(other.err)")
    }
}
