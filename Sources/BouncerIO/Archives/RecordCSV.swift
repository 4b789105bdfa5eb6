import BouncerBase
/// The CSV dialect of Python's `csv` module as wheels use it for RECORD:
/// comma-separated, `"` quoting with `""` as an escaped quote, rows ending in
/// `\n` or `\r\n`, quoted fields may hold commas and line breaks.
enum RecordCSV {
    struct Row: Equatable {
        let line: Int
        let fields: [String]
    }

    enum ParseError: Error, Equatable {
        case unterminatedQuote(line: Int)
        case junkAfterQuote(line: Int)
        case notUTF8
    }

    static func parse(_ bytes: [UInt8]) throws(ParseError) -> [Row] {
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .notUTF8 }
        var rows: [Row] = []
        var fields: [String] = []
        var field = ""
        var line = 1
        var rowLine = 1
        var quoted = false
        var afterQuote = false
        var iterator = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil

        func endRow() {
            fields.append(field)
            field = ""
            // A blank line is no row (the csv module yields [] for it).
            if !(fields.count == 1 && fields[0].isEmpty) { rows.append(Row(line: rowLine, fields: fields)) }
            fields = []
        }

        while let scalar = pending ?? iterator.next() {
            pending = nil
            if quoted {
                if scalar == "\"" {
                    let next = iterator.next()
                    if next == "\"" { field.unicodeScalars.append("\"") } else { quoted = false; afterQuote = true; pending = next }
                } else {
                    if scalar == "\n" { line += 1 }
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case ",":
                fields.append(field); field = ""; afterQuote = false
            case "\n":
                endRow(); line += 1; rowLine = line; afterQuote = false
            case "\r":
                let next = iterator.next()
                if next != "\n" { pending = next }
                endRow(); line += 1; rowLine = line; afterQuote = false
            case "\"" where field.isEmpty && !afterQuote:
                quoted = true
            default:
                if afterQuote { throw .junkAfterQuote(line: line) }
                field.unicodeScalars.append(scalar)
            }
        }
        if quoted { throw .unterminatedQuote(line: rowLine) }
        if !field.isEmpty || !fields.isEmpty { endRow() }
        return rows
    }
}
