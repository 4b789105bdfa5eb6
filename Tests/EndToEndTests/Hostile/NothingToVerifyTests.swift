import Foundation
import Testing
import BouncerTestSupport

/// "Nothing to verify" must never be success (gh attestation CVE-2025-25204,
/// go-witness GHSA-72c7-4g63-hpw5). A policy requiring provenance or a
/// Sigstore signature, whose attestation URL serves zero attestations, an
/// empty file, a wrong predicate type or an unparsable payload, refuses the
/// artifact in enforce mode and the real tool never runs; audit mode lets it
/// through but says loudly that the evidence was missing, never that it passed.
/// The `verify-attestation` command is held to the same with validly signed
/// envelopes whose content says nothing (signed here with the real openssl).
@Suite(.blocking) struct NothingToVerifyTests {
    static let emptyAttestations: [(String, String)] = [
        ("empty file", ""),
        ("zero attestations", #"{"attestations": []}"#),
        ("empty JSON lines", "\n\n"),
        ("wrong predicate type", #"{"payloadType": "application/vnd.in-toto+json", "payload": "eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEiLCJwcmVkaWNhdGVUeXBlIjoiaHR0cHM6Ly9zcGR4LmRldi9Eb2N1bWVudCJ9", "signatures": []}"#),
        ("unparsable payload", #"{"payloadType": "application/vnd.in-toto+json", "payload": "bm90IGpzb24=", "signatures": []}"#),
    ]

    static func policy(mode: String, requirement: String) -> String {
        #"""
        {"version": 1, "mode": "\#(mode)", "unmatched": "deny",
         "rules": [{"name": "releases", "match": {"host": "127.0.0.1"}, "require": [\#(requirement)]}]}
        """#
    }

    static let requirements = [
        #"{"provenance": {"attestation": "{url}.intoto.jsonl", "identity": "https://github.com/org/app/.github/workflows/release.yml@refs/tags/v1", "issuer": "https://token.actions.githubusercontent.com", "predicateType": "https://slsa.dev/provenance/v1"}}"#,
        #"{"sigstore": {"bundle": "{url}.sigstore.json", "identity": "https://github.com/org/app/.github/workflows/release.yml@refs/tags/v1", "issuer": "https://token.actions.githubusercontent.com"}}"#,
    ]

    @Test(arguments: ["enforce", "audit"])
    func policyRequiringProvenanceRefusesAndTheRealToolNeverRuns(mode: String) throws {
        let server = try MisbehavingServer()
        let body = try HostileProject.random(10_000)
        server.route("/files/app.tar.gz", [.init(body: body)])
        for requirement in Self.requirements {
            for (label, attestation) in Self.emptyAttestations {
                let project = try HostileProject("nothing")
                try project.writePolicy(Self.policy(mode: mode, requirement: requirement))
                server.route("/files/app.tar.gz.intoto.jsonl", [.init(body: Array(attestation.utf8))])
                server.route("/files/app.tar.gz.sigstore.json", [.init(body: Array(attestation.utf8))])
                let url = server.url("/files/app.tar.gz")
                let fetched = try project.bouncer(["fetch", "--quiet", url, "-o", project.path("out.bin")])
                if mode == "audit" {
                    #expect(fetched.status == 0, "audit \(label): \(fetched.err)")
                    #expect(fetched.err.contains("AUDIT MODE") && fetched.err.contains("WARNING: not proven"),
                            "audit \(label): no loud warning: \(fetched.err)")
                    #expect(!fetched.err.contains("OK:"), "audit \(label): reported as verified: \(fetched.err)")
                    continue
                }
                #expect(fetched.status != 0, "\(mode) \(label): fetch passed: \(fetched.err)")
                #expect(!project.exists("out.bin"), "\(mode) \(label)")
                let curl = try project.sh("curl -fsSLO '\(url)'")
                let wget = try project.sh("wget -q -O w.tar.gz '\(url)'")
                #expect(curl.status != 0 && wget.status != 0, "\(mode) \(label): a shim passed: \(curl.err) \(wget.err)")
                #expect(project.projectFiles().isEmpty, "\(mode) \(label): \(project.projectFiles())")
                #expect(project.realToolRuns.isEmpty, "\(mode) \(label): the real tool ran: \(project.realToolRuns)")
                #expect(!project.lockText.contains("app.tar.gz"), "\(mode) \(label): locked")
            }
        }
    }

    /// Validly signed envelopes (a key given with --key) that prove nothing about the artifact.
    @Test func signedEnvelopesThatSayNothingAreRefused() throws {
        let project = try HostileProject("nothing-signed")
        let dir = project.project.path
        func openssl(_ args: [String]) throws {
            let r = try BouncerProcess.runProgram("/usr/bin/openssl", args, cwd: dir)
            #expect(r.status == 0, "openssl \(args): \(r.err)")
        }
        try openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "key.pem"])
        try openssl(["ec", "-in", "key.pem", "-pubout", "-out", "pub.pem"])
        let artifact = Array("release bytes\n".utf8)
        try project.write("artifact.tar.gz", artifact)
        let sha = try HostileProject.sha256(artifact)
        let type = "application/vnd.in-toto+json"
        func envelope(_ name: String, _ payload: [UInt8]) throws {
            let pae = Array("DSSEv1 \(type.utf8.count) \(type) \(payload.count) ".utf8) + payload
            try project.write(name + ".pae", pae)
            try openssl(["dgst", "-sha256", "-sign", "key.pem", "-out", name + ".sig", name + ".pae"])
            let sig = try Data(contentsOf: URL(fileURLWithPath: project.path(name + ".sig")))
            let object: [String: Any] = ["payload": Data(payload).base64EncodedString(), "payloadType": type,
                                         "signatures": [["keyid": "", "sig": sig.base64EncodedString()]]]
            try project.write(name, [UInt8](try JSONSerialization.data(withJSONObject: object)))
        }
        // A complete SLSA v1 statement (VerifyAttestationCommandTests') with its subjects or predicate type replaced.
        func statement(subjects: [[String: Any]], predicateType: String = "https://slsa.dev/provenance/v1") throws -> [UInt8] {
            var object = try JSONSerialization.jsonObject(with: Data(VerifyAttestationCommandTests.statement(sha))) as? [String: Any] ?? [:]
            object["subject"] = subjects
            object["predicateType"] = predicateType
            return [UInt8](try JSONSerialization.data(withJSONObject: object))
        }
        let good = [["name": "artifact.tar.gz", "digest": ["sha256": sha]]]
        try envelope("control.json", try statement(subjects: good))
        try envelope("no-subjects.json", try statement(subjects: []))
        try envelope("other-subject.json", try statement(subjects: [["name": "artifact.tar.gz", "digest": ["sha256": String(repeating: "0", count: 64)]]]))
        try envelope("unparsable.json", Array("{\"_type\": \"https://in-toto.io/Statement/v1\", \"subject\": [".utf8))
        try envelope("not-a-statement.json", Array("[]".utf8))
        try envelope("wrong-type.json", try statement(subjects: good, predicateType: "https://spdx.dev/Document"))

        func verify(_ bundle: String, _ extra: [String] = ["--predicate-type", "https://slsa.dev/provenance/v1"]) throws -> ProcessResult {
            try project.bouncer(["verify-attestation", "--bundle", project.path(bundle), "--key", project.path("pub.pem"), "--json"] + extra + [project.path("artifact.tar.gz")])
        }
        let control = try verify("control.json")
        #expect(control.status == 0, "the control envelope must verify: \(control.out) \(control.err)")
        for name in ["no-subjects.json", "other-subject.json", "unparsable.json", "not-a-statement.json", "wrong-type.json"] {
            let result = try verify(name)
            #expect(result.status == 1, "\(name): exit \(result.status) \(result.out) \(result.err)")
            #expect(result.out.contains("\"fail\""), "\(name): \(result.out)")
        }
    }
}

/// The pip and npm shims under a policy whose pypi / npm rule requires
/// provenance that is not there: the real tool runs once, against the shim's
/// proxy, which refuses the artifact (HTTP 403): nothing installs, and the
/// shim names the missing provenance.
@Suite(.blocking) struct NothingToVerifyPackageShimTests {
    static let provenance = #"{"provenance": {"attestation": "{url}.provenance", "identity": "https://github.com/org/app/.github/workflows/release.yml@refs/tags/v1", "issuer": "https://token.actions.githubusercontent.com"}}"#

    @Test func npmCiInstallsNothing() throws {
        let server = try MisbehavingServer()
        let harness = try ShimHarness("nothing-npm")
        defer { harness.cleanup() }
        // A real package, so the inspection passes and the empty provenance file is what refuses.
        let packed = harness.root.appendingPathComponent("lib-1.0.0.tgz")
        _ = try NpmTarball.pack(manifest: ["name": "lib", "version": "1.0.0"], files: ["index.js": "module.exports = 1\n"], to: packed)
        let tarball = [UInt8](try Data(contentsOf: packed))
        let sha512 = try BouncerProcess.runProgram("/bin/sh", ["-c", "openssl dgst -sha512 -binary | base64 -w0"], stdin: Data(tarball)).out
        let packument = #"{"name": "lib", "dist-tags": {"latest": "1.0.0"}, "versions": {"1.0.0": {"name": "lib", "version": "1.0.0", "dist": {"tarball": "\#(server.url("/lib/-/lib-1.0.0.tgz"))", "integrity": "sha512-\#(sha512)"}}}}"#
        server.route("/lib", [.init(headers: ["Content-Type: application/json"], body: Array(packument.utf8))])
        server.route("/lib/-/lib-1.0.0.tgz", [.init(body: tarball)])
        server.route("/lib/-/lib-1.0.0.tgz.provenance", [.init(body: [])])
        try #"{"name": "proj", "version": "1.0.0", "dependencies": {"lib": "1.0.0"}}"#.write(to: harness.file("package.json"), atomically: true, encoding: .utf8)
        try #"""
        {"name": "proj", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
         "packages": {"": {"name": "proj", "version": "1.0.0", "dependencies": {"lib": "1.0.0"}},
                      "node_modules/lib": {"version": "1.0.0", "resolved": "\#(server.url("/lib/-/lib-1.0.0.tgz"))", "integrity": "sha512-\#(sha512)"}}}
        """#.write(to: harness.file("package-lock.json"), atomically: true, encoding: .utf8)
        try #"{"version": 1, "unmatched": "deny", "rules": [{"match": {"ecosystem": "npm"}, "require": [{"integrity": {}}, \#(Self.provenance)]}]}"#
            .write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        let result = try harness.sh("npm ci")
        #expect(result.status == 1, "\(result.err)")
        #expect(result.err.contains("refused lib@1.0.0") && result.err.contains("provenance"), "refused for the policy's provenance requirement: \(result.err)")
        #expect(!result.err.contains("archive"), "the package itself is sound: \(result.err)")
        #expect(!harness.exists("node_modules/lib"))
    }

    @Test func pipInstallsNothing() throws {
        let server = try MisbehavingServer()
        var harness = try ShimHarness("nothing-pip")
        defer { harness.cleanup() }
        let venv = harness.root.appendingPathComponent("venv")
        _ = try ServeFixtures.venv(venv)
        harness.extraPath = [venv.appendingPathComponent("bin").path]
        // A real wheel, so the inspection passes and the missing provenance is what refuses.
        let file = try ThreatFixtures.wheel("six", "1.16.0", marker: "six", into: harness.root)
        let wheel = [UInt8](try Data(contentsOf: harness.root.appendingPathComponent(file)))
        let sha = try HostileProject.sha256(wheel)
        server.route("/simple/six/", [.init(headers: ["Content-Type: text/html"], body: Array("<a href=\"../../packages/\(file)#sha256=\(sha)\">\(file)</a>".utf8))])
        server.route("/packages/\(file)", [.init(body: wheel)])
        try "six==1.16.0 --hash=sha256:\(sha)\n".write(to: harness.file("requirements.txt"), atomically: true, encoding: .utf8)
        try #"{"version": 1, "unmatched": "deny", "rules": [{"match": {"ecosystem": "pypi"}, "require": [{"digest": {}}, \#(Self.provenance)]}]}"#
            .write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        let result = try harness.sh("env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null pip install --index-url \(server.url("/simple/")) -r requirements.txt")
        #expect(result.status == 1, "\(result.err)")
        #expect(result.err.contains("refused six 1.16.0") && result.err.contains("provenance"), "refused for the policy's provenance requirement: \(result.err)")
        #expect(!result.err.contains("archive"), "the wheel itself is sound: \(result.err)")
        let listed = try BouncerProcess.runProgram(venv.appendingPathComponent("bin/pip").path, ["list", "--format=freeze", "--disable-pip-version-check"])
        #expect(!listed.out.contains("six=="), "\(listed.out)")
    }
}
