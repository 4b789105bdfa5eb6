import FoundationEssentials
import BouncerBase

/// pip's requirement-file syntax, read once for every reader (the checks
/// for forms that run code, and the `--hash` lists and projects): logical
/// lines, comments, `${VAR}` expansion, options in all four spellings, and
/// nested `-r`/`-c` files, the way pip's `req_file.py` reads them. Two
/// readers that disagreed would let a `--hash` or a VCS URL in a file one of
/// them skipped reach pip unseen.
enum RequirementLines {
    struct Line {
        let file: String
        /// The first physical line of this logical line (1-based).
        let number: Int
        /// Reached through a constraints file (`-c`): it limits versions, installs nothing.
        let inConstraints: Bool
        /// The logical line as pip reads it: joined, comment cut, `${VAR}` expanded, trimmed.
        let text: String
        let tokens: [String]
        /// Every option on the line, as pip's parser takes them (`RequirementOption`).
        let options: [RequirementOption]
        /// For a line that includes a file (`-r`, `-c`): its path, and whether as constraints.
        var included: (path: String, constraints: Bool)? = nil

        init(file: String, number: Int, inConstraints: Bool, text: String) {
            self.file = file
            self.number = number
            self.inConstraints = inConstraints
            self.text = text
            tokens = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            // pip splits off the requirement at the first space-separated word starting with "-".
            let words = text.split(separator: " ", omittingEmptySubsequences: false)
            let requirementWords = words.prefix { !$0.hasPrefix("-") }.count
            options = RequirementOption.parse(words.dropFirst(requirementWords).joined(separator: " "))
        }

        var place: String { "\(file):\(number)" }

        /// The requirement: the tokens before its per-requirement options (" --hash=…").
        var requirement: String? {
            guard let first = tokens.first, !first.hasPrefix("-") else { return nil }
            return tokens.prefix(while: { !$0.hasPrefix("-") }).joined(separator: " ")
        }

        /// A line pip installs from: a requirement, or `-e` anywhere on an option line.
        /// pip applies no other option of such a line (no include, no index).
        var isRequirement: Bool { requirement != nil || options.contains { $0.name == .editable } }

        /// The file an option line includes: its first `-r`, else its first `-c` (pip follows one).
        var include: (value: String?, constraints: Bool)? {
            guard !isRequirement else { return nil }
            if let option = options.first(where: { $0.name == .requirement }) { return (option.value, false) }
            if let option = options.first(where: { $0.name == .constraint }) { return (option.value, true) }
            return nil
        }

        /// The values of `--hash=ALG:HEX` and `--hash ALG:HEX` on a requirement line.
        var hashes: [String] {
            options.filter { $0.name == .hash }.map { $0.value ?? "" }
        }
    }

    static let maxDepth = 8

    /// Where a requirement file named as `value` is: a path (relative to
    /// `base`) or a `file:` URL. nil for an http(s) URL, which pip would
    /// fetch itself: a file Bouncer has not read could send pip anywhere.
    static func path(of value: String, relativeTo base: String) -> String? {
        let lower = value.lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") { return nil }
        if lower.hasPrefix("file://") { return URLParts.percentDecoded(String(value.dropFirst("file://".count))) }
        if lower.hasPrefix("file:") { return URLParts.percentDecoded(String(value.dropFirst("file:".count))) }
        return Filesystem.absolute(value, cwd: base)
    }

    static func remote(_ value: String, at place: String) -> BouncerError {
        BouncerError(.configuration, code: "pip-requirements",
                     "\(place): the requirement file \(Redaction.url(value)) is on the network: pip would fetch and obey it without Bouncer reading it first; download it and give pip the local copy")
    }

    /// Calls `body` with every line of `path` and of the files it includes
    /// (`-r`, `-c`, relative to the including file), in pip's order; each file once.
    /// An including line comes to `body` too (with `included` set), before the file it includes.
    static func visit(_ path: String, environment: [String: String], inConstraints: Bool = false, depth: Int = 0,
                      seen: inout Set<String>, _ body: (Line) throws -> Void) throws {
        guard depth < maxDepth else {
            throw BouncerError(.configuration, code: "pip-requirements", "\(path): requirement files include each other more than \(maxDepth) deep")
        }
        guard seen.insert(path).inserted else { return }
        guard case .success(let bytes) = WholeFile.contents(path, limit: 16 << 20) else {
            throw BouncerError(.configuration, code: "pip-requirements", "cannot read requirements file \(path)")
        }
        let directory = Filesystem.split(path).directory
        for (number, text) in logicalLines(String(decoding: bytes, as: UTF8.self)) {
            var line = Line(file: path, number: number, inConstraints: inConstraints, text: expand(text, environment).trimmingSpaces())
            guard !line.tokens.isEmpty else { continue }
            if let (value, constraints) = line.include {
                guard let value, !value.isEmpty else {
                    throw BouncerError(.configuration, code: "pip-requirements", "\(line.place): \(constraints ? "-c" : "-r") needs a file")
                }
                guard let included = Self.path(of: value, relativeTo: directory) else { throw Self.remote(value, at: line.place) }
                line.included = (included, constraints)
                try body(line)
                try visit(included, environment: environment, inConstraints: inConstraints || constraints, depth: depth + 1, seen: &seen, body)
                continue
            }
            try body(line)
        }
    }

    /// The logical lines with the number of the physical line each starts on:
    /// a line ending in `\` continues on the next (the backslash removed, as
    /// pip joins them), unless it is a comment; comments (`#` at the start or
    /// after white space) are cut off.
    static func logicalLines(_ text: String) -> [(Int, String)] {
        var result: [(Int, String)] = []
        var pending: String? = nil
        var start = 1
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = raw
            if line.hasSuffix("\r") { line = line.dropLast() }
            let isComment = line.drop(while: { $0 == " " || $0 == "\t" }).hasPrefix("#")
            if line.hasSuffix("\\") && !isComment {
                if pending == nil { start = index + 1; pending = "" }
                pending? += line.trimming(["\\"])
                continue
            }
            let number = pending == nil ? index + 1 : start
            // pip puts a space before a comment that ends a continuation, so it is cut as one.
            result.append((number, withoutComment((pending ?? "") + (isComment && pending != nil ? " " : "") + line)))
            pending = nil
        }
        if let pending { result.append((start, withoutComment(pending))) }
        return result
    }

    /// Cut at the first `#` that starts the line or follows white space.
    static func withoutComment(_ line: String) -> String {
        var previous: Character = " "
        for index in line.indices {
            if line[index] == "#", previous == " " || previous == "\t" { return String(line[..<index]) }
            previous = line[index]
        }
        return line
    }

    /// `${NAME}` (upper-case letters, digits, `_`) replaced by the variable's
    /// value where it is set, as pip does; anything else is left as written.
    static func expand(_ line: String, _ environment: [String: String]) -> String {
        guard line.contains("${") else { return line }
        var out = ""
        var rest = Substring(line)
        while let open = rest.firstRange(of: "${") {
            out += rest[..<open.lowerBound]
            let after = rest[open.upperBound...]
            if let close = after.firstIndex(of: "}"),
               case let name = after[..<close], !name.isEmpty,
               name.allSatisfy({ $0.isASCII && ($0.isUppercase || $0.isNumber || $0 == "_") }),
               let value = environment[String(name)] {
                out += value
                rest = after[after.index(after: close)...]
            } else {
                out += "${"
                rest = after
            }
        }
        return out + rest
    }
}
