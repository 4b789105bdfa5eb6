import Foundation

/// A JSON value read with its path, so every complaint names where it is
/// (`$.verificationMaterial.tlogEntries[0].logIndex`). Parsing goes through
/// JSONSerialization (which bounds nesting depth); sizes are bounded by the callers.
struct JSONNode {
    let value: Any
    let path: String
    let fail: @Sendable (String, String) -> any Error

    static func parse(_ bytes: [UInt8], limit: Int, fail: @escaping @Sendable (String, String) -> any Error) throws -> JSONNode {
        guard bytes.count <= limit else { throw fail("$", "larger than \(limit) bytes") }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: Data(bytes), options: []) } catch {
            throw fail("$", "not valid JSON")
        }
        return JSONNode(value: object, path: "$", fail: fail)
    }

    func error(_ why: String) -> any Error { fail(path, why) }

    var isNull: Bool { value is NSNull }

    func object() throws -> [String: Any] {
        guard let dict = value as? [String: Any] else { throw error("expected an object") }
        return dict
    }

    /// Refuses members other than `keys`, as protobuf JSON parsing does by
    /// default: a misspelt field must not silently vanish.
    @discardableResult
    func only(_ keys: Set<String>) throws -> JSONNode {
        for key in try object().keys.sorted() where !keys.contains(key) {
            throw fail("\(path).\(key)", "unknown field")
        }
        return self
    }

    /// The member `key`, or nil when absent or null.
    func optional(_ key: String) throws -> JSONNode? {
        let dict = try object()
        guard let member = dict[key], !(member is NSNull) else { return nil }
        return JSONNode(value: member, path: "\(path).\(key)", fail: fail)
    }

    func required(_ key: String) throws -> JSONNode {
        guard let member = try optional(key) else { throw fail("\(path).\(key)", "missing") }
        return member
    }

    func has(_ key: String) -> Bool { ((value as? [String: Any])?[key]).map { !($0 is NSNull) } ?? false }

    func array(max: Int) throws -> [JSONNode] {
        guard let items = value as? [Any] else { throw error("expected an array") }
        guard items.count <= max else { throw error("\(items.count) items, more than the \(max) allowed") }
        return items.enumerated().map { JSONNode(value: $1, path: "\(path)[\($0)]", fail: fail) }
    }

    func string() throws -> String {
        guard let text = value as? String else { throw error("expected a string") }
        return text
    }

    /// Protobuf-JSON bytes: standard or URL-safe base64, padded or not.
    func bytes(allowEmpty: Bool = false) throws -> [UInt8] {
        let text = try string()
        guard let decoded = SigstoreBase64.decode(text) else { throw error("not base64") }
        guard allowEmpty || !decoded.isEmpty else { throw error("empty") }
        return decoded
    }

    /// Protobuf-JSON int64: a decimal string (canonical) or a JSON integer.
    func int64() throws -> Int64 {
        if let text = value as? String {
            guard !text.isEmpty, text.utf8.count <= 20, let number = Int64(text) else { throw error("not a decimal int64") }
            return number
        }
        if let number = value as? NSNumber, !(value is Bool) {
            let double = number.doubleValue
            guard double.rounded() == double, abs(double) < 9.0e15 else { throw error("not an integer") }
            return number.int64Value
        }
        throw error("expected an int64 (string or number)")
    }

    func nonNegativeInt64() throws -> Int64 {
        let number = try int64()
        guard number >= 0 else { throw error("negative (\(number))") }
        return number
    }
}

enum SigstoreBase64 {
    /// Accepts both alphabets, with or without padding (protobuf JSON mapping).
    static func decode(_ raw: String) -> [UInt8]? {
        // One pass over the bytes: Go's decoder (protojson) skips CR and LF, and
        // real bundles carry them (MIME-wrapped timestamp tokens); nothing else
        // outside the alphabet passes.
        var urlSafe = false, lineBreaks = false
        for byte in raw.utf8 {
            switch byte {
            case UInt8(ascii: "-"), UInt8(ascii: "_"): urlSafe = true
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"): lineBreaks = true
            default: break
            }
        }
        let text = lineBreaks
            ? String(decoding: raw.utf8.filter { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\r") }, as: UTF8.self) : raw
        let alphabet: Base64.Alphabet = urlSafe ? .urlSafe : .standard
        if text.utf8.count % 4 == 0, let bytes = Base64.decode(text, alphabet: alphabet, padding: true) { return bytes }
        return Base64.decode(text, alphabet: alphabet, padding: false)
    }
}

/// RFC 3339 timestamps as used by trusted_root.json `validFor`
/// (`2021-03-07T03:20:29Z`, `2022-04-13T20:06:15.000+01:00`). Parsed by hand:
/// Foundation's ISO8601DateFormatter loads ICU, which costs more start-up
/// time than the whole verification.
enum RFC3339 {
    static func parse(_ text: String) -> Date? {
        let b = Array(text.utf8)
        func number(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= b.count else { return nil }
            var value = 0
            for byte in b[from..<(from + count)] {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard b.count >= 20, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
              b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"),
              b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
              let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
              let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var fraction = 0.0
        if index < b.count, b[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            let start = index
            while index < b.count, b[index] >= 48, b[index] <= 57, index - start < 9 {
                fraction += Double(b[index] - 48) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        var offset = 0
        guard index < b.count else { return nil }
        switch b[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard index + 6 == b.count, b[index + 3] == UInt8(ascii: ":"),
                  let h = number(index + 1, 2), let m = number(index + 4, 2), h < 24, m < 60 else { return nil }
            offset = (h * 60 + m) * 60 * (b[index] == UInt8(ascii: "+") ? 1 : -1)
            index += 6
        default:
            return nil
        }
        guard index == b.count else { return nil }
        // Days from 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's days_from_civil).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: TimeInterval(seconds) + fraction)
    }
}
