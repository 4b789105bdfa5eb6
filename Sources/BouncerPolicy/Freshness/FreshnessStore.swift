import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore

/// Where the freshness state lives and how it is read and updated.
///
/// It sits in the user's state directory (`BOUNCER_STATE`, else
/// `$XDG_STATE_HOME/bouncer`, else `~/.local/state/bouncer`), apart from the
/// project tree and the cache that the tools Bouncer guards write into, in a
/// directory only its owner can write. A state file or directory that
/// another user could write is refused, as ssh refuses a loose
/// authorized_keys: state anyone can edit protects nothing.
public struct FreshnessStore: Sendable {
    public let directory: String
    let file: StateFile

    public init(directory: String) {
        self.directory = directory
        file = StateFile(directories: [directory], name: "freshness.json", what: "freshness state", limit: 64 << 20)
    }

    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        PrivateState.defaultDirectory(environment: environment)
    }

    public var path: String { file.path }

    public func read() throws(BouncerError) -> FreshnessState {
        guard let bytes = try file.read() else { return FreshnessState() }
        return try FreshnessState.decode(bytes, file: path)
    }

    /// Judges every observation again under the lock (another run may have
    /// seen a newer list meanwhile) and records those that pass. Returns the
    /// rollbacks found, by index into `observations`.
    @discardableResult
    public func record(_ observations: [ListObservation]) throws(BouncerError) -> [Int: ListRollback] {
        guard !observations.isEmpty else { return [:] }
        return try file.update { (bytes: [UInt8]?) throws(BouncerError) -> (result: [Int: ListRollback], replacement: [UInt8]?) in
            let before = try bytes.map { (bytes: [UInt8]) throws(BouncerError) in try FreshnessState.decode(bytes, file: path) } ?? FreshnessState()
            var state = before
            var rollbacks: [Int: ListRollback] = [:]
            for (index, observed) in observations.enumerated() {
                if let rollback = ListFreshness.judge(observed, against: state.lists[observed.url]) {
                    rollbacks[index] = rollback
                } else {
                    state.lists[observed.url] = ListFreshness.advance(state.lists[observed.url], with: observed)
                }
            }
            return (rollbacks, state != before ? state.encoded() : nil)
        }
    }
}
