import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
/// The seam between the tool adapters (curl, wget, pip, npm shims and
/// `bouncer fetch`) and the policy engine: an adapter says what it wants and
/// what the tool's own metadata claims about it; the guard fetches, verifies
/// against the matching rule, pins, and hands back verified bytes only.

/// What the guard proved: a file holding exactly the verified bytes, and one
/// human line per fact ("sha256 pinned", "listed in SHA256SUMS signed by …").
public struct VerifiedArtifact: Sendable {
    public var request: ArtifactRequest
    /// A file the caller may move or copy; it holds exactly the verified bytes.
    public var path: String
    public var sha256: Digest
    public var size: UInt64
    public var proofs: [String]
    /// Said loudly even though the artifact is allowed: audit mode ("would be
    /// refused: ..."), an exception in force, a locked digest seen at a new URL.
    public var warnings: [String]

    public init(request: ArtifactRequest, path: String, sha256: Digest, size: UInt64, proofs: [String],
                warnings: [String] = []) {
        self.request = request
        self.path = path
        self.sha256 = sha256
        self.size = size
        self.proofs = proofs
        self.warnings = warnings
    }
}

/// Fetches, verifies and pins artifacts. A refusal is a `BouncerError`
/// whose family gives the exit code (1 evidence, 2 configuration, 3 transport).
public protocol ArtifactGuard {
    /// Obtain each request's verified bytes; results are in request order.
    /// Transfers may run in parallel.
    func obtain(_ requests: [ArtifactRequest]) -> [Result<VerifiedArtifact, BouncerError>]
}
