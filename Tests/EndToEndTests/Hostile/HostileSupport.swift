import Foundation
import BouncerTestSupport

/// A throw-away project for the hostile-input suites: a temporary directory
/// with a private store, `bouncer` runs with a policy, the repository's shims
/// first on PATH and, behind them, *recording* stand-ins for the real tools.
/// A stand-in writes its name and arguments to `real-tool.log` and exits 0,
/// so a test can prove the real tool never ran (or ran only on verified files).
final class HostileProject: @unchecked Sendable {
    let dir: URL

    init(_ prefix: String) throws {
        dir = try BouncerProcess.temporaryDirectory("bouncer-hostile-\(prefix)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("project"), withIntermediateDirectories: true)
        let bin = dir.appendingPathComponent("realbin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        for tool in ["curl", "wget", "pip", "pip3", "npm"] {
            let script = "#!/bin/sh\nprintf '%s\\n' \"\(tool) $*\" >> '\(recordPath)'\nexit 0\n"
            let url = bin.appendingPathComponent(tool)
            try Data(script.utf8).write(to: url)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        }
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    var project: URL { dir.appendingPathComponent("project") }
    var recordPath: String { dir.appendingPathComponent("real-tool.log").path }
    func path(_ name: String) -> String { project.appendingPathComponent(name).path }
    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: path(name)) }
    func bytes(_ name: String) -> [UInt8]? { (try? Data(contentsOf: URL(fileURLWithPath: path(name)))).map { [UInt8]($0) } }
    func write(_ name: String, _ bytes: [UInt8]) throws { try Data(bytes).write(to: URL(fileURLWithPath: path(name))) }
    func write(_ name: String, _ text: String) throws { try write(name, Array(text.utf8)) }

    /// What the stand-in real tools recorded (empty: none ran).
    var realToolRuns: String { (try? String(contentsOfFile: recordPath, encoding: .utf8)) ?? "" }

    var lockText: String { bytes("bouncer.lock").map { String(decoding: $0, as: UTF8.self) } ?? "" }

    /// Project files other than the policy, the lock and hidden files.
    func projectFiles() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: project.path)) ?? [])
            .filter { $0 != "policy.json" && $0 != "bouncer.lock" && !$0.hasPrefix(".") }.sorted()
    }

    /// Temporary or partial files anywhere in the project or the store.
    func leftovers() -> [String] {
        var found: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: dir.path)
        while let name = enumerator?.nextObject() as? String {
            if name.hasSuffix(".tmp") || name.hasSuffix(".bouncer-tmp") || name.hasSuffix(".part") || name.contains("/tmp/") { found.append(name) }
        }
        return found
    }

    var environment: [String: String] {
        let shims = Corpus.packageRoot.appendingPathComponent("shims").path
        let path = [shims, dir.appendingPathComponent("realbin").path, ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"].joined(separator: ":")
        return ["PATH": path, "BOUNCER_BIN": BouncerProcess.executable, "BOUNCER_CACHE": dir.appendingPathComponent("cache").path,
                "HOME": dir.path, "BOUNCER_POLICY": "", "CI": "", "GITHUB_ACTIONS": ""]
    }

    /// `bouncer ARGS` in the project directory; a hung run is killed by `timeout`.
    func bouncer(_ arguments: [String], environment extra: [String: String] = [:], stdin: Data? = nil) throws -> ProcessResult {
        try BouncerProcess.runProgram("/usr/bin/timeout", ["120", BouncerProcess.executable] + arguments, cwd: project.path,
                                      environment: environment.merging(extra) { $1 }, stdin: stdin)
    }

    /// `sh -c SCRIPT` in the project directory with the shims first on PATH.
    func sh(_ script: String, environment extra: [String: String] = [:]) throws -> ProcessResult {
        try BouncerProcess.runProgram("/usr/bin/timeout", ["120", "/bin/sh", "-c", script], cwd: project.path,
                                      environment: environment.merging(extra) { $1 })
    }

    func writePolicy(_ json: String) throws { try write("policy.json", json) }

    /// A policy whose one rule pins `sha256` for every URL on the loopback host.
    func pinnedPolicy(_ sha256: String, extra: String = "") throws {
        try writePolicy(#"""
        {"version": 1, "mode": "enforce", "unmatched": "deny",
         "rules": [{"name": "loopback", "match": {"host": "127.0.0.1"}, "require": [{"digest": {"sha256": "\#(sha256)"}}]\#(extra)}]}
        """#)
    }

    static func sha256(_ bytes: [UInt8]) throws -> String {
        String(try BouncerProcess.runProgram("/usr/bin/sha256sum", ["-"], stdin: Data(bytes)).out.prefix(64))
    }

    static func random(_ count: Int, _ caller: String = #function, line: Int = #line, column: Int = #column) throws -> [UInt8] {
        TestRandom.bytes(count, "\(caller):\(line):\(column)")
    }

    static func has(_ tool: String) -> Bool {
        ["/usr/bin/", "/bin/", "/usr/local/bin/"].contains { FileManager.default.isExecutableFile(atPath: $0 + tool) }
    }
}
