import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase

/// Where uv's own configuration files send it for packages: the settings
/// `bouncer shims check` reports as going around a proxy. Found as uv finds
/// them: the project's `uv.toml`, or `pyproject.toml` with a `[tool.uv]`
/// table, in the working directory or the nearest parent that has one; the
/// user's `uv.toml` (`$XDG_CONFIG_HOME/uv`, `~/.config/uv`); the system's
/// (the first of `$XDG_CONFIG_DIRS/uv`, `/etc/uv`). `UV_CONFIG_FILE`
/// replaces them all; `UV_NO_CONFIG` turns them off. Both the top level and
/// the `[pip]` table (what `uv pip` commands read) count.
public struct UvConfiguration: Sendable, Equatable {
    /// `index-url`, or an `[[index]]` marked `default = true`.
    public var defaultIndex: String?
    /// `extra-index-url` and every other `[[index]]`.
    public var indexes: [String] = []
    public var findLinks: [String] = []

    public init(defaultIndex: String? = nil, indexes: [String] = [], findLinks: [String] = []) {
        self.defaultIndex = defaultIndex
        self.indexes = indexes
        self.findLinks = findLinks
    }

    /// The files uv reads, most important first, each with the table its
    /// settings sit in and its entries (read and scanned once: a
    /// pyproject.toml counts only when it has a `[tool.uv]` table).
    static func files(cwd: String, environment: [String: String]) -> [(path: String, table: [String], entries: [TOMLScan.Entry])] {
        if let off = environment["UV_NO_CONFIG"], !off.isEmpty, !["0", "false", "no"].contains(off.lowercased()) { return [] }
        func scanned(_ path: String) -> [TOMLScan.Entry]? {
            guard Filesystem.isFile(path), let bytes = (try? AtomicFile.read(path, limit: 4 << 20, code: "uv-config")).flatMap({ $0 }) else { return nil }
            return TOMLScan.entries(String(decoding: bytes, as: UTF8.self))
        }
        if let file = environment["UV_CONFIG_FILE"], !file.isEmpty { return scanned(file).map { [(file, [], $0)] } ?? [] }
        var found: [(path: String, table: [String], entries: [TOMLScan.Entry])] = []
        for directory in Filesystem.selfAndAncestors(cwd) {
            let uvToml = Filesystem.absolute("uv.toml", cwd: directory)
            if let entries = scanned(uvToml) {
                found.append((uvToml, [], entries))
                break
            }
            let pyproject = Filesystem.absolute("pyproject.toml", cwd: directory)
            if let entries = scanned(pyproject), entries.contains(where: { $0.path.starts(with: ["tool", "uv"]) }) {
                found.append((pyproject, ["tool", "uv"], entries))
                break
            }
        }
        let home = environment["HOME"] ?? ""
        let xdgHome = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (home.isEmpty ? "" : home + "/.config")
        if !xdgHome.isEmpty, let entries = scanned(xdgHome + "/uv/uv.toml") { found.append((xdgHome + "/uv/uv.toml", [], entries)) }
        let systemFiles = (environment["XDG_CONFIG_DIRS"] ?? "").split(separator: ":").map { String($0) + "/uv/uv.toml" } + ["/etc/uv/uv.toml"]
        if let system = systemFiles.first(where: Filesystem.isFile), let entries = scanned(system) { found.append((system, [], entries)) }
        return found
    }

    /// The settings of every file uv would read, merged as uv merges them:
    /// a single value from the most important file, lists concatenated.
    public static func read(cwd: String, environment: [String: String]) -> UvConfiguration {
        var merged = UvConfiguration()
        for (_, table, entries) in files(cwd: cwd, environment: environment) {
            let one = settings(entries, table: table)
            if merged.defaultIndex == nil { merged.defaultIndex = one.defaultIndex }
            merged.indexes += one.indexes
            merged.findLinks += one.findLinks
        }
        return merged
    }

    /// One file's settings; `table` is where they sit (`["tool", "uv"]` in a pyproject.toml).
    static func parse(_ text: String, table: [String]) -> UvConfiguration {
        settings(TOMLScan.entries(text), table: table)
    }

