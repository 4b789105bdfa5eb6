import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase

/// What the guard needs from the network: a batch of URLs fetched into
/// files in the store's temp directory, each hashed while it was written,
/// one result per request in order. `Fetcher` does it over libcurl; the
/// guard's unit tests serve bytes from memory, with no sockets.
public protocol Transport: AnyObject, Sendable {
    var store: Store { get }
    func fetch(_ requests: [FetchRequest]) -> [Result<FetchedArtifact, FetchError>]
    /// The same transport for evidence files: quiet, and capped at `maxSize`.
    func forEvidence(maxSize: UInt64) -> any Transport
}

extension Transport {
    /// Removes a fetched temp file that will not be used.
    public func discard(_ artifact: FetchedArtifact) {
        if !artifact.path.isEmpty { unlink(artifact.path) }
    }
}

extension Fetcher: Transport {
    public func forEvidence(maxSize: UInt64) -> any Transport {
        var evidence = options
        evidence.progress = false
        evidence.maxSize = maxSize
        return Fetcher(store: store, options: evidence)
    }
}
