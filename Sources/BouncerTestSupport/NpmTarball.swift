import Foundation

/// Package tarballs for the tests' loopback registries, laid out as `npm pack`
/// lays them out: a gzip'd tar with every file under `package/`, npm's fixed
/// mtime (1985-10-26), mode 0644, and npm's file name (`@scope/name` →
/// `scope-name-VERSION.tgz`).
///
/// `npm pack` itself costs ~0.4 s of node start-up per tarball, and the suite
/// packs over 70; Python's tarfile does the same in a few milliseconds. The
/// `integrity` (SRI sha512) and sha256 are computed by Python's hashlib, not
/// by Bouncer, so a test never checks Bouncer against itself.
public enum NpmTarball {
    public struct Packed: Sendable {
        public let integrity: String
        public let sha256: String
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// npm's tarball name for `name@version`, e.g. `acme-util-1.2.0.tgz`.
    public static func fileName(_ name: String, _ version: String) -> String {
        let flat = name.hasPrefix("@") ? String(name.dropFirst()).replacingOccurrences(of: "/", with: "-") : name
        return "\(flat)-\(version).tgz"
    }

    /// Writes a tarball of `package.json` (`manifest`) and `files` (path inside
    /// the package → contents; a file named there wins) to `target`, replacing
    /// what was there, its folder made as needed.
    public static func pack(manifest: [String: Any], files: [String: String], to target: URL) throws -> Packed {
        let contents = ["package.json": String(decoding: try JSONSerialization.data(withJSONObject: manifest), as: UTF8.self)]
            .merging(files) { _, named in named }
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        let listing = try JSONSerialization.data(withJSONObject: contents, options: [.sortedKeys])
        let script = """
            import sys, json, tarfile, io, gzip, hashlib, base64
            out = sys.argv[1]
            files = json.load(sys.stdin)
            raw = io.BytesIO()
            with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
                for path in sorted(files):
                    data = files[path].encode()
                    info = tarfile.TarInfo("package/" + path)
                    info.size, info.mode, info.mtime = len(data), 0o644, 499162500
                    tar.addfile(info, io.BytesIO(data))
            packed = gzip.compress(raw.getvalue(), mtime=0)
            open(out, "wb").write(packed)
            print("sha512-" + base64.b64encode(hashlib.sha512(packed).digest()).decode())
            print(hashlib.sha256(packed).hexdigest())
            """
        let result = try BouncerProcess.runProgram("/usr/bin/env", ["python3", "-c", script, target.path], stdin: listing)
        let lines = result.out.split(separator: "\n").map(String.init)
        guard result.status == 0, lines.count == 2 else { throw Failure(description: "packing \(target.lastPathComponent) failed: \(result.err)") }
        return Packed(integrity: lines[0], sha256: lines[1])
    }
}
