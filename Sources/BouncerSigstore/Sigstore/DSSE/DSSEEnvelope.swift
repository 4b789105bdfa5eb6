import FoundationEssentials
import BouncerBase
import BouncerIO

/// A DSSE envelope (formats.md §6.1). The payload is kept as the decoded
/// bytes that the signature covers; it is parsed only after verification.
public struct DSSEEnvelope: Sendable {
    public struct Signature: Sendable {
        public var sig: [UInt8]
        /// A hint only: it is not covered by the signature.
        public var keyid: String?
    }

    public var payloadType: String
    public var payload: [UInt8]
    public var signatures: [Signature]
    /// The envelope object as JSON (sorted keys), for comparison with a
    /// transparency-log entry that records the envelope.
    public var json: [UInt8]

    public init(payloadType: String, payload: [UInt8], signatures: [Signature], json: [UInt8] = []) {
        self.payloadType = payloadType
        self.payload = payload
        self.signatures = signatures
        self.json = json
    }

    /// The bytes that are signed: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body.
    public var pae: [UInt8] { DSSEEnvelope.pae(payloadType: payloadType, payload: payload) }

    public static func pae(payloadType: String, payload: [UInt8]) -> [UInt8] {
        let type = Array(payloadType.utf8)
        var out = Array("DSSEv1 \(type.count) ".utf8)
        out += type
        out += Array(" \(payload.count) ".utf8)
        out += payload
        return out
    }

    /// Parses `{"payload", "payloadType", "signatures": [{"sig", "keyid"}]}`.
    /// A Sigstore bundle's envelope must carry exactly one signature.
    static func parse(_ node: JSONNode) throws -> DSSEEnvelope {
        try node.only(["payload", "payloadType", "signatures"])
        let payload = try node.required("payload").bytes(allowEmpty: true)
        let payloadType = try node.required("payloadType").string()
        let signaturesNode = try node.required("signatures")
        let signatures = try signaturesNode.array(max: 16)
        guard signatures.count == 1 else {
            throw signaturesNode.error("a bundle's DSSE envelope must have exactly one signature, found \(signatures.count)")
        }
        let json = node.value.serialized()
        return DSSEEnvelope(payloadType: payloadType, payload: payload, signatures: try signatures.map {
            Signature(sig: try $0.only(["sig", "keyid"]).required("sig").bytes(), keyid: try $0.optional("keyid")?.string())
        }, json: json)
    }
}
