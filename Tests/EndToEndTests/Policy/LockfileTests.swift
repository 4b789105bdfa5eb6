import Foundation
import Testing
import BouncerTestSupport

/// bouncer.lock: deterministic bytes, and safe under concurrent writers.
@Suite(.blocking) struct LockfileTests {
    static let pinPolicy = #"{"version": 1, "unmatched": "pin", "rules": []}"#

    /// Sixteen `bouncer fetch` processes, all started before any is waited for;
    /// the server holds every reply until all sixteen requests are in, so the
    /// sixteen read-modify-writes of the lock happen at the same moment.
    @Test func sixteenConcurrentFetchesKeepEveryEntry() throws {
        let f = try PolicyFixture("bouncer-lock-race")
        try f.writePolicy(Self.pinPolicy)
        var digests: [String: String] = [:]
        for index in 0..<16 {
            let body = try PolicyFixture.randomBytes(20_000 + index)
            f.server.register("part\(index).bin", body)
            digests[f.url("part\(index).bin")] = try PolicyFixture.sha256sum(body)
        }
        // The fallback only keeps a broken run from hanging; the stall timeout outlasts it.
        f.server.holdReplies(until: 16, fallback: 120)
        let running = try (0..<16).map { index in
            try BouncerProcess.start(["fetch", "--quiet", f.url("part\(index).bin"), "-o", f.path("part\(index).bin"),
                                      "--policy", f.path("policy.json"), "--stall-timeout", "300", "--retries", "0"],
                                     cwd: f.dir.path, environment: f.environment)
        }
        let results = try running.map { try $0.wait() }
        for (index, result) in results.enumerated() { #expect(result.status == 0, "fetch \(index): \(result.err)") }
        #expect(f.server.barrierOutcome == .releasedTogether, "the sixteen requests were not all in flight at once")

        // Valid JSON (parsed by Foundation), every entry present with its own digest.
        let entries = try f.lockEntries()
        #expect(entries.count == 16)
        var seen: [String: String] = [:]
        for entry in entries {
            if let url = entry["url"] as? String, let sha = entry["sha256"] as? String { seen[url] = sha }
        }
        #expect(seen == digests)
        for index in 0..<16 {
            #expect(try PolicyFixture.sha256sum([UInt8](Data(contentsOf: URL(fileURLWithPath: f.path("part\(index).bin")))))
                    == digests[f.url("part\(index).bin")])
        }
        #expect(f.leftoverTemporaryFiles().isEmpty, "\(f.leftoverTemporaryFiles())")
        let names = try FileManager.default.contentsOfDirectory(atPath: f.dir.path).filter { $0.contains("bouncer.lock") }.sorted()
        #expect(names == [".bouncer.lock.flock", "bouncer.lock"])
    }

    @Test func sameInputsGiveAByteIdenticalLock() throws {
        let f = try PolicyFixture("bouncer-lock-det")
        let other = try BouncerProcess.temporaryDirectory("bouncer-lock-det2")
        defer { try? FileManager.default.removeItem(at: other) }
        try f.writePolicy(Self.pinPolicy)
        try Data(Self.pinPolicy.utf8).write(to: other.appendingPathComponent("policy.json"))
        let names = ["c.bin", "a.bin", "b.bin", "z.tgz"]
        for name in names { f.server.register(name, try PolicyFixture.randomBytes(1000)) }

        // Different order, separate runs, separate stores: same file.
        for name in names {
            #expect(try f.fetch(f.url(name), output: name).status == 0)
        }
        let reversed = try BouncerProcess.run(["fetch", "--quiet", "--output-dir", other.path, "--policy",
                                               other.appendingPathComponent("policy.json").path] + names.reversed().map { f.url($0) },
                                              cwd: other.path, environment: ["BOUNCER_CACHE": other.appendingPathComponent("cache").path, "CI": ""])
        #expect(reversed.status == 0, "\(reversed.err)")
        let first = try #require(f.lockBytes)
        let second = [UInt8](try Data(contentsOf: other.appendingPathComponent("bouncer.lock")))
        #expect(first == second)

        // Sorted by key, pretty-printed with sorted keys, final newline.
        let text = String(decoding: first, as: UTF8.self)
        #expect(text.hasSuffix("}\n"))
        #expect(text.contains("\n  \"artifacts\": [\n"))
        let urls = try f.lockEntries().compactMap { $0["url"] as? String }
        #expect(urls == urls.sorted())
        #expect(urls.count == 4)

        // Fetching again changes nothing.
        #expect(try f.fetch(f.url("a.bin"), output: "a2.bin").status == 0)
        #expect(f.lockBytes == first)
    }
}

@Suite(.blocking) struct LockfileHostileTests {
    @Test func aCorruptLockIsAConfigurationErrorAndIsLeftAlone() throws {
        let f = try PolicyFixture("bouncer-lock-bad")
        f.server.register("a.bin", Array("a".utf8))
        try f.writePolicy(#"{"version": 1, "unmatched": "pin", "rules": []}"#)
        for garbage in ["{\"version\": 1, \"artifacts\": [", "{\"version\": 2, \"artifacts\": []}", "[]",
                        "{\"version\": 1, \"artifacts\": [{\"key\": \"k\"}]}"] {
            try f.write("bouncer.lock", Array(garbage.utf8))
            let result = try f.fetch(f.url("a.bin"))
            #expect(result.status == 2, "\(garbage): \(result.err)")
            #expect(result.err.contains("bouncer.lock"), "\(result.err)")
            #expect(!f.exists("out.bin"))
            #expect(f.lockBytes == Array(garbage.utf8))
        }
    }

    @Test func humanOutputSaysWhatWasPinned() throws {
        let f = try PolicyFixture("bouncer-lock-human")
        let body = Array("human".utf8)
        f.server.register("h.bin", body)
        try f.writePolicy(#"{"version": 1, "rules": [{"match": {"host": "127.0.0.1"}, "require": [{"digest": {}}]}]}"#)
        let first = try f.bouncer(["fetch", f.url("h.bin"), "-o", f.path("h.bin"), "--policy", f.path("policy.json"),
                                   "--sha256", try PolicyFixture.sha256sum(body)])
        #expect(first.status == 0)
        #expect(first.err.contains("\(f.url("h.bin")): OK: sha256 pinned in bouncer.lock; sha256 matches the stated digest -> \(f.path("h.bin"))"), "\(first.err)")
        let second = try f.bouncer(["fetch", f.url("h.bin"), "-o", f.path("h.bin"), "--policy", f.path("policy.json"),
                                    "--sha256", try PolicyFixture.sha256sum(body)])
        #expect(second.err.contains("OK: sha256 matches bouncer.lock; sha256 matches the stated digest"), "\(second.err)")
    }
}
