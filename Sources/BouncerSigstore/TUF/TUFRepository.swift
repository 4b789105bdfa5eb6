import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerIO

/// A file the client asks the repository for; each repository maps it to its layout.
public enum TUFFile: Sendable, Equatable {
    case root(Int64)
    case timestamp
    /// Versioned name (`V.snapshot.json`) when consistent snapshots are on.
    case snapshot(version: Int64?)
    case targets(version: Int64?)
    /// A delegated targets role (`[V.]<role>.json`).
    case delegated(role: String, version: Int64?)
    /// A target path; `hashPrefix` is set with consistent snapshots (`<hash>.<name>`).
    case target(path: String, hashPrefix: String?)

    /// The name used in messages.
    public var name: String {
        switch self {
        case .root(let n): "\(n).root.json"
        case .timestamp: "timestamp.json"
        case .snapshot(let v): v.map { "\($0).snapshot.json" } ?? "snapshot.json"
        case .targets(let v): v.map { "\($0).targets.json" } ?? "targets.json"
        case .delegated(let role, let v): v.map { "\($0).\(role).json" } ?? "\(role).json"
        case .target(let path, _): path
        }
    }
}

/// Where metadata and targets come from. The network (or disk) only delivers
/// bytes; every decision is made by TUFVerifier on them.
public protocol TUFRepository {
    /// The file's bytes (at most `maxBytes`), or nil when the repository does not have it.
    func fetch(_ file: TUFFile, maxBytes: Int) throws(TUFError) -> [UInt8]?
}

/// `<base>/metadata/N.root.json`, `timestamp.json`, `[V.]snapshot.json`,
/// `[V.]targets.json`, `<base>/targets/[<hash>.]<name>`, fetched with
/// Bouncer's libcurl Fetcher under a size cap. 404 and 403 (what S3-style
/// hosts answer for a missing object) mean "absent".
public struct HTTPTUFRepository: TUFRepository {
    public let base: String
    let fetcher: Fetcher

    public init(base: String, fetcher: Fetcher) {
        self.base = base.hasSuffix("/") ? String(base.dropLast()) : base
        self.fetcher = fetcher
    }

    func url(_ file: TUFFile) -> String {
        switch file {
        case .target(let path, let hash):
            guard let hash else { return "\(base)/targets/\(path)" }
            let (dir, name) = splitPath(path)
            return "\(base)/targets/\(dir)\(hash).\(name)"
        default:
            return "\(base)/metadata/\(file.name)"
        }
    }

    public func fetch(_ file: TUFFile, maxBytes: Int) throws(TUFError) -> [UInt8]? {
        let target = url(file)
        switch fetcher.fetch(FetchRequest(url: target, maxSize: UInt64(max(0, maxBytes)))) {
        case .success(let artifact):
            defer { fetcher.discard(artifact) }
            let read: AtomicFile.Read
            do { read = try AtomicFile.readOrNil(artifact.path, limit: maxBytes) } catch {
                throw .unavailable(file: file.name, why: error.description)
            }
            switch read {
            case .bytes(let bytes): return bytes
            case .tooLarge: throw .malformed(file: file.name, why: "larger than the \(maxBytes)-byte limit")
            case .absent: throw .unavailable(file: file.name, why: "the downloaded file vanished")
            }
        case .failure(.httpStatus(_, let status)) where status == 404 || status == 403:
            return nil
        case .failure(.tooLarge):
            throw .malformed(file: file.name, why: "larger than the \(maxBytes)-byte limit; download aborted")
        case .failure(let error):
            throw .unavailable(file: file.name, why: error.description)
        }
    }
}

/// A repository on disk: `metadata/` and `targets/` as published (versioned
/// names), or as kept in git by sigstore/root-signing (the corpus layout:
/// roots in `metadata/root_history/N.root.json`, plain names everywhere).
/// Both are tried; the bytes are verified the same way whichever is found.
public struct LocalTUFRepository: TUFRepository {
    public let directory: String

    public init(directory: String) {
        self.directory = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
    }

    func candidates(_ file: TUFFile) -> [String] {
        let meta = directory + "/metadata/"
        switch file {
        case .root(let n): return [meta + "root_history/\(n).root.json", meta + "\(n).root.json"]
        case .timestamp: return [meta + "timestamp.json"]
        case .snapshot(let v): return (v.map { [meta + "\($0).snapshot.json"] } ?? []) + [meta + "snapshot.json"]
        case .targets(let v): return (v.map { [meta + "\($0).targets.json"] } ?? []) + [meta + "targets.json"]
        case .delegated(let role, let v): return (v.map { [meta + "\($0).\(role).json"] } ?? []) + [meta + "\(role).json"]
        case .target(let path, let hash):
            let (dir, name) = splitPath(path)
            return (hash.map { [directory + "/targets/\(dir)\($0).\(name)"] } ?? []) + [directory + "/targets/" + path]
        }
    }

    public func fetch(_ file: TUFFile, maxBytes: Int) throws(TUFError) -> [UInt8]? {
        for path in candidates(file) {
            let read: AtomicFile.Read
            do { read = try AtomicFile.readOrNil(path, limit: maxBytes) } catch {
                throw .unavailable(file: file.name, why: error.description)
            }
            switch read {
            case .absent: continue
            case .tooLarge: throw .malformed(file: file.name, why: "larger than the \(maxBytes)-byte limit")
            case .bytes(let bytes): return bytes
            }
        }
        return nil
    }
}

/// "a/b/c.json" → ("a/b/", "c.json"). (TUFClient refuses paths with `..`
/// or empty segments before any lookup.)
func splitPath(_ path: String) -> (String, String) {
    guard let slash = path.lastIndex(of: "/") else { return ("", path) }
    return (String(path[...slash]), String(path[path.index(after: slash)...]))
}

extension AtomicFile {
    enum Read {
        case absent
        /// Over the limit: the reading stopped there.
        case tooLarge
        case bytes([UInt8])
    }

    /// The whole file, or what kept it from being read whole.
    static func readOrNil(_ path: String, limit: Int) throws(BouncerError) -> Read {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT || errno == ENOTDIR { return .absent }
            throw .io("cannot read \(path): \(errnoDescription())")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count == 0 { return .bytes(bytes) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .io("cannot read \(path): \(errnoDescription())")
            }
            bytes.append(contentsOf: buffer[0..<count])
            guard bytes.count <= limit else { return .tooLarge }
        }
    }
}
