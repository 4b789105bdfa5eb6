import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerPolicy
import BouncerTestSupport

/// The guard's stages with an in-memory transport: no sockets, no processes.
@Suite final class GuardPipelineTests {
    let dir: String
    let transport: MemoryTransport

    init() throws {
        dir = try BouncerProcess.temporaryDirectory("bouncer-pipeline").path
        transport = MemoryTransport(store: Store(root: dir + "/cache"))
    }

    // One folder per test, removed when the test is done with it.
    deinit { try? FileManager.default.removeItem(atPath: dir) }

    func policy(_ text: String) throws -> Policy {
        try Data(text.utf8).write(to: URL(fileURLWithPath: dir + "/policy.json"))
        return try PolicyParser.load(file: dir + "/policy.json")
    }

    func guardFor(_ policy: Policy) -> PolicyGuard {
        var options = GuardOptions()
        options.stateDirectory = dir + "/state"
        return PolicyGuard(policy: policy, fetcher: transport, options: options)
    }

    func lockKeys() throws -> [String] { try LockStore(path: dir + "/bouncer.lock").read().artifacts.map(\.key).sorted() }

    @Test func decideIsPureAndRefusingProblemsWinInEveryMode() {
        let soft = EvidenceProblem(code: .digestMissing, message: "no digest")
        let hard = EvidenceProblem(code: .lockDigestChanged, message: "changed", refusesInEveryMode: true)
        #expect(Decision.decide([], mode: .enforce, exception: nil, expired: []).verdict == .allowed)
        #expect(Decision.decide([soft], mode: .enforce, exception: nil, expired: []).verdict == .refused)
        #expect(Decision.decide([soft], mode: .audit, exception: nil, expired: []).verdict == .warned)
        #expect(Decision.decide([soft, hard], mode: .audit, exception: nil, expired: []).verdict == .refused)
        // Bad configuration fails closed: refused in audit mode too, exit 2.
        let configuration = EvidenceProblem(code: .evidenceUnavailable, family: .configuration, message: "no such kind")
        let decided = Decision.decide([configuration], mode: .audit, exception: nil, expired: [])
        #expect(decided.verdict == .refused)
        #expect(decided.family == .configuration)
    }

