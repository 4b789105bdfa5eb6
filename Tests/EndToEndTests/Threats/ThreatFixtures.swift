import Foundation
import BouncerTestSupport

/// Fixtures for the threat-policy incident tests: a PEP 691 JSON index with
/// PEP 700 upload times (pages scripted on a MisbehavingServer, files on a
/// DirectoryHTTPServer), an npm registry in the real layout with `time`,
/// wheels with extra files, and times and expectations computed here, never
/// by Bouncer.
enum ThreatFixtures {
    /// Now, whole seconds (so that a printed time can be predicted exactly).
    static func now() -> Date { Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down)) }

    /// `2026-12-05T01:02:03Z`, by Foundation's formatter (independent of Bouncer's UTCTime).
    static func utc(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    /// An old release time, years ago.
    static let longAgo = "2024-01-01T00:00:00.000000Z"

    /// A pure-Python wheel built with Python's zipfile, RECORD covering every file.
    /// `extra`: more files (path → text), e.g. a top-level `.pth`.
    static func wheel(_ name: String, _ version: String, marker: String, extra: [String: String] = [:], into dir: URL) throws -> String {
        let file = "\(name)-\(version)-py3-none-any.whl"
        let script = """
            import sys, json, zipfile, hashlib, base64
            name, version, out, marker, extra = sys.argv[1:6]
            di = f"{name}-{version}.dist-info"
            files = {f"{name}/__init__.py": f"MARKER = {marker!r}\\n".encode(),
                     f"{di}/METADATA": f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n".encode(),
                     f"{di}/WHEEL": b"Wheel-Version: 1.0\\nGenerator: bouncer-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}
            for path, text in json.loads(extra).items(): files[path] = text.encode()
            record = "".join(f"{p},sha256={base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()},{len(d)}\\n" for p, d in files.items())
            files[f"{di}/RECORD"] = (record + f"{di}/RECORD,,\\n").encode()
            with zipfile.ZipFile(out, "w") as z:
                for p, d in files.items():
                    z.writestr(zipfile.ZipInfo(p, date_time=(2020, 1, 1, 0, 0, 0)), d)
            """
        let extraJSON = String(decoding: try JSONSerialization.data(withJSONObject: extra), as: UTF8.self)
        let made = try BouncerProcess.runProgram("/usr/bin/env", ["python3", "-c", script, name, version,
                                                                  dir.appendingPathComponent(file).path, marker, extraJSON])
        guard made.status == 0 else { throw SetupError("wheel build failed: \(made.err)") }
        return file
    }

    /// A shim harness with a venv's bin on PATH (after the shims) and `policy` (the threat policy by default).
    static func pipHarness(_ name: String, policy text: String = policy()) throws -> ShimHarness {
        var harness = try ShimHarness(name)
        let venv = harness.root.appendingPathComponent("venv")
        _ = try ServeFixtures.venv(venv)
        harness.extraPath = [venv.appendingPathComponent("bin").path]
        try text.write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        return harness
    }

    /// pip install through the shim, with none of this machine's pip settings.
    static let pipInstall = "env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1 pip install"

    /// sha256 by coreutils.
    static func sha256(_ file: URL) throws -> String {
        let result = try BouncerProcess.runProgram("/usr/bin/sha256sum", [file.path])
        guard result.status == 0, let hex = result.out.split(separator: " ").first else { throw SetupError("sha256sum failed") }
        return String(hex)
    }

    /// A policy file: pypi files must match the index's digest, npm tarballs
    /// their integrity; `top` is extra top-level JSON members (`"minimumReleaseAge": "48h"`).
    static func policy(top: [String] = [], extraRules: [String] = [], exceptions: [String] = [], mode: String = "enforce") -> String {
        let rules = extraRules + [
            #"{ "name": "pypi", "match": { "ecosystem": "pypi" }, "require": [ { "digest": {} } ] }"#,
            #"{ "name": "npm", "match": { "ecosystem": "npm" }, "require": [ { "integrity": {} } ] }"#,
        ]
        return """
            { "version": 1, "mode": "\(mode)", "unmatched": "deny", "lockfile": "bouncer.lock",
              \(top.map { $0 + "," }.joined(separator: "\n  "))
              "rules": [ \(rules.joined(separator: ",\n    ")) ],
              "exceptions": [ \(exceptions.joined(separator: ", ")) ] }
            """
    }

    /// The lock's entries by key (JSONSerialization, not Bouncer's reader).
    static func lockEntries(_ file: URL) -> [String: [String: Any]] {
        guard let data = try? Data(contentsOf: file),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        let artifacts = root["artifacts"] as? [[String: Any]] ?? []
        return Dictionary(artifacts.compactMap { entry in (entry["key"] as? String).map { ($0, entry) } }, uniquingKeysWith: { first, _ in first })
    }
}

/// A PEP 691 JSON simple index with PEP 700 upload times: project pages
/// scripted on a MisbehavingServer (Content-Type
/// `application/vnd.pypi.simple.v1+json`), files on a DirectoryHTTPServer.
final class JSONIndex {
    let packages: URL
    let files: DirectoryHTTPServer
    let pages: MisbehavingServer

