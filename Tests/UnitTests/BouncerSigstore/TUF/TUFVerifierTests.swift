import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools
import BouncerTestSupport

/// The client's steps on Sigstore's real, validly signed TUF metadata (the
/// corpus, read in place). T is fixed just before the earliest expiry that
/// matters: timestamp.json, 2026-08-28T19:25:56Z.
@Suite struct TUFVerifierTests {
    static let time = RFC3339.parse("2026-08-28T00:00:00Z") ?? Date()

    struct Repo {
        let dir: URL
        func bytes(_ relative: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: dir.appendingPathComponent(relative))) }
        func root(_ n: Int) throws -> TUFRoot { try TUFRoot.parse(try bytes("metadata/root_history/\(n).root.json"), file: "\(n).root.json") }
        /// A trusted root edited as JSON (a trusted root needs no signature to be used as one).
        func editedRoot(_ n: Int, _ edit: (inout [String: Any]) -> Void) throws -> TUFRoot {
            var object = try #require(try JSONSerialization.jsonObject(with: Data(try bytes("metadata/root_history/\(n).root.json"))) as? [String: Any])
            var signed = try #require(object["signed"] as? [String: Any])
            edit(&signed)
            object["signed"] = signed
            return try TUFRoot.parse([UInt8](try JSONSerialization.data(withJSONObject: object)), file: "edited")
        }
    }

    func production() -> Repo? {
        guard let root = Corpus.rootOrNotice("TUFVerifierTests") else { return nil }
        return Repo(dir: root.appendingPathComponent("tuf/root-signing__production-repo"))
    }

    func run(_ dir: URL, state: inout TUFTrustedState, at time: Date = TUFVerifierTests.time,
             target: String = "trusted_root.json") throws -> Result<TUFUpdateResult, TUFError> {
        let anchorBytes = [UInt8](try Data(contentsOf: dir.appendingPathComponent("metadata/root_history/1.root.json")))
        let anchor = try TUFRoot.parse(anchorBytes, file: "1.root.json")
        return Result { () throws(TUFError) -> TUFUpdateResult in
            try TUFClient.update(repository: LocalTUFRepository(directory: dir.path), state: &state, anchor: anchor,
                                 target: target, at: time)
        }
    }

    /// Every corpus case gets its expected verdict (and the pass its sha256).
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func corpusCasesGetTheirVerdicts() throws {
        guard Corpus.rootOrNotice("TUFVerifierTests.corpus") != nil else { return }
        let cases = Corpus.cases(format: "tuf")
        #expect(cases.count == 3)
        for dir in cases {
            let c = try CorpusCase.load(dir)
            var state = TUFTrustedState(anchor: "test")
            switch try run(dir, state: &state) {
            case .success(let result):
                #expect(c.expect == "pass", "\(c.name) passed")
                #expect(Hasher.digest(result.targetBytes, .sha256).hex == c.artifact_sha256, "\(c.name)")
                #expect(result.root.version == 15 && result.timestamp.version == 762 && result.snapshot.version == 165 && result.targets.version == 14)
            case .failure(let error):
                #expect(c.expect == "fail", "\(c.name): \(error)")
                #expect(error.family == .evidence, "\(c.name): \(error)")
                if c.name.contains("root-v2") { #expect(error.code == "tuf-threshold" && error.description.hasPrefix("2.root.json"), "\(error)") }
                if c.name.contains("target") { #expect(error.code == "tuf-length-mismatch", "\(error)") }
            }
        }
    }

    /// A validly signed older root replayed as the next one: root 15 is signed
    /// by root 15's keys, so only "version exactly N+1" stops it.
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func aReplayedRootIsRefusedByItsVersion() throws {
        guard let repo = production() else { return }
        let fifteen = try repo.root(15)
        #expect(throws: TUFError.rootVersion(file: "16.root.json", expected: 16, found: 15)) {
            try TUFVerifier.verifyNextRoot(try repo.bytes("metadata/root_history/15.root.json"), file: "16.root.json", trusted: fifteen)
        }
        // Skipping a step (3 on top of 1) fails too; the real next one passes.
        #expect(throws: TUFError.self) { try TUFVerifier.verifyNextRoot(try repo.bytes("metadata/root_history/3.root.json"), file: "2.root.json", trusted: try repo.root(1)) }
        #expect(try TUFVerifier.verifyNextRoot(try repo.bytes("metadata/root_history/2.root.json"), file: "2.root.json", trusted: try repo.root(1)).version == 2)
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func aLowerTimestampVersionIsARollbackNamingBothVersions() throws {
        guard let repo = production() else { return }
        let root = try repo.root(15)
        let bytes = try repo.bytes("metadata/timestamp.json")
        do {
            _ = try TUFVerifier.verifyTimestamp(bytes, file: "timestamp.json", root: root, trusted: TUFTrustedVersions(timestamp: 763), at: Self.time)
            Issue.record("accepted timestamp 762 after 763")
        } catch {
            #expect(error.code == "tuf-rollback")
            #expect(error.description.contains("timestamp.json") && error.description.contains("762") && error.description.contains("763"), "\(error)")
        }
        // The snapshot version it names is checked against the trusted timestamp's too.
        #expect(throws: TUFError.rollback(file: "timestamp.json (meta snapshot.json)", trusted: 166, found: 165)) {
            try TUFVerifier.verifyTimestamp(bytes, file: "timestamp.json", root: root, trusted: TUFTrustedVersions(timestampSnapshot: 166), at: Self.time)
        }
        // Equal is "nothing new", not a rollback.
        #expect(try TUFVerifier.verifyTimestamp(bytes, file: "timestamp.json", root: root, trusted: TUFTrustedVersions(timestamp: 762), at: Self.time).version == 762)
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func expiryIsCheckedAtTheFixedTime() throws {
        guard let repo = production() else { return }
        let bytes = try repo.bytes("metadata/timestamp.json")
        let after = try #require(RFC3339.parse("2026-08-28T19:25:56Z"))
        #expect(throws: TUFError.expired(file: "timestamp.json", expires: "2026-08-28T19:25:56Z", at: "2026-08-28T19:25:56Z")) {
            try TUFVerifier.verifyTimestamp(bytes, file: "timestamp.json", root: try repo.root(15), trusted: TUFTrustedVersions(), at: after)
        }
        #expect(throws: TUFError.self) { try TUFVerifier.checkNotExpired(try repo.root(15).envelope, at: try #require(RFC3339.parse("2026-12-01T00:00:00Z"))) }
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func snapshotRollbackAndDelistingAreRefused() throws {
        guard let repo = production() else { return }
        let root = try repo.root(15)
        let timestamp = try TUFVerifier.verifyTimestamp(try repo.bytes("metadata/timestamp.json"), file: "timestamp.json", root: root, trusted: .init(), at: Self.time)
        let bytes = try repo.bytes("metadata/snapshot.json")
        func snapshot(_ trusted: TUFTrustedVersions) throws -> TUFSnapshot {
            try TUFVerifier.verifySnapshot(bytes, file: "snapshot.json", root: root, timestamp: timestamp, trusted: trusted, at: Self.time)
        }
        #expect(throws: TUFError.rollback(file: "snapshot.json", trusted: 166, found: 165)) { try snapshot(.init(snapshot: 166)) }
        #expect(throws: TUFError.rollback(file: "snapshot.json (meta targets.json)", trusted: 15, found: 14)) { try snapshot(.init(snapshotMeta: ["targets.json": 15])) }
        #expect(throws: TUFError.delisted(file: "snapshot.json", missing: "gone.json")) { try snapshot(.init(snapshotMeta: ["gone.json": 1])) }
        let good = try snapshot(.init(snapshot: 165, snapshotMeta: ["targets.json": 14, "rekor.json": 3]))
        #expect(good.meta["targets.json"]?.version == 14)
        let targets = try TUFVerifier.verifyTargets(try repo.bytes("metadata/targets.json"), file: "targets.json", root: root, snapshot: good, trusted: .init(), at: Self.time)
        #expect(throws: TUFError.rollback(file: "targets.json", trusted: 15, found: 14)) {
            try TUFVerifier.verifyTargets(try repo.bytes("metadata/targets.json"), file: "targets.json", root: root, snapshot: good, trusted: .init(targets: 15), at: Self.time)
        }
        // A snapshot signed for another version than the timestamp names is refused.
        let other = TUFTimestamp(envelope: timestamp.envelope, snapshot: TUFMetaFile(version: 164, length: nil, hashes: [:]))
        #expect(throws: TUFError.versionMismatch(file: "snapshot.json", expected: 164, found: 165)) {
            try TUFVerifier.verifySnapshot(bytes, file: "snapshot.json", root: root, timestamp: other, trusted: .init(), at: Self.time)
        }
        // Hashes pinned by the timestamp are checked before anything else.
        let pinned = TUFTimestamp(envelope: timestamp.envelope, snapshot: TUFMetaFile(version: 165, length: Int64(bytes.count), hashes: ["sha256": String(repeating: "0", count: 64)]))
        #expect(throws: TUFError.hashMismatch(file: "snapshot.json", algorithm: "sha256")) {
            try TUFVerifier.verifySnapshot(bytes, file: "snapshot.json", root: root, timestamp: pinned, trusted: .init(), at: Self.time)
        }
        #expect(try TUFVerifier.verifyTarget(try repo.bytes("targets/trusted_root.json"), name: "trusted_root.json", in: targets).length == 6787)
        #expect(throws: TUFError.targetNotListed("nope.json")) { try TUFVerifier.verifyTarget([], name: "nope.json", in: targets) }
    }

    /// Thresholds count distinct keyids: one signature repeated is one.
    /// Unknown keyids and unknown key types are skipped, not fatal.
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func thresholdsCountDistinctKeyids() throws {
        guard let repo = production() else { return }
        var object = try #require(try JSONSerialization.jsonObject(with: Data(try repo.bytes("metadata/timestamp.json"))) as? [String: Any])
        var signatures = try #require(object["signatures"] as? [[String: Any]])
        let keyid = try #require(signatures.first?["keyid"] as? String)
        signatures.append(signatures[0])
        signatures.append(["keyid": String(repeating: "ab", count: 32), "sig": "3045022100"])
        object["signatures"] = signatures
        let doubled = [UInt8](try JSONSerialization.data(withJSONObject: object))
        let one = try repo.root(15)
        #expect(try TUFVerifier.verifyTimestamp(doubled, file: "timestamp.json", root: one, trusted: .init(), at: Self.time).version == 762)
        let two = try repo.editedRoot(15) { signed in
            var roles = signed["roles"] as? [String: Any] ?? [:]
            roles["timestamp"] = ["keyids": [keyid, String(repeating: "ab", count: 32)], "threshold": 2]
            signed["roles"] = roles
        }
        #expect(throws: TUFError.threshold(file: "timestamp.json", role: "timestamp", verified: 1, threshold: 2)) {
            try TUFVerifier.verifyTimestamp(doubled, file: "timestamp.json", root: two, trusted: .init(), at: Self.time)
        }
        let unknownType = try repo.editedRoot(15) { signed in
            var keys = signed["keys"] as? [String: Any] ?? [:]
            var key = keys[keyid] as? [String: Any] ?? [:]
            key["keytype"] = "rsa"
            key["scheme"] = "rsassa-pss-sha256"
            keys[keyid] = key
            signed["keys"] = keys
        }
        #expect(throws: TUFError.threshold(file: "timestamp.json", role: "timestamp", verified: 0, threshold: 1)) {
            try TUFVerifier.verifyTimestamp(doubled, file: "timestamp.json", root: unknownType, trusted: .init(), at: Self.time)
        }
    }

    /// Fast-forward recovery: a timestamp version pushed far ahead under old
    /// timestamp keys is forgotten once a root rotation replaces those keys;
    /// without a rotation the same state is a rollback.
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func fastForwardRecoveryAfterTimestampKeyRotation() throws {
        guard let repo = production() else { return }
        #expect(TUFVerifier.timestampOrSnapshotKeysChanged(from: try repo.root(1), to: try repo.root(2)))
        #expect(!TUFVerifier.timestampOrSnapshotKeysChanged(from: try repo.root(15), to: try repo.root(15)))

        var early = TUFTrustedState(anchor: "test")
        early.versions = TUFTrustedVersions(timestamp: 99_999, timestampSnapshot: 99_999, snapshot: 99_999)
        let recovered = try run(repo.dir, state: &early)
        #expect((try? recovered.get())?.timestamp.version == 762, "\(recovered)")
        #expect(early.versions.timestamp == 762 && early.rootVersion == 15)

        var late = TUFTrustedState(anchor: "test")
        _ = try run(repo.dir, state: &late)
        late.versions.timestamp = 99_999
        guard case .failure(let error) = try run(repo.dir, state: &late) else { Issue.record("rollback accepted"); return }
        #expect(error == .rollback(file: "timestamp.json", trusted: 99_999, found: 762))
        #expect(late.versions.timestamp == 99_999, "a refused file never lowers the state")
    }

    /// The top-level targets delegate, terminating, to one role whose path
    /// pattern ends in "/*" (the registry keys role in Sigstore's
    /// repository); its keys.json is listed only there, signed by the key
    /// the top-level targets delegate to. Names are read from the corpus.
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func aDelegatedTargetIsFoundThroughItsRole() throws {
        guard let repo = production() else { return }
        let targets = try #require(try JSONSerialization.jsonObject(with: Data(try repo.bytes("metadata/targets.json"))) as? [String: Any])
        let signed = try #require(targets["signed"] as? [String: Any])
        let delegations = try #require(signed["delegations"] as? [String: Any])
        let roles = try #require(delegations["roles"] as? [[String: Any]])
        let role = try #require(roles.first)
        let roleName = try #require(role["name"] as? String)
        let pattern = try #require((role["paths"] as? [String])?.first)
        #expect(pattern.hasSuffix("/*"), "\(pattern)")
        let prefix = String(pattern.dropLast())
        var state = TUFTrustedState(anchor: "test")
        let result = try run(repo.dir, state: &state, target: prefix + "keys.json").get()
        #expect(result.delegatedRole == roleName)
        #expect(result.targetBytes == (try repo.bytes("targets/" + prefix + "keys.json")))
        #expect(result.target.hashes["sha256"] == Hasher.digest(result.targetBytes, .sha256).hex)
        // Not covered by any delegation, not listed: refused.
        var other = TUFTrustedState(anchor: "test")
        guard case .failure(let error) = try run(repo.dir, state: &other, target: prefix + "a/keys.json") else {
            Issue.record("an unlisted target passed"); return
        }
        #expect(error == .targetNotListed(prefix + "a/keys.json"))
    }

    @Test func delegationPathsMatchSegmentBySegment() {
        let role = TUFDelegatedRole(name: "npm", role: TUFRole(keyids: [], threshold: 1), paths: ["registry.example/*"],
                                    pathHashPrefixes: nil, terminating: true)
        #expect(role.covers("registry.example/keys.json"))
        #expect(!role.covers("registry.example/a/keys.json"))
        #expect(!role.covers("other/keys.json"))
        #expect(!role.covers("registry.example"))
        let hashed = TUFDelegatedRole(name: "bin", role: TUFRole(keyids: [], threshold: 1), paths: nil,
                                      pathHashPrefixes: [String(Hasher.digest(Array("a.txt".utf8), .sha256).hex.prefix(2))], terminating: false)
        #expect(hashed.covers("a.txt"))
    }

    /// Every byte-level mutation of real signed metadata is either refused
    /// with a typed error or (when it only touched whitespace or the
    /// unsigned part in a harmless way) still verifies; none traps, and none
    /// that changes `signed` passes. Seeded (TestRandom, seed printed), so a failure reproduces.
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func mutatedMetadataIsRefusedWithoutTrapping() throws {
        guard let repo = production() else { return }
        let root = try repo.root(15)
        let original = try repo.bytes("metadata/timestamp.json")
        let signedCanonical = try TUFEnvelope.parse(original, file: "timestamp.json").canonical
        var rng = TestRandom.generator()
        var refused = 0
        for _ in 0..<3000 {
            var bytes = original
            for _ in 0..<Int(rng.next() % 3 + 1) {
                let index = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 3 {
                case 0: bytes[index] = UInt8(truncatingIfNeeded: rng.next())
                case 1: bytes.remove(at: index)
                default: bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: index)
                }
            }
            do {
                let verified = try TUFVerifier.verifyTimestamp(bytes, file: "timestamp.json", root: root, trusted: .init(), at: Self.time)
                #expect(verified.envelope.canonical == signedCanonical, "a change to signed passed")
            } catch {
                refused += 1
            }
        }
        #expect(refused > 2500, "\(refused)")
    }

    /// The delegation search order (spec §5.6.7): preorder depth-first, the
    /// first role listing the target wins, a terminating role that covers the
    /// path ends the search. Signatures are not the point here, so `load`
    /// hands out prepared roles and records the order it was asked in.
    @Test func delegationSearchIsPreorderDepthFirstAndStopsAtTerminatingRoles() throws {
        func role(_ name: String, terminating: Bool = false) -> TUFDelegatedRole {
            TUFDelegatedRole(name: name, role: TUFRole(keyids: [], threshold: 1), paths: ["x/*"], pathHashPrefixes: nil, terminating: terminating)
        }
        func targets(_ name: String, lists: Bool, delegates: [TUFDelegatedRole] = []) -> TUFTargets {
            let envelope = TUFEnvelope(file: "\(name).json", signed: .null, canonical: [], signatures: [], type: "targets", version: 1, expiresText: "")
            return TUFTargets(role: name, envelope: envelope, targets: lists ? ["x/t": TUFTargetFile(length: 0, hashes: [:])] : [:],
                              delegations: delegates.isEmpty ? nil : TUFDelegations(keys: [:], roles: delegates))
        }
        func search(_ top: TUFTargets, _ roles: [String: TUFTargets]) -> (String?, [String]) {
            var asked: [String] = []
            let found = try? TUFVerifier.findTarget("x/t", top: top) { (r, _) throws(TUFError) -> TUFTargets in
                asked.append(r.name)
                guard let t = roles[r.name] else { throw .targetNotListed(r.name) }
                return t
            }
            return (found?.1.role, asked)
        }
        // a → a1 (lists it) is searched before b (lists it too).
        let graph = ["a": targets("a", lists: false, delegates: [role("a1")]), "a1": targets("a1", lists: true), "b": targets("b", lists: true)]
        let top = targets("targets", lists: false, delegates: [role("a"), role("b")])
        #expect(search(top, graph) == ("a1", ["a", "a1"]))
        // A terminating "a" that does not list it ends the search: b is never asked.
        let stop = ["a": targets("a", lists: false), "b": targets("b", lists: true)]
        #expect(search(targets("targets", lists: false, delegates: [role("a", terminating: true), role("b")]), stop) == (nil, ["a"]))
        #expect(search(targets("targets", lists: false, delegates: [role("a"), role("b")]), stop) == ("b", ["a", "b"]))
    }
}
