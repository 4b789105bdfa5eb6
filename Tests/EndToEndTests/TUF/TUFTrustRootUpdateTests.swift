import Foundation
import Testing
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools
import BouncerTestSupport

/// `bouncer trust-root update` against the corpus repositories served over
/// 127.0.0.1 in the published (URL) layout, with a private BOUNCER_STATE.
@Suite(.blocking) struct TUFTrustRootUpdateTests {
    /// Just before timestamp.json expires (2026-08-28T19:25:56Z), the earliest expiry that matters.
    static let now = "2026-08-28T00:00:00Z"

    /// A corpus case laid out as tuf-repo-cdn.sigstore.dev publishes it:
    /// metadata/N.root.json, timestamp.json, V.snapshot.json, V.targets.json,
    /// targets/<sha256>.<name>. Symbolic links into the corpus (read in
    /// place; nothing is copied). `roots` chooses which roots are served.
    struct Served {
        let dir: URL
        let server: DirectoryHTTPServer
        var url: String { server.baseURL }

        init(_ caseName: String, corpus: URL, roots: ClosedRange<Int> = 1...15, extra: [String: String] = [:]) throws {
            let source = corpus.appendingPathComponent("tuf/\(caseName)")
            dir = try BouncerProcess.temporaryDirectory("tuf-repo")
            let fm = FileManager.default
            let metadata = dir.appendingPathComponent("metadata"), targets = dir.appendingPathComponent("targets")
            try fm.createDirectory(at: metadata, withIntermediateDirectories: true)
            try fm.createDirectory(at: targets, withIntermediateDirectories: true)
            func link(_ name: String, in folder: URL, to relative: String) throws {
                try fm.createSymbolicLink(at: folder.appendingPathComponent(name), withDestinationURL: source.appendingPathComponent(relative))
            }
            for n in roots { try link("\(n).root.json", in: metadata, to: "metadata/root_history/\(n).root.json") }
            try link("timestamp.json", in: metadata, to: "metadata/timestamp.json")
            try link("165.snapshot.json", in: metadata, to: "metadata/snapshot.json")
            try link("14.targets.json", in: metadata, to: "metadata/targets.json")
            // Each top-level target under its signed sha256, as with consistent snapshots.
            let signed = try JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("metadata/targets.json"))) as? [String: Any]
            let listed = ((signed?["signed"] as? [String: Any])?["targets"] as? [String: Any]) ?? [:]
            for (name, entry) in listed where !name.contains("/") {
                guard let sha = ((entry as? [String: Any])?["hashes"] as? [String: Any])?["sha256"] as? String else { continue }
                try link("\(sha).\(name)", in: targets, to: "targets/\(name)")
            }
            for (name, relative) in extra { try link(name, in: metadata, to: relative) }
            server = try DirectoryHTTPServer(root: dir.path)
        }

        func remove() {
            server.stop()
            try? FileManager.default.removeItem(at: dir)
        }
    }

    struct Run {
        let state: URL
        let work: URL
        let anchor: String
        var output: String { work.appendingPathComponent("trusted_root.json").path }

        init(corpus: URL) throws {
            state = try BouncerProcess.temporaryDirectory("tuf-state")
            work = try BouncerProcess.temporaryDirectory("tuf-out")
            // The anchor is the same file in every case (the cases differ above it).
            anchor = corpus.appendingPathComponent("tuf/root-signing__production-repo/metadata/root_history/1.root.json").path
        }

        func update(_ repository: String, root: String? = nil, extra: [String] = ["--now", TUFTrustRootUpdateTests.now]) throws -> ProcessResult {
            try BouncerProcess.run(["trust-root", "update", "--repository", repository, "--root", root ?? anchor, "-o", output] + extra,
                                   environment: ["BOUNCER_STATE": state.path])
        }

        var stateFile: URL? {
            let dir = state.appendingPathComponent("tuf")
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            return names.first { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.map { dir.appendingPathComponent($0) }
        }

        func remove() {
            try? FileManager.default.removeItem(at: state)
            try? FileManager.default.removeItem(at: work)
        }
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func productionRepositoryOverHTTPPassesAndWritesTheSignedTarget() throws {
        guard let corpus = Corpus.rootOrNotice("TUFTrustRootUpdateTests") else { return }
        let c = try CorpusCase.load(corpus.appendingPathComponent("tuf/root-signing__production-repo"))
        let repo = try Served("root-signing__production-repo", corpus: corpus)
        let run = try Run(corpus: corpus)
        defer { repo.remove(); run.remove() }

        let result = try run.update(repo.url, extra: ["--now", Self.now, "--json"])
        #expect(result.status == 0, "\(result.err)")
        let written = try Data(contentsOf: URL(fileURLWithPath: run.output))
        #expect(Hasher.digest([UInt8](written), .sha256).hex == c.artifact_sha256)
        let report = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        #expect(report["verdict"] as? String == "pass")
        let details = ((report["evidence"] as? [[String: Any]])?.first?["details"] as? [String: String]) ?? [:]
        #expect(details["root.version"] == "15" && details["timestamp.version"] == "762")
        #expect(details["snapshot.version"] == "165" && details["targets.version"] == "14")
        #expect(details["timestamp.expires"] == "2026-08-28T19:25:56Z" && details["target.sha256"] == c.artifact_sha256)
        // The consistent-snapshot names were the ones fetched.
        #expect(repo.server.requests.contains("GET /metadata/165.snapshot.json"))
        #expect(repo.server.requests.contains { $0.hasPrefix("GET /targets/\(c.artifact_sha256 ?? "-").trusted_root.json") })
        #expect(run.stateFile != nil, "the versions were persisted")

        // Without --now the same metadata is expired today (2026-12-03): refused, and the file is left alone.
        try Data("old".utf8).write(to: URL(fileURLWithPath: run.output))
        let today = try run.update(repo.url, extra: [])
        #expect(today.status == 1)
        #expect(today.err.contains("expired"), "\(today.err)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: run.output)) == Data("old".utf8))
    }

    /// A genuine rollback with only real signed data: once root 15 is
    /// trusted, a repository (a stale mirror or an attacker) that serves the
    /// chain only up to root 5 cannot move the client back to root 5, whose
    /// keys may since have been retired. The second run starts from the
    /// persisted root 15, asks for 16.root.json and never looks at 2..5. The
    /// control run shows the same repository does roll back a client without
    /// that state: it ends on root 5 (expired, so refused).
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func aRepositoryFrozenAtAnOlderRootCannotRollTheRootBack() throws {
        guard let corpus = Corpus.rootOrNotice("TUFTrustRootUpdateTests") else { return }
        let full = try Served("root-signing__production-repo", corpus: corpus)
        let frozen = try Served("root-signing__production-repo", corpus: corpus, roots: 1...5)
        let run = try Run(corpus: corpus), fresh = try Run(corpus: corpus)
        defer { full.remove(); frozen.remove(); run.remove(); fresh.remove() }

        #expect(try run.update(full.url).status == 0)
        let again = try run.update(frozen.url, extra: ["--now", Self.now, "--json"])
        #expect(again.status == 0, "\(again.err)")
        #expect(again.out.contains("\"root.version\":\"15\""), "\(again.out)")
        #expect(frozen.server.requests.filter { $0.contains(".root.json") } == ["GET /metadata/16.root.json"])

        let control = try fresh.update(frozen.url)
        #expect(control.status == 1)
        #expect(control.err.contains("5.root.json") && control.err.contains("expired"), "\(control.err)")
    }

    /// Root 15 served again as 16.root.json is validly signed by the trusted
    /// root's keys; only "version exactly N+1" refuses it.
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func aReplayedRootIsRefused() throws {
        guard let corpus = Corpus.rootOrNotice("TUFTrustRootUpdateTests") else { return }
        let repo = try Served("root-signing__production-repo", corpus: corpus, extra: ["16.root.json": "metadata/root_history/15.root.json"])
        let run = try Run(corpus: corpus)
        defer { repo.remove(); run.remove() }
        let result = try run.update(repo.url)
        #expect(result.status == 1)
        #expect(result.err.contains("16.root.json: root version 15, expected exactly 16"), "\(result.err)")
        #expect(!FileManager.default.fileExists(atPath: run.output))
    }

    /// The timestamp rollback. The corpus holds one timestamp (762) and
    /// nobody can sign an older or newer one, so the earlier sighting of a
    /// newer timestamp is recorded the only honest way: the state written by
    /// a real run, with its timestamp version raised to 763 as if 763 had
    /// been verified then. The refusal itself is decided on the real, validly
    /// signed timestamp.json (762), which a client without state accepts.
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func aTimestampOlderThanTheOneSeenIsRefused() throws {
        guard let corpus = Corpus.rootOrNotice("TUFTrustRootUpdateTests") else { return }
        let repo = try Served("root-signing__production-repo", corpus: corpus)
        let run = try Run(corpus: corpus)
        defer { repo.remove(); run.remove() }
        #expect(try run.update(repo.url).status == 0)
        try FileManager.default.removeItem(atPath: run.output)

        let stateFile = try #require(run.stateFile)
        let text = try String(contentsOf: stateFile, encoding: .utf8)
        #expect(text.contains("\"timestamp\" : 762"))
        try text.replacingOccurrences(of: "\"timestamp\" : 762", with: "\"timestamp\" : 763").write(to: stateFile, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: stateFile.path)

        let result = try run.update(repo.url, extra: ["--now", Self.now, "--json"])
        #expect(result.status == 1)
        #expect(result.out.contains("timestamp.json: version 762 is older than version 763"), "\(result.out)")
        #expect(!FileManager.default.fileExists(atPath: run.output))
        // The refusal does not lower what was seen.
        #expect(try String(contentsOf: stateFile, encoding: .utf8).contains("\"timestamp\" : 763"))
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func aTamperedTargetIsRefusedAndNothingIsWritten() throws {
        guard let corpus = Corpus.rootOrNotice("TUFTrustRootUpdateTests") else { return }
        let repo = try Served("root-signing__tampered-target_fail", corpus: corpus)
        let run = try Run(corpus: corpus)
        defer { repo.remove(); run.remove() }
        let result = try run.update(repo.url)
        #expect(result.status == 1)
        #expect(result.err.contains("trusted_root.json") && result.err.contains("signed length"), "\(result.err)")
        #expect(!FileManager.default.fileExists(atPath: run.output))
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func theCorpusLayoutOnDiskGetsEachVerdict() throws {
        guard let corpus = Corpus.rootOrNotice("TUFTrustRootUpdateTests") else { return }
        for dir in Corpus.cases(format: "tuf") {
            let c = try CorpusCase.load(dir)
            let run = try Run(corpus: corpus)
            defer { run.remove() }
            let result = try run.update(dir.path, root: c.path(c.trust?.first ?? "-"))
            #expect(result.status == (c.expect == "pass" ? 0 : 1), "\(c.name): \(result.err)")
            if c.expect == "pass" {
                #expect(Hasher.digest([UInt8](try Data(contentsOf: URL(fileURLWithPath: run.output))), .sha256).hex == c.artifact_sha256)
            } else {
                #expect(!FileManager.default.fileExists(atPath: run.output), "\(c.name)")
            }
        }
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func aMissingRootFileIsAUsageError() throws {
        guard let corpus = Corpus.rootOrNotice("TUFTrustRootUpdateTests") else { return }
        let run = try Run(corpus: corpus)
        defer { run.remove() }
        let result = try run.update(corpus.appendingPathComponent("tuf/root-signing__production-repo").path,
                                    root: run.work.appendingPathComponent("absent.root.json").path)
        #expect(result.status == 2, "\(result.err)")
        #expect(!FileManager.default.fileExists(atPath: run.output))
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func anUnreachableRepositoryIsATransportFailure() throws {
        guard let corpus = Corpus.rootOrNotice("TUFTrustRootUpdateTests") else { return }
        // A port that was just bound and closed: connection refused.
        let closed = try DirectoryHTTPServer(root: NSTemporaryDirectory())
        let url = closed.baseURL
        closed.stop()
        let run = try Run(corpus: corpus)
        defer { run.remove() }
        let result = try run.update(url)
        #expect(result.status == 3, "\(result.err)")
        #expect(!FileManager.default.fileExists(atPath: run.output))
    }

    /// State another user could write protects nothing: refused as bad local configuration.
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func aGroupWritableStateDirectoryIsRefused() throws {
        guard let corpus = Corpus.rootOrNotice("TUFTrustRootUpdateTests") else { return }
        let run = try Run(corpus: corpus)
        defer { run.remove() }
        let repository = corpus.appendingPathComponent("tuf/root-signing__production-repo").path
        #expect(try run.update(repository).status == 0)
        try FileManager.default.removeItem(atPath: run.output)
        try FileManager.default.setAttributes([.posixPermissions: 0o770], ofItemAtPath: run.state.appendingPathComponent("tuf").path)
        let result = try run.update(repository)
        #expect(result.status == 2, "\(result.err)")
        #expect(result.err.contains("writable by group or others"), "\(result.err)")
        #expect(!FileManager.default.fileExists(atPath: run.output))
    }

    /// timestamp.json is capped at 16 KiB: a server sending more is cut off and refused.
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func anOversizedTimestampIsRefused() throws {
        guard let corpus = Corpus.rootOrNotice("TUFTrustRootUpdateTests") else { return }
        let repo = try Served("root-signing__production-repo", corpus: corpus)
        let run = try Run(corpus: corpus)
        defer { repo.remove(); run.remove() }
        let timestamp = repo.dir.appendingPathComponent("metadata/timestamp.json")
        try FileManager.default.removeItem(at: timestamp)
        try Data(repeating: 0x20, count: 64 << 10).write(to: timestamp)
        let result = try run.update(repo.url)
        #expect(result.status == 1, "\(result.err)")
        #expect(result.err.contains("timestamp.json") && result.err.contains("limit"), "\(result.err)")
        #expect(!FileManager.default.fileExists(atPath: run.output))
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func aMalformedNowIsAUsageError() throws {
        guard let corpus = Corpus.rootOrNotice("TUFTrustRootUpdateTests") else { return }
        let run = try Run(corpus: corpus)
        defer { run.remove() }
        let result = try run.update(corpus.appendingPathComponent("tuf/root-signing__production-repo").path, extra: ["--now", "yesterday"])
        #expect(result.status == 2, "\(result.err)")
        #expect(result.err.contains("--now"), "\(result.err)")
    }
}
