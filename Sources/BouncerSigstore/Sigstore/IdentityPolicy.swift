import FoundationEssentials
import BouncerBase
import BouncerIO

/// Who must have signed (formats.md §5.9 step 5): the certificate's SAN and
/// OIDC issuer, each matched exactly or by a regular expression that must
/// match the whole value. There is no "any identity".
public struct IdentityPolicy: Sendable {
    public enum Matcher: Sendable, CustomStringConvertible {
        case exact(String)
        /// The pattern must match the entire value, not just a prefix or a substring.
        case regex(String)

        public func matches(_ value: String) throws(SigstoreError) -> Bool {
            switch self {
            case .exact(let expected):
                return value == expected
            case .regex(let pattern):
                // The whole value must match (`wholeMatch`, and anchored in the pattern so
                // alternations cannot match a part); compared by Unicode scalar, as Go's
                // regexp that cosign uses compares runes, not grapheme clusters.
                let expression: Regex<AnyRegexOutput>
                do { expression = try Regex("\\A(?:" + pattern + ")\\z").matchingSemantics(.unicodeScalar) } catch {
                    throw SigstoreError(.identity, "invalid regular expression '\(pattern)'")
                }
                return (try? expression.wholeMatch(in: value)) != nil
            }
        }

        /// A pattern matching exactly `text` (its regular-expression metacharacters escaped).
        public static func literalPattern(_ text: String) -> String {
            var pattern = ""
            for character in text {
                if "\\^$.|?*+()[]{}".contains(character) { pattern.append("\\") }
                pattern.append(character)
            }
            return pattern
        }

        public var description: String {
            switch self {
            case .exact(let value): "'\(value)'"
            case .regex(let pattern): "/\(pattern)/"
            }
        }
    }

    public var identity: Matcher
    public var issuer: Matcher

    public init(identity: Matcher, issuer: Matcher) {
        self.identity = identity
        self.issuer = issuer
    }

    /// Checks the certificate; returns the SAN value that matched. Only email,
    /// URI and Fulcio username (otherName) SANs count as identities.
    @discardableResult
    public func check(_ certificate: SigningCertificate) throws(SigstoreError) -> String {
        guard let issuerValue = certificate.oidcIssuer else {
            throw SigstoreError(.issuer, "the certificate has no OIDC issuer extension (1.3.6.1.4.1.57264.1.8 or .1.1)")
        }
        guard try issuer.matches(issuerValue) else {
            throw SigstoreError(.issuer, "the certificate's OIDC issuer '\(issuerValue)' does not match \(issuer)")
        }
        var seen: [String] = []
        for name in certificate.subjectAlternativeNames {
            switch name {
            case .email(let value), .uri(let value), .otherName(let value):
                if try identity.matches(value) { return value }
                seen.append(value)
            case .dns, .unsupported:
                continue
            }
        }
        throw SigstoreError(.identity, seen.isEmpty
            ? "the certificate has no email, URI or username SAN to match \(identity)"
            : "the certificate's identity '\(seen.joined(separator: "', '"))' does not match \(identity)")
    }
}
