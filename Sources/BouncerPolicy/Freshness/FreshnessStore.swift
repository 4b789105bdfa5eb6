import Foundation
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

    public init(directory: String) { self.directory = directory }

    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        PrivateState.defaultDirectory(environment: environment)
    }

    public var path: String { directory + "/freshness.json" }
    var flockPath: String { directory + "/.freshness.json.flock" }

    public func read() throws(BouncerError) -> FreshnessState {
        try checkOwnership(directory, followLink: true)
        try checkOwnership(path, followLink: false)
        guard let bytes = try AtomicFile.read(path, limit: 64 << 20, code: "state-unreadable") else { return FreshnessState() }
        return try FreshnessState.decode(bytes, file: path)
    }

    /// Judges every observation again under the lock (another run may have
    /// seen a newer list meanwhile) and records those that pass. Returns the
    /// rollbacks found, by index into `observations`.
    @discardableResult
    public func record(_ observations: [ListObservation]) throws(BouncerError) -> [Int: ListRollback] {
        guard !observations.isEmpty else { return [:] }
        try makePrivateDirectory()
        return try AtomicFile.withExclusiveLock(flockPath, mode: 0o600) { () throws(BouncerError) -> [Int: ListRollback] in
            var state = try read()
            let before = state
            var rollbacks: [Int: ListRollback] = [:]
            for (index, observed) in observations.enumerated() {
                if let rollback = ListFreshness.judge(observed, against: state.lists[observed.url]) {
                    rollbacks[index] = rollback
                } else {
                    state.lists[observed.url] = ListFreshness.advance(state.lists[observed.url], with: observed)
                }
            }
            if state != before { try AtomicFile.replace(path, with: state.encoded(), mode: 0o600) }
            return rollbacks
        }
    }

    private func makePrivateDirectory() throws(BouncerError) {
        var info = stat()
        if stat(directory, &info) == 0 { return }
        try Filesystem.makeDirectories(Filesystem.split(directory).directory)
        if mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw .io("cannot create the state directory \(directory): \(errnoDescription())")
        }
    }

    private func checkOwnership(_ path: String, followLink: Bool) throws(BouncerError) {
        try PrivateState.checkOwnership(path, followLink: followLink, what: "freshness state")
    }
}
