import FoundationEssentials
import BouncerBase

/// The OCI distribution API (distribution-spec v1.1) over the Fetcher's
/// libcurl transfers: anonymous access or the Bearer-token challenge flow,
/// manifests and indexes by tag or digest, blobs, and the referrers API
/// with its `sha256-<hex>` tag fallback. Everything fetched by digest is
/// hashed while it streams and refused unless its sha256 is that digest.
public final class RegistryClient {
    public let registry: String
    public let apiHost: String
    public let allowHTTP: Bool
    let fetcher: Fetcher
    /// Bearer tokens by scope. Never printed: they appear only in request headers.
    private var tokens: [String: String] = [:]
    /// Counts requests, for tests and the benchmark (not a statistic users need).
    public private(set) var requestCount = 0
    /// Manifests read in this run, by repository and sha256 digest: content-addressed, so
    /// reading one again by digest (a build's base image, for its ONBUILD triggers) asks nothing.
    private var manifests: [String: (Document, OCIManifest)] = [:]

    public static let maxBlobBytes: UInt64 = 16 << 20
    static let maxTokenBytes: UInt64 = 1 << 20

    public init(registry: String, apiHost: String? = nil, allowHTTP: Bool, fetcher: Fetcher) {
        self.registry = registry
        self.apiHost = apiHost ?? registry
        self.allowHTTP = allowHTTP
        self.fetcher = fetcher
    }

    public convenience init(for reference: ImageReference, allowHTTP: Bool, fetcher: Fetcher) {
        self.init(registry: reference.registry, apiHost: reference.apiHost, allowHTTP: allowHTTP, fetcher: fetcher)
    }

    var base: String { (allowHTTP ? "http://" : "https://") + apiHost + "/v2/" }

    /// A fetched document: its bytes, their sha256, and the registry's Content-Type.
    public struct Document: Sendable {
        public var bytes: [UInt8]
        public var digest: Digest
        public var contentType: String?
    }

    // MARK: - API

    /// `GET /v2/`: whether the registry speaks the API (after answering its challenge).
    public func probe() throws(OCIError) {
        _ = try get(base, scope: nil, accept: nil, maxSize: 64 << 10, what: "registry \(registry) /v2/")
    }

    /// A manifest or index by tag or digest. By digest, the bytes must hash
    /// to it; by tag, their own sha256 is the digest the tag resolved to (a
    /// registry's `Docker-Content-Digest` saying otherwise is refused).
    public func manifest(_ repository: String, reference: String, expected: Digest?) throws(OCIError) -> (Document, OCIManifest) {
        if let expected, expected.algorithm == .sha256, let read = manifests[repository + "@" + expected.description] { return read }
        let url = base + repository + "/manifests/" + reference
        let what = "manifest \(registry)/\(repository)\(expected == nil ? ":" : "@")\(reference)"
        let document = try get(url, scope: repository, accept: OCIMediaType.accept, maxSize: UInt64(OCIManifest.maxBytes),
                               what: what, expected: expected)
        if let header = document.headers.first(where: { $0.name == "docker-content-digest" })?.value,
           let claimed = try? Digest(parsing: header), claimed.algorithm == .sha256, !claimed.matches(document.document.digest) {
            throw .digestMismatch(url: url, expected: claimed, actual: document.document.digest)
        }
        let parsed = try OCIManifest.parse(document.document.bytes, contentType: document.document.contentType, what: what)
        if document.document.digest.algorithm == .sha256 {
            manifests[repository + "@" + document.document.digest.description] = (document.document, parsed)
        }
        return (document.document, parsed)
    }

    /// A blob by digest, at most `maxSize` bytes.
    public func blob(_ repository: String, digest: Digest, maxSize: UInt64 = RegistryClient.maxBlobBytes) throws(OCIError) -> [UInt8] {
        let url = base + repository + "/blobs/" + digest.description
        return try get(url, scope: repository, accept: nil, maxSize: maxSize, what: "blob \(registry)/\(repository)@\(digest)",
                       expected: digest).document.bytes
    }

