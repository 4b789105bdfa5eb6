import FoundationEssentials
import BouncerBase
import BouncerIO

/// Debian's checksum-bearing indexes as checksum lists with sizes
/// (formats.md §10): Release/InRelease (`SHA256:` section), Packages
/// stanzas (`Filename`, `Size`, `SHA256`) and `.dsc` (`Checksums-Sha256`).
public enum DebianLists {
    public enum Kind: String, Sendable {
        case release = "Debian Release"
        case packages = "Debian Packages"
        case dsc = "Debian source control (.dsc)"
        case sources = "Debian Sources"
    }

    public struct Parsed: Sendable {
        public let kind: Kind
        public let list: ChecksumList
        /// `Valid-Until` of a Release file, when present and checked.
        public let validUntil: String?
        /// `Date` of a Release file: when the archive says it was made (orders replays).
        public var date: Date? = nil
    }

    /// Whether text looks like deb822 (first meaningful line is `Field: value`).
    public static func looksLikeDeb822(_ text: [UInt8]) -> Bool {
        var start = 0
        while start < text.count {
            var end = start
            while end < text.count, text[end] != 0x0a { end += 1 }
            let line = text[start..<end]
            start = end + 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0d }) || line.first == UInt8(ascii: "#") { continue }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else { return false }
            return line[line.startIndex..<colon].allSatisfy { ($0 >= 0x41 && $0 <= 0x5a) || ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "-") }
        }
        return false
    }

    public static func parse(_ text: [UInt8], source: String, now: Date = Date()) throws(DebianListError) -> Parsed {
        let stanzas = try Deb822Stanza.parse(text, source: source)
        guard let first = stanzas.first else {
            throw .malformed(source: source, line: 1, why: "no deb822 stanza")
        }
        var entries: [ChecksumList.Entry] = []
        let kind: Kind
        var validUntil: String? = nil
        var date: Date? = nil
        if stanzas.contains(where: { $0.field("Filename") != nil }) {
            kind = .packages
            for stanza in stanzas {
                guard let filename = stanza.field("Filename") else { continue }
                guard let name = stanza.value(of: filename), isSafePath(name) else {
                    throw .unsafeFilename(source: source, line: filename.line, name: String(decoding: stanza.bytes[filename.value], as: UTF8.self))
                }
                guard let sizeField = stanza.field("Size"), let size = stanza.value(of: sizeField).flatMap({ UInt64($0) }) else {
                    throw .malformed(source: source, line: stanza.line, why: "stanza for '\(name)' has no valid Size")
                }
                // MD5sum/SHA1 never count, so they are not even read when a
                // strong digest is present.
                var found = false
                for (field, algorithm) in [("SHA256", HashAlgorithm.sha256), ("SHA512", .sha512)] {
                    guard let value = stanza.field(field) else { continue }
                    guard let hex = stanza.value(of: value), let digest = try? Digest(algorithm: algorithm, hex: hex) else {
                        throw .malformed(source: source, line: value.line, why: "\(field) of '\(name)' is not a \(algorithm.rawValue) digest")
                    }
                    found = true
                    entries.append(.init(name: name, digest: digest, line: value.line, size: size))
                }
                guard found else { throw .noStrongHash(source: "\(source) (stanza for '\(name)', line \(stanza.line))") }
            }
        } else if first.field("Directory") != nil && first.field("Package") != nil {
            // A Sources index: each stanza's files live under its Directory
            // (the chain InRelease → Sources → .dsc → tarballs).
            kind = .sources
            for stanza in stanzas {
                guard let directoryField = stanza.field("Directory") else { continue }
                guard let directory = stanza.value(of: directoryField), isSafePath(directory) else {
                    throw .unsafeFilename(source: source, line: directoryField.line, name: String(decoding: stanza.bytes[directoryField.value], as: UTF8.self))
                }
                let files = try hashLines(stanza, fields: [("Checksums-Sha256", .sha256), ("Checksums-Sha512", .sha512)],
                                          source: source, plainNames: true)
                guard !files.isEmpty else { throw .noStrongHash(source: "\(source) (stanza at line \(stanza.line))") }
                entries += files.map { .init(name: directory + "/" + $0.name, digest: $0.digest, line: $0.line, size: $0.size) }
            }
        } else if first.field("Checksums-Sha256") != nil || first.field("Files") != nil && first.field("Source") != nil {
            kind = .dsc
            entries = try hashLines(first, fields: [("Checksums-Sha256", .sha256), ("Checksums-Sha512", .sha512)],
                                    source: source, plainNames: true)
        } else {
            kind = .release
            entries = try hashLines(first, fields: [("SHA256", .sha256), ("SHA512", .sha512)], source: source, plainNames: false)
            if let field = first.field("Valid-Until") {
                let text = first.value(of: field) ?? ""
                guard let until = parseDate(text) else {
                    throw .malformed(source: source, line: field.line, why: "Valid-Until '\(text.prefix(60))' is not an RFC 2822 date in UTC")
                }
                if now > until { throw .expired(source: source, validUntil: text) }
                validUntil = text
            }
            if let field = first.field("Date"), let text = first.value(of: field), let made = parseDate(text) {
                if made > now.addingTimeInterval(300) { throw .notValidYet(source: source, date: text) }
                date = made
            }
        }
        guard entries.contains(where: { $0.digest.algorithm.isEvidence }) else { throw .noStrongHash(source: source) }
        do {
            try ChecksumList.checkUnambiguousEntries(entries, source: source)
        } catch {
            throw .malformed(source: source, line: 0, why: error.description)
        }
        return Parsed(kind: kind, list: ChecksumList(entries: entries, source: source), validUntil: validUntil, date: date)
    }

    /// ` <hex> <size> <path>` lines under each named field.
    private static func hashLines(_ stanza: Deb822Stanza, fields: [(String, HashAlgorithm)], source: String,
                                  plainNames: Bool) throws(DebianListError) -> [ChecksumList.Entry] {
        var entries: [ChecksumList.Entry] = []
        for (name, algorithm) in fields {
            guard let field = stanza.field(name) else { continue }
            for (decoded, line) in stanza.continuation(of: field) {
                guard let text = decoded else {
                    throw .malformed(source: source, line: line, why: "not valid UTF-8")
                }
                let parts = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard parts.count == 3, let size = UInt64(parts[1]) else {
                    throw .malformed(source: source, line: line, why: "expected '<hash> <size> <path>' under \(name)")
                }
                guard let digest = try? Digest(algorithm: algorithm, hex: String(parts[0])) else {
                    throw .malformed(source: source, line: line, why: "'\(parts[0].prefix(140))' is not a \(algorithm.rawValue) digest")
                }
                let path = String(parts[2])
                guard isSafePath(path), !plainNames || !path.contains("/") else {
                    throw .unsafeFilename(source: source, line: line, name: path)
                }
                entries.append(.init(name: path, digest: digest, line: line, size: size))
            }
        }
        return entries
    }

    /// A relative path without `..`, a leading `/`, or URL metacharacters.
    static func isSafePath(_ path: String) -> Bool {
        guard !path.isEmpty, !path.hasPrefix("/") else { return false }
        guard !path.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7f || "?#%\\".unicodeScalars.contains($0) }) else { return false }
        return !path.split(separator: "/", omittingEmptySubsequences: false).contains("..")
    }

    /// `Sat, 01 Jan 2026 00:00:00 UTC` (the weekday optional); the zone must
    /// be UTC, GMT, Z or +0000 (formats.md §10.1).
    static func parseDate(_ text: String) -> Date? {
        var parts = text.split(separator: " ").map(String.init)
        if let first = parts.first, first.hasSuffix(",") { parts.removeFirst() }
        guard parts.count == 5, ["UTC", "GMT", "Z", "+0000"].contains(parts[4]),
              let day = Int(parts[0]), let year = Int(parts[2]) else { return nil }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard let month = months.firstIndex(of: parts[1]) else { return nil }
        let time = parts[3].split(separator: ":").compactMap { Int($0) }
        guard time.count == 3 else { return nil }
        return UTCTime.date(year: year, month: month + 1, day: day, hour: time[0], minute: time[1], second: time[2])
    }
}
