import Foundation
import BouncerTestSupport

/// Runs commands the way a person does once `shims/` is first on PATH: through
/// /bin/sh, with the repository's shim scripts in front of the real tools and
/// BOUNCER_BIN pointing at the built binary. Each harness owns a temporary
/// project directory (the working directory) and a private Bouncer cache.
struct ShimHarness {
    let root: URL
    let project: URL
    let cache: URL
    /// Directories put between the shims and the rest of PATH (e.g. a venv's bin).
    var extraPath: [String] = []
    /// Variables set on top (e.g. CI cleared for the developer's pass-through).
    var overrides: [String: String] = [:]

    static let shims = Corpus.packageRoot.appendingPathComponent("shims").path

    init(_ prefix: String) throws {
        root = try BouncerProcess.temporaryDirectory(prefix)
        project = root.appendingPathComponent("project")
        cache = root.appendingPathComponent("cache")
        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
    }

    func cleanup() { try? FileManager.default.removeItem(at: root) }

    var environment: [String: String] {
        let path = ([Self.shims] + extraPath + [ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]).joined(separator: ":")
        return ["PATH": path, "BOUNCER_BIN": BouncerProcess.executable, "BOUNCER_CACHE": cache.path,
                "HOME": root.path, "npm_config_cache": root.appendingPathComponent("npm-cache").path,
                "npm_config_update_notifier": "false",
                // A developer's machine unless a test says CI=true (in CI the shims freeze the lock).
                "CI": "", "GITHUB_ACTIONS": ""].merging(overrides) { $1 }
    }

    /// `sh -c SCRIPT` in the project directory (or `cwd`).
    func sh(_ script: String, cwd: URL? = nil, extra: [String: String] = [:]) throws -> ProcessResult {
        var env = environment
        for (key, value) in extra { env[key] = value }
        return try BouncerProcess.runProgram("/bin/sh", ["-c", script], cwd: (cwd ?? project).path, environment: env)
    }

    /// The policy for these tests: downloads from the loopback server must be
    /// listed in the SHA256SUMS beside them; npm tarballs must match the lock's
    /// integrity; pip artifacts must match the index's (or the requirement's) digest.
    /// `archive`: the policy's top-level "archive" object (JSON text), if any;
    /// `exceptions`: the policy's exception objects (JSON text).
    func writePolicy(mode: String = "enforce", extraRules: [String] = [], archive: String? = nil, exceptions: [String] = []) throws {
        let rules = extraRules + [
            #"{ "name": "loopback downloads", "match": { "url": "http://127.0.0.1:*/files/*" }, "require": [ { "checksums": { "url": "{dir}/SHA256SUMS" } } ] }"#,
            #"{ "name": "npm", "match": { "ecosystem": "npm" }, "require": [ { "integrity": {} } ] }"#,
            #"{ "name": "pypi", "match": { "ecosystem": "pypi" }, "require": [ { "digest": {} } ] }"#,
        ]
        let text = """
            {
              "version": 1,
              "mode": "\(mode)",
              "unmatched": "deny",
              "lockfile": "bouncer.lock",\(archive.map { "\n  \"archive\": \($0)," } ?? "")
              "rules": [
                \(rules.joined(separator: ",\n    "))
              ],
              "exceptions": [\(exceptions.joined(separator: ", "))]
            }
            """
        try text.write(to: project.appendingPathComponent("policy.json"), atomically: true, encoding: .utf8)
    }

    func file(_ name: String) -> URL { project.appendingPathComponent(name) }

    /// The environment with a "real" curl after the shims whose script is
    /// `line` (printf's format: `%s` the shims' folder, `\\n` a line break),
    /// one that runs the shim again. Written by a child process: a
    /// descriptor open for writing in this multi-threaded test process could
    /// leak into a concurrent fork and make the exec fail (ETXTBSY).
    func curlRunningTheShim(_ line: String) throws -> [String: String] {
        let wrapper = root.appendingPathComponent("wrapper")
        try FileManager.default.createDirectory(at: wrapper, withIntermediateDirectories: true)
        let wrote = try BouncerProcess.runProgram("/bin/sh", ["-c", "printf '#!/bin/sh\\n\(line)\\n' \"$0\" > \"$1\" && chmod 755 \"$1\"",
                                                              Self.shims, wrapper.appendingPathComponent("curl").path])
        guard wrote.status == 0 else { throw SetupError("writing the wrapper failed: \(wrote.err)") }
        var env = environment
        env["PATH"] = "\(Self.shims):\(wrapper.path):/usr/bin:/bin"
        return env
    }

    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(name).path) }

    func bytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: file(name))) }

    /// Files in the project other than the policy, the lock and hidden files.
    func projectFiles(under sub: String = "") throws -> [String] {
        let dir = sub.isEmpty ? project.path : project.appendingPathComponent(sub).path
        return try FileManager.default.contentsOfDirectory(atPath: dir)
            .filter { $0 != "policy.json" && $0 != "bouncer.lock" && !$0.hasPrefix(".") }.sorted()
    }

    static func sha256(_ bytes: [UInt8]) throws -> String {
        let result = try BouncerProcess.runProgram("/usr/bin/sha256sum", ["-"], stdin: Data(bytes))
        return String(result.out.prefix(64))
    }

    static func randomBytes(_ count: Int, _ caller: String = #function, line: Int = #line, column: Int = #column) throws -> [UInt8] {
        TestRandom.bytes(count, "\(caller):\(line):\(column)")
    }

    static func tool(_ name: String) -> String? {
        for dir in ["/usr/bin", "/usr/local/bin", "/bin"] where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
            return "\(dir)/\(name)"
        }
        return nil
    }
}

/// A loopback download site: files under /files/, with a SHA256SUMS listing
/// the genuine bytes (computed by sha256sum, not by Bouncer).
final class DownloadSite {
    let dir: URL
    let server: DirectoryHTTPServer
    var sums: [String: String] = [:]

    init(in root: URL) throws {
        dir = root.appendingPathComponent("site")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("files"), withIntermediateDirectories: true)
        server = try DirectoryHTTPServer(root: dir.path)
    }

    func url(_ name: String) -> String { server.baseURL + "/files/" + name }

    /// Publishes genuine bytes and lists them in SHA256SUMS.
    func publish(_ name: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: dir.appendingPathComponent("files/" + name))
        sums[name] = try ShimHarness.sha256(bytes)
        let text = sums.keys.sorted().map { "\(sums[$0]!)  \($0)\n" }.joined()
        try text.write(to: dir.appendingPathComponent("files/SHA256SUMS"), atomically: true, encoding: .utf8)
    }

    /// Replaces the served bytes without touching SHA256SUMS (a compromised mirror).
    func tamper(_ name: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: dir.appendingPathComponent("files/" + name))
    }
}

struct SetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
