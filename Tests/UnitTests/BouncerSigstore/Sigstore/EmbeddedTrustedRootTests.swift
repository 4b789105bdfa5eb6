import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools
import BouncerTestSupport

/// The embedded production and staging trusted roots are the files the
/// Resources README says they are: their sha256 must equal the values recorded
/// there, read from the README at test time, so that changing either the
/// roots or the recorded values alone fails.
@Suite struct EmbeddedTrustedRootTests {
    static let readme = Corpus.packageRoot.appendingPathComponent("Sources/BouncerSigstore/Sigstore/Resources/README.md")

    /// `constant → sha256` from the README's table rows: "| `production` | … | `<64 hex>` |".
    static func recordedDigests() throws -> [String: String] {
        let text = try String(contentsOf: readme, encoding: .utf8)
        let row = try NSRegularExpression(pattern: "^\\|\\s*`(\\w+)`\\s*\\|.*\\|\\s*`([0-9a-f]{64})`\\s*\\|\\s*$", options: [.anchorsMatchLines])
        var found: [String: String] = [:]
        for match in row.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            guard let name = Range(match.range(at: 1), in: text), let digest = Range(match.range(at: 2), in: text) else { continue }
            #expect(found[String(text[name])] == nil, "\(text[name]) is recorded twice")
            found[String(text[name])] = String(text[digest])
        }
        return found
    }

    @Test func embeddedRootsMatchTheRecordedDigests() throws {
        let recorded = try Self.recordedDigests()
        #expect(Set(recorded.keys) == ["production", "staging"], "README rows: \(recorded)")
        // The files end in one newline, which the raw string literal's closing line leaves out.
        let embedded = ["production": EmbeddedTrustedRoots.production, "staging": EmbeddedTrustedRoots.staging]
        for (name, text) in embedded {
            let digest = Hasher.digest(Array((text + "\n").utf8), .sha256).hex
            #expect(digest == recorded[name], "\(name): embedded sha256 \(digest), README records \(recorded[name] ?? "nothing")")
        }
        #expect(recorded["production"] != recorded["staging"])
    }

    @Test func embeddedRootsParseAndNameTheirInstances() throws {
        let production = try SigstoreTrustedRoot.production()
        let staging = try SigstoreTrustedRoot.staging()
        #expect(production.tlogs.contains { $0.baseURL == "https://rekor.sigstore.dev" })
        #expect(staging.tlogs.contains { $0.baseURL == "https://rekor.sigstage.dev" })
        #expect(!production.tlogs.contains { $0.baseURL.contains("sigstage") })
    }
}
