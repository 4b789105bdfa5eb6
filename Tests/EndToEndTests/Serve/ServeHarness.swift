import Foundation
#if canImport(Glibc)
import Glibc
#endif
import BouncerTestSupport

/// A running `bouncer serve` (started through the `bouncer` binary, which
/// execs `bouncer-serve`), in a temporary project with its own policy, lock and cache.
final class ServeProcess {
    let root: URL
    let project: URL
    let cache: URL
    let readyFile: URL
    let process: RunningProcess
    let base: String
    private var result: ProcessResult?

    /// The policy used unless a test gives its own: pip artifacts must match
    /// the index's digest, npm tarballs their integrity; nothing else passes.
    static func policy(mode: String = "enforce") -> String {
        """
        { "version": 1, "mode": "\(mode)", "unmatched": "deny", "lockfile": "bouncer.lock",
          "rules": [
            { "name": "pypi", "match": { "ecosystem": "pypi" }, "require": [ { "digest": {} } ] },
            { "name": "npm", "match": { "ecosystem": "npm" }, "require": [ { "integrity": {} } ] }
          ] }
        """
    }

    init(root: URL, arguments: [String], policy: String = ServeProcess.policy(), environment: [String: String] = [:],
         unsetting: [String] = []) throws {
        self.root = root
        project = root.appendingPathComponent("project")
        cache = root.appendingPathComponent("cache")
        readyFile = root.appendingPathComponent("ready")
        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
        try policy.write(to: project.appendingPathComponent("policy.json"), atomically: true, encoding: .utf8)
        var env = ["BOUNCER_CACHE": cache.path, "CI": "", "HOME": root.path]
        for (key, value) in environment { env[key] = value }
        process = try BouncerProcess.start(["serve", "--ready-file", readyFile.path, "--policy", project.appendingPathComponent("policy.json").path] + arguments,
                                           cwd: project.path, environment: env, unsetting: unsetting)
        // Ready when the file appears (written whole, then renamed into place).
        var found: String? = nil
        for _ in 0..<600 {
            if let text = try? String(contentsOf: readyFile, encoding: .utf8) {
                found = text.trimmingCharacters(in: .whitespacesAndNewlines)
                break
            }
            usleep(50_000)
        }
        guard let found else {
            kill(process.processIdentifier, SIGKILL)
            let output = try process.wait()
            throw SetupError("bouncer serve did not become ready (exit \(output.status)): \(output.err)")
        }
        base = found
    }

    var lockfile: URL { project.appendingPathComponent("bouncer.lock") }

    /// SIGTERM, then the exit status and output.
    @discardableResult
    func stop() throws -> ProcessResult {
        if let result { return result }
        kill(process.processIdentifier, SIGTERM)
        let output = try process.wait()
        result = output
        return output
    }

    deinit {
        if result == nil { kill(process.processIdentifier, SIGKILL); _ = try? process.wait() }
    }
}

/// A GET with the real curl: status, Content-Type and body.
struct CurlGet {
    let status: Int
    let contentType: String
    let body: Data
    var text: String { String(decoding: body, as: UTF8.self) }

    static func run(_ url: String, accept: String? = nil, userAgent: String? = nil) throws -> CurlGet {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("serve-get-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        var arguments = ["-s", "-o", out.path, "-w", "%{http_code} %{content_type}"]
        if let accept { arguments += ["-H", "Accept: \(accept)"] }
        if let userAgent { arguments += ["-A", userAgent] }
        let result = try BouncerProcess.runProgram("/usr/bin/curl", arguments + [url])
        let parts = result.out.split(separator: " ", maxSplits: 1)
        return CurlGet(status: Int(parts.first ?? "") ?? 0, contentType: parts.count > 1 ? String(parts[1]) : "",
                       body: (try? Data(contentsOf: out)) ?? Data())
    }
}

enum ServeFixtures {
    /// A PEP 503 project page: one link per file to `../../packages/FILE`,
    /// with `#sha256=` when a digest is given and any extra attributes.
    static func pageHTML(_ links: [(file: String, sha256: String?, attributes: String)]) -> String {
        let anchors = links.map { file, hash, attributes in
            "<a href=\"../../packages/\(file)\(hash.map { "#sha256=" + $0 } ?? "")\"\(attributes.isEmpty ? "" : " " + attributes)>\(file)</a><br/>"
        }.joined(separator: "\n")
        return "<!DOCTYPE html><html><body>\n\(anchors)\n</body></html>\n"
    }

