/// Reads consecutive DER TLVs from a slice: single-byte tags, definite
/// minimal lengths of up to four bytes. `next` is nil at the end and on
/// anything else; `isAtEnd` tells the two apart. Contents are not interpreted.
struct DERWalk {
    struct Element {
        let tag: UInt8
        /// The content.
        let value: ArraySlice<UInt8>
        /// The whole element, header included (indices are the original array's).
        let whole: ArraySlice<UInt8>
    }

    private var rest: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { rest = bytes }

    /// Everything was read: no bytes are left over.
    var isAtEnd: Bool { rest.isEmpty }

    mutating func next() -> Element? {
        guard rest.count >= 2 else { return nil }
        let start = rest.startIndex
        let tag = rest[start]
        guard tag & 0x1F != 0x1F else { return nil }      // high tag numbers: none in X.509
        var index = start + 2
        var length = Int(rest[start + 1])
        if length >= 0x80 {
            // 0x80 alone is BER's indefinite length; DER uses the fewest bytes, with no leading zero.
            let count = length & 0x7F
            guard (1...4).contains(count), rest.endIndex - index >= count, rest[index] != 0 else { return nil }
            length = rest[index..<(index + count)].reduce(0) { $0 << 8 | Int($1) }
            guard length >= 0x80 else { return nil }
            index += count
        }
        guard rest.endIndex - index >= length else { return nil }
        let end = index + length
        defer { rest = rest[end...] }
        return Element(tag: tag, value: rest[index..<end], whole: rest[start..<end])
    }

    /// Every element of `bytes`, or nil unless they fill it exactly.
    static func all(_ bytes: ArraySlice<UInt8>) -> [Element]? {
        var walk = DERWalk(bytes)
        var found: [Element] = []
        while let element = walk.next() { found.append(element) }
        return walk.isAtEnd ? found : nil
    }

    /// A TLV with the DER length of `content`.
    static func encode(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
        guard content.count >= 0x80 else { return [tag, UInt8(content.count)] + content }
        var length: [UInt8] = []
        var remaining = content.count
        while remaining > 0 {
            length.insert(UInt8(remaining & 0xFF), at: 0)
            remaining >>= 8
        }
        return [tag, 0x80 | UInt8(length.count)] + length + content
    }
}
