import FoundationEssentials
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore

/// Trust material shared by the `sigstore` and `provenance` checks: the
/// trusted root the policy chose and the signer a rule names. Problems here
/// are the policy's (configuration, exit 2), never the artifact's.
enum SigstoreTrust {
    /// The embedded roots, parsed once per process.
    private static let production = Result { () throws(SigstoreError) in try SigstoreTrustedRoot.production() }
    private static let staging = Result { () throws(SigstoreError) in try SigstoreTrustedRoot.staging() }

    static func trustedRoot(_ policy: Policy) -> Result<SigstoreTrustedRoot, EvidenceProblem> {
        if let root = policy.sigstore.trustedRoot { return .success(root) }
        return (policy.sigstore.staging ? staging : production).mapError { EvidenceProblem($0) }
    }

    /// The rule's signer as the bundle verifier's policy: a keyless identity
    /// and issuer (anchored matchers), or the `publicKey` key it names.
    static func signerPolicy(_ signer: SignerRequirement, _ context: EvidenceContext) -> Result<BundleVerifier.Policy, EvidenceProblem> {
        if let name = signer.key {
            let key: PolicyKey
            do { key = try context.key(name) } catch { return .failure(EvidenceProblem(error)) }
            do {
                return .success(.key(try PublicKey(pem: String(decoding: key.material.bytes, as: UTF8.self))))
            } catch {
                return .failure(EvidenceProblem(code: .sigstoreKeyInvalid, family: .configuration,
                                                message: "key '\(name)' (\(key.material.path)) is not a PEM public key: \(error)"))
            }
        }
        // The parser guarantees both for keyless rules; refuse rather than accept anyone if not.
        guard let identity = signer.identity, let issuer = signer.issuer else {
            return .failure(EvidenceProblem(code: .sigstoreSignerMissing, family: .configuration,
                                            message: "keyless evidence needs an identity and an issuer"))
        }
        return .success(.keyless(IdentityPolicy(identity: identity, issuer: issuer)))
    }

    /// A verifier failure as a problem: trust material → configuration, anything else → evidence.
    static func problem(_ error: any Error, shown: String) -> EvidenceProblem {
        if let failure = error as? any BouncerFailure {
            return EvidenceProblem(code: ReasonCode(failure), family: failure.family, message: "\(shown): \(failure.description)", cause: failure)
        }
        return EvidenceProblem(code: .sigstoreRefused, message: "\(shown): \(error)")
    }

    /// Largest artifact read into memory when the verifier needs its bytes
    /// (Ed25519 signs the message itself; DSSE subjects may use any digest).
    static let maxInMemory: UInt64 = 512 << 20

    enum ArtifactBytes {
        case bytes([UInt8])
        /// Larger than `maxInMemory`: only its digests are at hand.
        case tooLarge
    }

    static func readArtifact(_ context: EvidenceContext) -> Result<ArtifactBytes, EvidenceProblem> {
        guard context.size <= maxInMemory else { return .success(.tooLarge) }
        guard let data = FileManager.default.contents(atPath: context.artifactPath) else {
            return .failure(EvidenceProblem(code: .ioError, family: .transport, message: "cannot read the downloaded artifact"))
        }
        return .success(.bytes(Array(data)))
    }
}
