import FoundationEssentials
import BouncerBase
import BouncerIO

/// The versions a client has already trusted (the persisted state), against
/// which every new file is checked for rollback (spec §5.4–5.6).
public struct TUFTrustedVersions: Codable, Sendable, Equatable {
    public var timestamp: Int64?
    /// The snapshot version named by the trusted timestamp.
    public var timestampSnapshot: Int64?
    public var snapshot: Int64?
    /// Versions of the targets files listed in the trusted snapshot.
    public var snapshotMeta: [String: Int64]?
    public var targets: Int64?

    public init(timestamp: Int64? = nil, timestampSnapshot: Int64? = nil, snapshot: Int64? = nil,
                snapshotMeta: [String: Int64]? = nil, targets: Int64? = nil) {
        self.timestamp = timestamp
        self.timestampSnapshot = timestampSnapshot
        self.snapshot = snapshot
        self.snapshotMeta = snapshotMeta
        self.targets = targets
    }

    /// Fast-forward recovery (spec §5.3.11): after the timestamp or snapshot
    /// keys rotate, versions signed by the old keys (perhaps by an attacker
    /// who held them, pushed to the maximum) must not block the new ones.
    public mutating func forgetTimestampAndSnapshot() {
        timestamp = nil
        timestampSnapshot = nil
        snapshot = nil
        snapshotMeta = nil
    }
}

/// The client's checks (formats.md §9.2), each a pure function of (bytes,
/// trusted state, time T) returning verified metadata or a typed error.
public enum TUFVerifier {
    /// A threshold of the trusted root's root keys and of its own, version exactly N+1.
    public static func verifyNextRoot(_ bytes: [UInt8], file: String, trusted: TUFRoot) throws(TUFError) -> TUFRoot {
        let candidate = try TUFRoot.parse(bytes, file: file)
        try candidate.envelope.requireThreshold(role: "root", of: trusted)
        try candidate.envelope.requireThreshold(role: "root", of: candidate)
        let (expected, overflow) = trusted.version.addingReportingOverflow(1)
        guard !overflow, candidate.version == expected else {
            throw .rootVersion(file: file, expected: expected, found: candidate.version)
        }
        return candidate
    }

    /// Whether a rotation changed who signs timestamp or snapshot.
    public static func timestampOrSnapshotKeysChanged(from old: TUFRoot, to new: TUFRoot) -> Bool {
        ["timestamp", "snapshot"].contains { name in
            old.roles[name].map { Set($0.keyids) } != new.roles[name].map { Set($0.keyids) }
                || old.roles[name]?.threshold != new.roles[name]?.threshold
        }
    }

    public static func checkNotExpired(_ envelope: TUFEnvelope, at time: Date) throws(TUFError) {
        guard try envelope.expires() > time else {
            throw .expired(file: envelope.file, expires: envelope.expiresText, at: formatTime(time))
        }
    }

    public static func verifyTimestamp(_ bytes: [UInt8], file: String, root: TUFRoot, trusted: TUFTrustedVersions,
                                       at time: Date) throws(TUFError) -> TUFTimestamp {
        let envelope = try TUFEnvelope.parse(bytes, file: file)
        try envelope.requireType("timestamp")
        try envelope.requireThreshold(role: "timestamp", of: root)
        // Equal is accepted: nothing new was published, and the same-version
        // file is re-verified rather than trusted from a cache.
        if let old = trusted.timestamp, envelope.version < old { throw .rollback(file: file, trusted: old, found: envelope.version) }
        let meta = try Fields(envelope.signed, file: file).object("meta")
        let snapshot = try TUFMetaFile.parse(try meta.object("snapshot.json"))
        if let old = trusted.timestampSnapshot, snapshot.version < old {
            throw .rollback(file: "\(file) (meta snapshot.json)", trusted: old, found: snapshot.version)
        }
        try checkNotExpired(envelope, at: time)
        return TUFTimestamp(envelope: envelope, snapshot: snapshot)
    }

