import BouncerBase
import BouncerIO

/// What the inspect stage found for bytes already inspected, for a proxy
/// that serves the same artifacts again and again (a CI job's tox or nox
/// environments, a team's proxy): opening a wheel means inflating and
/// hashing every file for its RECORD, which was most of the cost of serving
/// a verified wheel a second time.
///
/// The inspection is a pure function of the bytes (named by their SHA-256,
/// which the guard computes itself on every download and every reuse from
/// the store), the name and version the request gives, and the policy's
/// `archive` limits and `installScripts` setting: all of them are the key,
/// so a memo gives the answer a fresh inspection would under any policy.
/// Refusals are remembered as well as passes: the same bytes refuse again.
public final class InspectionMemo: @unchecked Sendable {
    // @unchecked: `results` is only touched under `mutex`; the remembered
    // results are immutable values.
    struct Key: Hashable {
        var sha256: String
        var kind: ArtifactInspection.Kind
        var package: String?
        var allowsInstallScripts: Bool
        var archive: ArchivePolicy
    }

    private let mutex = Lock()
    private var results: [Key: ArtifactInspection.Result] = [:]
    private var order: [Key] = []
    private var answered = 0
    let capacity: Int

    public init(capacity: Int = 4096) {
        self.capacity = max(1, capacity)
    }

    /// How many inspections are remembered.
    public var count: Int { mutex.withLock { results.count } }
    /// How many requests were answered from memory, without opening the archive.
    public var hits: Int { mutex.withLock { answered } }

    func result(for key: Key, inspect: () -> ArtifactInspection.Result) -> ArtifactInspection.Result {
        let known = mutex.withLock { () -> ArtifactInspection.Result? in
            guard let known = results[key] else { return nil }
            answered += 1
            return known
        }
        if let known { return known }
        let fresh = inspect()
        mutex.withLock {
            if results.updateValue(fresh, forKey: key) == nil { order.append(key) }
            // The oldest go first; a proxy's working set is far smaller than this.
            while order.count > capacity { results[order.removeFirst()] = nil }
        }
        return fresh
    }
}
