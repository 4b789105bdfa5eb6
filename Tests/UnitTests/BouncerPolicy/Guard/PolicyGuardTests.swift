import Foundation
import Testing
import BouncerTestSupport
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools

/// The `ArtifactGuard` seam as the pip and npm adapters use it: claimed
/// digests from the tools' metadata, package coordinates in the lock.
@Suite(.blocking) struct PolicyGuardTests {
    static func digest(_ tool: String, _ algorithm: HashAlgorithm, _ bytes: [UInt8]) throws -> Digest {
        let out = try BouncerProcess.runProgram("/usr/bin/\(tool)", ["-"], stdin: Data(bytes)).out
        return try Digest(algorithm: algorithm, hex: String(out.prefix(while: { !$0.isWhitespace })))
    }

    /// A wheel with a true RECORD (and an evil twin), and an npm tarball whose package.json says left-pad 1.3.0.
    static let makeArchives = #"""
    import base64, hashlib, io, json, sys, tarfile, zipfile
    d = sys.argv[1]
    def wheel(path, value):
        files = {"demo/__init__.py": f"VALUE = {value}\n".encode(),
                 "demo-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
                 "demo-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
        record = "".join(f"{n},sha256={base64.urlsafe_b64encode(hashlib.sha256(b).digest()).rstrip(b'=').decode()},{len(b)}\n"
                         for n, b in files.items()) + "demo-1.0.dist-info/RECORD,,\n"
        with zipfile.ZipFile(path, "w") as z:
            for n, b in files.items(): z.writestr(n, b)
            z.writestr("demo-1.0.dist-info/RECORD", record)
    wheel(d + "/demo.whl", 1)
    wheel(d + "/evil.whl", 666)
    manifest = json.dumps({"name": "left-pad", "version": "1.3.0"}).encode()
    with tarfile.open(d + "/left-pad.tgz", "w:gz") as t:
        info = tarfile.TarInfo("package/package.json"); info.size = len(manifest); info.mtime = 1700000000
        t.addfile(info, io.BytesIO(manifest))
    """#

    @Test func pypiDigestAndNpmIntegrityThroughObtain() throws {
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        let dir = try BouncerProcess.temporaryDirectory("bouncer-guard").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Real archives: the guard opens wheels and npm tarballs before pinning them.
        let made = try BouncerProcess.runProgram("/usr/bin/env", ["python3", "-c", Self.makeArchives, dir])
        #expect(made.status == 0, "\(made.err)")
        let wheel = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/demo.whl")))
        let evilWheel = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/evil.whl")))
        let tarball = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/left-pad.tgz")))
        server.register("demo-1.0-py3-none-any.whl", wheel)
        server.register("left-pad-1.3.0.tgz", tarball)
        let policyText = #"""
        {"version": 1, "unmatched": "deny", "rules": [
          {"match": {"ecosystem": "npm", "package": "left-*"}, "require": [{"integrity": {}}]},
          {"match": {"ecosystem": "pypi"}, "require": [{"digest": {}}]}]}
        """#
        try Data(policyText.utf8).write(to: URL(fileURLWithPath: dir + "/policy.json"))
        let policy = try PolicyGuard.locatePolicy(environment: [:], cwd: dir)
        var options = FetchOptions()
        options.progress = false
        let policyGuard = PolicyGuard(policy: policy, fetcher: Fetcher(store: Store(root: dir + "/cache"), options: options))

        let sha256 = try Self.digest("sha256sum", .sha256, wheel)
        let sha512 = try Self.digest("sha512sum", .sha512, tarball)
        let wrong512 = try Self.digest("sha512sum", .sha512, wheel)
        let requests = [
            ArtifactRequest(url: server.url("/files/demo-1.0-py3-none-any.whl"), ecosystem: .pypi, package: "demo", version: "1.0", claimedDigests: [sha256]),
            ArtifactRequest(url: server.url("/files/demo-1.0-py3-none-any.whl"), ecosystem: .pypi, package: "demo", version: "1.0"),
            ArtifactRequest(url: server.url("/files/left-pad-1.3.0.tgz"), ecosystem: .npm, package: "left-pad", version: "1.3.0", claimedDigests: [sha512]),
            ArtifactRequest(url: server.url("/files/left-pad-1.3.0.tgz"), ecosystem: .npm, package: "left-pad", version: "1.3.0", claimedDigests: [wrong512]),
            ArtifactRequest(url: server.url("/files/left-pad-1.3.0.tgz"), ecosystem: .npm, package: "right-pad", version: "1.0.0", claimedDigests: [sha512]),
        ]
        let results = policyGuard.obtain(requests)
        #expect(results.count == 5)

        let pypi = try results[0].get()
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: pypi.path))) == wheel)
        #expect(pypi.sha256 == sha256)
        #expect(pypi.proofs.contains("sha256 matches the stated digest"))
        policyGuard.release(pypi)
        #expect(!FileManager.default.fileExists(atPath: pypi.path))

        guard case .failure(let noHash) = results[1] else { Issue.record("accepted without a digest"); return }
        #expect(noHash.code == "digest-missing")
        #expect(noHash.family.exitCode == 1)

        let npm = try results[2].get()
        #expect(npm.proofs.contains("integrity sha512 matches"))
        policyGuard.release(npm)

        guard case .failure(let bad) = results[3] else { Issue.record("accepted a wrong integrity"); return }
        #expect(bad.code == "digest-mismatch")
        #expect(bad.message.contains("expected \(wrong512.hex)"))

        guard case .failure(let unmatched) = results[4] else { Issue.record("unmatched npm package allowed"); return }
        #expect(unmatched.code == "policy-unmatched")

        let lock = try LockStore(path: dir + "/bouncer.lock").read()
        #expect(lock.artifacts.map(\.key).sorted() == ["npm:left-pad@1.3.0", "pypi:demo@1.0"])
        #expect(lock.entry(forKey: "npm:left-pad@1.3.0")?.evidence.first?.source == sha512.sri)

        // The same coordinates and bytes from another URL: allowed, but never silently.
        server.register("mirror-demo.whl", wheel)
        let moved = policyGuard.obtain([ArtifactRequest(url: server.url("/files/mirror-demo.whl"), ecosystem: .pypi,
                                                        package: "demo", version: "1.0", claimedDigests: [sha256])])
        let movedArtifact = try moved[0].get()
        #expect(movedArtifact.warnings.contains { $0.contains("its locked digest was recorded from \(server.url("/files/demo-1.0-py3-none-any.whl"))") },
                "\(movedArtifact.warnings)")
        policyGuard.release(movedArtifact)
        // Different bytes under locked coordinates: refused, whatever URL they come from.
        server.register("evil-demo.whl", evilWheel)
        let evil = policyGuard.obtain([ArtifactRequest(url: server.url("/files/evil-demo.whl"), ecosystem: .pypi, package: "demo",
                                                       version: "1.0", claimedDigests: [try Self.digest("sha256sum", .sha256, evilWheel)])])
        guard case .failure(let substituted) = evil[0] else { Issue.record("substituted bytes accepted"); return }
        #expect(substituted.code == "lock-digest-changed")
    }

    /// A proxy re-encodes the lock for each batch it pins, reusing the text of unchanged entries:
    /// the bytes must be exactly what a fresh encoding writes, whatever changed in between.
    @Test func lockEncodingReusingEarlierEntriesWritesTheSameBytes() throws {
        func entry(_ name: String, _ digest: Character, evidence: [LockEvidence] = []) -> LockEntry {
            LockEntry(key: "npm:\(name)@1.0.0", url: "http://127.0.0.1/\(name).tgz", ecosystem: .npm, package: name, version: "1.0.0",
                      sha256: String(repeating: digest, count: 64), size: 3, rule: "#1", evidence: evidence)
        }
        var memo = EncodedEntries()
        var lock = Lockfile(artifacts: [entry("b", "b")])
        #expect(lock.encoded(reusing: &memo) == lock.encoded())
        // An entry added before the known one, a quote that must be escaped, then the known one changed in place.
        lock.upsert(entry("a\"q", "a", evidence: [LockEvidence(kind: .integrity, source: "line\nbreak")]))
        #expect(lock.encoded(reusing: &memo) == lock.encoded())
        lock.upsert(entry("b", "c"))
        let reused = lock.encoded(reusing: &memo)
        #expect(reused == lock.encoded())
        #expect(String(decoding: reused, as: UTF8.self).contains(String(repeating: "c", count: 64)))
        #expect(!String(decoding: reused, as: UTF8.self).contains(String(repeating: "b", count: 64)))
        // Removed entries are forgotten.
        lock.artifacts.removeAll { $0.package == "b" }
        #expect(lock.encoded(reusing: &memo) == lock.encoded())
        #expect(memo.keys.sorted() == ["npm:a\"q@1.0.0"])
    }

    /// A URL's family: its version as `#`, however many numbers and separators it has.
    @Test func aURLFamilyTakesTheWholeVersion() {
        func family(_ url: String) -> String { LockEntry.family(ecosystem: .url, package: nil, url: url) }
        let base = family("https://h.example/v1.0/app-1.0.tar.gz")
        for url in ["https://h.example/v1.0.1/app-1.0.1.tar.gz", "https://h.example/v2.0.0-rc1/app-2.0.0-rc1.tar.gz",
                    "https://h.example/v1.4/app-1.4.0-1.tar.gz", "https://h.example/v10/app-10.tar.gz"] {
            #expect(family(url) == base, "\(url): \(family(url)) vs \(base)")
        }
        #expect(base == "url:https://h.example/v#/app-#.tar.gz")
        #expect(family("https://h.example/v1.0/other-1.0.tar.gz") != base)
        #expect(family("https://h.example/v1.0/app-1.0.zip") != base)
        #expect(family("https://h.example/app_1.0_x86_64.deb") == "url:https://h.example/app_#.deb")
        #expect(LockEntry.family(ecosystem: .npm, package: "left-pad", url: "x") == "npm:left-pad")
    }

    /// SSH signers are pinned by key; a lock written before recorded the principal alone, which still matches.
    @Test func anSSHSignerIsPinnedByItsKeyAndOldLocksStillMatch() {
        let fact = SignerFact(format: "ssh", signer: "rel@x", details: ["fingerprint": "SHA256:AAA"])
        #expect(fact.pinned == "ssh:rel@x key SHA256:AAA")
        #expect(SignerFact(format: "openpgp", signer: "ABCD").pinned == "openpgp:ABCD")
        func entry(_ signer: String) -> LockEntry {
            LockEntry(key: "url:u1", url: "u1", ecosystem: .url, package: nil, version: nil, sha256: String(repeating: "a", count: 64),
                      size: 1, rule: "r", evidence: [LockEvidence(kind: .signature, signer: signer)])
        }
        func proof(_ signer: String) -> EvidenceProof { EvidenceProof(kind: .signature, proves: [], summary: "", signer: signer) }
        #expect(LockComparison.signerChange([proof("ssh:rel@x key SHA256:AAA")], family: [entry("ssh:rel@x key SHA256:AAA")], pinning: .pin) == nil)
        #expect(LockComparison.signerChange([proof("ssh:rel@x key SHA256:BBB")], family: [entry("ssh:rel@x key SHA256:AAA")], pinning: .pin)?.code == .identityDrift)
        #expect(LockComparison.signerChange([proof("ssh:rel@x key SHA256:BBB")], family: [entry("ssh:rel@x")], pinning: .pin) == nil)
        #expect(LockComparison.signerChange([proof("ssh:other@x key SHA256:BBB")], family: [entry("ssh:rel@x")], pinning: .pin)?.code == .identityDrift)
    }

    /// A keyless signer is its repository and workflow, not the git ref each release signs from:
    /// v1.1 after v1.0 from the same workflow is no drift (it had been), another workflow or repository is.
    @Test func aKeylessSignerIsComparedWithoutItsRef() {
        let workflow = "https://github.com/o/r/.github/workflows/release.yml"
        func entry(_ signer: String) -> LockEntry {
            LockEntry(key: "pypi:p@1.0", url: "u", ecosystem: .pypi, package: "p", version: "1.0", sha256: String(repeating: "a", count: 64),
                      size: 1, rule: "r", evidence: [LockEvidence(kind: .sigstore, signer: signer, issuer: "https://token.actions.githubusercontent.com")])
        }
        func proof(_ signer: String) -> EvidenceProof {
            EvidenceProof(kind: .sigstore, proves: [], summary: "", signer: signer, issuer: "https://token.actions.githubusercontent.com")
        }
        let locked = [entry(workflow + "@refs/tags/v1.0")]
        #expect(LockComparison.signerChange([proof(workflow + "@refs/tags/v1.1")], family: locked, pinning: .pin) == nil)
        #expect(LockComparison.signerChange([proof(workflow + "@refs/heads/main")], family: locked, pinning: .pin) == nil)
        #expect(LockComparison.signerChange([proof("https://github.com/o/r/.github/workflows/other.yml@refs/tags/v1.1")],
                                            family: locked, pinning: .pin)?.code == .identityDrift)
        #expect(LockComparison.signerChange([proof("https://github.com/evil/r/.github/workflows/release.yml@refs/tags/v1.1")],
                                            family: locked, pinning: .pin)?.code == .identityDrift)
        #expect(LockComparison.signerChange([proof("someone@example.com")], family: [entry("release@example.com")], pinning: .pin)?.code == .identityDrift)
    }

    @Test func lockEncodingIsCanonical() throws {
        let a = LockEntry(key: "url:b", url: "b", ecosystem: .url, package: nil, version: nil, sha256: String(repeating: "a", count: 64),
                          size: 1, rule: "r", evidence: [LockEvidence(kind: .signature, signer: "openpgp:AB", source: "b.asc")])
        let b = LockEntry(key: "url:a", url: "a", ecosystem: .url, package: nil, version: nil, sha256: String(repeating: "b", count: 64),
                          size: 2, rule: "unmatched", evidence: [])
        let one = Lockfile(artifacts: [a, b]).encoded()
        let two = Lockfile(artifacts: [b, a]).encoded()
        #expect(one == two)
        #expect(try Lockfile.decode(one, file: "x") == Lockfile(artifacts: [b, a]))
        // Decoding and re-encoding is the identity on canonical bytes.
        #expect(try Lockfile.decode(one, file: "x").encoded() == one)
        #expect(throws: BouncerError.self) { try Lockfile.decode(Array("{\"version\": 1, \"artifacts\": [".utf8), file: "x") }
        // A size no lock can hold is named by its JSON path (the decoder said only "not valid JSON").
        let text = String(decoding: one, as: UTF8.self)
        for bad in ["-1", "893.5", "\"12\""] {
            let broken = text.replacingOccurrences(of: #""size": 2"#, with: #""size": "# + bad)
            #expect(broken != text)
            do { _ = try Lockfile.decode(Array(broken.utf8), file: "x"); Issue.record("\(bad) accepted") } catch {
                #expect(error.message.contains("$.artifacts[0].size: expected a whole number of bytes"), "\(error.message)")
            }
        }
    }

    /// A lock people merged or edited by hand: whatever Bouncer would drop on its next rewrite, or an
    /// entry whose key says something else than its fields, is named by its JSON path (exit 2).
    @Test func aLockWithAnythingBouncerWouldNotWriteIsRefusedByItsJSONPath() throws {
        let entry = LockEntry(key: "npm:left-pad@1.3.0", url: "http://127.0.0.1/left-pad/-/left-pad-1.3.0.tgz", ecosystem: .npm,
                              package: "left-pad", version: "1.3.0", sha256: String(repeating: "a", count: 64), size: 2, rule: "npm",
                              evidence: [LockEvidence(kind: .integrity)],
                              index: LockIndex(PackageIndex(url: "http://127.0.0.1/", isPrimary: true)))
        let text = String(decoding: Lockfile(artifacts: [entry]).encoded(), as: UTF8.self)
        #expect(try Lockfile.decode(Array(text.utf8), file: "x") == Lockfile(artifacts: [entry]))
        let cases: [(from: String, to: String, says: String)] = [
            (#""version": 1"#, #""comment": "merged", "version": 1"#, "$.comment: unknown key 'comment'"),
            (#""rule": "npm""#, #""rule": "npm", "sha265": "x""#, "$.artifacts[0].sha265: unknown key 'sha265'"),
            (#""kind": "integrity""#, #""kind": "integrity", "note": "x""#, "$.artifacts[0].evidence[0].note: unknown key 'note'"),
            (#""kind": "integrity""#, #""kind": "trust-me""#, "$.artifacts[0].evidence[0].kind: 'trust-me' is not one of"),
            (#""primary": true"#, #""primary": "yes""#, "$.artifacts[0].index.primary: expected a boolean"),
            (#""key": "npm:left-pad@1.3.0""#, #""key": "npm:left-pad@1.3.1""#,
             "$.artifacts[0].key: 'npm:left-pad@1.3.1' does not match the entry's fields (ecosystem npm, package left-pad, version 1.3.0)"),
            (#""ecosystem": "npm""#, #""ecosystem": "pypi""#, "$.artifacts[0].key: 'npm:left-pad@1.3.0' does not match"),
            (#""url": "http://127.0.0.1/left-pad/-/left-pad-1.3.0.tgz""#, #""url": """#, "$.artifacts[0].url: must not be empty"),
            (#""sha256": "a"#, #""sha256": "g"#, "$.artifacts[0].sha256: 'gaaa"),
            (#""package": "left-pad""#, #""package": """#, "$.artifacts[0].package: must not be empty"),
            (#""version": 1"#, #""version": 1.0"#, "$.version: expected a whole number, found 1.0"),
        ]
        for (from, to, says) in cases {
            let broken = text.replacingOccurrences(of: from, with: to)
            #expect(broken != text, "\(from) not in the lock")
            do {
                _ = try Lockfile.decode(Array(broken.utf8), file: "bouncer.lock")
                Issue.record("accepted: \(to)")
            } catch {
                #expect(error.code == "lock-invalid" && error.family == .configuration)
                #expect(error.message.hasPrefix("bouncer.lock: not a valid bouncer.lock: "), "\(error.message)")
                #expect(error.message.contains(says), "\(error.message)")
            }
        }
        // Two entries under one key: the second is named, with where the first is.
        let twice = text.replacingOccurrences(of: "\"artifacts\": [\n", with: "\"artifacts\": [\n" + entryText(text) + ",\n")
        do { _ = try Lockfile.decode(Array(twice.utf8), file: "x"); Issue.record("duplicate accepted") } catch {
            #expect(error.message.contains("$.artifacts[1]: duplicate entry 'npm:left-pad@1.3.0' (first at $.artifacts[0])"), "\(error.message)")
        }
        // Plain downloads and images: the key's kind must agree with the ecosystem.
        let download = LockEntry(key: "url:http://127.0.0.1/a.sh", url: "http://127.0.0.1/a.sh", ecosystem: .url, package: nil, version: nil,
                                 sha256: String(repeating: "b", count: 64), size: 0, rule: "unmatched", evidence: [])
        let plain = String(decoding: Lockfile(artifacts: [download]).encoded(), as: UTF8.self)
        #expect(try Lockfile.decode(Array(plain.utf8), file: "x").artifacts == [download])
        do {
            _ = try Lockfile.decode(Array(plain.replacingOccurrences(of: #""ecosystem": "url""#, with: #""ecosystem": "oci""#).utf8), file: "x")
            Issue.record("an image keyed as a download accepted")
        } catch {
            #expect(error.message.contains("expected a key starting 'oci:'"), "\(error.message)")
        }
    }

    /// The text of the one entry in a lock written by `encoded()` (its lines between the array's brackets).
    private func entryText(_ lock: String) -> String {
        let lines = lock.split(separator: "\n", omittingEmptySubsequences: false)
        guard let open = lines.firstIndex(where: { $0.hasSuffix("\"artifacts\": [") }),
              let close = lines.lastIndex(where: { $0 == "  ]," }) else { return "" }
        return lines[(open + 1)..<close].joined(separator: "\n")
    }

    /// The lock's layout is Bouncer's own, byte for byte (not whatever the
    /// platform's JSONEncoder prints): written out here by hand.
    @Test func lockLayoutIsFixed() throws {
        let entry = LockEntry(key: "pypi:demo@1.0", url: "https://h.example/d/demo-1.0.whl", ecosystem: .pypi, package: "demo",
                              version: "1.0", sha256: String(repeating: "c", count: 64), size: 9172, rule: "pypi",
                              evidence: [LockEvidence(kind: .digest), LockEvidence(kind: .sigstore, signer: "https://x/y@refs/tags/v1",
                                                                                    issuer: "https://issuer", logIndex: "42")])
        let bare = LockEntry(key: "url:https://h.example/a", url: "https://h.example/a", ecosystem: .url, package: nil, version: nil,
                             sha256: String(repeating: "d", count: 64), size: 0, rule: "unmatched", evidence: [])
        let expected = """
            {
              "artifacts": [
                {
                  "ecosystem": "pypi",
                  "evidence": [
                    {
                      "kind": "digest"
                    },
                    {
                      "issuer": "https://issuer",
                      "kind": "sigstore",
                      "logIndex": "42",
                      "signer": "https://x/y@refs/tags/v1"
                    }
                  ],
                  "key": "pypi:demo@1.0",
                  "package": "demo",
                  "rule": "pypi",
                  "sha256": "\(String(repeating: "c", count: 64))",
                  "size": 9172,
                  "url": "https://h.example/d/demo-1.0.whl",
                  "version": "1.0"
                },
                {
                  "ecosystem": "url",
                  "evidence": [],
                  "key": "url:https://h.example/a",
                  "rule": "unmatched",
                  "sha256": "\(String(repeating: "d", count: 64))",
                  "size": 0,
                  "url": "https://h.example/a"
                }
              ],
              "version": 1
            }

            """
        #expect(String(decoding: Lockfile(artifacts: [entry, bare]).encoded(), as: UTF8.self) == expected)
        #expect(Lockfile().encoded() == Array("{\n  \"artifacts\": [],\n  \"version\": 1\n}\n".utf8))
    }

    /// An entry records the index its package came from (credentials
    /// removed), in the same fixed layout; a lock without it still reads, and
    /// a frozen lock whose entry predates it does not count that as a change.
    @Test func lockRecordsThePackagesIndex() throws {
        var entry = LockEntry(key: "npm:@corp/lib@2.0.0", url: "https://npm.example/corp/@corp/lib/-/lib-2.0.0.tgz", ecosystem: .npm,
                              package: "@corp/lib", version: "2.0.0", sha256: String(repeating: "f", count: 64), size: 3, rule: "corp",
                              evidence: [])
        entry.index = LockIndex(PackageIndex(url: "https://user:tok@npm.example/corp/", isPrimary: false))
        let text = String(decoding: Lockfile(artifacts: [entry]).encoded(), as: UTF8.self)
        #expect(text.contains("""
                  "evidence": [],
                  "index": {
                    "primary": false,
                    "url": "https://npm.example/corp/"
                  },
                  "key": "npm:@corp/lib@2.0.0",
            """), "\(text)")
        let decoded = try Lockfile.decode(Array(text.utf8), file: "x")
        #expect(decoded.artifacts.first?.index == LockIndex(PackageIndex(url: "https://npm.example/corp/", isPrimary: false)))
        #expect(decoded.artifacts.first?.index?.packageIndex == PackageIndex(url: "https://npm.example/corp/", isPrimary: false))
        var older = entry
        older.index = nil
        #expect(try Lockfile.decode(Lockfile(artifacts: [older]).encoded(), file: "x").artifacts.first?.index == nil)
        #expect(!LockCommit.changed(older, entry))
        #expect(LockCommit.changed(entry, older))
        var moved = entry
        moved.index = LockIndex(PackageIndex(url: "https://npm.example/corp/", isPrimary: true))
        #expect(LockCommit.changed(entry, moved))
        #expect(LockCommit.difference(entry, moved) == "index https://npm.example/corp/ -> https://npm.example/corp/ (primary)")
    }

    /// A local file beside the lock is recorded relative to it (the same in
    /// every checkout) and made absolute again to be read; anything else is
    /// recorded as shown.
    @Test func lockRecordsFilesBesideItRelativeToIt() {
        #expect(LockEntry.recordedURL("file:///p/proj/wheels/a.whl", lockDirectory: "/p/proj") == "file:wheels/a.whl")
        #expect(LockEntry.recordedURL("file:///p/proj/wheels/a.whl", lockDirectory: "/p/proj/") == "file:wheels/a.whl")
        #expect(LockEntry.fetchURL("file:wheels/a.whl", lockDirectory: "/q/other") == "file:///q/other/wheels/a.whl")
        // pip spells a space in the path as %20: the directory is compared decoded, the rest kept as spelled.
        #expect(LockEntry.recordedURL("file:///p/my%20proj/wheels/a%2Bb.whl", lockDirectory: "/p/my proj") == "file:wheels/a%2Bb.whl")
        #expect(LockEntry.fetchURL("file:wheels/a%2Bb.whl", lockDirectory: "/q/my proj+x") == "file:///q/my%20proj%2Bx/wheels/a%2Bb.whl")
        #expect(LockEntry.recordedURL("file:///p/proj/w/%2E%2E/x.whl", lockDirectory: "/p/proj") == "file:///p/proj/w/%2E%2E/x.whl")
        for outside in ["file:///p/projx/a.whl", "file:///p/other/a.whl", "file:///p/proj/../x.whl", "file:///p/proj/a//b.whl",
                        "file:///p/proj/", "https://h.example/p/proj/a.whl"] {
            #expect(LockEntry.recordedURL(outside, lockDirectory: "/p/proj") == outside, "\(outside)")
        }
        for kept in ["file:///p/proj/a.whl", "https://h.example/a.whl"] {
            #expect(LockEntry.fetchURL(kept, lockDirectory: "/q") == kept)
        }
    }

    /// Strings are escaped as JSON requires, and decode back to themselves.
    @Test func lockStringsAreEscapedAndRoundTrip() throws {
        let odd = "a\"b\\c\nd\re\tf\u{01}g\u{1F}h/é✓"
        let entry = LockEntry(key: "url:" + odd, url: odd, ecosystem: .url, package: nil, version: nil,
                              sha256: String(repeating: "e", count: 64), size: 1, rule: odd, evidence: [LockEvidence(kind: .pin, source: odd)])
        let bytes = Lockfile(artifacts: [entry]).encoded()
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains(#""url": "a\"b\\c\nd\re\tf\u0001g\u001fh/é✓""#), "\(text)")
        #expect(try Lockfile.decode(bytes, file: "x") == Lockfile(artifacts: [entry]))
        // Foundation's parser agrees that it is JSON.
        #expect((try? JSONSerialization.jsonObject(with: Data(bytes))) != nil)
    }
}
