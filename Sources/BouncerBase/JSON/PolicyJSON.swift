import FoundationEssentials

/// The error for anything wrong in policy.json: always a configuration
/// error (exit 2) naming the file and the JSON path ("$.rules[2].match.url").
public struct PolicyError: BouncerFailure, Equatable {
    public let file: String
    public let path: String
    public let reason: String

    public init(file: String, path: String, _ reason: String) {
        self.file = file
        self.path = path
        self.reason = reason
    }

    public var family: ErrorFamily { .configuration }
    public var code: String { "policy-invalid" }
    public var description: String { "\(file): \(path): \(reason)" }
}

/// Reads one JSON object field by field, refusing unknown keys, and names
/// the JSON path in every error.
package struct JSONReader {
    package let file: String
    package let path: String
    package let fields: [String: JSON]

    package init(_ value: JSON, file: String, path: String) throws(PolicyError) {
        guard case .object(let fields) = value else {
            throw PolicyError(file: file, path: path, "expected an object, found \(value.typeName)")
        }
        self.file = file
        self.path = path
        self.fields = fields
    }

    package func error(_ key: String?, _ reason: String) -> PolicyError {
        PolicyError(file: file, path: key.map { Self.join(path, $0) } ?? path, reason)
    }

    /// A number as written (integers without a fraction).
    package static func show(_ value: JSON) -> String {
        switch value {
        case .integer(let number): String(number)
        case .nonInteger(let text): text
        default: value.typeName
        }
    }

    static func join(_ path: String, _ key: String) -> String {
        let plain = !key.isEmpty && key.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
        return plain ? "\(path).\(key)" : "\(path)[\"\(key)\"]"
    }

    /// Every key must be one of `allowed`: a typo must never silently drop a requirement.
    package func onlyKeys(_ allowed: [String]) throws(PolicyError) {
        for key in fields.keys.sorted() where !allowed.contains(key) {
            throw error(key, "unknown key '\(key)' (allowed here: \(allowed.joined(separator: ", ")))")
        }
    }

    package func has(_ key: String) -> Bool { fields[key] != nil }

    package func child(_ key: String) throws(PolicyError) -> JSONReader? {
        guard let value = fields[key] else { return nil }
        return try JSONReader(value, file: file, path: Self.join(path, key))
    }

    package func requiredChild(_ key: String) throws(PolicyError) -> JSONReader {
        guard let child = try child(key) else { throw error(key, "missing required field '\(key)'") }
        return child
    }

    package func string(_ key: String) throws(PolicyError) -> String? {
        guard let value = fields[key] else { return nil }
        guard case .string(let text) = value else { throw error(key, "expected a string, found \(value.typeName)") }
        return text
    }

    package func requiredString(_ key: String) throws(PolicyError) -> String {
        guard let text = try string(key) else { throw error(key, "missing required field '\(key)'") }
        guard !text.isEmpty else { throw error(key, "must not be empty") }
        return text
    }

    package func nonEmptyString(_ key: String) throws(PolicyError) -> String? {
        guard let text = try string(key) else { return nil }
        guard !text.isEmpty else { throw error(key, "must not be empty") }
        return text
    }

    package func bool(_ key: String) throws(PolicyError) -> Bool? {
        guard let value = fields[key] else { return nil }
        guard case .bool(let flag) = value else { throw error(key, "expected a boolean, found \(value.typeName)") }
        return flag
    }

    package func choice(_ key: String, _ allowed: [String]) throws(PolicyError) -> String? {
        guard let text = try string(key) else { return nil }
        guard allowed.contains(text) else {
            throw error(key, "'\(text)' is not one of \(allowed.map { "'\($0)'" }.joined(separator: ", "))")
        }
        return text
    }

    package func integer(_ key: String) throws(PolicyError) -> UInt64? {
        guard let value = fields[key] else { return nil }
        switch value {
        case .integer, .nonInteger:
            guard let number = value.doubleValue, number >= 1, number <= 9_007_199_254_740_992, number.rounded() == number else {
                throw error(key, "expected a positive whole number, found \(Self.show(value))")
            }
            return UInt64(number)
        case .string(let text):
            // Sizes may be written like the CLI's --max-size: "100M", "4G".
            guard let bytes = ByteCount.parse(text), bytes > 0 else {
                throw error(key, "'\(text)' is not a size like 1048576, 512K, 100M or 4G")
            }
            return bytes
        default:
            throw error(key, "expected a number, found \(value.typeName)")
        }
    }

    /// A count: a positive whole JSON number (not a size string).
    package func count(_ key: String) throws(PolicyError) -> Int? {
        guard let value = fields[key] else { return nil }
        guard let number = value.doubleValue else { throw error(key, "expected a number, found \(value.typeName)") }
        guard number >= 1, number <= 9_007_199_254_740_992, number.rounded() == number else {
            throw error(key, "expected a positive whole number, found \(Self.show(value))")
        }
        return Int(number)
    }

    /// A finite JSON number no smaller than `minimum`.
    package func number(_ key: String, atLeast minimum: Double) throws(PolicyError) -> Double? {
        guard let value = fields[key] else { return nil }
        guard let number = value.doubleValue else { throw error(key, "expected a number, found \(value.typeName)") }
        guard number.isFinite, number >= minimum else {
            throw error(key, "expected a number of at least \(minimum), found \(Self.show(value))")
        }
        return number
    }

    package func array(_ key: String) throws(PolicyError) -> [(value: JSON, path: String)]? {
        guard let value = fields[key] else { return nil }
        guard case .array(let items) = value else { throw error(key, "expected an array, found \(value.typeName)") }
        let base = Self.join(path, key)
        return items.enumerated().map { ($0.element, "\(base)[\($0.offset)]") }
    }

    package func stringArray(_ key: String) throws(PolicyError) -> [String]? {
        guard let items = try array(key) else { return nil }
        var strings: [String] = []
        for item in items {
            guard case .string(let text) = item.value, !text.isEmpty else {
                throw PolicyError(file: file, path: item.path, "expected a non-empty string, found \(item.value.typeName)")
            }
            strings.append(text)
        }
        return strings
    }
}
