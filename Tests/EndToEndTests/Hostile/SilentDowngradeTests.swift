import Foundation
import Testing
import BouncerTestSupport

/// Silent downgrades: a stated requirement hash that a lenient rule would let
/// slide, a lock entry whose URL changed while its digest did not, and any
/// lock change under `--frozen` or CI=true — each fails hard.
@Suite(.blocking) struct SilentDowngradeTests {
    let server: MisbehavingServer
    let project: HostileProject
    let body: [UInt8]
    let sha: String

    init() throws {
        server = try MisbehavingServer()
        project = try HostileProject("downgrade")
        body = try HostileProject.random(20_000)
        sha = try HostileProject.sha256(body)
        for path in ["/a/tool.tar.gz", "/mirror/tool.tar.gz", "/a/other.tar.gz"] { server.route(path, [.init(body: body)]) }
    }

    func fetch(_ path: String, _ extra: [String] = [], environment: [String: String] = [:]) throws -> ProcessResult {
        try project.bouncer(["fetch", "--quiet", server.url(path), "-o", project.path("out.bin")] + extra, environment: environment)
    }

    @Test func aStatedRequirementHashIsNeverIgnored() throws {
        let wrong = String(repeating: "ab", count: 32)
        for unmatched in ["allow", "pin"] {
            try project.writePolicy(#"{"version": 1, "unmatched": "\#(unmatched)", "rules": []}"#)
            let result = try fetch("/a/tool.tar.gz", ["--sha256", wrong])
            #expect(result.status == 1, "unmatched \(unmatched): \(result.err)")
            #expect(!project.exists("out.bin"))
        }
        // A rule whose own pin matches does not make the caller's (wrong) hash optional.
        try project.pinnedPolicy(sha)
        let pinned = try fetch("/a/tool.tar.gz", ["--sha256", wrong])
        #expect(pinned.status == 1, "\(pinned.err)")
        #expect(!project.exists("out.bin"))
        #expect(!project.lockText.contains(sha))
        // Control: the right hash passes.
        #expect(try fetch("/a/tool.tar.gz", ["--sha256", sha]).status == 0)
    }

    @Test(arguments: [["--frozen"], []])
    func aNewURLForLockedBytesIsALockChangeThatFrozenRefuses(flags: [String]) throws {
        try project.writePolicy(#"{"version": 1, "unmatched": "pin", "rules": []}"#)
        #expect(try fetch("/a/tool.tar.gz", environment: ["CI": ""]).status == 0)
        try FileManager.default.removeItem(atPath: project.path("out.bin"))
        let locked = project.lockText
        // Same digest, another URL: the lock would gain an entry. Frozen (by flag, or CI=true) must refuse.
        let environment = flags.isEmpty ? ["CI": "true"] : ["CI": ""]
        let moved = try fetch("/mirror/tool.tar.gz", flags, environment: environment)
        #expect(moved.status == 1, "\(flags) CI=\(environment["CI"] ?? ""): \(moved.err)")
        #expect(moved.err.contains("frozen"), "\(moved.err)")
        #expect(project.lockText == locked)
        #expect(!project.exists("out.bin"))
    }

    @Test func aLockEntryEditedToAnotherURLIsNotSilentlyTrusted() throws {
        try project.writePolicy(#"{"version": 1, "unmatched": "pin", "rules": []}"#)
        #expect(try fetch("/a/tool.tar.gz").status == 0)
        // The lock is edited so the pinned entry now points at a mirror (same digest).
        let edited = project.lockText.replacingOccurrences(of: server.url("/a/tool.tar.gz"), with: server.url("/mirror/tool.tar.gz"))
        #expect(edited != project.lockText)
        try project.write("bouncer.lock", edited)
        let check = try project.bouncer(["check", "--frozen"])
        // The verified bytes are still in the store under that digest, so check may pass from the store;
        // what the edit must not do is let the mirror serve other bytes.
        #expect(check.status == 0 || check.status == 1, "\(check.err)")
        server.route("/mirror/tool.tar.gz", [.init(body: try HostileProject.random(20_000))])
        let moved = try project.bouncer(["fetch", "--quiet", server.url("/mirror/tool.tar.gz"), "-o", project.path("m.bin")])
        #expect(moved.status == 1, "\(moved.err)")
        #expect(moved.err.contains("refused in every mode"), "\(moved.err)")
        #expect(!project.exists("m.bin"))
        #expect(project.lockText == edited, "a frozen check wrote the lock")
    }
}

/// A missing shim in CI: a tool reached without a shim in front, or a shim
/// that finds no policy, must fail hard rather than run unguarded.
@Suite(.blocking) struct MissingShimTests {
    let project: HostileProject

    init() throws { project = try HostileProject("missing-shim") }

    /// PATH with `shims` first, then the recording stand-ins for the real tools.
    func path(_ shims: String) -> String {
        [shims, project.dir.appendingPathComponent("realbin").path, "/usr/bin", "/bin"].joined(separator: ":")
    }

    @Test func shimsCheckFailsWhenAShimIsMissingFromTheShimDirectory() throws {
        let shims = project.dir.appendingPathComponent("myshims").path
        let installed = try project.bouncer(["shims", "install", shims])
        #expect(installed.status == 0, "\(installed.err)")
        let complete = try project.bouncer(["shims", "check"], environment: ["PATH": path(shims)])
        #expect(complete.status == 0, "\(complete.out)\(complete.err)")
        #expect(complete.out.contains("pip: guarded by \(shims)/pip (real pip: \(project.dir.path)/realbin/pip)"), "\(complete.out)")

        // The pip shim goes missing: a bare `pip` now reaches the real pip.
        try FileManager.default.removeItem(atPath: shims + "/pip")
        let missing = try project.bouncer(["shims", "check"], environment: ["PATH": path(shims)])
        #expect(missing.status == 1, "\(missing.out)\(missing.err)")
        #expect(missing.out.contains("pip: UNGUARDED: \(project.dir.path)/realbin/pip is first on PATH"), "\(missing.out)")
        #expect(missing.err.contains("pip would run unguarded"), "\(missing.err)")
        let json = try project.bouncer(["shims", "check", "--json", "pip", "curl"], environment: ["PATH": path(shims)])
        #expect(json.status == 1)
        let object = try JSONSerialization.jsonObject(with: json.stdout) as? [String: Any]
        #expect(object?["verdict"] as? String == "fail", "\(json.out)")
        #expect((object?["tools"] as? [[String: String]])?.map { $0["status"] ?? "" } == ["unguarded", "guarded"], "\(json.out)")
        // Paths as written, not "\/"-escaped (shimsCheckJSONKeepsSlashes).
        #expect(!json.out.contains("\\/") && json.out.contains("\"\(shims)/curl\""), "\(json.out)")

        // The real tool ahead of the shims on PATH is the same downgrade.
        let reordered = [project.dir.appendingPathComponent("realbin").path, shims, "/usr/bin", "/bin"].joined(separator: ":")
        let behind = try project.bouncer(["shims", "check", "curl"], environment: ["PATH": reordered])
        #expect(behind.status == 1, "\(behind.out)")
        let unknown = try project.bouncer(["shims", "check", "gcc"])
        #expect(unknown.status == 2, "\(unknown.err)")
    }

    @Test func aShimWithoutAPolicyRefusesInCIAndPassesThroughOtherwise() throws {
        let shims = Corpus.packageRoot.appendingPathComponent("shims").path
        let installed = project.dir.appendingPathComponent("installed").path
        #expect(try project.bouncer(["shims", "install", installed]).status == 0)
        for dir in [shims, installed] {
            for tool in ["curl", "pip"] {
                let before = project.realToolRuns
                let ci = try project.sh("\(tool) --version", environment: ["PATH": path(dir), "CI": "true"])
                #expect(ci.status == 2, "\(dir)/\(tool) under CI=true: \(ci.err)")
                #expect(ci.err.contains("CI=true and no policy.json"), "\(ci.err)")
                #expect(project.realToolRuns == before, "the real \(tool) ran unguarded in CI")
                // The same through Bouncer's own dispatch (a shim that is a symlink to bouncer, or `bouncer --as`).
                let dispatched = try project.bouncer(["--as", tool, "--shim", "\(dir)/\(tool)", "--version"],
                                                     environment: ["PATH": path(dir), "CI": "true"])
                #expect(dispatched.status == 2, "\(dispatched.err)")
                #expect(dispatched.err.contains("CI=true and no policy.json"), "\(dispatched.err)")
                #expect(project.realToolRuns == before, "the real \(tool) ran unguarded in CI")

                let allowed = try project.sh("\(tool) --version", environment: ["PATH": path(dir), "CI": "true", "BOUNCER_ALLOW_UNGUARDED": "1"])
                #expect(allowed.status == 0, "\(allowed.err)")
                let developer = try project.sh("\(tool) --version", environment: ["PATH": path(dir), "CI": ""])
                #expect(developer.status == 0, "\(developer.err)")
                #expect(developer.err.contains("runs unguarded"), "\(developer.err)")
            }
        }
        #expect(project.realToolRuns.components(separatedBy: "--version").count - 1 == 8, "\(project.realToolRuns)")
    }
}