    /// The referrers of `digest`: the referrers API's answer and the
    /// `sha256-<hex>` tag-schema index, merged (a registry may hold either).
    /// Neither listing is trusted: each entry is fetched by digest later.
    public func referrers(_ repository: String, digest: Digest) throws(OCIError) -> [OCIDescriptor] {
        var found: [OCIDescriptor] = []
        let api = base + repository + "/referrers/" + digest.description
        let listing = try get(api, scope: repository, accept: "Accept: " + OCIMediaType.ociIndex, maxSize: UInt64(OCIManifest.maxBytes),
                              what: "referrers of \(digest)", missingOK: true)
        if let listing {
            let index = try OCIManifest.parse(listing.document.bytes, contentType: listing.document.contentType, what: "referrers of \(digest)")
            guard index.kind == .index else { throw .malformed(what: "referrers of \(digest)", "not an image index") }
            found += index.manifests
        }
        let tag = "sha256-" + digest.hex
        do {
            let (_, index) = try manifest(repository, reference: tag, expected: nil)
            if index.kind == .index { found += index.manifests }
        } catch .notFound {
            // No tag-schema index: nothing attached this way.
        }
        var seen = Set<String>()
        return found.filter { seen.insert($0.digest.description).inserted }
    }

    // MARK: - Requests

    struct Response {
        var document: Document
        var headers: [(name: String, value: String)]
    }

    private func get(_ url: String, scope: String?, accept: String?, maxSize: UInt64, what: String,
                     expected: Digest? = nil) throws(OCIError) -> Response {
        guard let response = try get(url, scope: scope, accept: accept, maxSize: maxSize, what: what, expected: expected, missingOK: false) else {
            throw .notFound(what: what, url: url)
        }
        return response
    }

    /// One GET, answering a 401 challenge once. nil for a 404 when `missingOK`.
    private func get(_ url: String, scope: String?, accept: String?, maxSize: UInt64, what: String,
                     expected: Digest? = nil, missingOK: Bool) throws(OCIError) -> Response? {
        if !allowHTTP, url.hasPrefix("http://") { throw .plainHTTP(registry: registry) }
        var retriedAuth = false
        while true {
            var headers: [String] = []
            if let accept { headers.append(accept) }
            if let token = tokens[scope ?? ""] { headers.append("Authorization: Bearer " + token) }
            requestCount += 1
            let result = fetcher.fetch(FetchRequest(url: url, maxSize: maxSize, headers: headers, acceptedStatuses: [401, 404]))
            let artifact: FetchedArtifact
            switch result {
            case .success(let fetched): artifact = fetched
            case .failure(let error): throw .transport(error)
            }
            defer { fetcher.discard(artifact) }
            switch artifact.status {
            case 401:
                guard !retriedAuth, let challenge = artifact.header("www-authenticate") else {
                    throw .auth(registry: registry, retriedAuth ? "the registry refused the token it issued (HTTP 401)" : "HTTP 401 without a WWW-Authenticate challenge")
                }
                try authenticate(challenge: challenge, scope: scope)
                retriedAuth = true
                continue
            case 404:
                if missingOK { return nil }
                throw .notFound(what: what, url: url)
            default:
                break
            }
            if let expected, !artifact.sha256.matches(expected) {
                throw .digestMismatch(url: url, expected: expected, actual: artifact.sha256)
            }
            let bytes: [UInt8]
            do { bytes = try Array(Data(contentsOf: URL(fileURLWithPath: artifact.path))) } catch {
                throw .transport(.io("cannot read the downloaded \(what): \(error)"))
            }
            let document = Document(bytes: bytes, digest: artifact.sha256, contentType: artifact.header("content-type"))
            return Response(document: document, headers: artifact.headers)
        }
    }

