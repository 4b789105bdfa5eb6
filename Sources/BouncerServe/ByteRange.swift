/// A `Range` request header applied to a verified file of `size` bytes
/// (RFC 9110, section 14). Only the verified bytes are ever served, whole or
/// in part; a part is served once the whole file has passed.
///
/// One range is served: uv reads a wheel's metadata with single suffix and
/// span ranges. Anything else (several ranges, another unit, a malformed
/// header, or `If-Range`, since the proxy gives no validators) gets the whole
/// file, as the RFC allows a server to answer.
enum ByteRange: Equatable {
    case whole
    /// Bytes `first...last`, both within the file.
    case part(first: UInt64, last: UInt64)
    /// 416: the range starts past the end of the file.
    case unsatisfiable

    init(header: String?, ifRange: String?, size: UInt64) {
        guard let header, ifRange == nil else { self = .whole; return }
        let trimmed = header.trimmingSpaces()
        guard trimmed.lowercased().hasPrefix("bytes=") else { self = .whole; return }
        let spec = trimmed.dropFirst("bytes=".count).trimmingSpaces()
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { self = .whole; return }
        let from = spec[..<dash].trimmingSpaces(), to = spec[spec.index(after: dash)...].trimmingSpaces()
        switch (Self.number(from), Self.number(to)) {
        case (nil, let suffix?) where from.isEmpty:
            // The last `suffix` bytes.
            guard suffix > 0, size > 0 else { self = .unsatisfiable; return }
            self = .part(first: size - min(suffix, size), last: size - 1)
        case (let first?, nil) where to.isEmpty:
            self = first < size ? .part(first: first, last: size - 1) : .unsatisfiable
        case (let first?, let last?) where first <= last:
            self = first < size ? .part(first: first, last: min(last, size - 1)) : .unsatisfiable
        default:
            self = .whole
        }
    }

    /// Digits only, no sign, no overflow.
    private static func number(_ text: String) -> UInt64? {
        guard !text.isEmpty, text.count <= 19, text.allSatisfy({ $0 >= "0" && $0 <= "9" }) else { return nil }
        return UInt64(text)
    }
}
