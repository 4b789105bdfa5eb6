import FoundationEssentials
import BouncerBase
import BouncerIO

/// The credentials the proxy sends upstream, as the clients it stands in for
/// would send them: npm's per-registry settings (`//HOST/PATH/:_authToken`…,
/// see `NpmConfiguration.authorization`), and the `user:password@` of a pip
/// index, extra index or find-links URL, which pip sends with every request
/// to that host and port (a page's file links rarely repeat them). Nothing
/// else is ever sent: a URL matching neither gets no Authorization header.
/// npm's client certificates (`:certfile` and `:keyfile`) follow the same
/// keys as its tokens.
public final class UpstreamCredentials: Sendable {
    private let npmSettings: [String: String]
    private let npmRegistries: [String]
    /// `scheme://host:port` → `Basic …`, from URLs with credentials.
    private let byOrigin = SharedValue<[String: String]>()

    init(npmSettings: [String: String], npmRegistries: [String], origins: [String: String] = [:]) {
        self.npmSettings = NpmConfiguration.hasCredentials(npmSettings) ? npmSettings : [:]
        self.npmRegistries = npmRegistries
        byOrigin.set(origins)
    }

    /// Whether there is anything to send (else fetches are left as they are).
    var isEmpty: Bool { npmSettings.isEmpty && (byOrigin.value ?? [:]).isEmpty }

    /// Takes the credentials of each URL that carries `user[:password]@`.
    func add(urls: [String]) {
        var found = byOrigin.value ?? [:]
        for url in urls {
            guard let (origin, authorization) = URLParts.basicAuthorization(url), found[origin] == nil else { continue }
            found[origin] = authorization
        }
        byOrigin.set(found)
    }

    func authorization(for url: String) -> String? {
        if !npmSettings.isEmpty, let npm = NpmConfiguration.authorization(for: url, settings: npmSettings, registries: npmRegistries) {
            return npm
        }
        guard let found = byOrigin.value, !found.isEmpty else { return nil }
        return found[URLParts.origin(url)]
    }

    /// The client certificate npm would present for `url` (nil: none).
    func clientCertificate(for url: String) -> ClientCertificate? {
        guard !npmSettings.isEmpty,
              let npm = NpmConfiguration.clientCertificate(for: url, settings: npmSettings, registries: npmRegistries) else { return nil }
        return ClientCertificate(certificate: npm.certfile, key: npm.keyfile)
    }

    /// `--upstream-credentials FILE`: a JSON object of origin → Authorization
    /// value, written by a shim so that no password goes on a command line
    /// (any user on the machine can read one in /proc).
    public static func read(_ path: String) throws(BouncerError) -> [String: String] {
        guard let bytes = try AtomicFile.read(path, limit: 1 << 20, code: "serve-credentials") else {
            throw BouncerError(.configuration, code: "serve-credentials", "\(path): no such file")
        }
        let root: JSON
        do { root = try JSON.parse(bytes) } catch { throw BouncerError(.configuration, code: "serve-credentials", "\(path): \(error)") }
        guard case .object(let fields) = root else { throw BouncerError(.configuration, code: "serve-credentials", "\(path): $ is not an object") }
        var out: [String: String] = [:]
        for (origin, value) in fields {
            guard case .string(let authorization) = value, URLParts.origin(origin) == origin.lowercased(), !authorization.contains("\n"),
                  !authorization.contains("\r") else {
                throw BouncerError(.configuration, code: "serve-credentials", "\(path): $[\"\(Redaction.url(origin))\"] is not an origin's Authorization value")
            }
            out[origin.lowercased()] = authorization
        }
        return out
    }
}
