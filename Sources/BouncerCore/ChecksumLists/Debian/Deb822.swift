/// deb822 control data (Release, Packages, .dsc): stanzas of `Name: value`
/// fields separated by blank lines; lines starting with a blank continue the
/// previous field. A field given twice in one stanza is refused: which copy
/// a reader believes must not be the attacker's choice.
struct Deb822Stanza: Sendable {
    struct Field: Sendable {
        let name: String
        /// Text after the colon on the first line, trimmed.
        let value: String
        /// Continuation lines, leading blank removed, with their line numbers.
        let continuation: [(text: String, line: Int)]
        let line: Int
    }

    let fields: [Field]
    let line: Int

    func field(_ name: String) -> Field? {
        let folded = name.lowercased()
        return fields.first { $0.name.lowercased() == folded }
    }

    static func parse(_ bytes: [UInt8], source: String) throws(DebianListError) -> [Deb822Stanza] {
        var stanzas: [Deb822Stanza] = []
        var fields: [Field] = []
        var stanzaLine = 0
        var pending: (name: String, value: String, continuation: [(String, Int)], line: Int)? = nil
        func flushField() throws(DebianListError) {
            guard let field = pending else { return }
            if fields.contains(where: { $0.name.lowercased() == field.name.lowercased() }) {
                throw .malformed(source: source, line: field.line, why: "field '\(field.name)' appears twice in one stanza")
            }
            fields.append(Field(name: field.name, value: field.value, continuation: field.continuation, line: field.line))
            pending = nil
        }
        func flushStanza() throws(DebianListError) {
            try flushField()
            if !fields.isEmpty { stanzas.append(Deb822Stanza(fields: fields, line: stanzaLine)) }
            fields = []
        }
        var lineNumber = 0
        var start = 0
        while start < bytes.count {
            lineNumber += 1
            var end = start
            while end < bytes.count, bytes[end] != 0x0a { end += 1 }
            var raw = bytes[start..<end]
            start = end + 1
            if raw.last == 0x0d { raw = raw.dropLast() }
            guard let line = String(validating: raw, as: UTF8.self) else {
                throw .malformed(source: source, line: lineNumber, why: "not valid UTF-8")
            }
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) {
                try flushStanza()
                continue
            }
            if line.hasPrefix("#") { continue }
            if line.hasPrefix(" ") || line.hasPrefix("\t") {
                guard pending != nil else {
                    throw .malformed(source: source, line: lineNumber, why: "continuation line without a field")
                }
                pending?.continuation.append((line.trimmingCharacters(in: .whitespaces), lineNumber))
                continue
            }
            guard let colon = line.firstIndex(of: ":"), colon > line.startIndex else {
                throw .malformed(source: source, line: lineNumber, why: "expected 'Field: value'")
            }
            try flushField()
            if fields.isEmpty { stanzaLine = lineNumber }
            let name = String(line[..<colon])
            guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
                throw .malformed(source: source, line: lineNumber, why: "invalid field name '\(name.prefix(40))'")
            }
            pending = (name, String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces), [], lineNumber)
        }
        try flushStanza()
        return stanzas
    }
}

import Foundation