    public static func verifySnapshot(_ bytes: [UInt8], file: String, root: TUFRoot, timestamp: TUFTimestamp,
                                      trusted: TUFTrustedVersions, at time: Date) throws(TUFError) -> TUFSnapshot {
        // Hashes before signatures: unsigned bytes never reach the parser when the timestamp pins them.
        try checkLengthAndHashes(bytes, file: file, length: timestamp.snapshot.length, hashes: timestamp.snapshot.hashes)
        let envelope = try TUFEnvelope.parse(bytes, file: file)
        try envelope.requireType("snapshot")
        try envelope.requireThreshold(role: "snapshot", of: root)
        guard envelope.version == timestamp.snapshot.version else {
            throw .versionMismatch(file: file, expected: timestamp.snapshot.version, found: envelope.version)
        }
        if let old = trusted.snapshot, envelope.version < old { throw .rollback(file: file, trusted: old, found: envelope.version) }
        let metaFields = try Fields(envelope.signed, file: file).object("meta")
        var meta: [String: TUFMetaFile] = [:]
        for name in metaFields.members.keys.sorted() { meta[name] = try TUFMetaFile.parse(try metaFields.object(name)) }
        for (name, old) in (trusted.snapshotMeta ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let now = meta[name] else { throw .delisted(file: file, missing: name) }
            guard now.version >= old else { throw .rollback(file: "\(file) (meta \(name))", trusted: old, found: now.version) }
        }
        try checkNotExpired(envelope, at: time)
        return TUFSnapshot(envelope: envelope, meta: meta)
    }

    public static func verifyTargets(_ bytes: [UInt8], file: String, root: TUFRoot, snapshot: TUFSnapshot,
                                     trusted: TUFTrustedVersions, at time: Date) throws(TUFError) -> TUFTargets {
        guard let role = root.roles["targets"] else { throw .malformed(file: root.envelope.file, why: "no targets role") }
        let targets = try verifyTargetsMetadata(bytes, file: file, role: "targets", signers: role, keys: root.keys,
                                                snapshot: snapshot, at: time)
        if let old = trusted.targets, targets.version < old { throw .rollback(file: file, trusted: old, found: targets.version) }
        return targets
    }

    /// A delegated targets role, signed by a threshold of the keys its delegator names.
    public static func verifyDelegated(_ bytes: [UInt8], file: String, role: TUFDelegatedRole, delegator: TUFTargets,
                                       snapshot: TUFSnapshot, at time: Date) throws(TUFError) -> TUFTargets {
        try verifyTargetsMetadata(bytes, file: file, role: role.name, signers: role.role, keys: delegator.delegations?.keys ?? [:],
                                  snapshot: snapshot, at: time)
    }

    /// Shared by top-level and delegated targets: hashes and length from the
    /// snapshot, the signers' threshold, the snapshot's version, expiry.
    /// (The rollback of a delegated role is caught at the snapshot: its meta
    /// version may not decrease, and the file must carry that version.)
    static func verifyTargetsMetadata(_ bytes: [UInt8], file: String, role name: String, signers: TUFRole, keys: [String: TUFKey],
                                      snapshot: TUFSnapshot, at time: Date) throws(TUFError) -> TUFTargets {
        guard let listed = snapshot.meta["\(name).json"] else { throw .malformed(file: snapshot.envelope.file, why: "meta lists no \(name).json") }
        try checkLengthAndHashes(bytes, file: file, length: listed.length, hashes: listed.hashes)
        let envelope = try TUFEnvelope.parse(bytes, file: file)
        try envelope.requireType("targets")
        try envelope.requireThreshold(role: name, signers, keys: keys)
        guard envelope.version == listed.version else {
            throw .versionMismatch(file: file, expected: listed.version, found: envelope.version)
        }
        try checkNotExpired(envelope, at: time)
        let fields = try Fields(envelope.signed, file: file)
        let targetFields = try fields.object("targets")
        var targets: [String: TUFTargetFile] = [:]
        for name in targetFields.members.keys.sorted() {
            let entry = try targetFields.object(name)
            let length = try entry.integer("length")
            guard length >= 0 else { throw entry.fail("length", "negative") }
            targets[name] = TUFTargetFile(length: length, hashes: try parseHashes(try entry.object("hashes")))
        }
        let delegations = try fields.optionalObject("delegations").map { (d: Fields) throws(TUFError) in try TUFDelegations.parse(d) }
        return TUFTargets(role: name, envelope: envelope, targets: targets, delegations: delegations)
    }

