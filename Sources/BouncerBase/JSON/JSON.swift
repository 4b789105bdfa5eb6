/// The one strict JSON reader every document Bouncer reads goes through
/// (policy, lock, state files, bundles, trusted roots, TUF metadata,
/// attestations, packuments, pip reports). Strict because two parsers must
/// never see two different documents: duplicate member names are refused
/// (parsers disagree on which one wins, so a reviewer could read another
/// policy than the one enforced), as are trailing commas, invalid UTF-8,
/// lone surrogates, integers beyond Int64 and nesting deeper than a bound.
/// Integers stay integers so TUF's canonical JSON can be re-encoded exactly.
/// Errors give the line and column.
public indirect enum JSON: Equatable, Sendable {
    case object([String: JSON])
    case array([JSON])
    case string(String)
    case integer(Int64)
    /// A number with a fraction or exponent, kept as written: legal JSON, but
    /// canonical JSON refuses it, so it may only appear outside `signed`.
    case nonInteger(String)
    case bool(Bool)
    case null

    public struct ParseError: Error, Equatable, CustomStringConvertible {
        /// Byte offset, and the 1-based line and column (in bytes) it falls on.
        public let offset: Int
        public let line: Int
        public let column: Int
        public let why: String
        /// A complete value followed by more text (JSON lines, or garbage after a document).
        public let isTrailingData: Bool

        init(offset: Int, in bytes: [UInt8], why: String, trailingData: Bool = false) {
            self.offset = offset
            self.isTrailingData = trailingData
            var line = 1, lineStart = 0
            for index in 0..<min(offset, bytes.count) where bytes[index] == 0x0A {
                line += 1
                lineStart = index + 1
            }
            self.line = line
            self.column = offset - lineStart + 1
            self.why = why
        }

        /// "line 3, column 5: duplicate member "mode"".
        public var description: String { "line \(line), column \(column): \(why)" }
    }

    /// A JSON file as editors may save it: a UTF-8 byte order mark before
    /// the text dropped (npm drops it), then parsed as `parse` does.
    public static func parse(file bytes: [UInt8], maxDepth: Int = 64) throws(ParseError) -> JSON {
        try parse(bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes, maxDepth: maxDepth)
    }

    /// Parses one JSON text (RFC 8259), refusing duplicate keys, invalid
    /// UTF-8, lone surrogates, integers beyond Int64 and nesting deeper than `maxDepth`.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 64) throws(ParseError) -> JSON {
        var parser = Parser(bytes: bytes, maxDepth: maxDepth)
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.index == bytes.count else { throw ParseError(offset: parser.index, in: bytes, why: "trailing data after the JSON value", trailingData: true) }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        let maxDepth: Int
        var index = 0

        init(bytes: [UInt8], maxDepth: Int) {
            self.bytes = bytes
            self.maxDepth = maxDepth
        }

        func fail(_ why: String) -> ParseError { ParseError(offset: index, in: bytes, why: why) }

        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipSpace() {
            while let c = peek, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { index += 1 }
        }

        mutating func expect(_ literal: String) throws(ParseError) {
            for byte in literal.utf8 {
                guard peek == byte else { throw fail("expected '\(literal)'") }
                index += 1
            }
        }

        mutating func value(depth: Int) throws(ParseError) -> JSON {
            guard depth < maxDepth else { throw fail("nested deeper than \(maxDepth)") }
            guard let c = peek else { throw fail("unexpected end") }
            switch c {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try expect("true"); return .bool(true)
            case UInt8(ascii: "f"): try expect("false"); return .bool(false)
            case UInt8(ascii: "n"): try expect("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw fail("unexpected character")
            }
        }

        mutating func object(depth: Int) throws(ParseError) -> JSON {
            index += 1
            var members: [String: JSON] = [:]
            skipSpace()
            if peek == UInt8(ascii: "}") { index += 1; return .object(members) }
            while true {
                skipSpace()
                if peek == UInt8(ascii: "}") { throw fail("trailing comma before '}'") }
                guard peek == UInt8(ascii: "\"") else { throw fail("expected a member name") }
                let start = index
                let key = try string()
                guard members[key] == nil else { throw ParseError(offset: start, in: bytes, why: "duplicate member \"\(key.prefix(80))\" (each name may appear once per object)") }
                skipSpace()
                try expect(":")
                skipSpace()
                members[key] = try value(depth: depth + 1)
                skipSpace()
                guard let c = peek else { throw fail("unterminated object") }
                index += 1
                if c == UInt8(ascii: "}") { return .object(members) }
                guard c == UInt8(ascii: ",") else { index -= 1; throw fail("expected ',' or '}'") }
            }
        }

        mutating func array(depth: Int) throws(ParseError) -> JSON {
            index += 1
            var items: [JSON] = []
            skipSpace()
            if peek == UInt8(ascii: "]") { index += 1; return .array(items) }
            while true {
                skipSpace()
                if peek == UInt8(ascii: "]") { throw fail("trailing comma before ']'") }
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard let c = peek else { throw fail("unterminated array") }
                index += 1
                if c == UInt8(ascii: "]") { return .array(items) }
                guard c == UInt8(ascii: ",") else { index -= 1; throw fail("expected ',' or ']'") }
            }
        }

        mutating func number() throws(ParseError) -> JSON {
            let start = index
            if peek == UInt8(ascii: "-") { index += 1 }
            guard let first = peek, first >= 0x30, first <= 0x39 else { throw fail("expected a digit") }
            if first == 0x30 {
                index += 1
                if let next = peek, next >= 0x30, next <= 0x39 { throw fail("leading zero") }
            } else {
                while let d = peek, d >= 0x30, d <= 0x39 { index += 1 }
            }
            var integral = true
            if peek == UInt8(ascii: ".") {
                integral = false
                index += 1
                guard let d = peek, d >= 0x30, d <= 0x39 else { throw fail("expected a digit after '.'") }
                while let d = peek, d >= 0x30, d <= 0x39 { index += 1 }
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                integral = false
                index += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
                guard let d = peek, d >= 0x30, d <= 0x39 else { throw fail("expected an exponent") }
                while let d = peek, d >= 0x30, d <= 0x39 { index += 1 }
            }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            guard integral else { return .nonInteger(text) }
            guard let value = Int64(text) else { throw ParseError(offset: start, in: bytes, why: "integer out of range") }
            return .integer(value)
        }

        mutating func hex4() throws(ParseError) -> UInt32 {
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let c = peek else { throw fail("truncated \\u escape") }
                let digit: UInt32
                switch c {
                case 0x30...0x39: digit = UInt32(c - 0x30)
                case 0x41...0x46: digit = UInt32(c - 0x41 + 10)
                case 0x61...0x66: digit = UInt32(c - 0x61 + 10)
                default: throw fail("bad \\u escape")
                }
                value = value << 4 | digit
                index += 1
            }
            return value
        }

        mutating func string() throws(ParseError) -> String {
            index += 1
            // Most strings (base64 and hex above all) have no escape: scan to the
            // closing quote and take the run whole, validated as UTF-8 once.
            let start = index
            var end = index
            while end < bytes.count {
                let c = bytes[end]
                if c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") || c < 0x20 { break }
                end += 1
            }
            if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
                index = end + 1
                guard let text = String(validating: bytes[start..<end], as: UTF8.self) else { throw fail("invalid UTF-8 in a string") }
                return text
            }
            // An escape, a control character or the end: the run so far, then byte by byte.
            var out = Array(bytes[start..<end])
            index = end
            while true {
                guard let c = peek else { throw fail("unterminated string") }
                if c == UInt8(ascii: "\"") { index += 1; break }
                if c < 0x20 { throw fail("control character in a string") }
                if c != UInt8(ascii: "\\") { out.append(c); index += 1; continue }
                index += 1
                guard let e = peek else { throw fail("unterminated escape") }
                index += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard peek == UInt8(ascii: "\\") else { throw fail("lone surrogate") }
                        index += 1
                        guard peek == UInt8(ascii: "u") else { throw fail("lone surrogate") }
                        index += 1
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw fail("lone surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw fail("lone surrogate")
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw fail("invalid code point") }
                    out.append(contentsOf: Array(String(Character(unicode)).utf8))
                default: throw fail("unknown escape")
                }
            }
            // Strict UTF-8: String(validating:) refuses overlongs, surrogates and truncation.
            guard let text = String(validating: out, as: UTF8.self) else { throw fail("invalid UTF-8 in a string") }
            return text
        }
    }
}

extension JSON {
    public subscript(key: String) -> JSON? {
        if case .object(let members) = self { return members[key] }
        return nil
    }
}
