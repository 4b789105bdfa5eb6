import Foundation
import Testing
import BouncerTestSupport

/// Shared checks of the corpus suites that run the CLI on every Sigstore and
/// attestation case (VerifyBundleCorpusTests, VerifyAttestationCorpusTests).
enum CorpusRun {
    /// What differs between the refusal `CorpusRefusals` records and this run,
    /// or nil. Exit 1 needs a `--json` report whose every reason has the
    /// recorded code and one of which says the recorded fragment; exit 2
    /// needs the fragment on stderr.
    static func mismatch(_ refusal: CorpusRefusal, _ result: ProcessResult) -> String? {
        let got = "exit \(result.status): \(result.out.prefix(400)) \(result.err.prefix(300))"
        guard result.status == refusal.exit else { return "expected exit \(refusal.exit), got \(got)" }
        guard let code = refusal.code else {
            return result.err.contains(refusal.says) ? nil : "expected stderr to say '\(refusal.says)', got \(got)"
        }
        guard let report = try? JSONSerialization.jsonObject(with: result.stdout) as? [String: Any],
              report["verdict"] as? String == "fail",
              let reasons = report["reasons"] as? [[String: Any]], !reasons.isEmpty else {
            return "expected a --json report with verdict fail and reasons, got \(got)"
        }
        let codes = reasons.map { $0["code"] as? String ?? "" }
        guard codes.allSatisfy({ $0 == code }) else { return "expected reason \(code), got \(codes): \(got)" }
        guard reasons.contains(where: { ($0["message"] as? String ?? "").contains(refusal.says) }) else {
            return "expected reason \(code) to say '\(refusal.says)', got \(got)"
        }
        return nil
    }

    /// Prints the counts per expected verdict and every disagreement.
    static func report(_ label: String, _ runs: [(name: String, expected: String, problem: String?)]) {
        for kind in ["pass", "fail"] {
            let all = runs.filter { $0.expected == kind }
            let cases = Set(all.map { $0.name.replacingOccurrences(of: " (by digest)", with: "") })
            print("\(label) corpus: expected \(kind): \(cases.count) cases, \(all.filter { $0.problem == nil }.count)/\(all.count) runs agree")
        }
        for run in runs { if let problem = run.problem { print("MISMATCH \(run.name): \(problem)") } }
    }

    /// The fail cases among `dirs` are exactly the ones with an entry for this
    /// tool in `CorpusRefusals`: a new fail case has to be classified, and an
    /// entry for a case that is gone or now passes is stale.
    static func expectTableCovers(format: String, dirs: [URL], tool: KeyPath<CorpusFailCase, CorpusRefusal?>) {
        let failing = Set(dirs.compactMap { dir -> String? in
            guard let c = try? CorpusCase.load(dir) else { return nil }
            return c.expect == "fail" ? "\(format)/\(c.name)" : nil
        })
        let listed = Set(CorpusRefusals.table.filter { $0.key.hasPrefix(format + "/") && $0.value[keyPath: tool] != nil }.keys)
        #expect(failing.subtracting(listed).isEmpty, "fail cases with no expected refusal: \(failing.subtracting(listed).sorted())")
        #expect(listed.subtracting(failing).isEmpty, "expected refusals for no fail case: \(listed.subtracting(failing).sorted())")
        for key in failing.sorted() {
            if let note = CorpusRefusals.table[key]?.note { print("NOTE \(key): \(note)") }
        }
    }
}