    /// Writes that page as `INDEX/simple/NAME/index.html`.
    static func writePage(_ name: String, _ links: [(file: String, sha256: String?, attributes: String)], index: URL) throws {
        let dir = index.appendingPathComponent("simple/\(name)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try pageHTML(links).write(to: dir.appendingPathComponent("index.html"), atomically: true, encoding: .utf8)
    }

    /// A pure-Python wheel made with Python's zipfile (RECORD included); `marker` is `MARKER` in its module.
    /// Returns the file name; its sha256 is computed separately by `sha256sum`.
    /// `script`: a console script of that name printing the marker (what pipx installs apps by).
    static func wheel(_ name: String, _ version: String, marker: String, requires: [String] = [], into dir: URL,
                      padding: Int = 0, script: String? = nil) throws -> String {
        let file = "\(name)-\(version)-py3-none-any.whl"
        let source = """
            import sys, zipfile, hashlib, base64, os
            name, version, out, marker, padding = sys.argv[1:6]
            requires = sys.argv[6:]
            di = f"{name}-{version}.dist-info"
            meta = f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n" + "".join(f"Requires-Dist: {r}\\n" for r in requires)
            files = {f"{name}/__init__.py": f"MARKER = {marker!r}\\n".encode(), f"{di}/METADATA": meta.encode(),
                     f"{di}/WHEEL": b"Wheel-Version: 1.0\\nGenerator: bouncer-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}
            if int(padding): files[f"{name}/blob.bin"] = os.urandom(int(padding))
            script = os.environ.get("WHEEL_SCRIPT")
            if script:
                files[f"{name}/__init__.py"] += b"def main():\\n    print(MARKER)\\n"
                files[f"{di}/entry_points.txt"] = f"[console_scripts]\\n{script} = {name}:main\\n".encode()
            record = "".join(f"{p},sha256={base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()},{len(d)}\\n" for p, d in files.items())
            files[f"{di}/RECORD"] = (record + f"{di}/RECORD,,\\n").encode()
            with zipfile.ZipFile(out, "w") as z:
                for p, d in files.items():
                    z.writestr(zipfile.ZipInfo(p, date_time=(2020, 1, 1, 0, 0, 0)), d)
            with open(out + ".metadata", "wb") as f:
                f.write(meta.encode())
            """
        let made = try BouncerProcess.runProgram("/usr/bin/env", ["python3", "-c", source, name, version, dir.appendingPathComponent(file).path,
                                                                  marker, String(padding)] + requires,
                                                 environment: ["WHEEL_SCRIPT": script ?? ""])
        guard made.status == 0 else { throw SetupError("wheel build failed: \(made.err)") }
        return file
    }

    /// sha256 of a file by the coreutils tool (not by Bouncer).
    static func sha256(_ file: URL) throws -> String {
        let result = try BouncerProcess.runProgram("/usr/bin/sha256sum", [file.path])
        guard result.status == 0, let hex = result.out.split(separator: " ").first else { throw SetupError("sha256sum failed") }
        return String(hex)
    }

    /// A fresh venv; returns its python.
    static func venv(_ dir: URL) throws -> String {
        try PythonVenv.make(at: dir)
    }

    /// `python -m pip install` against `index` only: the machine's pip configuration
    /// (its find-links wheelhouse, its index) is left out so that everything comes through the proxy.
    static func pipInstall(_ python: String, _ requirements: [String], index: String, cwd: URL) throws -> ProcessResult {
        try BouncerProcess.runProgram("/usr/bin/env", ["-u", "PIP_FIND_LINKS", "-u", "PIP_EXTRA_INDEX_URL", "PIP_CONFIG_FILE=/dev/null",
                                                       "PIP_INDEX_URL=\(index)", "PIP_DISABLE_PIP_VERSION_CHECK=1",
                                                       python, "-m", "pip", "install", "--no-cache-dir"] + requirements, cwd: cwd.path)
    }

    /// The lock's entries by key, read with JSONSerialization (not Bouncer's reader).
    static func lockEntries(_ file: URL) throws -> [String: [String: Any]] {
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any]
        let artifacts = root?["artifacts"] as? [[String: Any]] ?? []
        return Dictionary(artifacts.compactMap { entry in (entry["key"] as? String).map { ($0, entry) } }, uniquingKeysWith: { first, _ in first })
    }

    /// Every href / url in a page.
    static func links(_ html: String) -> [String] {
        html.components(separatedBy: "href=\"").dropFirst().compactMap { $0.split(separator: "\"", maxSplits: 1).first.map(String.init) }
    }
}