    /// The Bearer flow (distribution's token authentication): ask the realm for
    /// a pull token for the repository, anonymously. A Basic challenge needs
    /// credentials, which Bouncer does not handle.
    private func authenticate(challenge: String, scope repository: String?) throws(OCIError) {
        let (scheme, parameters) = Self.parseChallenge(challenge)
        guard scheme.lowercased() == "bearer" else {
            throw .auth(registry: registry, "the registry asks for \(scheme) credentials; only anonymous Bearer tokens are supported")
        }
        guard let realm = parameters["realm"], !realm.isEmpty else {
            throw .auth(registry: registry, "the Bearer challenge names no realm")
        }
        let realmLower = realm.lowercased()
        guard realmLower.hasPrefix("https://") || (allowHTTP && realmLower.hasPrefix("http://")) else {
            throw .auth(registry: registry, "the token realm \(Redaction.url(realm)) is not https")
        }
        var query: [String] = []
        if let service = parameters["service"] { query.append("service=" + Self.formEncode(service)) }
        if let repository { query.append("scope=" + Self.formEncode("repository:\(repository):pull")) }
        else if let scope = parameters["scope"] { query.append("scope=" + Self.formEncode(scope)) }
        let url = realm + (query.isEmpty ? "" : (realm.contains("?") ? "&" : "?") + query.joined(separator: "&"))
        requestCount += 1
        let artifact: FetchedArtifact
        switch fetcher.fetch(FetchRequest(url: url, maxSize: Self.maxTokenBytes)) {
        case .success(let fetched): artifact = fetched
        case .failure(let error): throw .auth(registry: registry, "token request: \(error.description)")
        }
        defer { fetcher.discard(artifact) }
        let bytes = (try? Array(Data(contentsOf: URL(fileURLWithPath: artifact.path)))) ?? []
        let registry = self.registry
        do {
            // The token itself never goes into a message.
            let root = try JSONNode.parse(bytes, limit: Int(Self.maxTokenBytes)) { path, why in
                OCIError.auth(registry: registry, "token response \(path): \(why)")
            }
            let token = try (root.optional("token") ?? root.required("access_token")).string()
            guard !token.isEmpty, token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
                throw OCIError.auth(registry: registry, "the token response holds an empty or malformed token")
            }
            tokens[repository ?? ""] = token
        } catch let error as OCIError {
            throw error
        } catch {
            throw .auth(registry: registry, "token response: \(error)")
        }
    }

    /// `Bearer realm="https://…",service="…",scope="…"` → ("Bearer", parameters).
    static func parseChallenge(_ header: String) -> (String, [String: String]) {
        let trimmed = header.trimmingSpaces()
        guard let space = trimmed.firstIndex(of: " ") else { return (trimmed, [:]) }
        let scheme = String(trimmed[..<space])
        var parameters: [String: String] = [:]
        var rest = Substring(trimmed[trimmed.index(after: space)...])
        while !rest.isEmpty {
            rest = rest.drop { $0 == " " || $0 == "," }
            guard let equals = rest.firstIndex(of: "=") else { break }
            let key = rest[..<equals].trimmingSpaces().lowercased()
            rest = rest[rest.index(after: equals)...]
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                var end = rest.endIndex
                for index in rest.indices {
                    let c = rest[index]
                    if escaped { value.append(c); escaped = false; continue }
                    if c == "\\" { escaped = true; continue }
                    if c == "\"" { end = index; break }
                    value.append(c)
                }
                rest = end < rest.endIndex ? rest[rest.index(after: end)...] : ""
            } else {
                let end = rest.firstIndex(of: ",") ?? rest.endIndex
                value = rest[..<end].trimmingSpaces()
                rest = rest[end...]
            }
            parameters[key] = value
        }
        return (scheme, parameters)
    }

    static func formEncode(_ text: String) -> String {
        URLParts.pathSegmentEncoded(text, alsoKeeping: ":/")
    }
}