    @Test func evidenceIsFetchedOnceInOneBatchAndTheLockRecordsFacts() throws {
        let a = Array("first\n".utf8), b = Array("second\n".utf8)
        let list = "\(Hasher.digest(a, .sha256).hex)  a.bin\n\(Hasher.digest(b, .sha256).hex)  b.bin\n"
        transport.serve("https://mem.test/r/a.bin", a)
        transport.serve("https://mem.test/r/b.bin", b)
        transport.serve("https://mem.test/r/SHA256SUMS", Array(list.utf8))
        let policy = try policy(#"{"version": 1, "rules": [{"name": "r", "match": {"url": "https://mem.test/r/*"}, "require": [{"checksums": {"url": "{dir}/SHA256SUMS"}}]}]}"#)
        let outcomes = guardFor(policy).evaluate([ArtifactRequest(url: "https://mem.test/r/a.bin"), ArtifactRequest(url: "https://mem.test/r/b.bin")])
        #expect(outcomes.map(\.verdict) == [.allowed, .allowed])
        // Both artifacts first, then the list they share, once.
        #expect(transport.requests == ["https://mem.test/r/a.bin", "https://mem.test/r/b.bin", "https://mem.test/r/SHA256SUMS"])
        let lock = try LockStore(path: dir + "/bouncer.lock").read()
        #expect(lock.artifacts.map(\.evidence.first?.kind) == [.checksums, .checksums])
        #expect(lock.artifacts.map(\.evidence.first?.source) == ["https://mem.test/r/SHA256SUMS", "https://mem.test/r/SHA256SUMS"])
        for outcome in outcomes { if let path = outcome.path { unlink(path) } }
    }

    /// Candidates are inspected and verified on several threads
    /// (`Parallel.update`); each outcome is still its own request's, in
    /// request order, and the list they share is fetched once.
    @Test func aLargeBatchIsVerifiedInParallelAndDecidedInOrder() throws {
        let names = (0..<40).map { "f\($0).bin" }
        var list = ""
        for (index, name) in names.enumerated() {
            let bytes = Array("content \(index)\n".utf8)
            list += "\(Hasher.digest(bytes, .sha256).hex)  \(name)\n"
            // Every third file differs from what the list says.
            transport.serve("https://mem.test/r/\(name)", index % 3 == 0 ? Array("tampered \(index)\n".utf8) : bytes)
        }
        transport.serve("https://mem.test/r/SHA256SUMS", Array(list.utf8))
        let policy = try policy(#"{"version": 1, "rules": [{"name": "r", "match": {"url": "https://mem.test/r/*"}, "require": [{"checksums": {"url": "{dir}/SHA256SUMS"}}]}]}"#)
        let outcomes = guardFor(policy).evaluate(names.map { ArtifactRequest(url: "https://mem.test/r/\($0)") })
        defer { for outcome in outcomes { if let path = outcome.path { unlink(path) } } }
        #expect(outcomes.map(\.request.url) == names.map { "https://mem.test/r/\($0)" })
        #expect(outcomes.map(\.verdict) == names.indices.map { $0 % 3 == 0 ? .refused : .allowed })
        for (index, outcome) in outcomes.enumerated() where index % 3 == 0 {
            #expect(outcome.problems.map(\.code) == ["checksums-mismatch"], "\(names[index]): \(outcome.problems)")
            #expect(outcome.path == nil)
        }
        #expect(transport.requests.filter { $0.hasSuffix("SHA256SUMS") }.count == 1)
        let keys = try lockKeys()
        #expect(keys == names.indices.filter { $0 % 3 != 0 }.map { "url:https://mem.test/r/\(names[$0])" }.sorted(), "\(keys)")
    }

    @Test func anArchiveThatFailsInspectionIsNeverPinned() throws {
        let notAWheel = Array("not a zip".utf8)
        transport.serve("https://mem.test/demo-1.0-py3-none-any.whl", notAWheel)
        let policy = try policy(#"{"version": 1, "mode": "audit", "rules": [{"match": {"ecosystem": "pypi"}, "require": [{"digest": {}}]}]}"#)
        let outcome = guardFor(policy).evaluate([ArtifactRequest(url: "https://mem.test/demo-1.0-py3-none-any.whl", ecosystem: .pypi,
                                                                 package: "demo", version: "1.0", claimedDigests: [Hasher.digest(notAWheel, .sha256)])])[0]
        // Audit mode does not soften it: a broken archive refuses in every mode, and nothing is pinned.
        #expect(outcome.verdict == .refused)
        #expect(outcome.problems.first?.message.contains("the wheel check (RECORD, name and version, archive limits) failed") == true, "\(outcome.problems)")
        #expect(outcome.path == nil)
        #expect(try lockKeys() == [])
    }

    /// A proxy's guards share what inspecting bytes found: the same wheel served
    /// again is not opened again, while other bytes at the same URL (a RECORD
    /// that lies), or the same bytes under other archive limits, are inspected
    /// afresh, and a remembered refusal still refuses.
    @Test func inspectionsAreRememberedByTheBytesAndTheLimits() throws {
        let made = try BouncerProcess.runProgram("/usr/bin/env", ["python3", "-c", PolicyGuardTests.makeArchives + "\n" + #"""
        with zipfile.ZipFile(d + "/demo.whl") as good, zipfile.ZipFile(d + "/lying.whl", "w") as bad:
            for n in good.namelist():
                bad.writestr(n, b"VALUE = 666\n" if n == "demo/__init__.py" else good.read(n))
        """#, dir])
        #expect(made.status == 0, "\(made.err)")
        let good = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/demo.whl")))
        let lying = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/lying.whl")))
        let url = "https://mem.test/demo-1.0-py3-none-any.whl"
        let memo = InspectionMemo()
        func evaluate(_ bytes: [UInt8], _ text: String) throws -> GuardOutcome {
            transport.serve(url, bytes)
            var options = GuardOptions()
            options.stateDirectory = dir + "/state"
            options.recordLock = false
            let outcome = PolicyGuard(policy: try policy(text), fetcher: transport, options: options, inspections: memo)
                .evaluate([ArtifactRequest(url: url, ecosystem: .pypi, package: "demo", version: "1.0",
                                           claimedDigests: [Hasher.digest(bytes, .sha256)])])[0]
            if let path = outcome.path { unlink(path) }
            return outcome
        }
        let plain = #"{"version": 1, "rules": [{"match": {"ecosystem": "pypi"}, "require": [{"digest": {}}]}]}"#
        #expect(try evaluate(good, plain).verdict == .allowed)
        #expect((memo.count, memo.hits) == (1, 0))
        #expect(try evaluate(good, plain).verdict == .allowed)
        #expect((memo.count, memo.hits) == (1, 1))
        // Other bytes at the same URL: opened, and refused for their RECORD.
        let refused = try evaluate(lying, plain)
        #expect(refused.verdict == .refused)
        #expect(refused.problems.first?.message.contains("RECORD") == true, "\(refused.problems)")
        #expect((memo.count, memo.hits) == (2, 1))
        #expect(try evaluate(lying, plain).verdict == .refused)
        #expect((memo.count, memo.hits) == (2, 2))
        // The same good bytes under other archive limits: judged again under those.
        let tight = #"{"version": 1, "archive": {"maxEntries": 2}, "rules": [{"match": {"ecosystem": "pypi"}, "require": [{"digest": {}}]}]}"#
        #expect(try evaluate(good, tight).verdict == .refused)
        #expect((memo.count, memo.hits) == (3, 2))
    }

    @Test func aChangedPinIsRefusedInAuditModeAndUnderAnException() throws {
        transport.serve("https://mem.test/tool.tgz", Array("v1".utf8))
        let text = #"{"version": 1, "mode": "audit", "unmatched": "pin", "rules": [], "exceptions": [{"match": {"url": "https://mem.test/*"}, "until": "2999-01-01", "reason": "testing"}]}"#
        let first = guardFor(try policy(text)).evaluate([ArtifactRequest(url: "https://mem.test/tool.tgz")])[0]
        #expect(first.verdict == .allowed)
        if let path = first.path { unlink(path) }
        transport.serve("https://mem.test/tool.tgz", Array("v2".utf8))
        let second = guardFor(try policy(text)).evaluate([ArtifactRequest(url: "https://mem.test/tool.tgz")])[0]
        #expect(second.verdict == .refused)
        #expect(second.problems.map(\.code) == ["lock-digest-changed"])
        #expect(second.path == nil)
    }

    @Test func aStatedDigestThatDiffersRefusesEvenWithoutADigestRule() throws {
        transport.serve("https://mem.test/x.bin", Array("x".utf8))
        let policy = try policy(#"{"version": 1, "mode": "audit", "unmatched": "allow", "rules": []}"#)
        let outcome = guardFor(policy).evaluate([ArtifactRequest(url: "https://mem.test/x.bin",
                                                                 claimedDigests: [Hasher.digest(Array("y".utf8), .sha256)])])[0]
        #expect(outcome.verdict == .refused)
        #expect(outcome.problems.map(\.code) == ["digest-mismatch"])
    }
}
