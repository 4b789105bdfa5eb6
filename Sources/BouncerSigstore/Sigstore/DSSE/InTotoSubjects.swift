import FoundationEssentials
import BouncerBase
import BouncerIO

/// The subjects of an in-toto Statement (v0.1 or v1), read from the exact
/// payload bytes whose signature was verified (formats.md §6.1-6.2).
public enum InTotoSubjects {
    public static let payloadType = "application/vnd.in-toto+json"

    public struct Subject: Sendable {
        public var name: String?
        /// Lowercase algorithm name (`sha256`, `sha512`, ...) to lowercase hex.
        public var digests: [String: String]
    }

    public static func parse(_ payload: [UInt8]) throws(SigstoreError) -> [Subject] {
        do {
            let root = try JSONNode.parse(payload, limit: 16 << 20) { path, why in
                SigstoreError(.dsse, "in-toto statement \(path): \(why)")
            }
            let type = try root.required("_type")
            switch try type.string() {
            case "https://in-toto.io/Statement/v1", "https://in-toto.io/Statement/v0.1": break
            default: throw type.error("not an in-toto Statement")
            }
            let subjects = try root.required("subject").array(max: 4096)
            return try subjects.map { node in
                var digests: [String: String] = [:]
                for (algorithm, value) in try node.required("digest").object() {
                    guard case .string(let hex) = value else { throw try node.required("digest").error("digest values must be strings") }
                    digests[algorithm.lowercased()] = hex.lowercased()
                }
                return Subject(name: try node.optional("name")?.string(), digests: digests)
            }
        } catch let error as SigstoreError {
            throw error
        } catch {
            throw SigstoreError(.dsse, "in-toto statement: \(error)")
        }
    }
}
