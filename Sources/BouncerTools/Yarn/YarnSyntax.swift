import BouncerBase

/// yarn 1's own file syntax, which it reads `yarn.lock` and `.yarnrc` with:
/// keys and values as bare words or JSON strings (`"resol\u0076ed"` is
/// `resolved`), an optional colon after a key, nesting by two-space indents.
/// A file this reader refuses, yarn reads as YAML instead (its fallback), so
/// the caller cannot know what it says: it must treat it as unreadable.
///
/// Facts carried over from yarn 1's lockfile parser: its token kinds, that a
/// key may be followed by commas and more keys, that `:` then a newline opens
/// a nested object, and that a later key replaces an earlier one.
enum YarnSyntax {
    /// A key with its value: a scalar (string, number, boolean as text) or nested entries.
    indirect enum Value: Equatable {
        case scalar(String)
        case object([Entry])
    }

    struct Entry: Equatable {
        var key: String
        var value: Value
        var line: Int
    }

    struct Failure: Error, Equatable {
        var line: Int
        var reason: String
    }

    enum Token: Equatable {
        case newline, indent(Int), comment, string(String), number(String), boolean(Bool), colon, comma, eof
    }

    /// The tokens with their line numbers, as yarn's tokenizer makes them.
    static func tokens(_ bytes: [UInt8]) throws(Failure) -> [(Token, Int)] {
        var out: [(Token, Int)] = []
        var index = 0
        var line = 1
        var lastNewline = false
        while index < bytes.count {
            let byte = bytes[index]
            var chop = 0
            if byte == 0x0A || byte == 0x0D {
                // yarn takes one more `\n` with any line break (`\n\n` is one newline token: a blank line ends nothing).
                chop = index + 1 < bytes.count && bytes[index + 1] == 0x0A ? 2 : 1
                line += chop == 2 && byte == 0x0A ? 2 : 1
                out.append((.newline, line))
            } else if byte == UInt8(ascii: "#") {
                var end = index + 1
                while end < bytes.count, bytes[end] != 0x0A { end += 1 }
                chop = end - index
                out.append((.comment, line))
            } else if byte == 0x20 {
                if lastNewline {
                    var size = 1
                    while index + size < bytes.count, bytes[index + size] == 0x20 { size += 1 }
                    guard size % 2 == 0 else { throw Failure(line: line, reason: "an odd number of spaces") }
                    chop = size
                    out.append((.indent(size / 2), line))
                } else {
                    chop = 1
                }
            } else if byte == UInt8(ascii: "\"") {
                // To the first quote not escaped by one backslash (yarn looks back two bytes, no further).
                var end = index + 1
                while end < bytes.count {
                    if bytes[end] == UInt8(ascii: "\"") {
                        let escaped = bytes[end - 1] == UInt8(ascii: "\\") && !(end >= 2 && bytes[end - 2] == UInt8(ascii: "\\"))
                        if !escaped { end += 1; break }
                    }
                    end += 1
                }
                let text = Array(bytes[index..<min(end, bytes.count)])
                guard case .string(let value)? = try? JSON.parse(text) else {
                    throw Failure(line: line, reason: "a quoted string JSON does not read")
                }
                chop = text.count
                out.append((.string(value), line))
            } else if (48...57).contains(byte) {
                var end = index
                while end < bytes.count, (48...57).contains(bytes[end]) { end += 1 }
                chop = end - index
                out.append((.number(String(decoding: bytes[index..<end], as: UTF8.self)), line))
            } else if bytes[index...].starts(with: Array("true".utf8)) {
                chop = 4
                out.append((.boolean(true), line))
            } else if bytes[index...].starts(with: Array("false".utf8)) {
                chop = 5
                out.append((.boolean(false), line))
            } else if byte == UInt8(ascii: ":") {
                chop = 1
                out.append((.colon, line))
            } else if byte == UInt8(ascii: ",") {
                chop = 1
                out.append((.comma, line))
            } else if (65...90).contains(byte) || (97...122).contains(byte) || byte == UInt8(ascii: "/") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") {
                var end = index
                while end < bytes.count, ![UInt8(ascii: ":"), 0x20, 0x0A, 0x0D, UInt8(ascii: ",")].contains(bytes[end]) { end += 1 }
                chop = end - index
                out.append((.string(String(decoding: bytes[index..<end], as: UTF8.self)), line))
            } else {
                throw Failure(line: line, reason: "a character yarn's syntax has no token for")
            }
            lastNewline = byte == 0x0A || (byte == 0x0D && index + 1 < bytes.count && bytes[index + 1] == 0x0A)
            index += chop
        }
        out.append((.eof, line))
        return out
    }

    /// The file's entries, or the line where yarn's own parser would give up (and read YAML).
    static func parse(_ bytes: [UInt8]) throws(Failure) -> [Entry] {
        var parser = Parser(tokens: try tokens(bytes))
        let entries = try parser.object(indent: 0, depth: 0)
        // yarn stops at an indent the top level does not expect and ignores the rest; a reader that
        // disagreed on where that is would miss what yarn reads, so the whole file must be read.
        guard parser.token == .eof else { throw Failure(line: parser.line, reason: "an indent where yarn's parser stops reading") }
        return entries
    }

    struct Parser {
        let tokens: [(Token, Int)]
        var position = 0

        var token: Token { tokens[min(position, tokens.count - 1)].0 }
        var line: Int { tokens[min(position, tokens.count - 1)].1 }
        mutating func next() { position += 1 }

        mutating func object(indent: Int, depth: Int) throws(Failure) -> [Entry] {
            guard depth < 64 else { throw Failure(line: line, reason: "nested too deep") }
            var entries: [Entry] = []
            while true {
                switch token {
                case .newline:
                    next()
                    if indent == 0 { continue }
                    guard case .indent(let level) = token, level == indent else { return entries }
                    next()
                case .indent(let level):
                    guard level == indent else { return entries }
                    next()
                case .eof:
                    return entries
                case .comment:
                    next()
                case .string(let first):
                    let at = line
                    var keys = [first]
                    next()
                    while token == .comma {
                        next()
                        guard case .string(let key) = token else { throw Failure(line: line, reason: "a key expected after a comma") }
                        keys.append(key)
                        next()
                    }
                    let colon = token == .colon
                    if colon { next() }
                    let value: Value
                    switch token {
                    case .string(let text), .number(let text):
                        value = .scalar(text)
                        next()
                    case .boolean(let flag):
                        value = .scalar(flag ? "true" : "false")
                        next()
                    default:
                        guard colon else { throw Failure(line: line, reason: "a key without a value") }
                        value = .object(try object(indent: indent + 1, depth: depth + 1))
                    }
                    entries += keys.map { Entry(key: $0, value: value, line: at) }
                    if colon, case .object = value, indent > 0 {
                        guard case .indent = token else { return entries }
                    }
                default:
                    throw Failure(line: line, reason: "a token yarn does not expect here")
                }
            }
        }
    }

    /// Every (key, scalar value, line) at any depth, in file order.
    static func scalars(_ entries: [Entry]) -> [(key: String, value: String, line: Int)] {
        entries.flatMap { entry -> [(key: String, value: String, line: Int)] in
            switch entry.value {
            case .scalar(let text): [(entry.key, text, entry.line)]
            case .object(let inner): scalars(inner)
            }
        }
    }
}

