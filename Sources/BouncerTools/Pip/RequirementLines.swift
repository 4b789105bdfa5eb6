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
        // A file: URL is opened as pip's url_to_path reads it (a red-team pass had Bouncer read
        // `localhost/p` or `p#x` under the folder while pip read `/p`); a relative one is under
        // pip's working directory, not the including file's.
        if lower.hasPrefix("file:") {
            return PipConfiguration.fileURLPath(value).map { Filesystem.absolute($0, cwd: FileManager.default.currentDirectoryPath) }
        }
        return Filesystem.absolute(value, cwd: base)
    }

    static func remote(_ value: String, at place: String) -> BouncerError {
        BouncerError(.configuration, code: "pip-requirements",
                     "\(place): the requirement file \(Redaction.url(value)) is on the network: pip would fetch and obey it without Bouncer reading it first; download it and give pip the local copy")
    }

    /// Calls `body` with every line of `path` and of the files it includes
    /// (`-r`, `-c`, relative to the including file), in pip's order; each file once.
    /// An including line comes to `body` too (with `included` set), before the file it includes.
    /// `viaURL`: the file was named by a `file:` URL, whose includes pip resolves as URLs
    /// (joined to it, percent-decoded, query and fragment dropped); those are refused.
    static func visit(_ path: String, environment: [String: String], inConstraints: Bool = false, depth: Int = 0, viaURL: Bool = false,
                      seen: inout Set<String>, _ body: (Line) throws -> Void) throws {
        guard depth < maxDepth else {
            throw BouncerError(.configuration, code: "pip-requirements", "\(path): requirement files include each other more than \(maxDepth) deep")
        }
        // A file read again by a file: URL is checked again: its includes mean other files then.
        guard seen.insert(viaURL ? "file:" + path : path).inserted else { return }
        guard case .success(let bytes) = WholeFile.contents(path, limit: 16 << 20) else {
            throw BouncerError(.configuration, code: "pip-requirements", "cannot read requirements file \(path)")
        }
        let directory = Filesystem.split(path).directory
        for (number, text) in logicalLines(try decoded(bytes, file: path)) {
            var line = Line(file: path, number: number, inConstraints: inConstraints, text: PythonText.stripped(expand(text, environment)))
            guard !line.tokens.isEmpty else { continue }
            if let (value, constraints) = line.include {
                guard let value, !value.isEmpty else {
                    throw BouncerError(.configuration, code: "pip-requirements", "\(line.place): \(constraints ? "-c" : "-r") needs a file")
                }
                guard let included = Self.path(of: value, relativeTo: directory) else { throw Self.remote(value, at: line.place) }
                if viaURL {
                    throw BouncerError(.configuration, code: "pip-requirements",
                                       "\(line.place): \(path) was named by a file: URL, so pip resolves its include \(value) as a URL (joined to it and percent-decoded), which Bouncer does not read the same way; name the requirement file by its path")
                }
                line.included = (included, constraints)
                try body(line)
                try visit(included, environment: environment, inConstraints: inConstraints || constraints, depth: depth + 1,
                          viaURL: value.lowercased().hasPrefix("file:"), seen: &seen, body)
                continue
            }
            try body(line)
        }
    }

    /// A requirement file's text as pip decodes it (`auto_decode`): a UTF-8
    /// byte order mark dropped; a UTF-16 or UTF-32 one, or a `# coding:`
    /// declaration of anything but UTF-8 or ASCII in the first two lines, is
    /// refused: pip decodes those, and text Bouncer read as UTF-8 would not be
    /// the text pip obeys (`+AC0-r` is `-r` in UTF-7).
    static func decoded(_ bytes: [UInt8], file: String) throws(BouncerError) -> String {
        var bytes = bytes[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        for (mark, name) in [([0xFF, 0xFE, 0x00, 0x00], "UTF-32"), ([0x00, 0x00, 0xFE, 0xFF], "UTF-32"), ([0xFF, 0xFE], "UTF-16"), ([0xFE, 0xFF], "UTF-16")] as [([UInt8], String)]
            where bytes.starts(with: mark) {
            throw BouncerError(.configuration, code: "pip-requirements", "\(file): starts with a \(name) byte order mark, which pip decodes and Bouncer reads as UTF-8 only; save it as UTF-8")
        }
        for line in bytes.split(separator: 0x0A, maxSplits: 2, omittingEmptySubsequences: false).prefix(2) where line.first == UInt8(ascii: "#") {
            guard let name = declaredEncoding(Array(line)) else { continue }
            guard ["utf-8", "utf8", "utf_8", "u8", "ascii", "us-ascii", "utf-8-sig"].contains(name.lowercased()) else {
                throw BouncerError(.configuration, code: "pip-requirements", "\(file): declares the encoding \(name) (# coding:), which pip decodes and Bouncer reads as UTF-8 only; save it as UTF-8")
            }
            break
        }
        // Not UTF-8: pip decodes it with the locale's encoding (where a 0x85 is a line break), or fails.
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw BouncerError(.configuration, code: "pip-requirements", "\(file): is not valid UTF-8, and pip would read it in the locale's encoding; save it as UTF-8")
        }
        return text
    }

    /// What pip's `coding[:=]\s*([-\w.]+)` finds first on a line (every
    /// occurrence tried, case as written, `\s` the ASCII white space).
    static func declaredEncoding(_ line: [UInt8]) -> String? {
        let word = Array("coding".utf8)
        var start = 0
        while start + word.count < line.count {
            defer { start += 1 }
            guard Array(line[start..<(start + word.count)]) == word, line[start + word.count] == UInt8(ascii: ":") || line[start + word.count] == UInt8(ascii: "=") else { continue }
            var index = start + word.count + 1
            while index < line.count, [0x20, 0x09, 0x0A, 0x0D, 0x0C, 0x0B].contains(line[index]) { index += 1 }
            let name = line[index...].prefix { byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
            }
            if !name.isEmpty { return String(decoding: name, as: UTF8.self) }
        }
        return nil
    }

    /// The logical lines, with the number of the physical line each starts
    /// on, as pip's `preprocess` yields them: physical lines split where
    /// Python's `str.splitlines` splits (CR, VT, FF, the file, group and
    /// record separators, NEL, LS and PS, not only LF); a line ending in `\`
    /// continues on the next (backslashes stripped from both ends, as pip
    /// does), unless it is a comment; comments (`#` at the start or after
    /// white space) cut off; each line stripped of Python's white space
    /// (NBSP and the other Unicode spaces too), empty ones dropped. A reader
    /// that split or stripped less let pip read a `-r`, `-e` or `-i` the shim
    /// took for part of another line.
    static func logicalLines(_ text: String) -> [(Int, String)] {
        var joined: [(Int, String)] = []
        var pending: [String] = []
        var start = 1
        for (index, line) in PythonText.splitLines(text).enumerated() {
            let isComment = line.unicodeScalars.drop(while: PythonText.isSpace).first == "#"
            if !line.hasSuffix("\\") || isComment {
                let line = isComment ? " " + line : line
                if pending.isEmpty {
                    joined.append((index + 1, line))
                } else {
                    joined.append((start, (pending + [line]).joined()))
                    pending = []
                }
            } else {
                if pending.isEmpty { start = index + 1 }
                pending.append(String(line.trimming(["\\"])))
            }
        }
        if !pending.isEmpty { joined.append((start, pending.joined())) }
        return joined.compactMap { number, line in
            let text = PythonText.stripped(withoutComment(line))
            return text.isEmpty ? nil : (number, text)
        }
    }

    /// Cut at the first `#` that starts the line or follows white space (pip's `(^|\s+)#.*$`).
    static func withoutComment(_ line: String) -> String {
        var previous: Unicode.Scalar = " "
        for index in line.unicodeScalars.indices {
            let scalar = line.unicodeScalars[index]
            if scalar == "#", PythonText.isSpace(previous) { return String(line.unicodeScalars[..<index]) }
            previous = scalar
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
