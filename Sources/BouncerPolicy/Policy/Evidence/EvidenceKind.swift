/// The kinds of evidence a rule can require, plus the two the guard adds
/// itself (`lock`: the bytes match bouncer.lock; `pin`: pinned on first
/// use). The raw values are what `--json` reports and bouncer.lock record.
public enum EvidenceKind: String, Sendable, Codable, CaseIterable {
    case digest
    case integrity
    case checksums
    case signature
    case sigstore
    case provenance
    case registrySignature
    case attestation
    case lock
    case pin

    /// Kinds that prove the bytes against a stated digest: with one of them
    /// proven, the tool's stated digests were already checked.
    var checksStatedDigests: Bool { self == .digest || self == .integrity }
}
