import FoundationEssentials

/// Typed documents (bouncer.lock, the freshness and TUF state files) read
/// through the one strict reader first, so they too refuse duplicate members
/// and trailing commas with a line and column, then mapped onto their
/// Codable types. A decoding failure is said in words with its JSON path
/// (`$.artifacts[3]: missing field 'sha256'`), never as the decoder's dump.
package enum JSONDocument {
    package static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws(JSONDocumentError) -> T {
        do { _ = try JSON.parse(bytes) } catch {
            throw JSONDocumentError(message: "line \(error.line), column \(error.column): \(error.why)")
        }
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch let error as DecodingError {
            throw JSONDocumentError(message: describe(error))
        } catch {
            throw JSONDocumentError(message: "\(error)")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath)): missing field '\(key.stringValue)'"
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)): expected \(name(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)): null where \(name(type)) is required"
        case .dataCorrupted(let context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    /// `$.artifacts[3].sha256`.
    static func path(_ codingPath: [any CodingKey]) -> String {
        var out = "$"
        for key in codingPath {
            if let index = key.intValue { out += "[\(index)]" } else { out += ".\(key.stringValue)" }
        }
        return out
    }

    static func name(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int64.Type, is UInt64.Type, is UInt32.Type, is Int32.Type, is Double.Type: "a number"
        default:
            "\(type)".hasPrefix("Array") ? "an array" : "an object"
        }
    }
}

package struct JSONDocumentError: Error, CustomStringConvertible {
    package let message: String
    package var description: String { message }
}
