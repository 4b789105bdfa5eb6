import FoundationEssentials
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore

/// The newest signed list seen at one URL.
public struct SeenList: Codable, Sendable, Equatable {
    public var sha256: String
    /// Its signed issue time (unix seconds), or the newest known from earlier lists.
    public var issuedAt: Int64?
    public var signer: String
    /// When Bouncer first accepted it (unix seconds).
    public var seenAt: Int64
    /// Digests of the lists it replaced, oldest first.
    public var superseded: [String]
}

/// `freshness.json` in Bouncer's state directory: per list URL, the newest
/// validly signed list seen. Sorted, pretty JSON.
public struct FreshnessState: Codable, Sendable, Equatable {
    public var version: Int
    public var lists: [String: SeenList]

    public init(version: Int = 1, lists: [String: SeenList] = [:]) {
        self.version = version
        self.lists = lists
    }

    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return Array("{\"lists\":{},\"version\":1}\n".utf8) }
        return Array(data) + [0x0A]
    }

    public static func decode(_ bytes: [UInt8], file: String) throws(BouncerError) -> FreshnessState {
        let hint = "remove \(file) to start over (Bouncer then forgets which lists it has seen)"
        let state: FreshnessState
        do { state = try JSONDocument.decode(FreshnessState.self, from: bytes) } catch {
            throw BouncerError(.configuration, code: "state-invalid", "\(file): not a valid Bouncer freshness state: \(error)", hint: hint)
        }
        guard state.version == 1 else {
            throw BouncerError(.configuration, code: "state-invalid", "\(file): unsupported state version \(state.version)", hint: hint)
        }
        for (url, seen) in state.lists {
            for digest in [seen.sha256] + seen.superseded where (try? Digest(algorithm: .sha256, hex: digest)) == nil {
                throw BouncerError(.configuration, code: "state-invalid", "\(file): lists[\"\(url)\"]: '\(digest.prefix(80))' is not a sha256 digest", hint: hint)
            }
        }
        return state
    }
}
