import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools
import BouncerTestSupport

@Suite struct SSHSignatureCorpusTests {
    /// Every sshsig corpus case, checked against its allowed_signers with the
    /// principal and namespace from the case.
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func corpusCasesGetTheirExpectedVerdict() throws {
        guard Corpus.rootOrNotice("SSHSignatureCorpusTests") != nil else { return }
        let cases = Corpus.cases(format: "sshsig")
        var ran = Set<String>()
        defer { SigTest.expectAllRan(ran, format: "sshsig", count: 10) }
        for directory in cases {
            ran.insert(directory.lastPathComponent)
            let corpusCase = try CorpusCase.load(directory)
            let extra = try #require(try SigCaseExtra.load(directory))
            let signers = (corpusCase.trust ?? []).filter { $0 == "allowed_signers" }
            #expect(signers.count == 1, "\(corpusCase.name) has no allowed_signers")
            let report = try SSHSignatureFormat.verify(
                message: try SigTest.bytes(corpusCase.path(corpusCase.artifact ?? "")),
                signature: try SigTest.bytes(corpusCase.path(corpusCase.signature ?? "")),
                keys: try signers.map { try SigTest.key(corpusCase.path($0)) },
                options: SignatureOptions(identity: extra.principal, namespace: extra.namespace))
            if corpusCase.expect == "pass" {
                let fact = SigTest.fact(report)
                #expect(fact?.signer == extra.principal, "\(corpusCase.name) should pass: \(report)")
                #expect(fact?.details["namespace"] == extra.namespace)
            } else {
                let expected = Self.failureReasons.first { corpusCase.name.contains($0.key) }?.value ?? ""
                #expect(SigTest.reason(report)?.hasPrefix(expected) == true,
                        "\(corpusCase.name) should fail (\(expected)): \(corpusCase.why ?? "") \(report)")
            }
            // The trusted .pub files beside allowed_signers name no principal: not a key for this format.
            for pub in (corpusCase.trust ?? []).filter({ $0.hasSuffix(".pub") }) {
                #expect(throws: BouncerError(.configuration, code: "ssh-allowed-signers-invalid", "")) {
                    try SSHSignatureFormat.verify(message: [], signature: [], keys: [try SigTest.key(corpusCase.path(pub))],
                                                 options: SignatureOptions(identity: "a", namespace: "b"))
                }
            }
        }
    }

    /// The specific reason each failing corpus case must be refused with.
    static let failureReasons = [
        "sig-rsa-key": "wrong key",
        "tampered-data": "bad signature",
        "wrong-namespace": "namespace mismatch",
        "mldsa44": "unsupported algorithm",
    ]
}
