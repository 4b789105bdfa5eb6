import Foundation
import Testing
import BouncerTestSupport

/// Every `sigstore-bundle` case of the corpus through `bouncer verify-bundle`,
/// exactly as the sigstore-conformance harness calls it: the verdict (exit 0
/// or not) must be the manifest's, with the file and, where the manifest says
/// so, with only its `sha256:` digest.
@Suite struct VerifyBundleCorpusTests {
    struct Outcome { var name: String; var expected: String; var got: String; var byDigest: Bool; var detail: String }

    static func arguments(_ c: CorpusCase, byDigest: Bool, sanIsPrefix: Bool = false) -> [String]? {
        guard let bundle = c.signature, bundle.hasSuffix(".json") else { return nil }
        var args = ["verify-bundle", "--bundle", c.path(bundle)]
        let trust = c.trust ?? []
        if trust.contains("key.pub") {
            args += ["--key", c.path("key.pub")]
        } else if let san = c.identity?.san, let issuer = c.identity?.issuer {
            if sanIsPrefix {
                args += ["--certificate-identity-regexp", NSRegularExpression.escapedPattern(for: san) + ".*"]
            } else {
                args += ["--certificate-identity", san]
            }
            args += ["--certificate-oidc-issuer", issuer]
        }
        if let root = trust.first(where: { $0.hasSuffix("trusted_root.json") }) {
            args += ["--trusted-root", c.path(root)]
        }
        if byDigest || c.artifact == nil {
            guard let sha = c.artifact_sha256 else { return nil }
            args.append("sha256:\(sha)")
        } else if let artifact = c.artifact {
            args.append(c.path(artifact))
        }
        return args
    }

    @Test func everySigstoreBundleCaseMatchesTheManifest() throws {
        guard Corpus.rootOrNotice("VerifyBundleCorpusTests") != nil else { return }
        let cases = try Corpus.cases(format: "sigstore-bundle").map(CorpusCase.load)
        #expect(cases.count >= 50, "the corpus README lists 54 sigstore-bundle cases")
        var outcomes: [Outcome] = []
        for c in cases {
            for byDigest in [false, true] {
                if byDigest && c.artifact == nil { continue }
                guard let args = Self.arguments(c, byDigest: byDigest) else { continue }
                let result = try BouncerProcess.run(args)
                // Keyless without an identity is a usage error (exit 2): never a pass.
                let got = result.status == 0 ? "pass" : "fail"
                outcomes.append(Outcome(name: c.name, expected: c.expect, got: got, byDigest: byDigest,
                                        detail: "exit \(result.status): \(result.err.prefix(300))"))
            }
        }
        let wrong = outcomes.filter { $0.expected != $0.got }
        for kind in ["pass", "fail"] {
            let all = outcomes.filter { $0.expected == kind }
            print("verify-bundle corpus: expected \(kind): \(all.filter { $0.got == kind }.count)/\(all.count) runs agree")
        }
        for o in wrong {
            print("MISMATCH \(o.name)\(o.byDigest ? " (by digest)" : ""): expected \(o.expected), got \(o.got); \(o.detail)")
        }
        #expect(wrong.isEmpty, "\(wrong.count) corpus runs disagree with the manifest (listed above)")
    }

    /// The `dsse` cases that are plain Sigstore bundles over a file or a sha256
    /// digest (DSSE envelope, in-toto subject must name the artifact).
    @Test func everyDSSEBundleCaseMatchesTheManifest() throws {
        guard let root = Corpus.rootOrNotice("VerifyBundleCorpusTests") else { return }
        var outcomes: [Outcome] = []
        for dir in Corpus.cases(format: "dsse") {
            let c = try CorpusCase.load(dir)
            let raw = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("case.json"))) as? [String: Any]
            let sanIsPrefix = ((raw?["identity"] as? [String: Any])?["san_is_prefix"] as? Bool) ?? false
            guard let args = Self.arguments(c, byDigest: false, sanIsPrefix: sanIsPrefix) else { continue }
            let result = try BouncerProcess.run(args)
            outcomes.append(Outcome(name: c.name, expected: c.expect, got: result.status == 0 ? "pass" : "fail",
                                    byDigest: c.artifact == nil, detail: "exit \(result.status): \(result.err.prefix(300))"))
        }
        _ = root
        for kind in ["pass", "fail"] {
            let all = outcomes.filter { $0.expected == kind }
            print("verify-bundle dsse corpus: expected \(kind): \(all.filter { $0.got == kind }.count)/\(all.count) cases agree")
        }
        let wrong = outcomes.filter { $0.expected != $0.got }
        for o in wrong { print("MISMATCH \(o.name): expected \(o.expected), got \(o.got); \(o.detail)") }
        #expect(outcomes.count >= 15)
        #expect(wrong.isEmpty, "\(wrong.count) dsse corpus cases disagree with the manifest (listed above)")
    }
}
