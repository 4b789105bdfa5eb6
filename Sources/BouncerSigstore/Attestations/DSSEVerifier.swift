import FoundationEssentials
import BouncerBase
import BouncerIO

/// A bare DSSE envelope (formats.md §6.1) verified with named keys: the
/// signature covers PAE(payloadType, payload), never the base64 text or the
/// JSON. An envelope may carry several signatures; at least one must verify
/// under a given key. The payload type is checked before any signature.
public enum DSSEVerifier {
    public struct Verified: Sendable {
        public var payload: [UInt8]
        /// Which of the given keys verified, and which signature.
        public var keyIndex: Int
        public var signatureIndex: Int
    }

    static let maxSignatures = 16

    /// `{"payload", "payloadType", "signatures": [{"sig", "keyid"?}]}`, 1 to 16 signatures.
    public static func parse(_ bytes: [UInt8]) throws(AttestationError) -> DSSEEnvelope {
        do {
            let root = try JSONNode.parse(bytes, limit: 16 << 20) { path, why in
                AttestationError(.malformed, "DSSE envelope \(path): \(why)")
            }
            let payload = try root.required("payload").bytes(allowEmpty: true)
            let payloadType = try root.required("payloadType").string()
            let signaturesNode = try root.required("signatures")
            let signatures = try signaturesNode.array(max: maxSignatures)
            guard !signatures.isEmpty else { throw signaturesNode.error("no signature") }
            return DSSEEnvelope(payloadType: payloadType, payload: payload, signatures: try signatures.map {
                DSSEEnvelope.Signature(sig: try $0.required("sig").bytes(), keyid: try $0.optional("keyid")?.string())
            })
        } catch let error as AttestationError {
            throw error
        } catch {
            throw AttestationError(.malformed, "DSSE envelope: \(error)")
        }
    }

    public static func verify(_ envelope: DSSEEnvelope, keys: [PublicKey],
                              payloadType: String = InTotoStatement.payloadType) throws(AttestationError) -> Verified {
        guard envelope.payloadType == payloadType else {
            throw AttestationError(.payloadType, "DSSE payloadType '\(envelope.payloadType.prefix(120))' is not \(payloadType)")
        }
        guard !keys.isEmpty else { throw AttestationError(.configuration, "no key to verify the DSSE envelope with") }
        let pae = envelope.pae
        for (signatureIndex, signature) in envelope.signatures.enumerated() {
            for (keyIndex, key) in keys.enumerated() {
                // A key too weak for Sigstore's schemes simply does not count.
                guard let scheme = try? BundleVerifier.scheme(for: key, hash: BundleVerifier.defaultHash(for: key)) else { continue }
                if key.verify(signature: signature.sig, message: pae, scheme: scheme) {
                    return Verified(payload: envelope.payload, keyIndex: keyIndex, signatureIndex: signatureIndex)
                }
            }
        }
        throw AttestationError(.signature, "none of the envelope's \(envelope.signatures.count) signature(s) verifies over PAE(payloadType, payload) with the given key(s)")
    }
}
