import BouncerBase
import BouncerIO
/// Checks a file's digests against the entries a checksum list has for it.
///
/// Only sha256/sha384/sha512 entries count. Every such entry for the name
/// must match (a list that says two things about one file is not evidence
/// for either). The result is a fact or a refusal, never a throw.
public enum ChecksumListCheck {
    /// What a matching entry proves: these bytes are the ones the list names.
    public struct Listed: Sendable, Equatable {
        public let list: String
        public let name: String
        public let digest: Digest
        public let line: Int
    }

    public enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        case notListed(name: String, list: String)
        case onlyWeakDigests(name: String, list: String, algorithms: [HashAlgorithm])
        case mismatch(name: String, list: String, line: Int, expected: Digest, actual: Digest)
        case sizeMismatch(name: String, list: String, line: Int, expected: UInt64, actual: UInt64)
        case ambiguousBaseName(name: String, list: String, candidates: [String])

        public var code: String {
            switch self {
            case .notListed: "checksums-not-listed"
            case .onlyWeakDigests: "checksums-weak-digest"
            case .mismatch: "checksums-mismatch"
            case .sizeMismatch: "checksums-size-mismatch"
            case .ambiguousBaseName: "checksums-ambiguous-name"
            }
        }

        public var description: String {
            switch self {
            case .notListed(let name, let list):
                "'\(name)' is not listed in \(list)"
            case .onlyWeakDigests(let name, let list, let algorithms):
                "\(list) lists '\(name)' only with \(algorithms.map(\.rawValue).joined(separator: ", ")), which never counts as evidence"
            case .mismatch(let name, let list, let line, let expected, let actual):
                "\(expected.algorithm.rawValue) of '\(name)' is \(actual.hex), but \(list) line \(line) lists \(expected.hex)"
            case .sizeMismatch(let name, let list, let line, let expected, let actual):
                "'\(name)' is \(actual) bytes, but \(list) line \(line) lists \(expected) bytes"
            case .ambiguousBaseName(let name, let list, let candidates):
                "\(list) lists several entries named '\(name)' (\(candidates.prefix(5).joined(separator: ", "))); give --name with the full entry"
            }
        }
    }

    /// The algorithms a file must be hashed with to be checked against `name`.
    public static func algorithms(for name: String, in list: ChecksumList) -> [HashAlgorithm] {
        var out: [HashAlgorithm] = []
        for entry in list.entries(named: name) where entry.digest.algorithm.isEvidence {
            if !out.contains(entry.digest.algorithm) { out.append(entry.digest.algorithm) }
        }
        return out
    }

    public static func check(name: String, actual: [HashAlgorithm: Digest],
                             list: ChecksumList, size: UInt64? = nil) -> Result<Listed, Refusal> {
        let named = list.entries(named: name)
        guard !named.isEmpty else {
            let candidates = name.contains("/") ? [] : list.pathEntries(withBaseName: name)
            if candidates.count > 1 {
                return .failure(.ambiguousBaseName(name: name, list: list.source, candidates: candidates))
            }
            return .failure(.notListed(name: name, list: list.source))
        }
        // A listed size is checked before any digest: a wrong size is a clear,
        // cheap refusal (Debian indexes list both).
        if let size {
            for entry in named {
                if let expected = entry.size, expected != size {
                    return .failure(.sizeMismatch(name: name, list: list.source, line: entry.line, expected: expected, actual: size))
                }
            }
        }
        let strong = named.filter { $0.digest.algorithm.isEvidence }
        guard !strong.isEmpty else {
            return .failure(.onlyWeakDigests(name: name, list: list.source, algorithms: named.map(\.digest.algorithm)))
        }
        for entry in strong {
            // A missing actual digest is a caller bug; treat it as a mismatch, never a pass.
            guard let have = actual[entry.digest.algorithm], entry.digest.matches(have) else {
                let shown = actual[entry.digest.algorithm] ?? Digest(trusted: entry.digest.algorithm, bytes: [])
                return .failure(.mismatch(name: name, list: list.source, line: entry.line,
                                          expected: entry.digest, actual: shown))
            }
        }
        let best = strong.max { $0.digest.algorithm < $1.digest.algorithm } ?? strong[0]
        return .success(Listed(list: list.source, name: name, digest: best.digest, line: best.line))
    }

    /// Whether a list entry may be used to find a local file (check mode): a
    /// relative path without `..` components.
    public static func isSafeLocalName(_ name: String) -> Bool {
        guard !name.hasPrefix("/") else { return false }
        return !name.split(separator: "/", omittingEmptySubsequences: false).contains("..")
    }
}
