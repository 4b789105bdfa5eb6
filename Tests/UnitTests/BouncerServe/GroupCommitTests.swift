import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerPolicy
@testable import BouncerServe
import BouncerTestSupport

/// Prepare writes nothing; commits from many threads at once (the proxy's
/// clients) share lock rewrites and each gets its own outcome.
@Suite struct GroupCommitTests {
    let dir: String
    let transport: MemoryTransport

    init() throws {
        dir = try BouncerProcess.temporaryDirectory("bouncer-group-commit").path
        transport = MemoryTransport(store: Store(root: dir + "/cache"))
    }

    func guardian() throws -> PolicyGuard {
        try Data(#"{"version": 1, "rules": [{"name": "mem", "match": {"url": "https://mem.test/*"}, "require": [{"digest": {}}]}]}"#.utf8)
            .write(to: URL(fileURLWithPath: dir + "/policy.json"))
        var options = GuardOptions()
        options.stateDirectory = dir + "/state"
        return PolicyGuard(policy: try PolicyParser.load(file: dir + "/policy.json"), fetcher: transport, options: options)
    }

    func request(_ index: Int) -> ArtifactRequest {
        let bytes = Array("artifact \(index)\n".utf8)
        transport.serve("https://mem.test/a\(index).bin", bytes)
        return ArtifactRequest(url: "https://mem.test/a\(index).bin", claimedDigests: [Hasher.digest(bytes, .sha256)])
    }

    func temporaryFiles() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: dir + "/cache/tmp")) ?? []
    }

    @Test func preparingWritesNothingAndDiscardingLeavesNothing() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let guardian = try guardian()
        let batch = guardian.prepare([request(1)])
        #expect(batch.allowed)
        #expect(batch.verifiedPath.map { FileManager.default.fileExists(atPath: $0) } == true)
        #expect(!FileManager.default.fileExists(atPath: dir + "/bouncer.lock"), "nothing is pinned before the commit")
        batch.discard()
        #expect(temporaryFiles().isEmpty, "\(temporaryFiles())")
        #expect(!FileManager.default.fileExists(atPath: dir + "/bouncer.lock"))
    }

    @Test func concurrentCommitsArePinnedTogetherAndAnsweredSeparately() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let guardian = try guardian()
        let committer = GroupCommit()
        let count = 24
        let batches = (0..<count).map { guardian.prepare([request($0)]) }
        let results = Locked([[GuardOutcome]](repeating: [], count: count))
        DispatchQueue.concurrentPerform(iterations: count) { index in
            let outcomes = committer.commit(batches[index], with: guardian)
            results.withLock { $0[index] = outcomes }
        }
        for index in 0..<count {
            let outcomes = results.value[index]
            #expect(outcomes.count == 1)
            #expect(outcomes.first?.request.url == "https://mem.test/a\(index).bin")
            #expect(outcomes.first?.verdict == .allowed)
            if let path = outcomes.first?.path {
                #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data("artifact \(index)\n".utf8))
                unlink(path)
            }
        }
        let lock = try LockStore(path: dir + "/bouncer.lock").read()
        #expect(lock.artifacts.count == count)
    }
}
