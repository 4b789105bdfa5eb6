import Foundation
import Testing
import BouncerTestSupport

/// Silent downgrades: a stated requirement hash that a lenient rule would let
/// slide, a lock entry whose URL changed while its digest did not, and any
/// lock change under `--frozen` or CI=true — each fails hard.
@Suite struct SilentDowngradeTests {
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
