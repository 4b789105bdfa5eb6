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
        let tokens: [String]

        var place: String { "\(file):\(number)" }

        /// The option a line starts with, as (name, value): `-r FILE`, `-rFILE`,
        /// `--requirement=FILE` and `--requirement FILE` all give ("-r"/"--requirement", FILE).
        var option: (name: String, value: String?)? {
            guard let first = tokens.first, first.hasPrefix("-") else { return nil }
            if first.hasPrefix("--"), let equals = first.firstIndex(of: "=") {
                return (String(first[..<equals]), String(first[first.index(after: equals)...]))
            }
            if !first.hasPrefix("--"), first.count > 2 {
                return (String(first.prefix(2)), String(first.dropFirst(2)))
            }
            return (first, tokens.count > 1 ? tokens[1] : nil)
        }

        /// The requirement: the tokens before its per-requirement options (" --hash=…").
        var requirement: String? {
            guard let first = tokens.first, !first.hasPrefix("-") else { return nil }
            return tokens.prefix(while: { !$0.hasPrefix("-") }).joined(separator: " ")
        }

        /// The values of `--hash=ALG:HEX` and `--hash ALG:HEX` on a requirement line.
        var hashes: [String] {
            var texts: [String] = []
            var position = 0
            while position < tokens.count {
                if tokens[position] == "--hash" {
                    texts.append(position + 1 < tokens.count ? tokens[position + 1] : "")
                    position += 2
                    continue
                }
                if tokens[position].hasPrefix("--hash=") { texts.append(String(tokens[position].dropFirst("--hash=".count))) }
                position += 1
            }
            return texts
        }
    }

    static let maxDepth = 8

    /// Calls `body` with every line of `path` and of the files it includes
    /// (`-r`, `-c`, relative to the including file), in pip's order; each file once.
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
            let tokens = expand(text, environment).split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard !tokens.isEmpty else { continue }
            let line = Line(file: path, number: number, inConstraints: inConstraints, tokens: tokens)
            if let (name, value) = line.option, ["-r", "--requirement", "-c", "--constraint"].contains(name) {
                guard let value, !value.isEmpty else {
                    throw BouncerError(.configuration, code: "pip-requirements", "\(line.place): \(name) needs a file")
                }
                let included = value.hasPrefix("/") ? value : directory + "/" + value
                let constraints = inConstraints || name == "-c" || name == "--constraint"
                try visit(included, environment: environment, inConstraints: constraints, depth: depth + 1, seen: &seen, body)
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
