import Foundation
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerIO

/// The persisted TUF state, one file per trust anchor under `<state>/tuf/`
/// in Bouncer's state directory (PrivateState.defaultDirectory()), with the
/// same strictness: a directory or file another user could write is refused,
/// because state anyone can edit protects nothing against rollback.
public struct TUFStateStore: Sendable {
    public let directory: String

    public init(stateDirectory: String = PrivateState.defaultDirectory()) {
        directory = stateDirectory
    }

    var tufDirectory: String { directory + "/tuf" }
    public func path(anchor: String) -> String { "\(tufDirectory)/\(anchor).json" }
    func lockPath(anchor: String) -> String { "\(tufDirectory)/.\(anchor).json.flock" }

    public func read(anchor: String) throws(BouncerError) -> TUFTrustedState {
        try checkOwnership(directory, followLink: true)
        try checkOwnership(tufDirectory, followLink: false)
        let file = path(anchor: anchor)
        try checkOwnership(file, followLink: false)
        guard let bytes = try AtomicFile.read(file, limit: 4 << 20, code: "state-unreadable") else { return TUFTrustedState(anchor: anchor) }
        let hint = "remove \(file) to start over from the trust anchor (Bouncer then forgets the versions it has seen)"
        let state: TUFTrustedState
        do { state = try JSONDocument.decode(TUFTrustedState.self, from: bytes) } catch {
            throw BouncerError(.configuration, code: "state-invalid", "\(file): not a valid Bouncer TUF state: \(error)", hint: hint)
        }
        guard state.version == 1, state.anchor == anchor else {
            throw BouncerError(.configuration, code: "state-invalid", "\(file): unsupported version or a different trust anchor", hint: hint)
        }
        return state
    }

    /// Runs `body` on the state under an exclusive lock (a concurrent update
    /// could otherwise lose the newer versions), then saves whatever it
    /// recorded, also when the update as a whole failed.
    public func update<T>(anchor: String, _ body: (inout TUFTrustedState) -> T) throws(BouncerError) -> T {
        try makePrivateDirectory(directory, parents: true)
        try checkOwnership(directory, followLink: true)
        try makePrivateDirectory(tufDirectory, parents: false)
        return try AtomicFile.withExclusiveLock(lockPath(anchor: anchor), mode: 0o600) { () throws(BouncerError) -> T in
            var state = try read(anchor: anchor)
            let before = state
            let result = body(&state)
            if state != before { try AtomicFile.replace(path(anchor: anchor), with: state.encoded(), mode: 0o600) }
            return result
        }
    }

    private func makePrivateDirectory(_ path: String, parents: Bool) throws(BouncerError) {
        var info = stat()
        if lstat(path, &info) == 0 { return }
        if parents { try Filesystem.makeDirectories(Filesystem.split(path).directory) }
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw .io("cannot create the state directory \(path): \(errnoDescription())")
        }
    }

    private func checkOwnership(_ path: String, followLink: Bool) throws(BouncerError) {
        try PrivateState.checkOwnership(path, followLink: followLink, what: "TUF state")
    }
}
