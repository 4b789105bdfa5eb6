import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
/// `{"signature": {"url": "{url}.asc", "key": "release"}}`: a detached
/// signature over the artifact's bytes, by the named key, in the key's own
/// format (an OpenPGP key never accepts a minisign signature, and so on).
enum SignatureRequirementCheck {
    static func check(_ spec: SignatureRequirement, _ context: EvidenceContext) -> Result<EvidenceProof, EvidenceProblem> {
        let key: PolicyKey
        do { key = try context.key(spec.key) } catch { return .failure(EvidenceProblem(error)) }
        let fetched: (bytes: [UInt8], shown: String)
        switch context.fetch(spec.url, what: "signature", unavailable: .signatureUnavailable) {
        case .success(let value): fetched = value
        case .failure(let problem): return .failure(problem)
        }
        if let problem = KeyedSignature.formatProblem(fetched.bytes, shown: fetched.shown, key: key) { return .failure(problem) }
        let outcome: SignedEvidence.Outcome
        do {
            outcome = try KeyedSignature.firstVerified(key, now: context.now) { options in
                try SignedEvidence.verifyDetached(fileAt: context.artifactPath, signature: fetched.bytes,
                                                  signaturePath: fetched.shown, keys: [key.material], options: options)
            } passed: { $0.report.passed }
        } catch let error as BouncerFailure {
            return .failure(EvidenceProblem(error))
        } catch {
            return .failure(EvidenceProblem(code: .signatureRefused, message: "\(fetched.shown): \(error)"))
        }
        guard let fact = outcome.report.verifiedSigners.first else {
            return .failure(KeyedSignature.refusal(outcome.report, shown: fetched.shown, keyName: spec.key))
        }
        // The signature must cover exactly the bytes that were hashed and will be handed over.
        if let signed = outcome.artifactSHA256, let hashed = context.sha256, !signed.matches(hashed) {
            return .failure(EvidenceProblem(code: .signatureArtifactChanged,
                                            message: "the file changed while its signature was being checked"))
        }
        return .success(EvidenceProof(kind: .signature, proves: [.integrity, .origin],
                                      summary: "signed by \(KeyedSignature.describe(fact)) (key '\(spec.key)')", signer: fact.pinned, source: fetched.shown,
                                      verifiedTime: fact.signedAt.map { ReleaseTime(date: $0, source: "\(fact.format) signature time, \(fetched.shown)") }))
    }
}

/// Helpers shared by the keyed signature checks (detached signatures and signed checksum lists).
enum KeyedSignature {
    static func options(_ key: PolicyKey, now: Date) -> SignatureOptions {
        SignatureOptions(identity: key.identity, namespace: key.namespace, now: now)
    }

    /// The principals to try for an SSH key: its `identity`, or else every
    /// literal principal its allowed_signers file names (the file is the
    /// named set of signers, as with `ssh-keygen -Y find-principals`).
    /// Wildcard patterns name nobody in particular and are never tried.
    static func identities(_ key: PolicyKey) throws(BouncerError) -> [String?] {
        guard key.kind == .ssh, key.identity == nil else { return [key.identity] }
        let principals = try AllowedSigners.parse(key.material).literalPrincipals
        guard !principals.isEmpty else {
            throw BouncerError(.configuration, code: "ssh-identity-required",
                               "key '\(key.name)': \(key.material.path) names no literal principal; give the key an 'identity'")
        }
        return principals
    }

    /// Runs `verify` once per principal (once for other key types); the first
    /// verified outcome wins, else the first outcome is reported.
    static func firstVerified<T>(_ key: PolicyKey, now: Date, _ verify: (SignatureOptions) throws -> T,
                                 passed: (T) -> Bool) throws -> T {
        var first: T? = nil
        for identity in try identities(key) {
            let result = try verify(SignatureOptions(identity: identity, namespace: key.namespace, now: now))
            if passed(result) { return result }
            if first == nil { first = result }
        }
        guard let first else { throw BouncerError(.configuration, code: "ssh-identity-required", "key '\(key.name)' names no signer") }
        return first
    }

    /// The signature must be in the format of the key the policy names.
    static func formatProblem(_ signature: [UInt8], shown: String, key: PolicyKey) -> EvidenceProblem? {
        guard let format = SignatureFormats.detect(signature: signature) else {
            return EvidenceProblem(code: .signatureUnrecognised, message: "\(shown) is not a signature in a known format")
        }
        guard format.name == key.signatureFormat else {
            return EvidenceProblem(code: .signatureWrongFormat,
                                   message: "\(shown) is a signature in \(format.name) format, but key '\(key.name)' is a \(key.kind.rawValue) key")
        }
        return nil
    }

    static func refusal(_ report: SignatureReport, shown: String, keyName: String) -> EvidenceProblem {
        let reasons = report.outcomes.compactMap { outcome -> String? in
            if case .refused(_, let reason) = outcome { return reason }
            return nil
        }
        let why = reasons.isEmpty ? "\(shown): no signature found" : reasons.joined(separator: "; ")
        return EvidenceProblem(code: .signatureRefused, message: "not signed by key '\(keyName)': \(why)")
    }

    static func describe(_ fact: SignerFact) -> String {
        var text = "\(fact.format) key \(fact.signer)"
        if let uid = fact.details["userID"] { text += " (\(uid))" }
        return text
    }
}

import FoundationEssentials
