import FoundationEssentials
import BouncerBase
import BouncerPolicy

/// Commits prepared batches for many clients at once: while one commit
/// rewrites the lockfile (read, change, write, fsync, rename), the batches
/// that arrive meanwhile wait and are then committed together, in one
/// rewrite — what `PolicyGuard.evaluate` does for several requests at once.
/// npm fetching sixteen tarballs at a time pays a few lock writes, not one
/// per tarball; a lone client pays exactly what it did before.
final class GroupCommit: @unchecked Sendable {
    private final class Entry {
        let batch: PreparedBatch
        var outcomes: [GuardOutcome]? = nil
        init(_ batch: PreparedBatch) { self.batch = batch }
    }

    private let condition = Condition()
    private var queue: [Entry] = []
    private var busy = false

    /// Commits `batch` (with `guardian`, or the guard of the group it joins:
    /// every guard of one proxy has the same policy, lock and store) and
    /// returns its outcomes, in order.
    func commit(_ batch: PreparedBatch, with guardian: PolicyGuard) -> [GuardOutcome] {
        if batch.refusedUpFront { return guardian.commit(batch) }
        let mine = Entry(batch)
        condition.lock()
        queue.append(mine)
        while busy && mine.outcomes == nil { condition.wait() }
        if let outcomes = mine.outcomes {
            condition.unlock()
            return outcomes
        }
        // This thread commits whatever is queued, until the queue is empty.
        busy = true
        while !queue.isEmpty {
            let group = queue
            queue = []
            condition.unlock()
            let outcomes = guardian.commit(PreparedBatch(merging: group.map(\.batch)))
            condition.lock()
            var offset = 0
            for entry in group {
                let count = entry.batch.count
                entry.outcomes = Array(outcomes[offset..<min(offset + count, outcomes.count)])
                offset += count
            }
            condition.broadcast()
        }
        busy = false
        condition.broadcast()
        condition.unlock()
        return mine.outcomes ?? []
    }
}
