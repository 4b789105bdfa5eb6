import Foundation
import Testing
import BouncerIO
import BouncerTestSupport

/// The Debian chain as a policy: a `.deb` is listed in `Packages`, which is
/// itself evidence covered by a rule requiring it to be listed in the
/// archive-signed `InRelease`. Served from loopback with this machine's real
/// apt lists and a real `.deb` (apt-get download).
@Suite(.blocking) struct DebianChainPolicyTests {
    @Test func aDebIsVerifiedThroughPackagesAndTheSignedInRelease() throws {
        guard FileManager.default.fileExists(atPath: DebianChainTests.keyring), let index = DebianChainTests.findIndex() else {
            let why = "no *InRelease with a Packages index under \(DebianChainTests.lists) or no keyring"
            if DebianChainTests.isCI { Issue.record("under CI=true the Debian chain must run: \(why)") } else { print("NOTICE: DebianChainPolicyTests skipped: \(why)") }
            return
        }
        let dir = try BouncerProcess.temporaryDirectory("bouncer-debian-policy")
        defer { try? FileManager.default.removeItem(at: dir) }
        let compressed = [UInt8](try Data(contentsOf: URL(fileURLWithPath: index.packages)))
        let plain = CompressedIndex.isCompressed(compressed) ? try CompressedIndex.decompress(compressed, source: index.packages) : compressed
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("download"), withIntermediateDirectories: true)
        guard let deb = try DebianChainTests.debForIndex(String(decoding: plain, as: UTF8.self), packages: index.packages,
                                                         in: dir.appendingPathComponent("download")) else { return }

        // The archive's layout on a loopback server.
        let root = dir.appendingPathComponent("www/debian")
        let release = root.appendingPathComponent("dists/stable")
        try FileManager.default.createDirectory(at: release.appendingPathComponent(index.entry).deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: index.inRelease, toPath: release.appendingPathComponent("InRelease").path)
        try Data(plain).write(to: release.appendingPathComponent(index.entry))
        let pooled = root.appendingPathComponent(deb.filename)
        try FileManager.default.createDirectory(at: pooled.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: deb.path, toPath: pooled.path)
        let server = try DirectoryHTTPServer(root: dir.appendingPathComponent("www").path)
        defer { server.stop() }
        let base = server.baseURL + "/debian"
        let indexDirectory = (index.entry as NSString).deletingLastPathComponent
        let policy = """
            {"version": 1, "unmatched": "deny",
             "keys": {"debian": {"type": "openpgp", "file": "\(DebianChainTests.keyring)"}},
             "rules": [
               {"name": "debian indexes", "match": {"url": "\(base)/dists/stable/**"},
                "require": [{"checksums": {"url": "\(base)/dists/stable/InRelease", "key": "debian", "entry": "\(index.entry)"}}]},
               {"name": "debian packages", "match": {"url": "\(base)/pool/**"},
                "require": [{"checksums": {"url": "\(base)/dists/stable/\(indexDirectory)/Packages"}}]}
             ]}
            """
        try Data(policy.utf8).write(to: dir.appendingPathComponent("policy.json"))
        let env = ["BOUNCER_CACHE": dir.appendingPathComponent("cache").path, "BOUNCER_STATE": dir.appendingPathComponent("state").path,
                   "BOUNCER_POLICY": "", "CI": ""]
        func fetch(_ output: String) throws -> ProcessResult {
            try BouncerProcess.run(["fetch", "--json", "\(base)/\(deb.filename)", "-o", dir.appendingPathComponent(output).path,
                                    "--policy", dir.appendingPathComponent("policy.json").path], cwd: dir.path, environment: env)
        }

        let fetched = try fetch("ok.deb")
        #expect(fetched.status == 0, "\(fetched.out)\(fetched.err)")
        #expect(fetched.out.contains("which rule 'debian indexes' verified"), "\(fetched.out)")
        #expect(fetched.out.contains("\"origin\""), "an unsigned Packages list proves origin through the signed InRelease: \(fetched.out)")
        #expect(!fetched.out.contains("unsigned list: integrity only"), "\(fetched.out)")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("ok.deb").path))

        // A Packages index that InRelease does not vouch for (one line changed) is refused as evidence.
        var forged = plain
        if let at = forged.firstIndex(of: UInt8(ascii: "\n")) { forged.insert(contentsOf: Array("X-Forged: yes\n".utf8), at: at + 1) }
        try Data(forged).write(to: release.appendingPathComponent(index.entry))
        let refused = try fetch("forged.deb")
        #expect(refused.status == 1, "\(refused.out)\(refused.err)")
        #expect(refused.out.contains("is evidence covered by rule 'debian indexes', which refuses it"), "\(refused.out)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("forged.deb").path))
    }
}
