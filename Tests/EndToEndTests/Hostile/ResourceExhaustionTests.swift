import Foundation
import Testing
import BouncerTestSupport

/// Resource exhaustion: an endless body, a bundle with 10,000 log entries,
/// 10,000-level nested JSON (policy, bundle, lock, attestation), a zip bomb.
/// Each must end with a clear error and the documented exit code; nothing is
/// timed — `timeout` (inside HostileProject) only guards against a hang.
@Suite(.blocking) struct ResourceExhaustionTests {
    static let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)

    func expectClearFailure(_ result: ProcessResult, _ codes: Set<Int32>, _ label: String) {
        #expect(codes.contains(result.status), "\(label): exit \(result.status) \(result.out.prefix(300)) \(result.err.prefix(300))")
        #expect(!(result.out + result.err).trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(label): no message")
        #expect(!(result.out + result.err).contains("Fatal error"), "\(label): trapped")
    }

    @Test func endlessBodyIsCutAtTheRulesMaxSize() throws {
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        let project = try HostileProject("endless")
        try project.pinnedPolicy(String(repeating: "0", count: 64), extra: #", "maxSize": "2M""#)
        let result = try project.bouncer(["fetch", "--quiet", server.url("/endless"), "-o", project.path("out.bin")])
        expectClearFailure(result, [1], "endless body")
        #expect(result.err.contains("limit"), "\(result.err)")
        #expect(!project.exists("out.bin"))
        #expect(project.leftovers().isEmpty, "\(project.leftovers())")
        // The same through the curl shim: the real curl never runs.
        let shim = try project.sh("curl -fsSL -o out.bin '\(server.url("/endless"))'")
        #expect(shim.status != 0)
        #expect(!project.exists("out.bin"))
        #expect(project.realToolRuns.isEmpty)
    }

    @Test func deeplyNestedPolicyLockAndBundleAreRefusedNotACrash() throws {
        let project = try HostileProject("deep")
        // policy.json
        try project.writePolicy(#"{"version": 1, "unmatched": "pin", "rules": \#(Self.deep)}"#)
        let policy = try project.bouncer(["explain", "http://127.0.0.1:1/x"])
        expectClearFailure(policy, [2], "nested policy")
        #expect(policy.err.contains("policy.json"), "\(policy.err)")
        // bouncer.lock
        try project.writePolicy(#"{"version": 1, "unmatched": "pin", "rules": []}"#)
        try project.write("bouncer.lock", #"{"version": 1, "artifacts": \#(Self.deep)}"#)
        let lock = try project.bouncer(["check"])
        expectClearFailure(lock, [2], "nested lock")
        #expect(lock.err.contains("bouncer.lock"), "\(lock.err)")
        // A Sigstore bundle and an attestation.
        try project.write("artifact", "bytes")
        try project.write("deep.json", #"{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMaterial": \#(Self.deep)}"#)
        let r = try BouncerProcess.runProgram("/usr/bin/openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "k.pem"], cwd: project.project.path)
        #expect(r.status == 0)
        _ = try BouncerProcess.runProgram("/usr/bin/openssl", ["ec", "-in", "k.pem", "-pubout", "-out", "pub.pem"], cwd: project.project.path)
        let bundle = try project.bouncer(["verify-bundle", "--bundle", project.path("deep.json"), "--key", project.path("pub.pem"), project.path("artifact")])
        expectClearFailure(bundle, [1, 2], "nested bundle")
        let attestation = try project.bouncer(["verify-attestation", "--bundle", project.path("deep.json"), "--key", project.path("pub.pem"), project.path("artifact")])
        expectClearFailure(attestation, [1, 2], "nested attestation")
        try project.write("deep-payload.json", #"{"payloadType": "application/vnd.in-toto+json", "payload": "\#(Data(Self.deep.utf8).base64EncodedString())", "signatures": []}"#)
        let payload = try project.bouncer(["verify-attestation", "--bundle", project.path("deep-payload.json"), "--key", project.path("pub.pem"), project.path("artifact")])
        expectClearFailure(payload, [1], "nested payload")
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func bundleWithTenThousandLogEntriesIsRefused() throws {
        guard let root = Corpus.rootOrNotice("ResourceExhaustionTests.bundleWithTenThousandLogEntriesIsRefused") else { return }
        let dir = root.appendingPathComponent("sigstore-bundle/conformance__happy-path-v0.3")
        var bundle = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("bundle.sigstore.json"))) as? [String: Any] ?? [:]
        var material = bundle["verificationMaterial"] as? [String: Any] ?? [:]
        let entries = material["tlogEntries"] as? [Any] ?? []
        #expect(entries.count == 1)
        material["tlogEntries"] = Array(repeating: entries.first ?? [:], count: 10_000)
        bundle["verificationMaterial"] = material
        let project = try HostileProject("tlog10k")
        try project.write("many.json", [UInt8](try JSONSerialization.data(withJSONObject: bundle)))
        let base = ["verify-bundle", "--trusted-root", dir.appendingPathComponent("trusted_root.json").path,
                    "--certificate-identity", "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main",
                    "--certificate-oidc-issuer", "https://token.actions.githubusercontent.com"]
        // Control: the genuine bundle verifies with these arguments.
        let control = try project.bouncer(base + ["--bundle", dir.appendingPathComponent("bundle.sigstore.json").path, dir.appendingPathComponent("artifact").path])
        #expect(control.status == 0, "\(control.err)")
        // 10,000 copies of the real entry pass the 16 MiB input bound: refused by size before parsing.
        let result = try project.bouncer(base + ["--bundle", project.path("many.json"), dir.appendingPathComponent("artifact").path])
        expectClearFailure(result, [1, 2], "10,000 real log entries")
        // 10,000 small entries (the real one without its proof and promise) fit: refused by the parser's bound.
        var small = (entries.first as? [String: Any]) ?? [:]
        small["inclusionProof"] = nil
        small["inclusionPromise"] = nil
        small["canonicalizedBody"] = "e30="
        material["tlogEntries"] = Array(repeating: small, count: 10_000)
        bundle["verificationMaterial"] = material
        try project.write("many-small.json", [UInt8](try JSONSerialization.data(withJSONObject: bundle)))
        let smallResult = try project.bouncer(base + ["--bundle", project.path("many-small.json"), dir.appendingPathComponent("artifact").path])
        expectClearFailure(smallResult, [1], "10,000 small log entries")
        #expect(smallResult.err.contains("tlogEntries"), "\(smallResult.err.prefix(400))")
    }

    @Test func zipBombIsStoppedWithNothingLeft() throws {
        let project = try HostileProject("zipbomb")
        // 1 GiB of zeros in one deflated entry (about 1 MiB), written by Python's zipfile.
        let script = """
            import zipfile, sys
            with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
                with z.open("payload.bin", "w", force_zip64=True) as f:
                    block = bytes(1 << 20)
                    for _ in range(1024): f.write(block)
            """
        let made = try BouncerProcess.runProgram("/usr/bin/python3", ["-c", script, project.path("bomb.zip")])
        #expect(made.status == 0, "\(made.err)")
        let unpack = try project.bouncer(["unpack", project.path("bomb.zip"), "-C", project.path("out")])
        expectClearFailure(unpack, [1], "zip bomb")
        #expect(unpack.err.contains("ratio") || unpack.err.contains("limit"), "\(unpack.err)")
        #expect(!project.exists("out"))
        #expect(project.projectFiles() == ["bomb.zip"], "\(project.projectFiles())")
        let inspect = try project.bouncer(["inspect", project.path("bomb.zip")])
        #expect(inspect.status != 0 || inspect.out.contains("ratio"), "inspect: \(inspect.out.prefix(300)) \(inspect.err.prefix(300))")
    }
}
