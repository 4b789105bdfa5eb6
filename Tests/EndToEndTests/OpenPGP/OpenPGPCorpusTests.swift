import Foundation
import Testing
import BouncerTestSupport

/// Every `openpgp` and `checksum-list` case of ../shared/corpus (real Debian
/// material) gets its expected verdict through the CLI.
@Suite(.blocking) struct OpenPGPCorpusTests {
    static func arguments(_ c: CorpusCase) -> [String] {
        let keys = (c.trust ?? []).flatMap { ["--key", c.path($0)] }
        guard let signature = c.signature else { return [] }
        if c.format == "openpgp" {
            if let artifact = c.artifact {
                return ["verify-signature", c.path(artifact), "--signature", c.path(signature)] + keys + ["--json"]
            }
            return ["verify-signature", c.path(signature)] + keys + ["--json"]
        }
        var args = ["verify", c.path(c.artifact ?? ""), "--checksums", c.path(signature)] + keys + ["--json"]
        if let entry = Self.listEntry(c) { args += ["--name", entry] }
        return args
    }

    static func listEntry(_ c: CorpusCase) -> String? {
        let data = try? Data(contentsOf: c.directory.appendingPathComponent("case.json"))
        let json = data.flatMap { try? JSONSerialization.jsonObject(with: $0) } as? [String: Any]
        return (json?["extra"] as? [String: Any])?["list_entry"] as? String
    }

    /// What each failing case must be refused for, from its manifest's `why`:
    /// the reason code and a text every reason (one per signature, for the
    /// two-signature Debian material) must contain. A fail case without an
    /// entry here fails the test, so each new one gets its reason written down.
    static func expectedRefusal(_ c: CorpusCase) throws -> (code: String, text: String)? {
        switch c.name {
        case "debian__inrelease-tampered_fail",                       // a hex digit changed inside the signed text
             "debian__release-detached-textmode-final-newline_fail",  // the artifact keeps a newline the signature excludes
             "debian__release-stale-detached-sig_fail":               // a stale Release.gpg next to a newer Release
            return ("signature-refused", "BAD signature from key")
        case "debian__inrelease-untrusted-keyring_fail":              // valid signatures, no signer in the keyring
            return ("signature-refused", "is not in the trusted keyring (\(c.path(c.trust?.first ?? "")))")
        case "debian__inrelease-wrong-packages_fail":                 // one extra byte: the size is checked first
            let size = try #require(try FileManager.default.attributesOfItem(atPath: c.path(c.artifact ?? ""))[.size] as? Int)
            return ("checksums-size-mismatch", "'\(listEntry(c) ?? "")' is \(size) bytes, but")
        case "debian__packages-tampered-deb_fail":                    // one bit flipped: the digest differs
            return ("checksums-mismatch", "sha256 of '\(listEntry(c) ?? "")' is \(c.artifact_sha256 ?? "?"), but")
        default:
            return nil
        }
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func corpusVerdicts() throws {
        guard Corpus.rootOrNotice("OpenPGPCorpusTests") != nil else { return }
        let cases = Corpus.cases(format: "openpgp") + Corpus.cases(format: "checksum-list")
        #expect(cases.count >= 12)
        var ran = Set<String>()
        for directory in cases {
            let c = try CorpusCase.load(directory)
            let result = try BouncerProcess.run(Self.arguments(c))
            let verdict = jsonObject(result)["verdict"] as? String
            if c.expect == "pass" {
                #expect(result.status == 0, "\(c.name): \(result.out) \(result.err)")
                #expect(verdict == "pass", "\(c.name)")
            } else {
                #expect(result.status == 1, "\(c.name): \(result.out) \(result.err)")
                #expect(verdict == "fail", "\(c.name)")
                let reasons = jsonObject(result)["reasons"] as? [[String: Any]] ?? []
                #expect(!reasons.isEmpty, "\(c.name): a refusal must say why")
                let expected = try Self.expectedRefusal(c)
                #expect(expected != nil, "\(c.name): no expected reason written down for this fail case (\(c.why ?? ""))")
                for reason in reasons {
                    #expect(reason["code"] as? String == expected?.code, "\(c.name): \(reason)")
                    #expect((reason["message"] as? String)?.contains(expected?.text ?? "\u{0}") == true,
                            "\(c.name): expected '\(expected?.text ?? "")' in \(reason)")
                }
                // A refused signature names its key, in its entry and its reason.
                for entry in jsonObject(result)["signatures"] as? [[String: Any]] ?? [] where entry["status"] as? String == "refused" {
                    let signer = entry["signer"] as? String ?? ""
                    #expect(signer.count == 40, "\(c.name): \(entry)")
                    #expect((entry["reason"] as? String)?.contains("key \(signer)") == true, "\(c.name): \(entry)")
                }
            }
            ran.insert(c.directory.deletingLastPathComponent().lastPathComponent + "/" + c.name)
        }
        let folders = Corpus.folderNames(format: "openpgp").map { "openpgp/\($0)" } + Corpus.folderNames(format: "checksum-list").map { "checksum-list/\($0)" }
        #expect(ran == Set(folders), "ran \(ran.sorted())")
    }

