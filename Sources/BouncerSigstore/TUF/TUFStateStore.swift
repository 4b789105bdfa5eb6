import FoundationEssentials
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
    func file(anchor: String) -> StateFile {
        StateFile(directories: [directory, tufDirectory], name: "\(anchor).json", what: "TUF state", limit: 4 << 20)
    }
    public func path(anchor: String) -> String { file(anchor: anchor).path }

    public func read(anchor: String) throws(BouncerError) -> TUFTrustedState {
        guard let bytes = try file(anchor: anchor).read() else { return TUFTrustedState(anchor: anchor) }
        return try decode(bytes, anchor: anchor)
    }

    func decode(_ bytes: [UInt8], anchor: String) throws(BouncerError) -> TUFTrustedState {
        let file = path(anchor: anchor)
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
        try file(anchor: anchor).update { (bytes: [UInt8]?) throws(BouncerError) -> (result: T, replacement: [UInt8]?) in
            let before = try bytes.map { (bytes: [UInt8]) throws(BouncerError) in try decode(bytes, anchor: anchor) } ?? TUFTrustedState(anchor: anchor)
            var state = before
            let result = body(&state)
            return (result, state != before ? state.encoded() : nil)
        }
    }
}
