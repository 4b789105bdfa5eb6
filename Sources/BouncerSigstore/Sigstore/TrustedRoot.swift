import FoundationEssentials
import BouncerBase
import BouncerIO

/// A Sigstore `trusted_root.json` (formats.md §5.2): the Fulcio CAs, the
/// transparency logs, the CT logs and the timestamp authorities, each with the
/// window in which it may be used. This is local trust material: a malformed
/// file is a configuration error (exit 2), not a refusal of the bundle.
public struct SigstoreTrustedRoot: Sendable {
    public struct Window: Sendable, Equatable {
        public var start: Date?
        public var end: Date?

        public init(start: Date? = nil, end: Date? = nil) {
            self.start = start
            self.end = end
        }

        /// An RFC 3339 time as trusted_root.json writes it, or nil.
        public static func parseRFC3339(_ text: String) -> Date? { RFC3339.parse(text) }

        /// Whether `date` falls in the window. The end is inclusive, as the
        /// conformance suite expects (TimeRange is a closed interval there).
        public func contains(_ date: Date) -> Bool {
            if let start, date < start { return false }
            if let end, date > end { return false }
            return true
        }
    }

    public struct CertificateAuthority: Sendable {
        public var uri: String
        /// Leaf-most first; the last certificate is the trust anchor.
        public var chainDER: [[UInt8]]
        public var validFor: Window

        public init(uri: String, chainDER: [[UInt8]], validFor: Window) {
            self.uri = uri
            self.chainDER = chainDER
            self.validFor = validFor
        }
    }

    public struct LogInstance: Sendable {
        public var baseURL: String
        public var logID: [UInt8]
        public var checkpointKeyID: [UInt8]?
        public var spkiDER: [UInt8]
        public var keyDetails: String
        public var validFor: Window
    }

    public var certificateAuthorities: [CertificateAuthority]
    public var tlogs: [LogInstance]
    public var ctlogs: [LogInstance]
    public var timestampAuthorities: [CertificateAuthority]
    /// Log keys decoded on first use, only those a bundle names, and then
    /// kept for the next bundle verified under this root.
    let decodedKeys = DecodedKeys()
    /// The CA certificates, parsed on first use and kept likewise.
    let parsedCertificates = ParsedCertificates()

    public init(certificateAuthorities: [CertificateAuthority], tlogs: [LogInstance], ctlogs: [LogInstance],
                timestampAuthorities: [CertificateAuthority]) {
        self.certificateAuthorities = certificateAuthorities
        self.tlogs = tlogs
        self.ctlogs = ctlogs
        self.timestampAuthorities = timestampAuthorities
    }

    static let maxBytes = 4 << 20

    public static func parse(_ bytes: [UInt8], source: String = "trusted root") throws(SigstoreError) -> SigstoreTrustedRoot {
        do {
            let root = try JSONNode.parse(bytes, limit: maxBytes) { path, why in
                SigstoreError(.trustedRoot, "\(source) \(path): \(why)")
            }
            let mediaType = try root.required("mediaType")
            switch try mediaType.string() {
            case "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
                 "application/vnd.dev.sigstore.trustedroot.v0.2+json": break
            default: throw mediaType.error("unsupported trusted root media type")
            }
            return SigstoreTrustedRoot(
                certificateAuthorities: try (root.optional("certificateAuthorities")?.array(max: 64) ?? []).map(parseAuthority),
                tlogs: try (root.optional("tlogs")?.array(max: 64) ?? []).map(parseLog),
                ctlogs: try (root.optional("ctlogs")?.array(max: 64) ?? []).map(parseLog),
                timestampAuthorities: try (root.optional("timestampAuthorities")?.array(max: 64) ?? []).map(parseAuthority))
        } catch let error as SigstoreError {
            throw error
        } catch {
            throw SigstoreError(.trustedRoot, "\(source): \(error)")
        }
    }

    /// A `validFor` window. Its start is required and its end, when given,
    /// must not precede it: a window with no start says nothing about when the
    /// key or CA may be used, and sigstore-go and sigstore-python refuse such a
    /// root when loading it. `owner` is the object holding `validFor`.
    private static func parseWindow(_ owner: JSONNode) throws -> Window {
        guard let node = try owner.optional("validFor") else {
            throw owner.fail("\(owner.path).validFor.start", "missing: every validity window needs a start")
        }
        guard let startField = try node.optional("start") else {
            throw node.fail("\(node.path).start", "missing: every validity window needs a start")
        }
        guard let start = RFC3339.parse(try startField.string()) else { throw startField.error("not an RFC 3339 time") }
        guard let endField = try node.optional("end") else { return Window(start: start, end: nil) }
        guard let end = RFC3339.parse(try endField.string()) else { throw endField.error("not an RFC 3339 time") }
        guard end >= start else { throw endField.error("the window ends before it starts") }
        return Window(start: start, end: end)
    }

    private static func parseAuthority(_ node: JSONNode) throws -> CertificateAuthority {
        let certs = try node.required("certChain").required("certificates").array(max: 10)
        guard !certs.isEmpty else { throw try node.required("certChain").error("empty certificate chain") }
        return CertificateAuthority(
            uri: try node.optional("uri")?.string() ?? "",
            chainDER: try certs.map { try $0.required("rawBytes").bytes() },
            validFor: try parseWindow(node))
    }

    private static func parseLog(_ node: JSONNode) throws -> LogInstance {
        let key = try node.required("publicKey")
        return LogInstance(
            baseURL: try node.optional("baseUrl")?.string() ?? "",
            logID: try node.required("logId").required("keyId").bytes(),
            checkpointKeyID: try node.optional("checkpointKeyId")?.required("keyId").bytes(),
            spkiDER: try key.required("rawBytes").bytes(),
            keyDetails: try key.optional("keyDetails")?.string() ?? "",
            validFor: try parseWindow(key))
    }

    /// Sigstore's public-good instance (production), embedded.
    public static func production() throws(SigstoreError) -> SigstoreTrustedRoot {
        try parse(Array(EmbeddedTrustedRoots.production.utf8), source: "embedded production trusted root")
    }

    /// Sigstore's staging instance, embedded.
    public static func staging() throws(SigstoreError) -> SigstoreTrustedRoot {
        try parse(Array(EmbeddedTrustedRoots.staging.utf8), source: "embedded staging trusted root")
    }
}

/// Public keys decoded from DER SubjectPublicKeyInfo, shared by the copies of
/// one trusted root. Keyed by the DER itself, not by position, so a copy whose
/// logs were edited can never be answered with another log's key.
final class DecodedKeys: @unchecked Sendable {
    private let lock = Lock()
    // nil: the DER is not a key Bouncer reads (that log is left out, fail closed).
    private var keys: [[UInt8]: PublicKey?] = [:]

    func key(_ spkiDER: [UInt8]) -> PublicKey? {
        lock.lock()
        defer { lock.unlock() }
        if let known = keys[spkiDER] { return known }
        let key = try? PublicKey(spkiDER: spkiDER)
        keys[spkiDER] = .some(key)
        return key
    }
}
