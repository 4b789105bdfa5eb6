import FoundationEssentials

/// A JSON value read with its path, so every complaint names where it is
/// (`$.verificationMaterial.tlogEntries[0].logIndex`). Parsed by the one
/// strict reader (`JSON.parse`: duplicate members refused, nesting bounded);
/// sizes are bounded by the callers.
package struct JSONNode {
    package let value: JSON
    package let path: String
    package let fail: @Sendable (String, String) -> any Error

    package init(value: JSON, path: String, fail: @escaping @Sendable (String, String) -> any Error) {
        self.value = value
        self.path = path
        self.fail = fail
    }

    package static func parse(_ bytes: [UInt8], limit: Int, fail: @escaping @Sendable (String, String) -> any Error) throws -> JSONNode {
        guard bytes.count <= limit else { throw fail("$", "larger than \(limit) bytes") }
        let value: JSON
        do { value = try JSON.parse(bytes) } catch {
            throw fail("$", "not valid JSON: \(error)")
        }
        return JSONNode(value: value, path: "$", fail: fail)
    }

    package func error(_ why: String) -> any Error { fail(path, why) }

    var isNull: Bool { value == .null }

    package func object() throws -> [String: JSON] {
        guard case .object(let members) = value else { throw error("expected an object") }
        return members
    }

    /// Refuses members other than `keys`, as protobuf JSON parsing does by
    /// default: a misspelt field must not silently vanish.
    @discardableResult
    package func only(_ keys: Set<String>) throws -> JSONNode {
        for key in try object().keys.sorted() where !keys.contains(key) {
            throw fail("\(path).\(key)", "unknown field")
        }
        return self
    }

    /// The member `key`, or nil when absent or null.
    package func optional(_ key: String) throws -> JSONNode? {
        let members = try object()
        guard let member = members[key], member != .null else { return nil }
        return JSONNode(value: member, path: "\(path).\(key)", fail: fail)
    }

    package func required(_ key: String) throws -> JSONNode {
        guard let member = try optional(key) else { throw fail("\(path).\(key)", "missing") }
        return member
    }

    package func has(_ key: String) -> Bool {
        guard case .object(let members) = value, let member = members[key] else { return false }
        return member != .null
    }

    package func array(max: Int) throws -> [JSONNode] {
        guard case .array(let items) = value else { throw error("expected an array") }
        guard items.count <= max else { throw error("\(items.count) items, more than the \(max) allowed") }
        return items.enumerated().map { JSONNode(value: $1, path: "\(path)[\($0)]", fail: fail) }
    }

    package func string() throws -> String {
        guard case .string(let text) = value else { throw error("expected a string") }
        return text
    }

    /// Protobuf-JSON bytes: standard or URL-safe base64, padded or not.
    package func bytes(allowEmpty: Bool = false) throws -> [UInt8] {
        let text = try string()
        guard let decoded = SigstoreBase64.decode(text) else { throw error("not base64") }
        guard allowEmpty || !decoded.isEmpty else { throw error("empty") }
        return decoded
    }

    /// Protobuf-JSON int64: a decimal string (canonical) or a JSON integer.
    func int64() throws -> Int64 {
        switch value {
        case .string(let text):
            guard !text.isEmpty, text.utf8.count <= 20, let number = Int64(text) else { throw error("not a decimal int64") }
            return number
        case .integer(let number):
            return number
        case .nonInteger(let text):
            // 5.0 and 5e0 are integers in protobuf JSON.
            guard let double = Double(text), double.rounded() == double, abs(double) < 9.0e15 else { throw error("not an integer") }
            return Int64(double)
        default:
            throw error("expected an int64 (string or number)")
        }
    }

    package func nonNegativeInt64() throws -> Int64 {
        let number = try int64()
        guard number >= 0 else { throw error("negative (\(number))") }
        return number
    }
}

enum SigstoreBase64 {
    /// Accepts both alphabets, with or without padding (protobuf JSON mapping).
    static func decode(_ raw: String) -> [UInt8]? {
        var raw = raw
        return raw.withUTF8 { bytes -> [UInt8]? in
            // One pass over the bytes: Go's decoder (protojson) skips CR and LF, and
            // real bundles carry them (MIME-wrapped timestamp tokens); nothing else
            // outside the alphabet passes.
            var urlSafe = false, lineBreaks = false
            for byte in bytes {
                switch byte {
                case UInt8(ascii: "-"), UInt8(ascii: "_"): urlSafe = true
                case UInt8(ascii: "\n"), UInt8(ascii: "\r"): lineBreaks = true
                default: break
                }
            }
            let alphabet: Base64.Alphabet = urlSafe ? .urlSafe : .standard
            func decode(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
                if text.count % 4 == 0, let bytes = Base64.decode(utf8: text, alphabet: alphabet, padding: true) { return bytes }
                return Base64.decode(utf8: text, alphabet: alphabet, padding: false)
            }
            guard lineBreaks else { return decode(bytes) }
            return bytes.filter { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\r") }.withUnsafeBufferPointer(decode)
        }
    }
}

