import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerPolicy

/// Where `/pypi/simple/` gathers a project's files from, in pip's order: the
/// primary index, the extra indexes, then find-links pages and local
/// directories. The policy judges each file by the index it came from
/// (`"index": "primary"`), so one merged page can serve them all.
public struct PyPISources: Sendable {
    /// The primary simple index (with a trailing slash); nil: none (`--no-index`), or not known yet.
    public var primary: String?
    /// When no primary was named: ask pip for its configured one at the first request, not at start-up.
    public var primaryFromPip: Bool
    public var extras: [String]
    /// http(s) pages of links, or absolute local directories (pip's `--find-links`).
    public var findLinks: [String]
    /// Digests a requirement file's `--hash` lists, by normalised project name (the pip shim's).
    public var statedHashes: [String: [Digest]]
    /// The pip shim read pip's configuration itself and found no index: only pip's built-in default is asked for.
    public var builtinDefaultOnly = false
    /// The projects the pip shim's command names (`--pypi-expect`), with the version when pinned
    /// exactly: their pages are read, and the file pip will fetch verified, before pip asks.
    public var expected: [ExpectedProject] = []

    public init(primary: String?, primaryFromPip: Bool = false, extras: [String] = [], findLinks: [String] = [],
                statedHashes: [String: [Digest]] = [:]) {
        self.primary = primary.map(Self.withSlash)
        self.primaryFromPip = primary == nil && primaryFromPip
        self.extras = extras.map(Self.withSlash)
        self.findLinks = findLinks
        self.statedHashes = statedHashes
    }

    static func withSlash(_ url: String) -> String { url.hasSuffix("/") ? url : url + "/" }

    /// With what pip's configuration names (`primaryFromPip`): its index as
    /// the primary, and its extra indexes and find-links beside the ones
    /// named on the command line, each judged by the policy like those.
    func adding(_ pip: PipUpstreams) -> PyPISources {
        var sources = self
        sources.primary = pip.index.map(Self.withSlash)
        for extra in pip.extras.map(Self.withSlash) where !sources.extras.contains(extra) { sources.extras.append(extra) }
        for link in pip.findLinks where !sources.findLinks.contains(link) { sources.findLinks.append(link) }
        return sources
    }

    /// One `--pypi-expect NAME[==VERSION]`.
    public struct ExpectedProject: Sendable, Equatable {
        public var name: String
        public var version: String?

        init(name: String) {
            self.name = name
            version = nil
        }

        public init?(_ text: String) {
            let parts = text.components(splitAt: "==")
            guard parts.count <= 2, PythonPackageName.isValid(parts[0]) else { return nil }
            name = PythonPackageName.normalised(parts[0])
            version = parts.count == 2 ? parts[1] : nil
            if let version, !PythonPackageName.isExactVersion(Substring(version)) { return nil }
        }
    }

    /// `{"project": ["sha256:HEX", ...]}`: the pip shim's requirement hashes, read strictly.
    public static func readStatedHashes(_ path: String) throws(BouncerError) -> [String: [Digest]] {
        guard let bytes = try AtomicFile.read(path, limit: 64 << 20, code: "serve-stated-hashes") else {
            throw BouncerError(.configuration, code: "serve-stated-hashes", "\(path): no such file")
        }
        let root: JSON
        do { root = try JSON.parse(bytes) } catch {
            throw BouncerError(.configuration, code: "serve-stated-hashes", "\(path): \(error)")
        }
        guard case .object(let projects) = root else {
            throw BouncerError(.configuration, code: "serve-stated-hashes", "\(path): $ is not an object")
        }
        var result: [String: [Digest]] = [:]
        for (name, value) in projects {
            guard case .array(let items) = value else {
                throw BouncerError(.configuration, code: "serve-stated-hashes", "\(path): $.\(name) is not an array")
            }
            for (position, item) in items.enumerated() {
                guard case .string(let text) = item, let digest = try? Digest(parsing: text) else {
                    throw BouncerError(.configuration, code: "serve-stated-hashes", "\(path): $.\(name)[\(position)] is not ALGORITHM:HEX")
                }
                result[PythonPackageName.normalised(name), default: []].append(digest)
            }
        }
        return result
    }
}

/// What the tool's own configuration names (pip's index and the rest,
/// npm's registry), asked of the tool once, at the first request that needs
/// it: a shim starting the proxy does not wait for Python or node to start.
final class LazyUpstream<Value: Sendable>: @unchecked Sendable {
    private let lock = Lock()
    private var resolved: Value?
    private let resolve: @Sendable () -> Value

    init(_ resolve: @escaping @Sendable () -> Value) { self.resolve = resolve }

    func value() -> Value {
        lock.lock(); defer { lock.unlock() }
        if let resolved { return resolved }
        let found = resolve()
        resolved = found
        return found
    }
}
