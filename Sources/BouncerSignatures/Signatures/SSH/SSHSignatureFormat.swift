import FoundationEssentials
import BouncerBase
import BouncerIO

/// SSH signatures (`ssh-keygen -Y sign`, SSHSIG) checked against an
/// `allowed_signers` file, in the order of OpenSSH's `sshsig.c`: blob,
/// namespace, hash, signature, then whether the embedded key is authorised
/// for the principal. The principal and namespace are required inputs.
public enum SSHSignatureFormat: DetachedSignatureFormat {
    public static let name = "ssh"

    public static func recognises(signature: [UInt8]) -> Bool {
        signature.starts(with: Array(SSHSignatureBlob.beginLine.utf8))
    }

    public static func verify(message: [UInt8], signature: [UInt8], keys: [KeyMaterial],
                              options: SignatureOptions) throws -> SignatureReport {
        guard let identity = options.identity, !identity.isEmpty else {
            throw BouncerError(.configuration, code: "ssh-identity-required",
                               "an SSH signature is only evidence for a named signer: the principal (--identity) is required")
        }
        guard let namespace = options.namespace, !namespace.isEmpty else {
            throw BouncerError(.configuration, code: "ssh-namespace-required",
                               "an SSH signature is bound to a namespace: the expected namespace (--namespace, e.g. 'file') is required")
        }
        guard !keys.isEmpty else {
            throw BouncerError(.configuration, code: "ssh-no-allowed-signers", "no allowed_signers file was given",
                               hint: "pass an allowed_signers file with --key")
        }
        let signers = try keys.map { key throws(BouncerError) in try AllowedSigners.parse(key) }
        return SignatureReport(outcomes: [check(message: message, signature: signature, signers: signers,
                                                identity: identity, namespace: namespace, now: options.now)])
    }

    static func check(message: [UInt8], signature: [UInt8], signers: [AllowedSigners], identity: String,
                      namespace: String, now: Date) -> SignatureOutcome {
        let blob: SSHSignatureBlob
        do { blob = try SSHSignatureBlob.parse(armored: signature) } catch {
            return .refused(signer: nil, reason: "malformed SSH signature: \(error.message)")
        }
        guard blob.namespace == namespace else {
            return .refused(signer: nil, reason: "namespace mismatch: the signature is for namespace '\(blob.namespace)', expected '\(namespace)'")
        }
        let hash: HashAlgorithm
        switch blob.hashAlgorithm {
        case "sha256": hash = .sha256
        case "sha512": hash = .sha512
        default: return .refused(signer: nil, reason: "unsupported algorithm: hash '\(blob.hashAlgorithm)' (expected sha256 or sha512)")
        }
        let key: SSHPublicKey
        do { key = try SSHPublicKey.parse(blob.publicKeyBlob) } catch {
            switch error {
            case .unsupported(let what): return .refused(signer: nil, reason: "unsupported algorithm: \(what)")
            case .malformed(let why): return .refused(signer: nil, reason: "malformed SSH signature: public key: \(why)")
            }
        }
        let signed = SSHSignatureBlob.signedData(namespace: namespace, hashAlgorithm: blob.hashAlgorithm,
                                                 messageDigest: Hasher.digest(message, hash).bytes)
        let facts: [String: String]
        do { facts = try key.verify(signature: blob.signature, over: signed) } catch {
            switch error {
            case .unsupported(let what): return .refused(signer: nil, reason: "unsupported algorithm: \(what)")
            case .malformed(let why): return .refused(signer: nil, reason: "malformed SSH signature: \(why)")
            case .bad(let why): return .refused(signer: key.fingerprint, reason: "bad signature: \(why)")
            }
        }
        return authorise(key: key, signers: signers, identity: identity, namespace: namespace, now: now,
                         facts: facts.merging([
                             "namespace": namespace, "hashAlgorithm": blob.hashAlgorithm,
                             "keyType": key.typeName, "fingerprint": key.fingerprint,
                         ]) { a, _ in a })
    }

    /// Step 6 of sshsig.c: the embedded key proves nothing until an
    /// allowed_signers line lists it for this principal and namespace, now.
    static func authorise(key: SSHPublicKey, signers: [AllowedSigners], identity: String, namespace: String,
                          now: Date, facts: [String: String]) -> SignatureOutcome {
        let listed = signers.flatMap { file in
            file.entries.filter { $0.keyBlob == key.blob }.map { (file.path, $0) }
        }
        guard !listed.isEmpty else {
            return .refused(signer: key.fingerprint, reason: "wrong key: the signature was made by \(key.typeName) key \(key.fingerprint), which is not in the allowed_signers")
        }
        let forIdentity = listed.filter { SSHPatterns.listMatches(identity, list: $0.1.principals) }
        guard !forIdentity.isEmpty else {
            return .refused(signer: identity, reason: "principal not allowed: key \(key.fingerprint) is not listed for '\(identity)'")
        }
        var reasons: [String] = []
        for (path, entry) in forIdentity {
            let place = "\(path):\(entry.line)"
            if entry.certAuthority {
                reasons.append("certificates not supported: \(place) lists this key as a cert-authority, and SSH certificates are not supported")
            } else if let namespaces = entry.namespaces, !SSHPatterns.listMatches(namespace, list: namespaces) {
                reasons.append("namespace not allowed: \(place) allows this key only for namespaces \"\(namespaces)\", not '\(namespace)'")
            } else if let after = entry.validAfter, now < after {
                reasons.append("key not yet valid: \(place) sets valid-after \(timestamp(after))")
            } else if let before = entry.validBefore, now > before {
                reasons.append("key expired: \(place) sets valid-before \(timestamp(before))")
            } else {
                return .verified(SignerFact(format: name, signer: identity,
                                            details: facts.merging(["principal": identity, "allowedSigners": place]) { a, _ in a }))
            }
        }
        return .refused(signer: identity, reason: reasons.joined(separator: "; "))
    }

    private static func timestamp(_ date: Date) -> String {
        UTCTime.format(date)
    }
}
