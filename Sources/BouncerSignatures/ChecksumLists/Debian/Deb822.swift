import BouncerBase
import BouncerIO
/// deb822 control data (Release, Packages, .dsc): stanzas of `Name: value`
/// fields separated by blank lines; lines starting with a blank continue the
/// previous field. A field given twice in one stanza is refused: which copy
/// a reader believes must not be the attacker's choice.
///
/// Fields are kept as byte ranges into the input and decoded only when
/// asked for: a Packages index has about a million fields, of which a
/// verifier reads four per stanza.
struct Deb822Stanza: Sendable {
    struct Field: Sendable {
        let name: Range<Int>
        /// Text after the colon on the first line, blanks trimmed.
        let value: Range<Int>
        /// Continuation lines, leading and trailing blanks trimmed.
        let continuation: [(range: Range<Int>, line: Int)]
        let line: Int
    }

    let bytes: [UInt8]
    let fields: [Field]
    let line: Int

    func field(_ name: String) -> Field? {
        let wanted = Array(name.utf8)
        return fields.first { Self.equalFolded(bytes[$0.name], wanted) }
    }

    func name(of field: Field) -> String { String(decoding: bytes[field.name], as: UTF8.self) }

    /// The value, or nil when it is not valid UTF-8.
    func value(of field: Field) -> String? { String(validating: bytes[field.value], as: UTF8.self) }

    func continuation(of field: Field) -> [(text: String?, line: Int)] {
        field.continuation.map { (String(validating: bytes[$0.range], as: UTF8.self), $0.line) }
    }

    static func equalFolded(_ a: ArraySlice<UInt8>, _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var i = a.startIndex, j = 0
        while j < b.count {
            if a[i] | 0x20 != b[j] | 0x20 { return false }
            i += 1; j += 1
        }
        return true
    }

    static func equalFolded(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Bool {
        equalFolded(a, Array(b))
    }

    static func isBlank(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 }

    static func parse(_ bytes: [UInt8], source: String) throws(DebianListError) -> [Deb822Stanza] {
        var stanzas: [Deb822Stanza] = []
        var fields: [Field] = []
        var stanzaLine = 0
        var pending: (name: Range<Int>, value: Range<Int>, continuation: [(range: Range<Int>, line: Int)], line: Int)? = nil
        func flushField() throws(DebianListError) {
            guard let field = pending else { return }
            for other in fields where other.name.count == field.name.count
                && equalFolded(bytes[other.name], bytes[field.name]) {
                throw .malformed(source: source, line: field.line,
                                 why: "field '\(String(decoding: bytes[field.name], as: UTF8.self))' appears twice in one stanza")
            }
            fields.append(Field(name: field.name, value: field.value, continuation: field.continuation, line: field.line))
            pending = nil
        }
        func flushStanza() throws(DebianListError) {
            try flushField()
            if !fields.isEmpty { stanzas.append(Deb822Stanza(bytes: bytes, fields: fields, line: stanzaLine)) }
            fields = []
        }
        func trimmed(_ start: Int, _ end: Int) -> Range<Int> {
            var s = start, e = end
            while s < e, isBlank(bytes[s]) { s += 1 }
            while e > s, isBlank(bytes[e - 1]) || bytes[e - 1] == 0x0d { e -= 1 }
            return s..<e
        }
        var lineNumber = 0
        var start = 0
        while start < bytes.count {
            lineNumber += 1
            var end = start
            while end < bytes.count, bytes[end] != 0x0a { end += 1 }
            let lineStart = start
            start = end + 1
            let content = trimmed(lineStart, end)
            if content.isEmpty {
                try flushStanza()
                continue
            }
            let first = bytes[lineStart]
            if first == UInt8(ascii: "#") { continue }
            if isBlank(first) {
                guard pending != nil else {
                    throw .malformed(source: source, line: lineNumber, why: "continuation line without a field")
                }
                pending?.continuation.append((content, lineNumber))
                continue
            }
            var colon = lineStart
            while colon < end, bytes[colon] != UInt8(ascii: ":") { colon += 1 }
            guard colon < end, colon > lineStart else {
                throw .malformed(source: source, line: lineNumber, why: "expected 'Field: value'")
            }
            for index in lineStart..<colon {
                let c = bytes[index]
                guard (c >= 0x30 && c <= 0x39) || (c | 0x20 >= 0x61 && c | 0x20 <= 0x7a) || c == UInt8(ascii: "-") || c == UInt8(ascii: "_") else {
                    throw .malformed(source: source, line: lineNumber, why: "invalid field name '\(String(decoding: bytes[lineStart..<colon].prefix(40), as: UTF8.self))'")
                }
            }
            try flushField()
            if fields.isEmpty { stanzaLine = lineNumber }
            pending = (lineStart..<colon, trimmed(colon + 1, end), [], lineNumber)
        }
        try flushStanza()
        return stanzas
    }
}
