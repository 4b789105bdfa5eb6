import FoundationEssentials
import BouncerBase
import BouncerIO

/// Evidence files (checksum lists, signatures, bundles, packuments):
/// fetched in one parallel batch before verification, each URL once per
/// run, size-capped and read into memory. A check that asks for a URL
/// nobody foresaw (a list's detached signature named inside it, say) is
/// fetched then, through the same cache. The verify stage reads it from
/// several threads at once.
final class EvidenceFetcher: @unchecked Sendable {
    // @unchecked: `cache` is only touched under `mutex`, held across a fetch
    // so that two candidates asking for one unforeseen URL fetch it once.
    private let fetcher: any Transport
    private let maxSize: UInt64
    private let mutex = Lock()
    private var cache: [String: Result<[UInt8], BouncerError>] = [:]

    init(transport: any Transport, maxSize: UInt64) {
        self.fetcher = transport
        self.maxSize = maxSize
    }

    /// Fetches every URL not fetched yet, in parallel.
    func prefetch(_ urls: [String]) {
        mutex.withLock { fetchMissing(urls) }
    }

    func bytes(_ url: String) -> Result<[UInt8], BouncerError> {
        mutex.withLock {
            if let hit = cache[url] { return hit }
            fetchMissing([url])
            return cache[url] ?? .failure(.io("no result for \(Redaction.url(url))"))
        }
    }

    private func fetchMissing(_ urls: [String]) {
        var wanted: [String] = []
        for url in urls where cache[url] == nil && !wanted.contains(url) { wanted.append(url) }
        guard !wanted.isEmpty else { return }
        let results = fetcher.fetch(wanted.map { FetchRequest(url: $0, maxSize: maxSize) })
        for (index, url) in wanted.enumerated() {
            cache[url] = index < results.count ? read(results[index], url) : .failure(.io("no result for \(Redaction.url(url))"))
        }
    }

    private func read(_ result: Result<FetchedArtifact, FetchError>, _ url: String) -> Result<[UInt8], BouncerError> {
        switch result {
        case .success(let fetched):
            defer { fetcher.discard(fetched) }
            guard let data = FileManager.default.contents(atPath: fetched.path) else {
                return .failure(.io("cannot read the downloaded \(Redaction.url(url))"))
            }
            return .success(Array(data))
        case .failure(let error):
            return .failure(BouncerError(error))
        }
    }
}

extension Requirement {
    /// The evidence URLs checking this requirement will read, for prefetching.
    func evidenceURLs(for request: ArtifactRequest) -> [String] {
        switch self {
        case .digest, .integrity: []
        case .checksums(let spec): [spec.url.expand(for: request)] + (spec.signature.map { [$0.url.expand(for: request)] } ?? [])
        case .signature(let spec): [spec.url.expand(for: request)]
        case .sigstore(let spec): spec.bundle.map { [$0.expand(for: request)] } ?? []
        case .provenance(let spec): spec.attestation.map { [$0.expand(for: request)] } ?? []
        case .attestation(let spec): request.provenanceURL.map { [$0] } ?? spec.url.map { [$0.expand(for: request)] } ?? []
        case .registrySignature: NpmTarballURL(request.url).map { [$0.packument] } ?? []
        }
    }
}
