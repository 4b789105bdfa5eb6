import FoundationEssentials
import BouncerBase
import BouncerIO

/// An OpenSSH `allowed_signers` file (formats.md §4.3, ssh-keygen(1)
/// "ALLOWED SIGNERS"): one `<principals> [<options>] <keytype> <base64-key>
/// [comment]` per line; `#` comments and blank lines are ignored.
package struct AllowedSigners {
    struct Entry {
        let line: Int
        /// The principals pattern list (`*`, `?`, `!`).
        let principals: String
        let certAuthority: Bool
        /// The `namespaces="..."` pattern list, if any.
        let namespaces: String?
        let validAfter: Date?
        let validBefore: Date?
        let keyType: String
        /// The decoded key blob; compared byte for byte with the signer's.
        let keyBlob: [UInt8]
    }

    let path: String
    let entries: [Entry]

    /// The literal principals the file names, in order, without wildcard
    /// patterns (which name nobody in particular).
    package var literalPrincipals: [String] {
        var principals: [String] = []
        for entry in entries {
            for principal in entry.principals.split(separator: ",").map(String.init)
            where !principal.contains(where: { "*?!".contains($0) }) && !principals.contains(principal) {
                principals.append(principal)
            }
        }
        return principals
    }

    static let fileLimit = 1 << 20

    package static func parse(_ key: KeyMaterial) throws(BouncerError) -> AllowedSigners {
        func invalid(_ line: Int?, _ why: String, hint: String? = nil) -> BouncerError {
            let place = line.map { "\(key.path):\($0)" } ?? key.path
            return BouncerError(.configuration, code: "ssh-allowed-signers-invalid",
                                "\(place): not a valid allowed_signers file: \(why)",
                                hint: hint ?? "each line is '<principals> [options] <keytype> <base64 key>', e.g. 'alice@example.com ssh-ed25519 AAAA...'")
        }
        guard key.bytes.count <= fileLimit else { throw invalid(nil, "larger than \(fileLimit) bytes") }
        guard let text = String(validating: key.bytes, as: UTF8.self) else { throw invalid(nil, "not UTF-8 text") }
        var entries: [Entry] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            do {
                entries.append(try parseLine(line, number: index + 1))
            } catch {
                throw invalid(index + 1, error.message, hint: error.hint)
            }
        }
        guard !entries.isEmpty else { throw invalid(nil, "no entries") }
        return AllowedSigners(path: key.path, entries: entries)
    }

    struct LineFailure: Error {
        let message: String
        var hint: String? = nil
    }

    static func parseLine(_ line: String, number: Int) throws(LineFailure) -> Entry {
        let tokens = try tokenize(line)
        guard tokens.count >= 3 else {
            if tokens.count == 2, keyBlob(type: tokens[0], base64: tokens[1]) != nil {
                throw plainKeyFailure
            }
            throw LineFailure(message: "expected principals, a key type and a key")
        }
        if keyBlob(type: tokens[0], base64: tokens[1]) != nil { throw plainKeyFailure }
        var principals = tokens[0]
        if principals.hasPrefix("\"") {
            guard principals.count >= 2, principals.hasSuffix("\"") else { throw LineFailure(message: "unbalanced quotes in the principals") }
            principals = String(principals.dropFirst().dropLast())
        }
        guard !principals.isEmpty, !principals.contains("\"") else { throw LineFailure(message: "invalid principals '\(tokens[0])'") }

        // Options come between the principals and the key; a token is the key
        // type when the next token decodes to a blob of that type.
        var options: Options
        let keyType: String, blob: [UInt8]
        if let found = keyBlob(type: tokens[1], base64: tokens[2]) {
            options = Options()
            (keyType, blob) = (tokens[1], found)
        } else if tokens.count >= 4, let found = keyBlob(type: tokens[2], base64: tokens[3]) {
            options = try Options.parse(tokens[1])
            (keyType, blob) = (tokens[2], found)
        } else {
            throw LineFailure(message: "no '<keytype> <base64 key>' pair found after the principals (or the key's type does not match its blob)")
        }
        return Entry(line: number, principals: principals, certAuthority: options.certAuthority,
                     namespaces: options.namespaces, validAfter: options.validAfter, validBefore: options.validBefore,
                     keyType: keyType, keyBlob: blob)
    }

    static let plainKeyFailure = LineFailure(
        message: "this looks like a plain OpenSSH public key, which names no principal",
        hint: "an allowed_signers line starts with the principals: 'alice@example.com ssh-ed25519 AAAA...'")

    /// The decoded blob when `base64` is a key blob whose type string is `type`.
    static func keyBlob(type: String, base64: String) -> [UInt8]? {
        guard !type.isEmpty, !type.contains("="), let blob = Base64.decode(base64) else { return nil }
        var reader = SSHWireReader(blob)
        guard let name = try? reader.string("key type"), name == Array(type.utf8) else { return nil }
        return blob
    }

    /// Whitespace-separated tokens; double quotes group (and are kept) so an
    /// option such as `namespaces="a, b"` stays one token.
    static func tokenize(_ line: String) throws(LineFailure) -> [String] {
        var tokens: [String] = [], current = "", quoted = false
        for character in line {
            if character == "\"" { quoted.toggle() }
            if !quoted, character == " " || character == "\t" {
                if !current.isEmpty { tokens.append(current); current = "" }
            } else {
                current.append(character)
            }
        }
        guard !quoted else { throw LineFailure(message: "unterminated double quote") }
        if !current.isEmpty { tokens.append(current) }
        return tokens
    }

    struct Options {
        var certAuthority = false
        var namespaces: String?
        var validAfter: Date?
        var validBefore: Date?

        static func parse(_ text: String) throws(LineFailure) -> Options {
            var options = Options(), seen: Set<String> = []
            for item in try splitOptions(text) {
                let (name, value) = item.firstIndex(of: "=").map {
                    (String(item[..<$0]).lowercased(), Optional(String(item[item.index(after: $0)...])))
                } ?? (item.lowercased(), nil)
                guard seen.insert(name).inserted else { throw LineFailure(message: "option '\(name)' given twice") }
                switch (name, value) {
                case ("cert-authority", nil):
                    options.certAuthority = true
                case ("namespaces", let value?):
                    options.namespaces = try dequote(value, name)
                case ("valid-after", let value?):
                    options.validAfter = try SSHTime.parse(try dequote(value, name))
                case ("valid-before", let value?):
                    options.validBefore = try SSHTime.parse(try dequote(value, name))
                default:
                    throw LineFailure(message: "unknown or malformed option '\(item)' (known: cert-authority, namespaces=, valid-after=, valid-before=)")
                }
            }
            return options
        }

        /// Commas outside double quotes separate options.
        static func splitOptions(_ text: String) throws(LineFailure) -> [String] {
            var items: [String] = [], current = "", quoted = false
            for character in text {
                if character == "\"" { quoted.toggle() }
                if character == ",", !quoted { items.append(current); current = "" } else { current.append(character) }
            }
            items.append(current)
            guard !items.contains(where: \.isEmpty) else { throw LineFailure(message: "empty option in '\(text)'") }
            return items
        }

        static func dequote(_ value: String, _ name: String) throws(LineFailure) -> String {
            var value = value
            if value.hasPrefix("\"") {
                guard value.count >= 2, value.hasSuffix("\"") else { throw LineFailure(message: "\(name): unbalanced quotes") }
                value = String(value.dropFirst().dropLast())
            }
            guard !value.isEmpty, !value.contains("\"") else { throw LineFailure(message: "\(name): empty or malformed value") }
            return value
        }
    }
}