    /// Preorder depth-first search of the delegation graph (spec §5.6.7, as
    /// python-tuf): the first role listing the target wins; a terminating
    /// role that covers the path ends the search. `load` fetches and
    /// verifies one delegated role. At most `maxRoles` roles are visited.
    public static func findTarget(_ name: String, top: TUFTargets, maxRoles: Int = 32,
                                  load: (TUFDelegatedRole, TUFTargets) throws(TUFError) -> TUFTargets) throws(TUFError) -> (TUFTargetFile, TUFTargets) {
        var toVisit: [(TUFDelegatedRole?, TUFTargets?)] = [(nil, nil)]
        var visited = Set<String>()
        while visited.count < maxRoles, let (role, delegator) = toVisit.popLast() {
            let targets: TUFTargets
            if let role, let delegator {
                guard !visited.contains(role.name) else { continue }
                targets = try load(role, delegator)
            } else {
                targets = top
            }
            if let info = targets.targets[name] { return (info, targets) }
            visited.insert(targets.role)
            var children: [(TUFDelegatedRole?, TUFTargets?)] = []
            for child in targets.delegations?.roles ?? [] where child.covers(name) {
                children.append((child, targets))
                if child.terminating {
                    toVisit.removeAll()
                    break
                }
            }
            toVisit.append(contentsOf: children.reversed())
        }
        throw .targetNotListed(name)
    }

    /// The target must be listed; its length and every listed hash must match.
    public static func verifyTarget(_ bytes: [UInt8], name: String, in targets: TUFTargets) throws(TUFError) -> TUFTargetFile {
        guard let info = targets.targets[name] else { throw .targetNotListed(name) }
        return try verifyTarget(bytes, name: name, info: info)
    }

    public static func verifyTarget(_ bytes: [UInt8], name: String, info: TUFTargetFile) throws(TUFError) -> TUFTargetFile {
        guard !info.hashes.isEmpty else { throw .noUsableHash(file: name) }
        try checkLengthAndHashes(bytes, file: name, length: info.length, hashes: info.hashes)
        return info
    }

    /// Every hash with an algorithm Bouncer knows must match, and at least one
    /// must be sha256 or stronger; MD5 and SHA-1 never count (design.md invariant 5).
    static func checkLengthAndHashes(_ bytes: [UInt8], file: String, length: Int64?, hashes: [String: String]) throws(TUFError) {
        if let length, Int64(bytes.count) != length { throw .lengthMismatch(file: file, expected: length, found: bytes.count) }
        guard !hashes.isEmpty else { return }
        var checked = 0
        for (name, hex) in hashes.sorted(by: { $0.key < $1.key }) {
            guard let algorithm = HashAlgorithm(name: name), algorithm.isEvidence else { continue }
            let actual = Hasher.digest(bytes, algorithm).hex
            guard actual == hex.lowercased() else { throw .hashMismatch(file: file, algorithm: name) }
            checked += 1
        }
        guard checked > 0 else { throw .noUsableHash(file: file) }
    }

    public static func parseTime(_ text: String) -> Date? { RFC3339.parse(text) }

    /// `YYYY-MM-DDTHH:MM:SSZ` in UTC.
    public static func formatTime(_ date: Date) -> String { UTCTime.format(date) }
}

extension TUFVerifier {
    /// The trust anchor must be signed by a threshold of its own root keys:
    /// a root that does not even vouch for itself is a broken file.
    public static func verifySelfSigned(_ root: TUFRoot) throws(TUFError) -> TUFRoot {
        try root.envelope.requireThreshold(role: "root", of: root)
        return root
    }
}
