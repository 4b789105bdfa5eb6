import FoundationEssentials
import BouncerBase
import BouncerIO

/// What Bouncer keeps per trust anchor: the newest verified root (its exact
/// bytes, so it is re-parsed and its keys re-read on every run) and the
/// versions of timestamp, snapshot and targets already trusted.
public struct TUFTrustedState: Codable, Sendable, Equatable {
    public var version: Int = 1
    /// sha256 of the trust anchor's bytes: the state's key.
    public var anchor: String
    public var rootVersion: Int64?
    public var rootBase64: String?
    public var versions: TUFTrustedVersions

    public init(anchor: String) {
        self.anchor = anchor
        versions = TUFTrustedVersions()
    }

    mutating func setRoot(_ root: TUFRoot) {
        rootVersion = root.version
        rootBase64 = Base64.encode(root.bytes)
    }

    /// The persisted root, or nil before the first rotation.
    func trustedRoot() throws(TUFError) -> TUFRoot? {
        guard let rootBase64 else { return nil }
        guard let bytes = Base64.decode(rootBase64) else { throw .badAnchor("the persisted root is not base64") }
        let root: TUFRoot
        do { root = try TUFRoot.parse(bytes, file: "\(rootVersion.map(String.init) ?? "?").root.json (persisted)") } catch { throw .badAnchor(error.description) }
        guard root.version == rootVersion else { throw .badAnchor("the persisted root's version does not match its record") }
        return root
    }

    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return [] }
        return Array(data) + [0x0A]
    }
}