    static func settings(_ entries: [TOMLScan.Entry], table: [String]) -> UvConfiguration {
        var configuration = UvConfiguration()
        // [[index]] tables and inline `index = [...]` entries, in the file's order;
        // `slot`: which [[index]] table the entries now read belong to, and where it is.
        var indexes: [(url: String?, isDefault: Bool)] = []
        var slot: (element: Int, at: Int)? = nil
        for entry in entries where entry.path.starts(with: table) {
            var key = Array(entry.path.dropFirst(table.count))
            // The `[pip]` table holds the same three settings for `uv pip` commands.
            if key.first == "pip", key.count == 2, ["index-url", "extra-index-url", "find-links"].contains(key[1]) { key.removeFirst() }
            switch (key, entry.value) {
            case (["index-url"], .string(let url)):
                configuration.defaultIndex = url
            case (["extra-index-url"], .array(let items)):
                configuration.indexes += items.compactMap(\.string)
            case (["find-links"], .array(let items)):
                configuration.findLinks += items.compactMap(\.string)
            case (["index"], .array(let items)):
                for case .table(let fields) in items {
                    indexes.append((fields.first { $0.key == ["url"] }?.value.string,
                                    fields.contains { $0.key == ["default"] && $0.value == .other("true") }))
                }
            case (let path, _) where path.count == 2 && path[0] == "index":
                guard let element = entry.arrayElement else { continue }
                if slot?.element != element {
                    indexes.append((nil, false))
                    slot = (element, indexes.count - 1)
                }
                guard let at = slot?.at else { continue }
                if key[1] == "url", let url = entry.value.string { indexes[at].url = url }
                if key[1] == "default", entry.value == .other("true") { indexes[at].isDefault = true }
            default:
                continue
            }
        }
        for index in indexes {
            guard let url = index.url else { continue }
            if index.isDefault { configuration.defaultIndex = url } else { configuration.indexes.append(url) }
        }
        return configuration
    }

}

/// Just enough of TOML to find a few settings: table headers, `[[array]]`
/// tables, dotted keys, strings (basic, literal, multi-line), arrays and
/// inline tables; any other value is kept as its text. It never fails: at
/// anything it cannot read it stops, keeping what came before.
enum TOMLScan {
    indirect enum Value: Equatable {
        case string(String)
        case array([Value])
        case table([Field])
        /// A number, boolean or date, as written.
        case other(String)

        var string: String? { if case .string(let text) = self { return text } else { return nil } }
    }

    struct Field: Equatable {
        var key: [String]
        var value: Value
    }

    /// One `key = value` with its full path (the table's and the key's),
    /// and, inside a `[[table]]`, which element of it (counted from 1).
    struct Entry: Equatable {
        var path: [String]
        var value: Value
        var arrayElement: Int?
    }

    static func entries(_ text: String) -> [Entry] {
        var scanner = Scanner(Array(text.utf8))
        var table: [String] = []
        var element: Int? = nil
        var elements: [[String]: Int] = [:]
        var found: [Entry] = []
        while true {
            scanner.skipBlankLinesAndComments()
            guard let byte = scanner.peek() else { break }
            if byte == UInt8(ascii: "[") {
                let isArray = scanner.peek(1) == UInt8(ascii: "[")
                scanner.advance(isArray ? 2 : 1)
                guard let key = scanner.key(), scanner.expect(isArray ? "]]" : "]") else { break }
                table = key
                if isArray {
                    elements[key, default: 0] += 1
                    element = elements[key]
                } else {
                    element = nil
                }
            } else {
                guard let field = scanner.field() else { break }
                found.append(Entry(path: table + field.key, value: field.value, arrayElement: element))
            }
            guard scanner.endOfLine() else { break }
        }
        return found
    }

    struct Scanner {
        let bytes: [UInt8]
        var position = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        func peek(_ offset: Int = 0) -> UInt8? {
            position + offset < bytes.count ? bytes[position + offset] : nil
        }

        mutating func advance(_ count: Int = 1) { position = min(position + count, bytes.count) }

        mutating func skipSpaces() {
            while let byte = peek(), byte == 0x20 || byte == 0x09 { advance() }
        }

        mutating func skipComment() {
            guard peek() == UInt8(ascii: "#") else { return }
            while let byte = peek(), byte != 0x0A { advance() }
        }

        /// Spaces, newlines and comments (between statements, and inside arrays).
        mutating func skipBlankLinesAndComments() {
            while let byte = peek() {
                if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { advance() }
                else if byte == UInt8(ascii: "#") { skipComment() }
                else { return }
            }
        }

