import BouncerBase
import BouncerIO
/// Verifies a local file against digest pins and/or an (unsigned) checksum
/// list, hashing it once with every algorithm needed. Pure apart from
/// reading the file; the outcome is a report, never a throw, except when the
/// file cannot be read (a transport/I-O error, exit 3).
public enum DigestEvidence {
    public struct Inputs: Sendable {
        public var pins: [Digest] = []
        public var list: ChecksumList?
        /// The entry to look up in `list` (default: the file's base name).
        public var listName: String?
        /// Whether the list's signature was verified (said so in the summary).
        public var listSigner: String?

        public init(pins: [Digest] = [], list: ChecksumList? = nil, listName: String? = nil, listSigner: String? = nil) {
            self.pins = pins
            self.list = list
            self.listName = listName
            self.listSigner = listSigner
        }
    }

    public static func verify(path: String, displayName: String, inputs: Inputs) throws(BouncerError) -> VerificationReport {
        let entryName = inputs.listName ?? inputs.list.map { $0.resolve(baseName: baseName(path)) } ?? baseName(path)
        var algorithms: [HashAlgorithm] = [.sha256]
        algorithms += inputs.pins.map(\.algorithm)
        if let list = inputs.list { algorithms += ChecksumListCheck.algorithms(for: entryName, in: list) }
        let hashed = try FileHasher.hash(path: path, algorithms: algorithms)
        return report(digests: hashed.digests, size: hashed.size, displayName: displayName,
                      entryName: entryName, inputs: inputs)
    }

    /// The decision for digests already computed (e.g. while downloading).
    public static func report(digests: [HashAlgorithm: Digest], size: UInt64, displayName: String,
                              entryName: String, inputs: Inputs) -> VerificationReport {
        var evidence: [VerificationReport.Evidence] = []
        var reasons: [VerificationReport.Reason] = []
        for pin in inputs.pins {
            guard pin.algorithm.isEvidence else {
                reasons.append(.init(code: "digest-weak", message: "\(pin.algorithm.rawValue) pins never count as evidence"))
                continue
            }
            guard let actual = digests[pin.algorithm] else {
                reasons.append(.init(code: "digest-missing", message: "no \(pin.algorithm.rawValue) was computed"))
                continue
            }
            if pin.matches(actual) {
                evidence.append(.init(kind: "digest", proves: ["integrity"],
                                      summary: "\(pin.algorithm.rawValue) matches the pinned digest",
                                      details: ["expected": pin.description]))
            } else {
                reasons.append(.init(code: "digest-mismatch",
                                     message: "\(pin.algorithm.rawValue) is \(actual.hex), expected \(pin.hex)"))
            }
        }
        if let list = inputs.list {
            switch ChecksumListCheck.check(name: entryName, actual: digests, list: list, size: size) {
            case .success(let listed):
                let origin = inputs.listSigner.map { "; the list is signed by \($0)" }
                    ?? " (the list is unsigned: integrity against the list only, not origin)"
                var details = ["list": listed.list, "entry": listed.name, "line": String(listed.line),
                               "digest": listed.digest.description]
                if let signer = inputs.listSigner { details["signer"] = signer }
                if let listedSize = list.entries(named: listed.name).compactMap(\.size).first {
                    details["size"] = String(listedSize)
                }
                evidence.append(.init(kind: "checksums",
                                      proves: inputs.listSigner == nil ? ["integrity"] : ["integrity", "origin"],
                                      summary: "\(listed.digest.algorithm.rawValue) listed in \(listed.list) line \(listed.line)\(origin)",
                                      details: details))
            case .failure(let refusal):
                reasons.append(.init(code: refusal.code, message: refusal.description))
            }
        }
        if evidence.isEmpty && reasons.isEmpty {
            reasons.append(.init(code: "nothing-to-verify", message: "no digest or checksum list was given"))
        }
        return VerificationReport(
            artifact: .init(name: displayName, sha256: digests[.sha256]?.hex, size: size),
            evidence: evidence, reasons: reasons)
    }

    static func baseName(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? path
    }
}