    /// InRelease carries two signatures; the report lists both, and with only
    /// one of the keys trusted the other is reported as not counting.
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func multipleSignaturesAreEachReported() throws {
        guard let root = Corpus.rootOrNotice("OpenPGPCorpusTests.multipleSignatures") else { return }
        let both = root.appendingPathComponent("openpgp/debian__bookworm-updates-inrelease-clearsigned")
        let all = try BouncerProcess.run(["verify-signature", both.appendingPathComponent("InRelease").path,
                                          "--key", both.appendingPathComponent("debian-archive-keyring.gpg").path, "--json"])
        #expect(all.status == 0)
        #expect(verifiedSigners(all).count == 2)

        let one = root.appendingPathComponent("openpgp/debian__inrelease-one-of-two-keys-known")
        let partial = try BouncerProcess.run(["verify-signature", one.appendingPathComponent("InRelease").path,
                                              "--key", one.appendingPathComponent("debian-archive-trixie-automatic.gpg").path, "--json"])
        #expect(partial.status == 0)
        let signatures = jsonObject(partial)["signatures"] as? [[String: Any]] ?? []
        #expect(signatures.count == 2)
        #expect(signatures.filter { $0["status"] as? String == "refused" }.count == 1)
        #expect(signatures.contains { ($0["reason"] as? String)?.contains("not in the trusted keyring") == true })
    }

    /// A detached signature over the list (`verify --checksums Release --signature Release.asc`),
    /// and the stale Release.gpg the mirror served, which must refuse the list.
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func detachedSignatureOverTheList() throws {
        guard let root = Corpus.rootOrNotice("OpenPGPCorpusTests.detached") else { return }
        let good = root.appendingPathComponent("openpgp/debian__release-detached-textmode-from-inrelease")
        let stale = root.appendingPathComponent("openpgp/debian__release-stale-detached-sig_fail")
        let packages = root.appendingPathComponent("checksum-list/debian__inrelease-lists-packages-xz/Packages.xz").path
        let key = good.appendingPathComponent("debian-archive-keyring.gpg").path
        let ok = try BouncerProcess.run(["verify", packages, "--checksums", good.appendingPathComponent("Release").path,
                                         "--signature", good.appendingPathComponent("Release.asc").path, "--key", key,
                                         "--name", "main/binary-amd64/Packages.xz", "--json"])
        #expect(ok.status == 0, "\(ok.out) \(ok.err)")
        #expect(verifiedSigners(ok).count == 2)
        let refused = try BouncerProcess.run(["verify", packages, "--checksums", stale.appendingPathComponent("Release").path,
                                              "--signature", stale.appendingPathComponent("Release.gpg").path, "--key", key,
                                              "--name", "main/binary-amd64/Packages.xz"])
        #expect(refused.status == 1)
        #expect(refused.err.contains("Release.gpg: signature at offset 0"), "\(refused.err)")
        #expect(refused.err.contains("BAD signature"), "\(refused.err)")
    }
}
