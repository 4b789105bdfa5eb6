import Foundation
import Testing
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools
import BouncerTestSupport

/// Byte-level mutations of a real bundle: nothing traps, and a changed
/// signature, certificate or log entry never verifies.
@Suite struct BundleMutationTests {

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func mutatedBundlesNeverTrapAndSignedFieldsNeverPass() throws {
        guard let root = Corpus.rootOrNotice("BundleMutationTests") else { return }
        let dir = root.appendingPathComponent("sigstore-bundle/conformance__happy-path-v0.3")
        let original = [UInt8](try Data(contentsOf: dir.appendingPathComponent("bundle.sigstore.json")))
        let artifact = [UInt8](try Data(contentsOf: dir.appendingPathComponent("artifact")))
        let trusted = try SigstoreTrustedRoot.parse([UInt8](try Data(contentsOf: dir.appendingPathComponent("trusted_root.json"))))
        let policy = BundleVerifier.Policy.keyless(IdentityPolicy(
            identity: .exact("https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"),
            issuer: .exact("https://token.actions.githubusercontent.com")))
        // The byte ranges of the signature and certificate base64 text.
        let text = String(decoding: original, as: UTF8.self)
        func valueRange(_ key: String) -> Range<Int>? {
            guard let keyRange = text.range(of: "\"\(key)\""),
                  let open = text[keyRange.upperBound...].firstIndex(of: "\""),
                  let close = text[text.index(after: open)...].firstIndex(of: "\"") else { return nil }
            return text.utf8.distance(from: text.startIndex, to: open) + 1 ..< text.utf8.distance(from: text.startIndex, to: close)
        }
        let signed = [valueRange("signature"), valueRange("rawBytes")].compactMap { $0 }
        #expect(signed.count == 2)

        var rng = TestRandom.generator()
        var refused = 0
        for round in 0..<1500 {
            var bytes = original
            let inSigned = round % 3 == 0
            let position = inSigned
                ? Int.random(in: signed[round % 2], using: &rng)
                : Int.random(in: 0..<bytes.count, using: &rng)
            bytes[position] = inSigned
                ? Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8).randomElement(using: &rng) ?? 65
                : UInt8.random(in: 0...255, using: &rng)
            if bytes == original { continue }
            do {
                let parsed = try SigstoreBundle.parse(bytes)
                _ = try BundleVerifier.verify(bundle: parsed, artifact: .bytes(artifact), trustedRoot: trusted, policy: policy)
                // Any change to a base64 character of the signature or certificate
                // changes the decoded bytes (the decoder is strict), so it must not verify.
                if inSigned { Issue.record("a mutation at byte \(position) of signed material verified") }
                let context = String(decoding: original[max(0, position - 24)..<min(original.count, position + 8)], as: UTF8.self)
                print("accepted mutation at \(position) (\(bytes[position])): …\(context.debugDescription)…")
            } catch {
                refused += 1
            }
        }
        print("bundle mutations: \(refused) of 1500 refused")
        #expect(refused > 500)
    }
}
