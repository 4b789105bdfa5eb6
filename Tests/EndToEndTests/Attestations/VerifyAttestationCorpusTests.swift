import Foundation
import Testing
import BouncerTestSupport

/// Every attestation case of the corpus (dsse, pep740, npm-attestations,
/// npm-registry-signature) through the built `bouncer`, with the manifest's
/// identity and trust material: a pass case must exit 0; a fail case must be
/// refused for the reason `CorpusRefusals` records (exit 1 and its `--json`
/// reason code). Every case folder of these formats runs: none is skipped.
@Suite(.blocking) struct VerifyAttestationCorpusTests {
    struct Outcome { var name: String; var expected: String; var problem: String? }

    static func raw(_ c: CorpusCase) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: c.directory.appendingPathComponent("case.json"))) as? [String: Any] ?? [:]
    }

    /// The manifest's identity; for a keyless case with none (no certificate to
    /// take one from), the placeholder, so the CLI gets past its usage check.
    static func identityArguments(_ c: CorpusCase, _ raw: [String: Any]) -> [String] {
        guard let san = c.identity?.san, let issuer = c.identity?.issuer else {
            print("NOTICE: \(c.format)/\(c.name): no identity in the manifest; run with the placeholder identity")
            return CorpusRefusals.placeholderIdentity
        }
        let prefix = ((raw["identity"] as? [String: Any])?["san_is_prefix"] as? Bool) ?? false
        return (prefix ? ["--certificate-identity-regexp", NSRegularExpression.escapedPattern(for: san) + ".*"]
                       : ["--certificate-identity", san]) + ["--certificate-oidc-issuer", issuer]
    }

    static func trustArguments(_ c: CorpusCase) -> [String] {
        var args: [String] = []
        for file in c.trust ?? [] {
            if file.hasSuffix("trusted_root.json") { args += ["--trusted-root", c.path(file)] }
            if file.hasSuffix("npm-keys.json") { args += ["--registry-keys", c.path(file)] }
        }
        return args
    }

    /// The artifact: the file, else its sha256, else the subject digest the
    /// manifest lists, else (fail cases only) the placeholder digest.
    static func artifactArgument(_ c: CorpusCase, _ raw: [String: Any]) -> String? {
        if let artifact = c.artifact { return c.path(artifact) }
        if let sha = c.artifact_sha256 { return "sha256:\(sha)" }
        let subjects = ((raw["extra"] as? [String: Any])?["subjects"] as? [[String: Any]]) ?? []
        let digest = subjects.first?["digest"] as? [String: String] ?? [:]
        if let sha512 = digest["sha512"] { return "sha512:\(sha512)" }
        if let sha256 = digest["sha256"] { return "sha256:\(sha256)" }
        guard c.expect == "fail" else { return nil }
        print("NOTICE: \(c.format)/\(c.name): no digest anywhere in the manifest; run with the placeholder digest")
        return CorpusRefusals.placeholderDigest
    }

    func run(_ c: CorpusCase, _ args: [String], label: String? = nil) throws -> Outcome {
        let result = try BouncerProcess.run(args + ["--json"])
        let name = "\(c.format)/\(c.name)" + (label.map { " (\($0))" } ?? "")
        if c.expect == "pass" {
            return Outcome(name: name, expected: "pass",
                           problem: result.status == 0 ? nil : "expected a pass, got exit \(result.status): \(result.out.prefix(300)) \(result.err.prefix(300))")
        }
        guard let refusal = CorpusRefusals.table["\(c.format)/\(c.name)"]?.verifyAttestation else {
            return Outcome(name: name, expected: "fail", problem: "fail case with no verify-attestation entry in CorpusRefusals")
        }
        return Outcome(name: name, expected: "fail", problem: CorpusRun.mismatch(refusal, result))
    }

    /// The tarball's package.json name and version, read with the real tar.
    static func npmPackage(_ tarball: String) throws -> (String, String)? {
        let result = try BouncerProcess.runProgram("/usr/bin/tar", ["-xzOf", tarball, "package/package.json"])
        guard result.status == 0, let json = try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any],
              let name = json["name"] as? String, let version = json["version"] as? String else { return nil }
        return (name, version)
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func everyAttestationCaseMatchesTheManifest() throws {
        guard Corpus.rootOrNotice("VerifyAttestationCorpusTests") != nil else { return }
        var outcomes: [Outcome] = []
        var ran: [String: Set<String>] = [:]
        for format in ["dsse", "pep740", "npm-attestations"] {
            for dir in Corpus.cases(format: format) {
                let c = try CorpusCase.load(dir), raw = try Self.raw(c)
                guard let signature = c.signature, let artifact = Self.artifactArgument(c, raw) else {
                    outcomes.append(Outcome(name: "\(format)/\(c.name)", expected: c.expect, problem: "no signature file, or no artifact or digest for a pass case"))
                    continue
                }
                let args = ["verify-attestation", "--bundle", c.path(signature)] + Self.identityArguments(c, raw)
                    + Self.trustArguments(c) + [artifact]
                outcomes.append(try run(c, args))
                ran[format, default: []].insert(c.name)
                // npm responses also through verify-npm, with the package named by the tarball itself.
                if format == "npm-attestations" {
                    guard let tarball = c.artifact, let (name, version) = try Self.npmPackage(c.path(tarball)) else {
                        outcomes.append(Outcome(name: "\(format)/\(c.name) (verify-npm)", expected: c.expect, problem: "no npm tarball with a package.json"))
                        continue
                    }
                    let npm = ["verify-npm", "--package", name, "--version", version, "--tarball", c.path(tarball),
                               "--attestations", c.path(signature)] + Self.identityArguments(c, raw) + Self.trustArguments(c)
                    outcomes.append(try run(c, npm, label: "verify-npm"))
                }
            }
        }
        // Registry signatures: the case is (package, version, integrity, keyid, sig) from the manifest,
        // written into a copy of the packument at test time (derived cases replay or alter it).
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("bouncer-npmsig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        for dir in Corpus.cases(format: "npm-registry-signature") {
            let c = try CorpusCase.load(dir), raw = try Self.raw(c)
            let extra = raw["extra"] as? [String: Any] ?? [:]
            guard let name = extra["package"] as? String, let version = extra["version"] as? String,
                  var packument = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: c.path("packument.json")))) as? [String: Any],
                  var versions = packument["versions"] as? [String: Any], var manifest = versions[version] as? [String: Any],
                  var dist = manifest["dist"] as? [String: Any] else { Issue.record("\(c.name): unreadable case"); continue }
            dist["integrity"] = extra["integrity"]
            dist["signatures"] = [["keyid": extra["keyid"], "sig": extra["sig"]]]
            manifest["dist"] = dist; versions[version] = manifest; packument["versions"] = versions
            let file = tmp.appendingPathComponent("\(c.name).json")
            try JSONSerialization.data(withJSONObject: packument).write(to: file)
            outcomes.append(try run(c, ["verify-npm", "--package", name, "--version", version, "--packument", file.path,
                                        "--registry-keys", c.path("npm-keys.json")]))
            ran["npm-registry-signature", default: []].insert(c.name)
        }
        CorpusRun.report("verify-attestation", outcomes.map { ($0.name, $0.expected, $0.problem) })
        print("verify-attestation corpus: cases per format: \(ran.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.count)" }.joined(separator: ", "))")
        // Every case folder of every format ran, and every fail case has its expected refusal.
        for format in ["dsse", "pep740", "npm-attestations", "npm-registry-signature"] {
            let dirs = Corpus.cases(format: format)
            #expect(!dirs.isEmpty, "\(format): no cases")
            #expect(ran[format, default: []] == Set(dirs.map(\.lastPathComponent)), "\(format): not every case folder ran")
            CorpusRun.expectTableCovers(format: format, dirs: dirs, tool: \.verifyAttestation)
        }
        #expect(outcomes.allSatisfy { $0.problem == nil }, "\(outcomes.filter { $0.problem != nil }.count) corpus runs disagree (listed above)")
    }
}
