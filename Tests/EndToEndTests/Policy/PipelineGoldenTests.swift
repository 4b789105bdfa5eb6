import Foundation
import Testing
import BouncerTestSupport

/// The guard's observable behaviour pinned across refactors: one fixed
/// scenario (digest, unsigned checksum list, policy pin, unmatched pin, a
/// trust downgrade, a listed digest that does not match, `check`, a changed
/// pin) whose `--json` reports and final `bouncer.lock` bytes must equal the
/// ones recorded from the binary before the guard became one straight
/// pipeline (Fixtures/pipeline-golden.json). Re-record deliberately, with a
/// reason in the commit, by running this suite with
/// `BOUNCER_RECORD_GOLDEN=1` (and `BOUNCER_BIN` naming the binary to record).
@Suite(.blocking) struct PipelineGoldenTests {
    static let fixture = Corpus.packageRoot.appendingPathComponent("Tests/EndToEndTests/Fixtures/pipeline-golden.json")

    struct Step: Codable, Equatable {
        var name: String
        var status: Int32
        /// Every JSON line the command printed (stdout, then stderr), ports and paths replaced.
        var json: [String]
    }

    struct Golden: Codable, Equatable {
        var steps: [Step]
        var lock: String
    }

    @Test func reportsAndLockAreUnchangedOnAFixedScenario() throws {
        let f = try PolicyFixture("bouncer-golden")
        let files: [String: [UInt8]] = [
            "app-1.0.tgz": Array("version one\n".utf8),
            "app-2.0.tgz": Array("version two\n".utf8),
            "lib-a.bin": Array("a library\n".utf8),
            "lib-evil.bin": Array("not what the list says\n".utf8),
            "fixed.bin": Array("fixed by the policy\n".utf8),
            "other.bin": Array("pinned on first use\n".utf8),
        ]
        for (name, body) in files { f.server.register(name, body) }
        let listed = try PolicyFixture.sha256sum(files["lib-a.bin"] ?? [])
        f.server.register("SHA256SUMS", Array("\(listed)  lib-a.bin\n\(String(repeating: "ab", count: 32))  lib-evil.bin\n".utf8))
        let fixed = try PolicyFixture.sha256sum(files["fixed.bin"] ?? [])
        let base = f.server.baseURL + "/files"
        try f.writePolicy("""
            {"version": 1, "mode": "enforce", "unmatched": "pin", "rules": [
              {"name": "apps", "match": {"url": "\(base)/app-1.0.tgz"}, "require": [{"digest": {}}]},
              {"name": "libs", "match": {"url": "\(base)/lib-*"}, "require": [{"checksums": {"url": "{dir}/SHA256SUMS"}}]},
              {"name": "policy pin", "match": {"url": "\(base)/fixed.bin"}, "require": [{"digest": {"sha256": "\(fixed)"}}]}
            ]}
            """)

        var steps: [Step] = []
        func record(_ name: String, _ result: ProcessResult) {
            let lines = (result.out + "\n" + result.err).split(separator: "\n").map(String.init).filter { $0.hasPrefix("{") }
            steps.append(Step(name: name, status: result.status, json: lines.map { normalised($0, f) }))
        }
        let appSHA = try PolicyFixture.sha256sum(files["app-1.0.tgz"] ?? [])
        record("digest", try f.fetch(f.url("app-1.0.tgz"), output: "app1", ["--json", "--sha256", appSHA]))
        record("trust downgrade", try f.fetch(f.url("app-2.0.tgz"), output: "app2", ["--json"]))
        record("checksums", try f.fetch(f.url("lib-a.bin"), output: "lib", ["--json"]))
        record("listed digest differs", try f.fetch(f.url("lib-evil.bin"), output: "evil", ["--json"]))
        record("policy pin", try f.fetch(f.url("fixed.bin"), output: "fixed", ["--json"]))
        record("pin on first use", try f.fetch(f.url("other.bin"), output: "other", ["--json"]))
        record("check", try f.bouncer(["check", "--json", "--policy", f.path("policy.json")]))
        f.server.register("other.bin", Array("changed upstream\n".utf8))
        record("pin changed", try f.fetch(f.url("other.bin"), output: "other2", ["--json"]))
        let golden = Golden(steps: steps, lock: normalised(String(decoding: f.lockBytes ?? [], as: UTF8.self), f))

        if ProcessInfo.processInfo.environment["BOUNCER_RECORD_GOLDEN"] == "1" {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(golden).write(to: Self.fixture)
            return
        }
        let recorded = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: Self.fixture))
        #expect(recorded.steps.map(\.name) == golden.steps.map(\.name))
        for (old, new) in zip(recorded.steps, golden.steps) {
            #expect(old.status == new.status, "\(new.name): exit \(new.status), recorded \(old.status)")
            #expect(old.json == new.json, "\(new.name): --json differs:\n\(new.json.joined(separator: "\n"))\nrecorded:\n\(old.json.joined(separator: "\n"))")
        }
        #expect(recorded.lock == golden.lock, "bouncer.lock differs:\n\(golden.lock)\nrecorded:\n\(recorded.lock)")
        // The scenario exercises what it claims: passes, refusals and a lock with the five pinned artifacts.
        #expect(golden.steps.map(\.status) == [0, 1, 0, 1, 0, 0, 0, 1])
        #expect(golden.lock.components(separatedBy: "\"key\":").count - 1 == 4)
    }

    /// Ports and temporary directories differ per run.
    func normalised(_ text: String, _ f: PolicyFixture) -> String {
        text.replacingOccurrences(of: f.server.baseURL, with: "http://127.0.0.1:PORT")
            .replacingOccurrences(of: f.dir.path, with: "DIR")
    }
}