        /// After a statement: only spaces and a comment before the line ends.
        mutating func endOfLine() -> Bool {
            skipSpaces()
            skipComment()
            if peek() == 0x0D { advance() }
            guard let byte = peek() else { return true }
            guard byte == 0x0A else { return false }
            advance()
            return true
        }

        mutating func expect(_ text: String) -> Bool {
            skipSpaces()
            for byte in text.utf8 {
                guard peek() == byte else { return false }
                advance()
            }
            return true
        }

        /// A dotted key: bare parts (A-Z a-z 0-9 - _) or quoted ones.
        mutating func key() -> [String]? {
            var parts: [String] = []
            while true {
                skipSpaces()
                guard let byte = peek() else { return nil }
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                    guard case .string(let text)? = string() else { return nil }
                    parts.append(text)
                } else {
                    let start = position
                    while let byte = peek(), Self.isBare(byte) { advance() }
                    guard position > start else { return nil }
                    parts.append(String(decoding: bytes[start..<position], as: UTF8.self))
                }
                skipSpaces()
                guard peek() == UInt8(ascii: ".") else { return parts }
                advance()
            }
        }

        static func isBare(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }

        mutating func field() -> Field? {
            guard let key = key(), expect("=") else { return nil }
            skipSpaces()
            guard let value = value(depth: 0) else { return nil }
            return Field(key: key, value: value)
        }

        mutating func value(depth: Int) -> Value? {
            // Nesting deeper than any configuration needs is not read (and cannot exhaust the stack).
            guard depth < 32, let byte = peek() else { return nil }
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                return string()
            case UInt8(ascii: "["):
                advance()
                var items: [Value] = []
                while true {
                    skipBlankLinesAndComments()
                    if peek() == UInt8(ascii: "]") { advance(); return .array(items) }
                    guard let item = value(depth: depth + 1) else { return nil }
                    items.append(item)
                    skipBlankLinesAndComments()
                    if peek() == UInt8(ascii: ",") { advance() }
                    else if peek() != UInt8(ascii: "]") { return nil }
                }
            case UInt8(ascii: "{"):
                advance()
                var fields: [Field] = []
                while true {
                    skipSpaces()
                    if peek() == UInt8(ascii: "}") { advance(); return .table(fields) }
                    guard let key = key(), expect("=") else { return nil }
                    skipSpaces()
                    guard let value = value(depth: depth + 1) else { return nil }
                    fields.append(Field(key: key, value: value))
                    skipSpaces()
                    if peek() == UInt8(ascii: ",") { advance() }
                    else if peek() != UInt8(ascii: "}") { return nil }
                }
            default:
                let start = position
                while let byte = peek(), byte != 0x0A, byte != 0x0D, byte != UInt8(ascii: ","), byte != UInt8(ascii: "]"),
                      byte != UInt8(ascii: "}"), byte != UInt8(ascii: "#") { advance() }
                let text = String(decoding: bytes[start..<position], as: UTF8.self).trimmingSpaces()
                return text.isEmpty ? nil : .other(text)
            }
        }

        /// A basic ("…", with escapes) or literal ('…') string, single- or multi-line.
        mutating func string() -> Value? {
            guard let quote = peek() else { return nil }
            let multi = peek(1) == quote && peek(2) == quote
            advance(multi ? 3 : 1)
            // A multi-line string's first newline is not part of it.
            if multi {
                if peek() == 0x0D { advance() }
                if peek() == 0x0A { advance() }
            }
            var out: [UInt8] = []
            while let byte = peek() {
                if byte == quote && (!multi || (peek(1) == quote && peek(2) == quote)) {
                    advance(multi ? 3 : 1)
                    return .string(String(decoding: out, as: UTF8.self))
                }
                if !multi && byte == 0x0A { return nil }
                if byte == UInt8(ascii: "\\") && quote == UInt8(ascii: "\"") {
                    guard let escaped = peek(1) else { return nil }
                    advance(2)
                    switch escaped {
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(escaped)
                    // \uXXXX and the rest are kept as written: nothing read here needs them.
                    default: out += [UInt8(ascii: "\\"), escaped]
                    }
                    continue
                }
                out.append(byte)
                advance()
            }
            return nil
        }
    }
}
