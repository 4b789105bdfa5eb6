import FoundationEssentials
import BouncerBase

/// What `bouncer inspect` found: every entry with its digest, the wheel or
/// npm checks when they apply, and the problems that make the verdict "fail".
/// It says what was checked, never that the archive is safe.
public struct InspectionReport: Codable, Sendable {
    public struct Entry: Codable, Sendable, Equatable {
        public var path: String
        public var type: ArchiveEntry.Kind
        /// Bytes actually read for a file (not the header's claim).
        public var size: UInt64?
        public var mode: String
        public var sha256: String?
        public var linkTarget: String?
    }

    public struct Problem: Codable, Sendable, Equatable {
        public var code: String
        public var entry: String?
        public var message: String
    }

    public struct Wheel: Codable, Sendable, Equatable {
        public var record: String?
        /// RECORD lines whose hash and size were checked against the archive.
        public var verified: Int
        /// The commands its `entry_points.txt` has pip write (console and GUI scripts).
        public var scripts: [String]? = nil
        /// Its METADATA's requirements by URL (`name @ URL`), which pip fetches from there itself.
        public var directReferences: [String]? = nil
    }

    public struct Npm: Codable, Sendable, Equatable {
        public var packageJSON: String?
        public var name: String?
        public var version: String?
        /// preinstall / install / postinstall, in the order npm runs them,
        /// including the implicit `node-gyp rebuild` when binding.gyp exists.
        public var installScripts: [Script]
        /// Every other script name (run only when asked, e.g. `npm test`).
        public var otherScripts: [String]
        /// What the package's own files install from outside the registry: its
        /// lock (`npm-shrinkwrap.json`, `package-lock.json`; npm installs its
        /// dependencies from it: a link to a folder in the tarball, whose install
        /// scripts run), and the dependencies its package.json files name (npm
        /// reads the installed package.json whenever it builds the tree from
        /// disk, so a `file:` folder of the tarball is linked in the same way).
        public var shippedSources: [LockSource]? = nil
    }

    /// A spec the package's own files name, and where (`npm-shrinkwrap.json $.packages["node_modules/x"].resolved`,
    /// `package/package.json $.dependencies.x`).
    public struct LockSource: Codable, Sendable, Equatable {
        public var spec: String
        public var place: String
    }

    public struct Script: Codable, Sendable, Equatable {
        public var name: String
        public var command: String
    }

    public var archive: String
    public var format: String
    public var compression: String
    public var totalBytes: UInt64
    public var entries: [Entry] = []
    public var wheel: Wheel?
    public var npm: Npm?
    public var problems: [Problem] = []

    public var verdict: VerificationReport.Verdict { problems.isEmpty ? .pass : .fail }

    enum CodingKeys: String, CodingKey {
        case archive, format, compression, totalBytes, entries, wheel, npm, problems, verdict
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(verdict, forKey: .verdict)
        try container.encode(archive, forKey: .archive)
        try container.encode(format, forKey: .format)
        try container.encode(compression, forKey: .compression)
        try container.encode(totalBytes, forKey: .totalBytes)
        try container.encode(entries, forKey: .entries)
        try container.encodeIfPresent(wheel, forKey: .wheel)
        try container.encodeIfPresent(npm, forKey: .npm)
        try container.encode(problems, forKey: .problems)
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        archive = try container.decode(String.self, forKey: .archive)
        format = try container.decode(String.self, forKey: .format)
        compression = try container.decode(String.self, forKey: .compression)
        totalBytes = try container.decode(UInt64.self, forKey: .totalBytes)
        entries = try container.decode([Entry].self, forKey: .entries)
        wheel = try container.decodeIfPresent(Wheel.self, forKey: .wheel)
        npm = try container.decodeIfPresent(Npm.self, forKey: .npm)
        problems = try container.decode([Problem].self, forKey: .problems)
    }

    init(archive: String, format: String, compression: String, totalBytes: UInt64) {
        self.archive = archive
        self.format = format
        self.compression = compression
        self.totalBytes = totalBytes
    }

    mutating func add(_ error: ArchiveError, entry: String?) {
        problems.append(Problem(code: error.code, entry: entry, message: error.description))
    }

    mutating func add(code: String, entry: String?, _ message: String) {
        problems.append(Problem(code: code, entry: entry, message: message))
    }

    /// One line of JSON with sorted keys.
    public func jsonLine() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "{\"verdict\":\"fail\"}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// The human form: a header, one line per entry, then the checks.
    public func humanLines() -> [String] {
        var lines = ["\(quoted(archive)): \(format), compression \(compression), \(entries.count) entries, \(totalBytes) bytes"]
        for entry in entries {
            let size = entry.size.map(String.init) ?? "-"
            var line = "\(entry.type.rawValue.leftAligned(9)) \(entry.mode) "
                + "\(size.leftAligned(12)) \(entry.sha256 ?? String(repeating: "-", count: 64)) \(quoted(entry.path))"
            if let target = entry.linkTarget { line += " -> \(quoted(target))" }
            lines.append(line)
        }
        if let npm {
            lines.append("npm package: \(quoted(npm.name ?? "?"))@\(quoted(npm.version ?? "?")) (\(quoted(npm.packageJSON ?? "no package.json")))")
            if npm.installScripts.isEmpty {
                lines.append("  install scripts: none")
            } else {
                lines.append("  INSTALL SCRIPTS: npm install runs these (authentic is not safe):")
                for script in npm.installScripts { lines.append("    \(script.name): \(quoted(script.command))") }
            }
            if !npm.otherScripts.isEmpty {
                lines.append("  other scripts (not run on install): " + npm.otherScripts.map(quoted).joined(separator: ", "))
            }
        }
        if let wheel {
            let outcome = problems.isEmpty ? "OK" : "FAILED"
            lines.append("wheel RECORD \(quoted(wheel.record ?? "(missing)")): \(wheel.verified) files verified: \(outcome)")
        }
        for problem in problems { lines.append("PROBLEM: \(problem.message)") }
        lines.append(problems.isEmpty ? "verdict: pass (integrity of the listed contents only)" : "verdict: fail")
        return lines
    }
}