    init(root: URL) throws {
        packages = root.appendingPathComponent("packages")
        try FileManager.default.createDirectory(at: packages, withIntermediateDirectories: true)
        files = try DirectoryHTTPServer(root: root.path)
        pages = try MisbehavingServer()
    }

    var url: String { pages.url("/simple/") }

    /// The project page: (file name, upload-time or nil) for files already in packages/.
    /// `provenance`: PEP 740's per-file provenance URL, by file name.
    /// `coreMetadata`: PEP 658 metadata files (file name → text), served as FILE.metadata with their digest.
    func page(_ name: String, _ entries: [(file: String, uploadTime: String?)], provenance: [String: String] = [:],
              coreMetadata: [String: String] = [:]) throws {
        var files: [[String: Any]] = []
        for entry in entries {
            var file: [String: Any] = ["filename": entry.file, "url": self.files.baseURL + "/packages/" + entry.file,
                                       "hashes": ["sha256": try ThreatFixtures.sha256(packages.appendingPathComponent(entry.file))]]
            if let time = entry.uploadTime { file["upload-time"] = time }
            if let text = coreMetadata[entry.file] {
                let metadata = packages.appendingPathComponent(entry.file + ".metadata")
                try text.write(to: metadata, atomically: true, encoding: .utf8)
                file["core-metadata"] = ["sha256": try ThreatFixtures.sha256(metadata)]
            }
            if let url = provenance[entry.file] { file["provenance"] = url }
            files.append(file)
        }
        let document: [String: Any] = ["meta": ["api-version": "1.1"], "name": name, "files": files]
        pages.route("/simple/\(name)/", [.init(headers: ["Content-Type: application/vnd.pypi.simple.v1+json"],
                                               body: [UInt8](try JSONSerialization.data(withJSONObject: document)))])
    }

    /// GET lines the file server received for `file`.
    func fetches(of file: String) -> Int { files.requests.filter { $0.hasSuffix("/packages/" + file) }.count }
}

/// An npm registry in the real layout (`/NAME`, `/NAME/-/NAME-V.tgz`), with
/// `time` per version; tarballs laid out as `npm pack` lays them out (`NpmTarball`).
final class TimedRegistry {
    let root: URL
    let directory: URL
    let server: DirectoryHTTPServer
    let npm = ["/usr/bin/npm", "/usr/local/bin/npm"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/bin/npm"
    /// name → version → (manifest, time)
    private var versions: [String: [String: ([String: Any], String)]] = [:]

    init(root: URL) throws {
        self.root = root
        directory = root.appendingPathComponent("registry")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        server = try DirectoryHTTPServer(root: directory.path)
    }

    var url: String { server.baseURL + "/" }

    /// Packs and publishes `name@version` released at `time`; `scripts` go into its package.json.
    /// `fields`: more package.json members (in the tarball and the packument); `packumentOnly`: members
    /// of the packument's manifest alone, which a registry serves beside the tarball (manifest confusion).
    @discardableResult
    func publish(_ name: String, _ version: String, time: String, scripts: [String: String] = [:],
                 dependencies: [String: String] = [:], body: String? = nil, files: [String: String] = [:],
                 bin: [String: String] = [:], fields: [String: Any] = [:], packumentOnly: [String: Any] = [:]) throws -> String {
        var manifest: [String: Any] = ["name": name, "version": version, "main": "index.js", "dependencies": dependencies]
        if !scripts.isEmpty { manifest["scripts"] = scripts }
        if !bin.isEmpty { manifest["bin"] = bin }
        manifest.merge(fields) { _, given in given }
        // The extra files are written over the default index.js, as before.
        let contents = ["index.js": body ?? "module.exports = '\(name)@\(version)';\n"].merging(files) { _, extra in extra }
        let integrity = try NpmTarball.pack(manifest: manifest, files: contents,
                                            to: directory.appendingPathComponent("\(name)/-/\(name)-\(version).tgz")).integrity
        var entry = manifest.merging(packumentOnly) { _, given in given }
        entry["dist"] = ["tarball": server.baseURL + "/\(name)/-/\(name)-\(version).tgz", "integrity": integrity]
        versions[name, default: [:]][version] = (entry, time)
        try writePackument(name)
        return integrity
    }

    /// The packument: every version, `time`, and `latest` on the last published.
    private func writePackument(_ name: String) throws {
        let all = versions[name] ?? [:]
        let newest = all.max { $0.value.1 < $1.value.1 }?.key ?? ""
        let document: [String: Any] = [
            "name": name, "dist-tags": ["latest": newest],
            "time": Dictionary(uniqueKeysWithValues: all.map { ($0.key, $0.value.1) }),
            "versions": Dictionary(uniqueKeysWithValues: all.map { ($0.key, $0.value.0) }),
        ]
        // NAME is a directory (it holds NAME/-/*.tgz): the server answers GET /NAME with its
        // index.html, so the packument is written there (npm and Bouncer read the body as JSON).
        try JSONSerialization.data(withJSONObject: document).write(to: directory.appendingPathComponent("\(name)/index.html"))
    }

    func tarballFetches(_ name: String) -> [String] { server.requests.filter { $0.contains("/\(name)/-/") } }
}
