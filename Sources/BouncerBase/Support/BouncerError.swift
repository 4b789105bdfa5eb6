/// Who is at fault when something goes wrong, which is also the exit code
/// (design.md, "CLI contract"): the evidence or artifact (1), the local
/// configuration or the command line (2), the transport or the file system (3).
public enum ErrorFamily: String, Sendable, Codable {
    case evidence
    case configuration
    case transport

    public var exitCode: Int32 {
        switch self {
        case .evidence: 1
        case .configuration: 2
        case .transport: 3
        }
    }
}

/// Every error Bouncer reports conforms to this: a family (the exit code), a
/// stable machine-readable code that tests and `--json` rely on, a message
/// naming what was wrong and where, and optionally advice for the person.
public protocol BouncerFailure: Error, CustomStringConvertible, Sendable {
    var family: ErrorFamily { get }
    var code: String { get }
    var hint: String? { get }
}

extension BouncerFailure {
    public var hint: String? { nil }
}

/// A plain failure for places where a dedicated error type would add nothing.
/// Equality compares only `code`, so tests can assert codes, not message text.
public struct BouncerError: BouncerFailure, Equatable {
    public let family: ErrorFamily
    public let code: String
    public let message: String
    public let hint: String?

    public init(_ family: ErrorFamily, code: String, _ message: String, hint: String? = nil) {
        self.family = family
        self.code = code
        self.message = message
        self.hint = hint
    }

    public var description: String { message }

    public static func == (lhs: BouncerError, rhs: BouncerError) -> Bool { lhs.code == rhs.code }
}

extension BouncerError {
    public static func usage(_ message: String, hint: String? = nil) -> BouncerError {
        BouncerError(.configuration, code: "usage", message, hint: hint)
    }

    public static func io(_ message: String, hint: String? = nil) -> BouncerError {
        BouncerError(.transport, code: "io", message, hint: hint)
    }

    /// Any failure, flattened to its family, code, message and hint.
    public init(_ failure: any BouncerFailure) {
        self.init(failure.family, code: failure.code, failure.description, hint: failure.hint)
    }
}
