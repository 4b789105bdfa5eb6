import FoundationEssentials
import BouncerBase
import BouncerIO
import BouncerPolicy

/// The tarballs a `package-lock.json` (lockfileVersion 2 or 3) pins: every
/// `packages` entry with a `resolved` URL, its `integrity`, and the name and
/// version its package.json must carry.
public struct LockedTarball: Equatable, Sendable {
    /// The lock key, e.g. `node_modules/a/node_modules/b`.
    public var location: String
    public var name: String
    public var version: String
    public var url: String
    public var integrity: SubresourceIntegrity?
}

public enum PackageLock {
    public struct ParseError: BouncerFailure {
        public let file: String
        public let path: String
        public let detail: String
        public var family: ErrorFamily { .configuration }
        public var code: String { "npm-lock" }
        public var description: String { "\(file): \(path): \(detail)" }
    }

    public static func read(_ file: String) throws -> [LockedTarball] {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw BouncerError(.configuration, code: "npm-lock", "cannot read \(file)")
        }
        return try parse([UInt8](data), file: file)
    }

    public static func parse(_ bytes: [UInt8], file: String) throws(ParseError) -> [LockedTarball] {
        let root: JSON
        do { root = try JSON.parse(bytes) } catch {
            throw ParseError(file: file, path: "$", detail: "not valid JSON: \(error)")
        }
        guard case .object = root else { throw ParseError(file: file, path: "$", detail: "not a JSON object") }
        let version: Int64
        if case .integer(let number)? = root["lockfileVersion"] { version = number } else { version = 0 }
        guard version == 2 || version == 3 else {
            throw ParseError(file: file, path: "$.lockfileVersion", detail: "version \(version) is not supported (2 or 3; run npm install once with npm 7 or later)")
        }
        guard case .object(let packages)? = root["packages"] else {
            throw ParseError(file: file, path: "$.packages", detail: "missing or not an object")
        }
        var tarballs: [LockedTarball] = []
        for key in packages.keys.sorted() where !key.isEmpty {
            let at = "$.packages[\"\(key)\"]"
            guard case .object(let entry)? = packages[key] else { throw ParseError(file: file, path: at, detail: "not an object") }
            // Links point into the project; bundled packages arrive inside their parent's tarball.
            if case .bool(true)? = entry["link"] { continue }
            if case .bool(true)? = entry["inBundle"] { continue }
            guard case .string(let resolved)? = entry["resolved"] else {
                throw ParseError(file: file, path: at + ".resolved", detail: "missing: Bouncer fetches only what the lock names")
            }
            guard resolved.hasPrefix("http://") || resolved.hasPrefix("https://") else {
                throw ParseError(file: file, path: at + ".resolved", detail: "'\(Redaction.url(resolved))' is not an http or https tarball URL")
            }
            guard case .string(let version)? = entry["version"] else { throw ParseError(file: file, path: at + ".version", detail: "missing") }
            let name: String
            if case .string(let explicit)? = entry["name"] {
                name = explicit
            } else if let range = key.ranges(of: "node_modules/").last {
                name = String(key[range.upperBound...])
            } else {
                throw ParseError(file: file, path: at, detail: "no name (neither a name field nor a node_modules/ key)")
            }
            var integrity: SubresourceIntegrity? = nil
            if case .string(let text)? = entry["integrity"] {
                do { integrity = try SubresourceIntegrity(parsing: text) } catch {
                    throw ParseError(file: file, path: at + ".integrity", detail: "\(error)")
                }
            }
            tarballs.append(LockedTarball(location: key, name: name, version: version, url: resolved, integrity: integrity))
        }
        return tarballs
    }
}
