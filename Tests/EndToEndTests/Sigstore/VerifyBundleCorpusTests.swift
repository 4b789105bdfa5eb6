import Foundation
import Testing
import BouncerTestSupport

/// Every `sigstore-bundle` case of the corpus, and every `dsse` case that is a
/// single bundle, through `bouncer verify-bundle` exactly as the
/// sigstore-conformance harness calls it: a pass case must exit 0; a fail case
/// must be refused for the reason `CorpusRefusals` records (exit 1 and its
/// `--json` reason code), with the file and with only its `sha256:` digest.
/// The cases run are the case folders, less the skips listed here with their
/// reason.
@Suite(.blocking) struct VerifyBundleCorpusTests {
    struct Run {
        var key: String
        var byDigest: Bool
        var expected: String
        var problem: String?
    }

    /// dsse cases verify-bundle cannot take, each with the reason.
    static let dsseSkips: [String: String] = [
        "gh-cli__provenance-demo-whl-missing-verification-material_fail": "JSON lines (a list of bundles) is verify-attestation's input, not verify-bundle's",
        "sigstore-go__example-bundle-provenance": "the subject is named by sha512 only (npm integrity) and verify-bundle takes a file or a sha256; verify-attestation runs it",
        "sigstore-go__sigstore-js-2.0.0-provenance": "the subject is named by sha512 only (npm integrity) and verify-bundle takes a file or a sha256; verify-attestation runs it",
    ]

