import BouncerBase
import BouncerIO

/// cosign's simple-signing payload (the "cosign container image signature"
/// format of containers/image): `critical.image.docker-manifest-digest` is
/// the manifest digest the signature is for, `critical.identity.docker-reference`
/// the reference it was signed as (a label unless a policy asks for it).
public struct SimpleSigningPayload: Sendable {
    public static let type = "cosign container image signature"
    public static let maxBytes = 64 << 10

    public var manifestDigest: Digest
    public var dockerReference: String?
    public var optional: [String: String]

    public static func parse(_ bytes: [UInt8]) throws(ImageSignatureError) -> SimpleSigningPayload {
        do {
            let root = try JSONNode.parse(bytes, limit: maxBytes) { path, why in
                ImageSignatureError(.payload, "simple-signing payload \(path): \(why)")
            }
            let critical = try root.required("critical")
            let typeNode = try critical.required("type")
            guard try typeNode.string() == type else {
                throw typeNode.error("type is not '\(type)'")
            }
            let digestNode = try critical.required("image").required("docker-manifest-digest")
            let manifestDigest: Digest
            do { manifestDigest = try Digest(parsing: try digestNode.string()) } catch { throw digestNode.error("not a digest") }
            guard manifestDigest.algorithm == .sha256, try digestNode.string().hasPrefix("sha256:") else {
                throw digestNode.error("not a sha256:<hex> digest")
            }
            let reference = try critical.optional("identity")?.optional("docker-reference")?.string()
            var optional: [String: String] = [:]
            if let node = try root.optional("optional"), case .object(let members) = node.value {
                for (key, value) in members { if case .string(let text) = value { optional[key] = text } }
            }
            return SimpleSigningPayload(manifestDigest: manifestDigest, dockerReference: reference, optional: optional)
        } catch let error as ImageSignatureError {
            throw error
        } catch {
            throw ImageSignatureError(.payload, "simple-signing payload: \(error)")
        }
    }
}

/// A refusal from image-signature verification, naming the step.
public struct ImageSignatureError: BouncerFailure, Equatable {
    public enum Step: String, Sendable {
        case notSignature = "oci-not-a-signature"
        case payload = "oci-signature-payload"
        case digest = "oci-signature-digest"
        case reference = "oci-signature-reference"
        case material = "oci-signature-material"
        case noLog = "oci-signature-no-log"
        case noSignatures = "oci-no-signatures"
        case referrer = "oci-referrer"
    }

    public let step: Step
    public let message: String

    public init(_ step: Step, _ message: String) {
        self.step = step
        self.message = message
    }

    public var family: ErrorFamily { .evidence }
    public var code: String { step.rawValue }
    public var description: String { message }
}
