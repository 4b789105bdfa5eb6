import Foundation
import Testing
import BouncerTestSupport

/// The image policy the README shows loads as written (with a real key
/// where it names `keys/cosign.pub`) and sends each image to the rule it
/// says: `explain --ecosystem oci` names the rule, the signer and the lock key.
@Suite(.blocking, .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"), "needs openssl"))
struct ReadmeImagePolicyTests {
    @Test func theImagePolicyLoadsAndMatchesByImage() throws {
        let dir = try BouncerProcess.temporaryDirectory("bouncer-readme-image")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("keys"), withIntermediateDirectories: true)
        let key = dir.appendingPathComponent("keys/cosign.key").path
        _ = try BouncerProcess.runProgram("/usr/bin/openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key])
        let made = try BouncerProcess.runProgram("/usr/bin/openssl", ["ec", "-in", key, "-pubout", "-out", dir.appendingPathComponent("keys/cosign.pub").path])
        #expect(made.status == 0, "\(made.err)")
        let policy = dir.appendingPathComponent("policy.json").path
        try Data(try ReadmePolicyTests.block("image-policy").utf8).write(to: URL(fileURLWithPath: policy))

        let team = try BouncerProcess.run(["explain", "--ecosystem", "oci", "registry.example/team/app:v1", "--policy", policy], cwd: dir.path)
        #expect(team.status == 0, "\(team.out) \(team.err)")
        #expect(team.out.contains("rule: rule 'our images'"), "\(team.out)")
        #expect(team.out.contains("signed by key 'images', no transparency log required"), "\(team.out)")
        #expect(team.out.contains("oci:registry.example/team/app:v1"), "\(team.out)")

        let release = try BouncerProcess.run(["explain", "--ecosystem", "oci", "registry.example/release/app@sha256:" + String(repeating: "0", count: 64),
                                              "--policy", policy], cwd: dir.path)
        #expect(release.status == 0, "\(release.out) \(release.err)")
        #expect(release.out.contains("rule: rule 'release images'"), "\(release.out)")

        // An image outside both globs matches no rule; a URL never matches an image rule.
        let other = try BouncerProcess.run(["explain", "--ecosystem", "oci", "registry.example/elsewhere/app:v1", "--policy", policy], cwd: dir.path)
        #expect(other.out.contains("rule: none matches"), "\(other.out)")
        let file = try BouncerProcess.run(["explain", "https://registry.example/team/app.tar.gz", "--policy", policy], cwd: dir.path)
        #expect(file.out.contains("rule: none matches"), "\(file.out)")
    }
}
