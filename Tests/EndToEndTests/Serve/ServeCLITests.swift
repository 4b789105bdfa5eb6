import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import BouncerTestSupport

/// `bouncer serve`'s contract outside the proxying itself: help, usage and
/// configuration errors (exit 2), an address it cannot listen on (exit 3).
@Suite(.blocking) struct ServeCLITests {
    @Test func helpAndErrorsUseTheDocumentedExitCodes() throws {
        let help = try BouncerProcess.run(["serve", "--help"])
        #expect(help.status == 0)
        #expect(help.out.contains("--pypi-upstream") && help.out.contains("--ready-file") && help.out.contains("SIGTERM"))
        #expect(help.out.contains("--verify-ahead"))
        // The binary `bouncer serve` execs, asked directly (its --help once read options it never parsed).
        let server = (BouncerProcess.executable as NSString).deletingLastPathComponent + "/bouncer-serve"
        let direct = try BouncerProcess.runProgram(server, ["--help"])
        #expect(direct.status == 0, "\(direct.err)")
        #expect(direct.out.contains("--verify-ahead"), "\(direct.out)")

        let badListen = try BouncerProcess.run(["serve", "--listen", "nonsense", "--pypi-upstream", "http://127.0.0.1:9/", "--npm-upstream", "http://127.0.0.1:9/"])
        #expect(badListen.status == 2)
        #expect(badListen.err.contains("--listen nonsense"))

        let noPolicy = try BouncerProcess.run(["serve", "--policy", "/nonexistent/policy.json"])
        #expect(noPolicy.status == 2)

        let unknown = try BouncerProcess.run(["serve", "--bogus"])
        #expect(unknown.status == 2)

        // The npm shim's lock of tarballs to verify ahead: unreadable or malformed is a configuration error.
        let root = try BouncerProcess.temporaryDirectory("bouncer-serve-cli-expect")
        defer { try? FileManager.default.removeItem(at: root) }
        try #"{"version": 1, "rules": []}"#.write(to: root.appendingPathComponent("policy.json"), atomically: true, encoding: .utf8)
        try #"[{"name": "lib", "file": "../x.tgz", "version": "1.0.0"}]"#.write(to: root.appendingPathComponent("expect.json"), atomically: true, encoding: .utf8)
        for (file, said) in [("missing.json", "no such file"), ("expect.json", "$[0] is not {name, file, version, integrity}")] {
            let bad = try BouncerProcess.run(["serve", "--policy", root.appendingPathComponent("policy.json").path, "--npm-upstream", "http://127.0.0.1:9/",
                                              "--npm-expect", root.appendingPathComponent(file).path])
            #expect(bad.status == 2, "\(bad.err)")
            #expect(bad.err.contains(file) && bad.err.contains(said), "\(bad.err)")
        }
    }

    @Test func anAddressInUseIsAnIOFailure() throws {
        let root = try BouncerProcess.temporaryDirectory("bouncer-serve-cli")
        defer { try? FileManager.default.removeItem(at: root) }
        let holder = try DirectoryHTTPServer(root: root.path)
        try ServeProcess.policy().write(to: root.appendingPathComponent("policy.json"), atomically: true, encoding: .utf8)
        let busy = try BouncerProcess.run(["serve", "--listen", "127.0.0.1:\(holder.port)", "--policy", root.appendingPathComponent("policy.json").path,
                                           "--pypi-upstream", "http://127.0.0.1:9/", "--npm-upstream", "http://127.0.0.1:9/"])
        #expect(busy.status == 3)
        #expect(busy.err.contains("cannot listen on 127.0.0.1:\(holder.port)"))
        holder.stop()
    }
}
