import FoundationEssentials
import BouncerBase
import BouncerIO

/// An in-toto Statement v0.1 or v1 (formats.md §6.2), parsed from the exact
/// payload bytes whose DSSE signature was verified. Nothing in it comes from
/// outside the signature: the predicate type in particular is read from the
/// signed payload, never from an envelope or response field (CVE-2022-35929).
public struct InTotoStatement {
    public static let payloadType = "application/vnd.in-toto+json"
    public static let typeV1 = "https://in-toto.io/Statement/v1"
    public static let typeV01 = "https://in-toto.io/Statement/v0.1"

    public struct Subject: Sendable {
        /// A label only: matching is by digest.
        public var name: String?
        /// Lowercase algorithm name to lowercase hex.
        public var digests: [String: String]
    }

    public var type: String
    public var subjects: [Subject]
    public var predicateType: String
    /// The predicate as parsed JSON (nil when absent or null).
    let predicate: JSONNode?

    static let maxBytes = 16 << 20
    static let maxSubjects = 4096

    public static func parse(_ payload: [UInt8]) throws(AttestationError) -> InTotoStatement {
        do {
            let root = try JSONNode.parse(payload, limit: maxBytes) { path, why in
                AttestationError(.statement, "in-toto statement \(path): \(why)")
            }
            let typeNode = try root.required("_type")
            let type = try typeNode.string()
            guard type == typeV1 || type == typeV01 else {
                throw typeNode.error("unknown statement type '\(type.prefix(120))'")
            }
            let subjectsNode = try root.required("subject")
            let subjects = try subjectsNode.array(max: maxSubjects)
            guard !subjects.isEmpty else { throw subjectsNode.error("no subject") }
            let parsed = try subjects.map { node in
                let digestNode = try node.required("digest")
                var digests: [String: String] = [:]
                for (algorithm, value) in try digestNode.object() {
                    guard case .string(let hex) = value else { throw digestNode.error("digest '\(algorithm)' is not a string") }
                    digests[algorithm.lowercased()] = hex.lowercased()
                }
                guard !digests.isEmpty else { throw digestNode.error("empty digest set") }
                return Subject(name: try node.optional("name")?.string(), digests: digests)
            }
            let predicateTypeNode = try root.required("predicateType")
            let predicateType = try predicateTypeNode.string()
            guard !predicateType.isEmpty else { throw predicateTypeNode.error("empty") }
            return InTotoStatement(type: type, subjects: parsed, predicateType: predicateType,
                                   predicate: try root.optional("predicate"))
        } catch let error as AttestationError {
            throw error
        } catch {
            throw AttestationError(.statement, "in-toto statement: \(error)")
        }
    }

    /// The subject whose digest equals the artifact's, with the algorithm that
    /// matched. Only sha256/sha384/sha512 count; sha1, md5 and gitCommit never do.
    public func matchingSubject(_ artifact: ArtifactDigests) -> (subject: Subject, digest: Digest)? {
        for subject in subjects {
            for algorithm in [HashAlgorithm.sha512, .sha384, .sha256] {
                guard let hex = subject.digests[algorithm.rawValue],
                      let expected = try? Digest(algorithm: algorithm, hex: hex),
                      let actual = artifact.digest(algorithm) else { continue }
                if actual.matches(expected) { return (subject, expected) }
            }
        }
        return nil
    }

    /// Requires a subject naming the artifact by digest.
    public func requireSubject(_ artifact: ArtifactDigests) throws(AttestationError) -> (subject: Subject, digest: Digest) {
        guard let match = matchingSubject(artifact) else {
            let names = subjects.compactMap(\.name).prefix(3).map { "'\($0)'" }.joined(separator: ", ")
            throw AttestationError(.subject, "no subject of the statement has the artifact's digest \(artifact.summary)" +
                                   (names.isEmpty ? "" : " (the statement names \(names))"))
        }
        return match
    }
}

/// The artifact as the checks see it: its bytes (every digest can be
/// computed) or a single known digest.
public struct ArtifactDigests: Sendable {
    public let bytes: [UInt8]?
    public let known: Digest?

    public init(bytes: [UInt8]) { self.bytes = bytes; self.known = nil }
    public init(digest: Digest) { self.bytes = nil; self.known = digest }

    public func digest(_ algorithm: HashAlgorithm) -> Digest? {
        if let bytes { return Hasher.digest(bytes, algorithm) }
        if let known, known.algorithm == algorithm { return known }
        return nil
    }

    public var sha256: Digest? { digest(.sha256) }

    var summary: String { (sha256 ?? known).map(\.description) ?? "(unknown)" }

    var bundleArtifact: BundleVerifier.Artifact {
        if let bytes { return .bytes(bytes) }
        if let known { return .digest(known) }
        return .bytes([])
    }
}
