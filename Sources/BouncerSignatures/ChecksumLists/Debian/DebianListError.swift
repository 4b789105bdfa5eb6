import BouncerBase
import BouncerIO
/// Errors in Debian index files (formats.md §10). All are the evidence's
/// fault: a malformed or stale index never counts.
public enum DebianListError: BouncerFailure, Equatable {
    case malformed(source: String, line: Int, why: String)
    case noStrongHash(source: String)
    case expired(source: String, validUntil: String)
    case notValidYet(source: String, date: String)
    case unsafeFilename(source: String, line: Int, name: String)
    case decompression(source: String, why: String)

    public var family: ErrorFamily { .evidence }

    public var code: String {
        switch self {
        case .malformed: "debian-malformed"
        case .noStrongHash: "debian-no-strong-hash"
        case .expired: "debian-expired"
        case .notValidYet: "debian-not-valid-yet"
        case .unsafeFilename: "debian-unsafe-filename"
        case .decompression: "debian-decompression"
        }
    }

    public var description: String {
        switch self {
        case .malformed(let source, let line, let why): "\(source):\(line): \(why)"
        case .noStrongHash(let source): "\(source) lists only MD5Sum/SHA1 checksums, which never count as evidence (SHA256 or SHA512 required)"
        case .expired(let source, let until): "\(source) expired: Valid-Until \(until) is in the past (a stale or replayed index)"
        case .notValidYet(let source, let date): "\(source) is dated \(date), in the future"
        case .unsafeFilename(let source, let line, let name): "\(source):\(line): Filename '\(name)' is absolute, contains '..' or URL metacharacters"
        case .decompression(let source, let why): "\(source): cannot decompress: \(why)"
        }
    }
}
