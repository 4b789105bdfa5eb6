import FoundationEssentials
import BouncerBase
import BouncerIO

/// What one update proved: each role's verified metadata and the target's bytes.
public struct TUFUpdateResult: @unchecked Sendable {
    public let root: TUFRoot
    public let timestamp: TUFTimestamp
    public let snapshot: TUFSnapshot
    public let targets: TUFTargets
    /// The delegated role that listed the target, nil for top-level targets.
    public let delegatedRole: String?
    public let targetName: String
    public let target: TUFTargetFile
    public let targetBytes: [UInt8]
    /// Root versions walked in this run (empty when the root did not change).
    public let rotatedRoots: [Int64]
}

/// The TUF client workflow (formats.md §9.2, spec §5) over a repository,
/// starting from the trusted state and advancing it as each file verifies.
public enum TUFClient {
    public static let maxRootRotations = 1024
    static let rootLimit = 512 << 10
    static let timestampLimit = 16 << 10
    static let snapshotLimit = 4 << 20
    static let targetsLimit = 8 << 20
    static let targetLimit: Int64 = 512 << 20

    /// Updates `state` in place: every verified step is kept even when a later
    /// one fails, so a newer root or version seen once can never be undone.
    public static func update(repository: any TUFRepository, state: inout TUFTrustedState, anchor: TUFRoot,
                              target targetName: String, at time: Date) throws(TUFError) -> TUFUpdateResult {
        var trusted = anchor
        if let persisted = try state.trustedRoot() {
            guard persisted.version >= anchor.version else {
                throw .badAnchor("the persisted root (version \(persisted.version)) is older than the trust anchor (version \(anchor.version))")
            }
            trusted = persisted
        }

        // 5.3: root rotation, each step signed by the old and the new root.
        var rotated: [Int64] = []
        while true {
            guard rotated.count < maxRootRotations else { throw .tooManyRoots(maxRootRotations) }
            let (next, overflow) = trusted.version.addingReportingOverflow(1)
            guard !overflow else { break }
            guard let bytes = try repository.fetch(.root(next), maxBytes: rootLimit) else { break }
            let newer = try TUFVerifier.verifyNextRoot(bytes, file: TUFFile.root(next).name, trusted: trusted)
            if TUFVerifier.timestampOrSnapshotKeysChanged(from: trusted, to: newer) { state.versions.forgetTimestampAndSnapshot() }
            trusted = newer
            state.setRoot(newer)
            rotated.append(newer.version)
        }
        try TUFVerifier.checkNotExpired(trusted.envelope, at: time)

        // 5.4: timestamp.
        guard let timestampBytes = try repository.fetch(.timestamp, maxBytes: timestampLimit) else { throw absent(.timestamp) }
        let timestamp = try TUFVerifier.verifyTimestamp(timestampBytes, file: TUFFile.timestamp.name, root: trusted,
                                                        trusted: state.versions, at: time)
        state.versions.timestamp = timestamp.version
        state.versions.timestampSnapshot = timestamp.snapshot.version

        // 5.5: snapshot.
        let snapshotFile = TUFFile.snapshot(version: trusted.consistentSnapshot ? timestamp.snapshot.version : nil)
        guard let snapshotBytes = try repository.fetch(snapshotFile, maxBytes: limit(timestamp.snapshot.length, snapshotLimit)) else {
            throw absent(snapshotFile)
        }
        let snapshot = try TUFVerifier.verifySnapshot(snapshotBytes, file: snapshotFile.name, root: trusted, timestamp: timestamp,
                                                      trusted: state.versions, at: time)
        state.versions.snapshot = snapshot.version
        state.versions.snapshotMeta = snapshot.meta.filter { $0.key != "root.json" }.mapValues(\.version)

        // 5.6: targets.
        let listed = snapshot.meta["targets.json"]
        let targetsFile = TUFFile.targets(version: trusted.consistentSnapshot ? listed?.version : nil)
        guard let targetsBytes = try repository.fetch(targetsFile, maxBytes: limit(listed?.length, targetsLimit)) else {
            throw absent(targetsFile)
        }
        let targets = try TUFVerifier.verifyTargets(targetsBytes, file: targetsFile.name, root: trusted, snapshot: snapshot,
                                                    trusted: state.versions, at: time)
        state.versions.targets = targets.version

        // 5.7: the target file, no longer than its signed length.
        let segments = targetName.split(separator: "/", omittingEmptySubsequences: false)
        guard !targetName.isEmpty, !segments.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            throw .malformed(file: targetName, why: "not a relative target path")
        }
        let (info, owner) = try TUFVerifier.findTarget(targetName, top: targets) { (role, delegator) throws(TUFError) -> TUFTargets in
            let listed = snapshot.meta["\(role.name).json"]
            let file = TUFFile.delegated(role: role.name, version: trusted.consistentSnapshot ? listed?.version : nil)
            guard let bytes = try repository.fetch(file, maxBytes: limit(listed?.length, targetsLimit)) else { throw absent(file) }
            return try TUFVerifier.verifyDelegated(bytes, file: file.name, role: role, delegator: delegator, snapshot: snapshot, at: time)
        }
        guard info.length <= targetLimit else { throw .malformed(file: targetName, why: "signed length \(info.length) exceeds \(targetLimit) bytes") }
        let prefix = trusted.consistentSnapshot ? (info.hashes["sha256"] ?? info.hashes["sha512"]) : nil
        let targetFile = TUFFile.target(path: targetName, hashPrefix: prefix)
        // Capped just above the signed length: a longer body is cut off and refused.
        guard let targetBytes = try repository.fetch(targetFile, maxBytes: Int(info.length) + 1) else { throw absent(targetFile) }
        let verified = try TUFVerifier.verifyTarget(targetBytes, name: targetName, info: info)
        return TUFUpdateResult(root: trusted, timestamp: timestamp, snapshot: snapshot, targets: targets, delegatedRole: owner.role == "targets" ? nil : owner.role,
                               targetName: targetName, target: verified, targetBytes: targetBytes, rotatedRoots: rotated)
    }

    static func limit(_ signed: Int64?, _ fallback: Int) -> Int {
        guard let signed, signed >= 0, signed < Int64(fallback) else { return fallback }
        return Int(signed) + 1
    }

    static func absent(_ file: TUFFile) -> TUFError { .unavailable(file: file.name, why: "not found in the repository") }
}
