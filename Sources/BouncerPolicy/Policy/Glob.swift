import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
/// The policy's glob: `*` matches any run of characters except `/`, `**`
/// any run including `/`; everything else is literal. Matching is a
/// bounded dynamic programme over bytes (no backtracking blow-up).
public struct Glob: Sendable, Equatable, CustomStringConvertible {
    enum Token: Equatable { case byte(UInt8), star, doubleStar }

    public let pattern: String
    let tokens: [Token]

    public init(_ pattern: String) {
        self.pattern = pattern
        var tokens: [Token] = []
        let bytes = Array(pattern.utf8)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "*") {
                if index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "*") {
                    tokens.append(.doubleStar)
                    index += 2
                    // Any further stars add nothing.
                    while index < bytes.count && bytes[index] == UInt8(ascii: "*") { index += 1 }
                } else {
                    tokens.append(.star)
                    index += 1
                }
            } else {
                tokens.append(.byte(bytes[index]))
                index += 1
            }
        }
        self.tokens = tokens
    }

    public var isLiteral: Bool { !tokens.contains(.star) && !tokens.contains(.doubleStar) }

    public func matches(_ text: String) -> Bool {
        let input = Array(text.utf8)
        // reachable[j]: the tokens so far can consume exactly input[0..<j].
        var reachable = [Bool](repeating: false, count: input.count + 1)
        reachable[0] = true
        for token in tokens {
            var next = [Bool](repeating: false, count: input.count + 1)
            switch token {
            case .byte(let byte):
                for j in 0..<input.count where reachable[j] && input[j] == byte { next[j + 1] = true }
            case .star:
                for j in 0...input.count where reachable[j] {
                    next[j] = true
                    var k = j
                    while k < input.count && input[k] != UInt8(ascii: "/") {
                        k += 1
                        if next[k] { break }
                        next[k] = true
                    }
                }
            case .doubleStar:
                if let first = reachable.firstIndex(of: true) {
                    for j in first...input.count { next[j] = true }
                }
            }
            reachable = next
        }
        return reachable[input.count]
    }

    public var description: String { pattern }
}
