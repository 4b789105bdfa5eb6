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
public struct RequirementFile {
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

    /// Reads `path` (and files it includes with -r, at most 8 deep).
    public static func read(_ path: String, depth: Int = 0) throws -> RequirementFile {
        guard depth < 8 else { throw ParseError(file: path, line: 0, detail: "requirement files include each other more than 8 deep") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BouncerError(.configuration, code: "pip-requirements", "cannot read requirements file \(path)")
        }
        var result = RequirementFile()
        var logical = ""
        var startLine = 1
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        for (number, raw) in lines.enumerated() {
            var line = String(raw)
            if line.hasSuffix("\r") { line.removeLast() }
            if logical.isEmpty { startLine = number + 1 }
            if line.hasSuffix("\\") {
                logical += line.dropLast() + " "
                continue
            }
            logical += line
            defer { logical = "" }
            // Comments start at " #" or a leading "#".
            if let hash = logical.firstRange(of: " #") { logical = String(logical[..<hash.lowerBound]) }
            let tokens = logical.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let first = tokens.first, !first.hasPrefix("#") else { continue }
            if first == "-r" || first == "--requirement", tokens.count > 1 {
                let included = tokens[1].hasPrefix("/") ? tokens[1] : Filesystem.split(path).directory + "/" + tokens[1]
                result.merge(try read(included, depth: depth + 1))
                continue
            }
            if first.hasPrefix("-") { continue }
            let name = result.note(requirement: first)
            var texts: [String] = []
            var position = 1
            while position < tokens.count {
                // pip's optparse takes "--hash=ALG:HEX" and "--hash ALG:HEX" alike.
                if tokens[position] == "--hash" {
                    texts.append(position + 1 < tokens.count ? tokens[position + 1] : "")
                    position += 2
                    continue
                }
                if tokens[position].hasPrefix("--hash=") { texts.append(String(tokens[position].dropFirst("--hash=".count))) }
                position += 1
            }
            for text in texts {
                guard let colon = text.firstIndex(of: ":") else {
                    throw ParseError(file: path, line: startLine, detail: "--hash '\(text)' is not ALGORITHM:HEX")
                }
                let algorithm = String(text[..<colon])
                let hex = String(text[text.index(after: colon)...])
                guard let kind = HashAlgorithm(rawValue: algorithm), kind == .sha256 || kind == .sha384 || kind == .sha512 else {
                    throw ParseError(file: path, line: startLine, detail: "--hash algorithm '\(algorithm)' is not sha256, sha384 or sha512")
                }
                do {
                    result.hashes[name, default: []].append(try Digest(algorithm: kind, hex: hex))
                } catch {
                    throw ParseError(file: path, line: startLine, detail: "--hash for \(name): \(error)")
                }
            }
        }
        return result
    }

    /// `name==1.2` (no wildcard, no marker, no extras glued on): "1.2".
    static func exactVersion(_ token: String) -> String? {
        guard let range = token.firstRange(of: "=="), !token.contains("===") else { return nil }
        let version = token[range.upperBound...]
        guard PythonPackageName.isExactVersion(version), !token[..<range.lowerBound].contains(where: { "<>!~;@".contains($0) }) else { return nil }
        return String(version)
    }

    /// Notes the project a requirement (`Name[extra]==1.0`, `name>=2`) names,
    /// with its exact pin, and returns its normalised name. A path or URL
    /// (`./dist/x.whl`, `https://…`) names no project and is not noted.
    @discardableResult
    mutating func note(requirement token: String) -> String {
        let name = PythonPackageName.normalised(String(token.prefix(while: { !"=<>!~;[ @(".contains($0) })))
        note(name, pinned: Self.exactVersion(token))
        return name
    }

    mutating func note(_ name: String, pinned version: String?) {
        guard PythonPackageName.isValid(name), !projects.contains(where: { $0.name == name }) else { return }
        projects.append((name, version))
    }

    mutating func merge(_ other: RequirementFile) {
        for (name, digests) in other.hashes { hashes[name, default: []] += digests }
        for project in other.projects { note(project.name, pinned: project.version) }
    }
}
