import Foundation
import BouncerTestSupport

/// A project directory with a policy.json, a loopback server and a private
/// store, for running the real `bouncer` binary against policies.
final class PolicyFixture: @unchecked Sendable {
    let server: LoopbackHTTPServer
    let dir: URL

    init(_ prefix: String = "bouncer-policy") throws {
        server = try LoopbackHTTPServer()
        dir = try BouncerProcess.temporaryDirectory(prefix)
    }

    deinit {
        server.stop()
        try? FileManager.default.removeItem(at: dir)
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
    func url(_ name: String) -> String { server.url("/files/\(name)") }

    func writePolicy(_ json: String) throws {
        try Data(json.utf8).write(to: URL(fileURLWithPath: path("policy.json")))
    }

    func write(_ name: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path(name)))
    }

    /// The environment every run gets: a private store, no CI/policy from the caller's environment.
    var environment: [String: String] {
        ["BOUNCER_CACHE": path("cache"), "BOUNCER_POLICY": "", "CI": "", "GITHUB_ACTIONS": ""]
    }

    func bouncer(_ arguments: [String], environment extra: [String: String] = [:]) throws -> ProcessResult {
        try BouncerProcess.run(arguments, cwd: dir.path, environment: environment.merging(extra) { $1 })
    }

    /// `bouncer fetch --quiet URL -o out` with the project's policy.
    func fetch(_ url: String, output: String = "out.bin", _ extra: [String] = [], environment: [String: String] = [:]) throws -> ProcessResult {
        try bouncer(["fetch", "--quiet", url, "-o", path(output), "--policy", path("policy.json")] + extra, environment: environment)
    }

    var lockBytes: [UInt8]? { (try? Data(contentsOf: URL(fileURLWithPath: path("bouncer.lock")))).map { [UInt8]($0) } }

    /// The lockfile's entries as parsed by Foundation (not by Bouncer).
    func lockEntries() throws -> [[String: Any]] {
        guard let bytes = lockBytes else { return [] }
        let object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
        return object?["artifacts"] as? [[String: Any]] ?? []
    }

    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: path(name)) }

    /// Temporary files left anywhere under the project (store included).
    func leftoverTemporaryFiles() -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: dir.path)
        var found: [String] = []
        while let name = enumerator?.nextObject() as? String {
            if name.hasSuffix(".bouncer-tmp") || name.hasSuffix(".tmp") { found.append(name) }
        }
        return found
    }

    static func randomBytes(_ count: Int, _ caller: String = #function, line: Int = #line, column: Int = #column) throws -> [UInt8] {
        TestRandom.bytes(count, "\(caller):\(line):\(column)")
    }

    /// sha256 by the real sha256sum, so tests do not trust Bouncer's own hashing.
    static func sha256sum(_ bytes: [UInt8]) throws -> String {
        String(try BouncerProcess.runProgram("/usr/bin/sha256sum", ["-"], stdin: Data(bytes)).out.prefix(64))
    }
}
