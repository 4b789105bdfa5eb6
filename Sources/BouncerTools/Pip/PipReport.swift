import Foundation
import BouncerBase
import BouncerIO
import BouncerPolicy

/// The artifacts of pip's installation report (`pip install --dry-run
/// --report FILE`, report version 1): what pip would install, with the URL
/// and the index's hashes.
public struct PipPlannedArtifact: Equatable, Sendable {
    public var name: String
    public var version: String
    public var url: String
    /// `archive_info.hashes` (or `hash`). Not a claim: when the index states no
    /// digest, pip puts the hash of the bytes it downloaded here (see PipIndexLinks).
    public var indexDigests: [Digest]
}

public enum PipReport {
    public struct ParseError: BouncerFailure {
        public let path: String
        public let detail: String
        public var family: ErrorFamily { .configuration }
        public var code: String { "pip-report" }
        public var description: String { "pip's installation report, \(path): \(detail)" }
    }

    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> [PipPlannedArtifact] {
        guard let root = (try? JSON.parse(bytes))?.foundationValue as? [String: Any] else {
            throw ParseError(path: "$", detail: "not a JSON object")
        }
        guard let install = root["install"] as? [Any] else { throw ParseError(path: "$.install", detail: "missing or not an array") }
        var planned: [PipPlannedArtifact] = []
        for (index, item) in install.enumerated() {
            let at = "$.install[\(index)]"
            guard let entry = item as? [String: Any] else { throw ParseError(path: at, detail: "not an object") }
            guard let metadata = entry["metadata"] as? [String: Any], let name = metadata["name"] as? String,
                  let version = metadata["version"] as? String else {
                throw ParseError(path: at + ".metadata", detail: "no name and version")
            }
            guard let info = entry["download_info"] as? [String: Any], let url = info["url"] as? String else {
                throw ParseError(path: at + ".download_info.url", detail: "missing")
            }
            guard let archive = info["archive_info"] as? [String: Any] else {
                let kind = info["vcs_info"] != nil ? "a version-control checkout" : info["dir_info"] != nil ? "a local directory" : "not an archive"
                throw ParseError(path: at + ".download_info", detail: "\(name) comes from \(kind), which Bouncer cannot verify")
            }
            var digests: [Digest] = []
            var texts: [(String, String)] = []
            if let hashes = archive["hashes"] as? [String: Any] {
                for (algorithm, value) in hashes { if let hex = value as? String { texts.append((algorithm, hex)) } }
            } else if let single = archive["hash"] as? String, let equals = single.firstIndex(of: "=") {
                texts.append((String(single[..<equals]), String(single[single.index(after: equals)...])))
            }
            for (algorithm, hex) in texts.sorted(by: { $0.0 < $1.0 }) {
                // md5 and sha1 never count as evidence (design invariant 5).
                guard let kind = HashAlgorithm(rawValue: algorithm), kind != .md5, kind != .sha1 else { continue }
                do { digests.append(try Digest(algorithm: kind, hex: hex)) } catch {
                    throw ParseError(path: at + ".download_info.archive_info.hashes.\(algorithm)", detail: "\(error)")
                }
            }
            planned.append(PipPlannedArtifact(name: name, version: version, url: url, indexDigests: digests))
        }
        return planned
    }
}
