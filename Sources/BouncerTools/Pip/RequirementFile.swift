import FoundationEssentials
import BouncerBase
import BouncerIO
import BouncerPolicy

/// What the shim reads of a requirements file (pip reads it too): the
/// `--hash=ALG:HEX` options by normalised project name — the
/// publisher-independent digests a person pinned, which become claimed
/// digests the guard must see match — and the projects it names, with the
/// version when pinned exactly (`name==1.2`), which the proxy fetches and
/// verifies ahead of pip.
public struct RequirementFile: Sendable {
    public var hashes: [String: [Digest]] = [:]
    /// In file order, each project once.
    public var projects: [(name: String, version: String?)] = []

    public struct ParseError: BouncerFailure {
        public let file: String
        public let line: Int
        public let detail: String
        public var family: ErrorFamily { .configuration }
        public var code: String { "pip-requirements" }
        public var description: String { "\(file):\(line): \(detail)" }
    }

    /// Reads `path` and the requirement files it includes (`-r`); constraints
    /// files (`-c`) install nothing and are not read for projects or hashes.
    public static func read(_ path: String, environment: [String: String]) throws -> RequirementFile {
        var result = RequirementFile()
        var seen: Set<String> = []
        try RequirementLines.visit(path, environment: environment, seen: &seen) { line in try result.take(line) }
        return result
    }

    /// Takes one line of a requirement file: its project and `--hash`
    /// options. Lines of constraints files install nothing and are skipped.
    mutating func take(_ line: RequirementLines.Line) throws {
        guard !line.inConstraints, let requirement = line.requirement else { return }
        let name = note(requirement: requirement)
        let digests = try Self.digests(of: line, project: name)
        if !digests.isEmpty { hashes[name, default: []] += digests }
    }

    /// The digests of a requirement line's `--hash=ALG:HEX` options (sha256,
    /// sha384 or sha512); one that is not is an error naming the file and line.
    static func digests(of line: RequirementLines.Line, project name: String) throws -> [Digest] {
        try line.hashes.map { text in
            guard let colon = text.firstIndex(of: ":") else {
                throw ParseError(file: line.file, line: line.number, detail: "--hash '\(text)' is not ALGORITHM:HEX")
            }
            let algorithm = String(text[..<colon])
            let hex = String(text[text.index(after: colon)...])
            guard let kind = HashAlgorithm(rawValue: algorithm), kind == .sha256 || kind == .sha384 || kind == .sha512 else {
                throw ParseError(file: line.file, line: line.number, detail: "--hash algorithm '\(algorithm)' is not sha256, sha384 or sha512")
            }
            do {
                return try Digest(algorithm: kind, hex: hex)
            } catch {
                throw ParseError(file: line.file, line: line.number, detail: "--hash for \(name): \(error)")
            }
        }
    }

    /// `name==1.2` (no wildcard, no marker, no extras glued on): "1.2".
    static func exactVersion(_ token: String) -> String? {
        // Byte by byte: the generic substring searches cost more than the rest of reading a line.
        let bytes = Array(token.utf8)
        guard let at = bytes.indices.dropLast().first(where: { bytes[$0] == UInt8(ascii: "=") && bytes[$0 + 1] == UInt8(ascii: "=") }),
              !bytes.indices.dropLast(2).contains(where: { bytes[$0] == UInt8(ascii: "=") && bytes[$0 + 1] == UInt8(ascii: "=") && bytes[$0 + 2] == UInt8(ascii: "=") }),
              !bytes[..<at].contains(where: { Self.specifierBytes.contains($0) }) else { return nil }
        let version = Substring(decoding: bytes[(at + 2)...], as: UTF8.self)
        return PythonPackageName.isExactVersion(version) ? String(version) : nil
    }

    /// `<>!~;@`: a name followed by any of these is not pinned by a plain `==`.
    static let specifierBytes: Set<UInt8> = Set("<>!~;@".utf8)
    /// Where a requirement's project name ends.
    static let nameEndBytes: Set<UInt8> = Set("=<>!~;[ @(".utf8)

    /// Notes the project a requirement (`Name[extra]==1.0`, `name>=2`) names,
    /// with its exact pin, and returns its normalised name. A path or URL
    /// (`./dist/x.whl`, `https://…`) names no project and is not noted.
    @discardableResult
    mutating func note(requirement token: String) -> String {
        let name = PythonPackageName.normalised(String(decoding: token.utf8.prefix(while: { !Self.nameEndBytes.contains($0) }), as: UTF8.self))
        note(name, pinned: Self.exactVersion(token))
        return name
    }

    mutating func note(_ name: String, pinned version: String?) {
        guard PythonPackageName.isValid(name), !projects.contains(where: { $0.name == name }) else { return }
        projects.append((name, version))
    }

}