    static func raw(_ c: CorpusCase) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: c.directory.appendingPathComponent("case.json"))) as? [String: Any] ?? [:]
    }

    /// The artifact argument: the file, else the manifest's sha256, else a
    /// sha256 subject of the statement, else (fail cases only) the placeholder.
    static func artifact(_ c: CorpusCase, _ raw: [String: Any], byDigest: Bool) -> String? {
        if !byDigest, let artifact = c.artifact { return c.path(artifact) }
        if let sha = c.artifact_sha256 { return "sha256:\(sha)" }
        let subjects = ((raw["extra"] as? [String: Any])?["subjects"] as? [[String: Any]]) ?? []
        if let sha = subjects.compactMap({ ($0["digest"] as? [String: String])?["sha256"] }).first { return "sha256:\(sha)" }
        return c.expect == "fail" ? CorpusRefusals.placeholderDigest : nil
    }

    static func arguments(_ c: CorpusCase, _ raw: [String: Any], artifact: String) -> [String] {
        var args = ["verify-bundle", "--bundle", c.path(c.signature ?? ""), "--json"]
        let trust = c.trust ?? []
        if trust.contains("key.pub") {
            args += ["--key", c.path("key.pub")]
        } else if let san = c.identity?.san, let issuer = c.identity?.issuer {
            let sanIsPrefix = ((raw["identity"] as? [String: Any])?["san_is_prefix"] as? Bool) ?? false
            args += sanIsPrefix ? ["--certificate-identity-regexp", NSRegularExpression.escapedPattern(for: san) + ".*"]
                                : ["--certificate-identity", san]
            args += ["--certificate-oidc-issuer", issuer]
        } else {
            args += CorpusRefusals.placeholderIdentity
        }
        if let root = trust.first(where: { $0.hasSuffix("trusted_root.json") }) {
            args += ["--trusted-root", c.path(root)]
        }
        return args + [artifact]
    }

    /// What is wrong with this run, or nil when it is what the manifest and the table say.
    static func check(_ c: CorpusCase, _ key: String, _ result: ProcessResult) -> String? {
        if c.expect == "pass" {
            return result.status == 0 ? nil : "expected a pass, got exit \(result.status): \(result.out.prefix(300)) \(result.err.prefix(300))"
        }
        guard let refusal = CorpusRefusals.table[key]?.verifyBundle else { return "fail case with no verify-bundle entry in CorpusRefusals" }
        return CorpusRun.mismatch(refusal, result)
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func everySigstoreBundleCaseMatchesTheManifest() throws {
        guard Corpus.rootOrNotice("VerifyBundleCorpusTests") != nil else { return }
        var runs: [Run] = []
        var ran: Set<String> = []
        let dirs = Corpus.cases(format: "sigstore-bundle")
        for dir in dirs {
            let c = try CorpusCase.load(dir), raw = try Self.raw(c), key = "sigstore-bundle/\(c.name)"
            let isKeyless = !(c.trust ?? []).contains("key.pub")
            if isKeyless, c.identity?.san == nil, c.expect == "fail" {
                print("NOTICE: \(key): no identity in the manifest; run with the placeholder identity")
            }
            // With the file, then with only its digest (the conformance protocol's two forms).
            for byDigest in c.artifact == nil ? [true] : [false, true] {
                guard let artifact = Self.artifact(c, raw, byDigest: byDigest) else {
                    runs.append(Run(key: key, byDigest: byDigest, expected: c.expect, problem: "no artifact and no sha256 in the manifest"))
                    continue
                }
                let result = try BouncerProcess.run(Self.arguments(c, raw, artifact: artifact))
                runs.append(Run(key: key, byDigest: byDigest, expected: c.expect, problem: Self.check(c, key, result)))
            }
            ran.insert(c.name)
        }
        CorpusRun.report("verify-bundle sigstore-bundle", runs.map { ($0.key + ($0.byDigest ? " (by digest)" : ""), $0.expected, $0.problem) })
        // Every case folder ran (none skipped), and every pass and fail case is counted.
        #expect(ran == Set(dirs.map(\.lastPathComponent)))
        #expect(!dirs.isEmpty)
        #expect(runs.allSatisfy { $0.problem == nil }, "\(runs.filter { $0.problem != nil }.count) runs disagree (listed above)")
        CorpusRun.expectTableCovers(format: "sigstore-bundle", dirs: dirs, tool: \.verifyBundle)
    }

    /// The `dsse` cases that are single Sigstore bundles, over a file or a
    /// sha256 digest (the in-toto subject must name the artifact).
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func everyDSSEBundleCaseMatchesTheManifest() throws {
        guard Corpus.rootOrNotice("VerifyBundleCorpusTests") != nil else { return }
        var runs: [Run] = []
        var ran: Set<String> = [], skipped: Set<String> = []
        let dirs = Corpus.cases(format: "dsse")
        for dir in dirs {
            let c = try CorpusCase.load(dir), raw = try Self.raw(c), key = "dsse/\(c.name)"
            if let reason = Self.dsseSkips[c.name] {
                print("SKIP \(key) (verify-bundle): \(reason)")
                skipped.insert(c.name)
                continue
            }
            guard let artifact = Self.artifact(c, raw, byDigest: false) else {
                runs.append(Run(key: key, byDigest: false, expected: c.expect, problem: "no file and no sha256 (manifest or subject) for a pass case, and not a listed skip"))
                continue
            }
            if artifact == CorpusRefusals.placeholderDigest { print("NOTICE: \(key): no sha256 anywhere in the manifest; run with the placeholder digest") }
            if c.identity?.san == nil { print("NOTICE: \(key): no identity in the manifest; run with the placeholder identity") }
            let result = try BouncerProcess.run(Self.arguments(c, raw, artifact: artifact))
            runs.append(Run(key: key, byDigest: c.artifact == nil, expected: c.expect, problem: Self.check(c, key, result)))
            ran.insert(c.name)
        }
        CorpusRun.report("verify-bundle dsse", runs.map { ($0.key, $0.expected, $0.problem) })
        // The folders are exactly the cases run plus the listed skips, and every listed skip is a folder.
        let names = Set(dirs.map(\.lastPathComponent))
        #expect(ran.union(skipped) == names, "not run and not a listed skip: \(names.subtracting(ran).subtracting(skipped).sorted())")
        #expect(skipped == Set(Self.dsseSkips.keys), "listed skips with no case folder: \(Set(Self.dsseSkips.keys).subtracting(skipped).sorted())")
        #expect(!dirs.isEmpty)
        #expect(runs.allSatisfy { $0.problem == nil }, "\(runs.filter { $0.problem != nil }.count) runs disagree (listed above)")
        CorpusRun.expectTableCovers(format: "dsse", dirs: dirs.filter { Self.dsseSkips[$0.lastPathComponent] == nil }, tool: \.verifyBundle)
    }
}