/// `valid-after` / `valid-before` times: `YYYYMMDD[HHMM[SS]][Z]`. OpenSSH
/// reads them as local time unless suffixed with `Z`; Bouncer reads them all
/// as UTC so that a verdict does not depend on the machine's time zone.
enum SSHTime {
    static func parse(_ text: String) throws(AllowedSigners.LineFailure) -> Date {
        let digits = text.hasSuffix("Z") || text.hasSuffix("z") ? String(text.dropLast()) : text
        guard [8, 12, 14].contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw AllowedSigners.LineFailure(message: "invalid time '\(text)' (expected YYYYMMDD[HHMM[SS]][Z])")
        }
        let chars = Array(digits.utf8).map { Int($0) - 48 }
        func number(_ from: Int, _ count: Int) -> Int {
            from + count <= chars.count ? chars[from..<from + count].reduce(0) { $0 * 10 + $1 } : 0
        }
        // Dates the calendar would roll over (February 30th, hour 25...) are refused.
        guard let date = UTCTime.date(year: number(0, 4), month: number(4, 2), day: number(6, 2),
                                      hour: number(8, 2), minute: number(10, 2), second: number(12, 2)) else {
            throw AllowedSigners.LineFailure(message: "invalid time '\(text)'")
        }
        return date
    }
}