extension YarnSyntax {
    /// A `.yarnrc.yml`'s settings, which yarn 1 reads with YAML alone
    /// (js-yaml, every value a string), in the one form Bouncer can be sure
    /// of: a `key: value` line at the left margin with a plain key and value
    /// (letters, digits and `._/-`, and `:~@+=%` after the first), blank
    /// lines and comments. Anything else may spell any key to YAML (a quoted
    /// `"yarn-pat\x68"`, a `{yarn-path: …}` mapping named another yarn to run:
    /// red team), so it is a Failure.
    static func plainYAML(_ bytes: [UInt8]) throws(Failure) -> [(key: String, value: String, line: Int)] {
        var found: [(key: String, value: String, line: Int)] = []
        let word: (UInt8) -> Bool = { (65...90).contains($0) || (97...122).contains($0) || (48...57).contains($0) || "._/-".utf8.contains($0) }
        for (index, raw) in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            var line = ArraySlice(raw)
            if line.last == 0x0D { line = line.dropLast() }
            let content = line.drop { $0 == 0x20 }
            if content.isEmpty || content.first == UInt8(ascii: "#") { continue }
            guard line.allSatisfy({ (0x20...0x7E).contains($0) }) else { throw Failure(line: number, reason: "a character other than printable ASCII") }
            // The key: at the margin (an indent nests), a letter or digit first (`--KEY` too, yarn's option form).
            let key = line.prefix(while: word)
            guard let first = key.first, first != UInt8(ascii: "-") || (key.starts(with: Array("--".utf8)) && key.count > 2 && word(key[key.startIndex + 2]) && key[key.startIndex + 2] != UInt8(ascii: "-")),
                  first != UInt8(ascii: "."), first != UInt8(ascii: "/") else {
                throw Failure(line: number, reason: "not a plain key at the start of the line")
            }
            var rest = line[key.endIndex...]
            guard rest.first == UInt8(ascii: ":"), rest.count == 1 || rest.dropFirst().first == 0x20 else {
                throw Failure(line: number, reason: "no `: ` after the key")
            }
            rest = rest.dropFirst().drop { $0 == 0x20 }
            // The value: a plain word (a URL's `:` inside it, never at its end), then at most a comment.
            let value = rest.first == UInt8(ascii: "#") ? rest.prefix(0) : rest.prefix { word($0) || ":~@+=%".utf8.contains($0) }
            let after = rest[value.endIndex...]
            let trailing = after.drop { $0 == 0x20 }
            guard value.first.map({ word($0) && $0 != UInt8(ascii: "-") }) ?? true, value.last != UInt8(ascii: ":"),
                  trailing.isEmpty || (trailing.first == UInt8(ascii: "#") && (value.isEmpty || after.first == 0x20)) else {
                throw Failure(line: number, reason: "not a plain value")
            }
            found.append((String(decoding: key, as: UTF8.self), String(decoding: value, as: UTF8.self), number))
        }
        return found
    }
}
