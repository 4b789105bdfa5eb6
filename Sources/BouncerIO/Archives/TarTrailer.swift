import CArchive
import CArchiveShims
#if canImport(Glibc)
import Glibc
#endif

/// A second read of a tar file, through the same filters as one raw stream,
/// for what libarchive's tar reader stops at or ignores but npm's and yarn's
/// (and Python's, for sdists) read.
enum TarTrailer {
    /// Zeros after the end marker are record padding (GNU tar pads to 10 KiB); far more is no tar's.
    static let maxPadding: Int64 = 1 << 20

    /// Refuses unless every byte of the uncompressed stream from `end` (where
    /// libarchive's tar reader stopped, after one or two zero blocks) is zero:
    /// npm's and yarn's readers go on past a lone zero block, so entries after
    /// one were installed without Bouncer seeing them (red team).
    ///
    /// And refuses a pax global header ('g') setting anything but a comment in
    /// `chains` (where libarchive read each entry's headers): node-tar and Python's
    /// tarfile apply its `size`, `path`… to every later entry, libarchive ignores
    /// it, so they read different files (red team: a global `size=` hid a second
    /// package.json). git archive writes one with a comment only; npm pack none.
    ///
    /// And refuses any header in `chains` that node-tar rejects and steps over
    /// by one block, or whose data or pax records it reads otherwise (ChainWalk.screen).
    ///
    /// Returns what only node-tar reads otherwise and Python's tarfile does not
    /// (a pax path beyond ASCII that differs from the header's name, which a long
    /// one from Python's tarfile does): a problem for an npm package alone.
    @discardableResult
    static func check(fd: Int32, name: String, end: Int64, chains: [Range<Int64>] = []) throws(ArchiveError) -> [ArchiveError] {
        guard let raw = archive_read_new() else { throw .io(bouncer_archive_load_error().map { String(cString: $0) } ?? "libarchive: out of memory") }
        defer { archive_read_free(raw) }
        ArchiveReader.enableFilters(raw)
        archive_read_support_format_raw(raw)
        func failure() -> ArchiveError {
            .unreadable(archive: name, entry: nil, reason: "tar structure: cannot read the stream again: " + (archive_error_string(raw).map { String(cString: $0) } ?? "unknown libarchive error"))
        }
        let source = PreadSource(fd: fd)
        var walk = ChainWalk(name: name, chains: chains)
        try withExtendedLifetime(source) { () throws(ArchiveError) in
            guard archive_read_open(raw, Unmanaged.passUnretained(source).toOpaque(), nil, preadRead, nil) == ARCHIVE_OK else { throw failure() }
            var entry: OpaquePointer? = nil
            guard archive_read_next_header(raw, &entry) == ARCHIVE_OK else { throw failure() }
            while true {
                var buffer: UnsafeRawPointer? = nil
                var size = 0
                var offset: Int64 = 0
                let status = archive_read_data_block(raw, &buffer, &size, &offset)
                if status == ARCHIVE_EOF { return }
                guard status == ARCHIVE_OK, offset >= 0, size >= 0 else { throw failure() }
                guard let buffer, size > 0 else { continue }
                let blockEnd = offset + Int64(size)
                let bytes = UnsafeRawBufferPointer(start: buffer, count: size)
                try walk.feed(bytes, at: offset)
                guard blockEnd > end else { continue }
                let from = Int(max(0, end - offset))
                if let index = bytes[from...].firstIndex(where: { $0 != 0 }) {
                    throw .unreadable(archive: name, entry: nil, reason: "tar structure: a non-zero byte at offset \(offset + Int64(index)) of the uncompressed tar, after the zero blocks that end it for libarchive (at offset \(end)): npm's and yarn's tar readers read on past a zero block, so they would install entries Bouncer does not see")
                }
                if blockEnd - end > maxPadding {
                    throw .unreadable(archive: name, entry: nil, reason: "tar structure: more than \(maxPadding) bytes of zeros after the end of the archive at offset \(end)")
                }
            }
        }
        return walk.npmOnly
    }
}

/// Reads the headers of each chain, in stream order, as the stream goes by: an
/// extension header (pax, GNU long name, …) is followed by the next one; the
/// entry's own header ends the chain.
private struct ChainWalk {
    let name: String
    let chains: [Range<Int64>]
    var index = 0
    /// The bytes wanted next (a header, or an extension header's data) and those gathered.
    var want: Range<Int64>
    /// The typeflag of the extension header whose data is gathered ('g' or 'x': pax
    /// records; 'L' or 'K': a GNU long name), or nil while a header is gathered.
    var bodyType: UInt8? = nil
    var gathered: [UInt8] = []
    /// What the chain's pax header sets that node-tar reads otherwise, checked at the entry's own header.
    var pending = PendingPax()
    /// What node-tar alone reads otherwise (`check`'s result).
    var npmOnly: [ArchiveError] = []
    static let maxRecords = 64 << 10

    /// node-tar drops a pax `size` of 0 (`obj.size || null`) and takes the header's, and
    /// decodes the records chunk by chunk, so a non-ASCII `path` may be dropped for the header's.
    struct PendingPax {
        var size: Int64? = nil
        var path: [UInt8]? = nil
        var linkpath: [UInt8]? = nil
        /// A GNU long name ('L') or link name ('K') seen in the chain, cut at its NUL.
        var longName: [UInt8]? = nil
        var longLinkName: [UInt8]? = nil
    }
    init(name: String, chains: [Range<Int64>]) {
        self.name = name
        self.chains = chains
        want = chains.first.map { $0.lowerBound..<$0.lowerBound + 512 } ?? 0..<0
    }

    mutating func feed(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(ArchiveError) {
        while index < chains.count {
            let next = want.lowerBound + Int64(gathered.count)
            guard next < offset + Int64(bytes.count) else { return }
            // (The stream goes by in order, and every chain starts after the previous one ends.)
            guard next >= offset else {
                startNextChain()
                continue
            }
            let from = Int(next - offset)
            let take = Int(min(want.upperBound - next, Int64(bytes.count - from)))
            gathered += bytes[from..<from + take]
            if gathered.count == want.count { try complete() }
        }
    }

    private mutating func startNextChain() {
        index += 1
        gathered = []
        bodyType = nil
        pending = PendingPax()
        want = index < chains.count ? chains[index].lowerBound..<chains[index].lowerBound + 512 : 0..<0
    }

    private mutating func complete() throws(ArchiveError) {
        let chain = chains[index]
        let at = want.lowerBound
        if let bodyType, bodyType == UInt8(ascii: "L") || bodyType == UInt8(ascii: "K") {
            let isName = bodyType == UInt8(ascii: "L")
            if Self.readsOnPastNUL(gathered[...]) {
                throw divergence(at: at - 512, "a GNU long \(isName ? "name" : "link name") (\(Self.describe(bodyType))) holding a line break after its NUL")
            }
            // libarchive lets the first of a pax path and a long name win, node-tar the last (red team, round 10).
            if isName ? pending.path != nil : pending.linkpath != nil {
                throw divergence(at: at - 512, "a GNU long \(isName ? "name" : "link name") after a pax \(isName ? "path" : "linkpath") for the same entry (the two readers keep different ones)")
            }
            let cut = Array(gathered.prefix { $0 != 0 })
            if isName { pending.longName = cut } else { pending.longLinkName = cut }
            return follow(at + (Int64(gathered.count) + 511) / 512 * 512, in: chain)
        }
        if let bodyType {
            let isGlobal = bodyType == UInt8(ascii: "g")
            let what = isGlobal ? "pax global header" : "pax header"
            let records: [(key: String, value: ArraySlice<UInt8>)]
            switch Self.records(gathered) {
            case .records(let read): records = read
            case .unreadable: throw .unreadable(archive: name, entry: nil, reason: "tar structure: the \(what)'s records at offset \(at) do not read")
            case .readDifferently(let why):
                throw divergence(at: at - 512, "the \(what)'s records \(why)")
            }
            let keys = records.map(\.key)
            // Keys libarchive reads and node-tar ignores: GNU's (sparse files, whose data libarchive
            // places by the map, and GNU.sparse.name, a path for libarchive alone), Schily's and
            // Sun's sizes of sparse files.
            // (Python's tarfile reads them as libarchive does: a problem for an npm package alone.)
            if let sparse = keys.first(where: { $0.hasPrefix("GNU.") || $0 == "SCHILY.realsize" || $0 == "SUN.holesdata" }) {
                npmOnly.append(divergence(at: at - 512, "the \(what) sets \(sparse), which npm's tar reader ignores"))
            }
            if !isGlobal {
                for (key, value) in records {
                    switch key {
                    case "size":
                        // node-tar's parseInt and libarchive's reader agree only on plain decimal.
                        guard !value.isEmpty, value.allSatisfy({ (0x30...0x39).contains($0) }), value.count == 1 || value.first != 0x30 else {
                            throw divergence(at: at - 512, "the \(what) gives the size '\(String(decoding: value.prefix(40), as: UTF8.self))', not plain decimal")
                        }
                        guard value.count <= 18, let stated = Int64(String(decoding: value, as: UTF8.self)) else {
                            throw divergence(at: at - 512, "the \(what) gives a size too large to read")
                        }
                        pending.size = stated
                    case "path", "linkpath":
                        guard !value.isEmpty else { throw divergence(at: at - 512, "the \(what) sets an empty \(key), which npm's tar reader drops") }
                        if key == "path" ? pending.longName != nil : pending.longLinkName != nil {
                            throw divergence(at: at - 512, "the \(what) sets the \(key) of an entry a GNU long name already named (the two readers keep different ones)")
                        }
                        if key == "path" { pending.path = Array(value) } else { pending.linkpath = Array(value) }
                    default:
                        break
                    }
                }
            }
            if isGlobal, let set = keys.first(where: { $0 != "comment" }) {
                throw .unreadable(archive: name, entry: nil, reason: "tar structure: a pax global header at offset \(at - 512) sets \(set) (npm's and Python's tar readers apply it to every later entry, libarchive ignores it, so they would read different files)")
            }
            return follow(at + (Int64(gathered.count) + 511) / 512 * 512, in: chain)
        }
        let header = gathered
        // The zero blocks that end the tar (the last chain runs to libarchive's end).
        if header.allSatisfy({ $0 == 0 }) { return startNextChain() }
        let size = Self.size(header[124..<136])
        try screen(header, size: size, at: at)
        let extensions: Set<UInt8> = [UInt8(ascii: "x"), UInt8(ascii: "g"), UInt8(ascii: "X"), UInt8(ascii: "L"), UInt8(ascii: "K")]
        if !extensions.contains(header[156]) {
            try checkPending(header, size: size, at: at)
        } else if let stated = pending.size {
            // node-tar applies a pax size to every later header, extension headers too, and reads
            // their data by it; libarchive by their own (red team, round 10: a second pax header's
            // records ran into a README's data, where a hidden header began).
            throw divergence(at: at, "a \(Self.describe(header[156])) header after a pax size of \(stated) in the same entry's headers")
        }
        let remaining = chain.upperBound - at - 512
        guard let size, size <= remaining else { return startNextChain() }
        switch header[156] {
        case UInt8(ascii: "g"), UInt8(ascii: "x"), UInt8(ascii: "X"):
            // Both kinds of pax records are read, for what node-tar's line-by-line parse reads otherwise
            // (Solaris's 'X' is a pax header to all three readers).
            guard size <= Self.maxRecords else {
                if header[156] != UInt8(ascii: "g") {
                    throw .unreadable(archive: name, entry: nil, reason: "tar structure: a pax header at offset \(at) holds \(size) bytes of records, more than \(Self.maxRecords)")
                }
                throw .unreadable(archive: name, entry: nil, reason: "tar structure: a pax global header at offset \(at) holds \(size) bytes of records (npm's and Python's tar readers apply it to every later entry, libarchive ignores it)")
            }
            bodyType = header[156]
            gathered = []
            want = at + 512..<at + 512 + size
            if size == 0 { return follow(at + 512, in: chain) }
        case UInt8(ascii: "L"), UInt8(ascii: "K"):
            // The long name, for what node-tar's NUL cut reads on past.
            guard size <= Self.maxRecords else {
                throw .unreadable(archive: name, entry: nil, reason: "tar structure: a GNU long name at offset \(at) of \(size) bytes, more than \(Self.maxRecords)")
            }
            bodyType = header[156]
            gathered = []
            want = at + 512..<at + 512 + size
            if size == 0 { return follow(at + 512, in: chain) }
        default:
            startNextChain()
        }
    }

    private mutating func follow(_ next: Int64, in chain: Range<Int64>) {
        guard next + 512 <= chain.upperBound else { return startNextChain() }
        gathered = []
        bodyType = nil
        want = next..<next + 512
    }

    /// A header's size field: octal, or base-256 when its first bit is set; nil if it does not read.
    static func size(_ field: ArraySlice<UInt8>) -> Int64? {
        if let first = field.first, first & 0x80 != 0 {
            var value: Int64 = Int64(first & 0x3F)
            for byte in field.dropFirst() {
                guard value < Int64.max >> 8 else { return nil }
                value = value << 8 | Int64(byte)
            }
            return first & 0x40 == 0 ? value : nil
        }
        var value: Int64 = 0
        for byte in field.drop(while: { $0 == 0x20 }) {
            guard (0x30...0x37).contains(byte) else { break }
            guard value < Int64.max >> 3 else { return nil }
            value = value << 3 | Int64(byte - 0x30)
        }
        return value
    }

    enum Records {
        case records([(key: String, value: ArraySlice<UInt8>)])
        case unreadable
        /// Records libarchive reads by their length that node-tar, splitting at newlines, reads otherwise.
        case readDifferently(String)
    }

    /// The pax records (`LEN KEY=VALUE\n`), read by their length as libarchive
    /// does, or why node-tar would read them otherwise: it splits the records at
    /// newlines, takes a line whose decimal length (parseInt, then skipping as
    /// many characters as the number prints) is its UTF-8 byte count plus one,
    /// and drops the others (red team: `comment=x\n9 size=1\n`).
    static func records(_ records: [UInt8]) -> Records {
        var found: [(key: String, value: ArraySlice<UInt8>)] = []
        var position = 0
        while position < records.count {
            // (Some writers pad the records out with NULs; node-tar would still read a line after them.)
            if records[position] == 0 {
                return records[position...].allSatisfy({ $0 == 0 }) ? .records(found) : .readDifferently("hold bytes after a NUL at byte \(position)")
            }
            guard let space = records[position...].firstIndex(of: 0x20),
                  let length = Int(String(decoding: records[position..<space], as: UTF8.self)),
                  length > space - position, position + length <= records.count,
                  let equals = records[(space + 1)..<(position + length)].firstIndex(of: UInt8(ascii: "=")) else { return .unreadable }
            let record = records[position..<(position + length)]
            // node-tar skips as many characters as the length prints: no sign, no leading zero.
            guard records[position..<space].allSatisfy({ (0x30...0x39).contains($0) }), records[position] != 0x30 else {
                return .readDifferently("at byte \(position) give their length in a form node-tar reads differently")
            }
            guard record.last == 0x0A, record.dropLast().firstIndex(of: 0x0A) == nil, !record.contains(0) else {
                return .readDifferently("at byte \(position) hold a newline or NUL inside a record, or a record not ending in one")
            }
            // node-tar counts the bytes of the decoded line: a byte that is not UTF-8 counts as three.
            guard String(validating: record, as: UTF8.self) != nil else {
                return .readDifferently("at byte \(position) hold a record that is not UTF-8")
            }
            guard equals > space + 1 else { return .readDifferently("at byte \(position) hold a record with no keyword") }
            found.append((String(decoding: records[(space + 1)..<equals], as: UTF8.self), records[(equals + 1)..<(position + length - 1)]))
            position += length
        }
        return .records(found)
    }

    /// At an entry's own header, what its pax header set that node-tar reads
    /// otherwise: a `size` of 0 it drops for the header's own size, and a
    /// `path` or `linkpath` beyond ASCII, which it decodes chunk by chunk as
    /// the stream comes, so a character cut between two chunks fails the
    /// record's length and it falls back to the header's name (red team: 5 of
    /// 40 such paths fell back to `package/package.json`). Such a record must
    /// say what the header says.
    private mutating func checkPending(_ header: [UInt8], size: Int64?, at: Int64) throws(ArchiveError) {
        // The pax size and the header's must agree: node-tar drops a pax size of 0 for the header's,
        // and takes a folder's size as 0 where libarchive skips the pax size (red team, round 10).
        if let stated = pending.size, stated != size {
            throw divergence(at: at, "a pax size of \(stated) before a header giving the size \(size.map(String.init) ?? "unreadable"), which npm's tar reader may take instead")
        }
        func field(_ range: Range<Int>) -> ArraySlice<UInt8> { header[range].prefix { $0 != 0 } }
        let isUstar = header[257..<265].elementsEqual("ustar\u{0}00".utf8)
        let prefix = isUstar ? field(345..<500) : []
        let name = prefix.isEmpty ? Array(field(0..<100)) : Array(prefix) + [0x2F] + Array(field(0..<100))
        // An entry whose path ends in '/' is a folder with no data to libarchive, whatever its type;
        // node-tar keeps the data of one not typed '0' (a '7', or a name '/' only after the prefix):
        // a README header hid in it (red team, round 10).
        let path = pending.path ?? pending.longName ?? name
        if path.last == 0x2F, header[156] != UInt8(ascii: "5"), (size ?? 1) != 0 {
            throw divergence(at: at, "a header of type \(Self.describe(header[156])) whose path ends in '/' and that states a size of \(size.map(String.init) ?? "unreadable")")
        }
        if let path = pending.path, !path.allSatisfy({ $0 < 0x80 }), path != name {
            npmOnly.append(divergence(at: at, "a pax path beyond ASCII that differs from the header's name (npm's tar reader may drop it for the name)"))
        }
        if let linkpath = pending.linkpath, !linkpath.allSatisfy({ $0 < 0x80 }), linkpath[...] != field(157..<257) {
            npmOnly.append(divergence(at: at, "a pax link path beyond ASCII that differs from the header's link name (npm's tar reader may drop it for the link name)"))
        }
    }

    /// Refuses a header libarchive reads but node-tar (npm, yarn) rejects as
    /// TAR_ENTRY_INVALID and steps over by one block, reading the entry's data
    /// as headers (red team: a second package.json hidden as a README's data),
    /// or one whose data node-tar skips and libarchive does not.
    private mutating func screen(_ header: [UInt8], size: Int64?, at: Int64) throws(ArchiveError) {
        // An old GNU sparse file: libarchive reads on through its extension blocks, node-tar does not
        // (Python's tarfile reads them as libarchive does; `bouncer unpack` restores such files).
        if header[156] == UInt8(ascii: "S") {
            npmOnly.append(divergence(at: at, "a GNU sparse file header ('S')"))
        }
        // node-tar sums the bytes unsigned; libarchive also takes a signed sum.
        guard Self.checksumReadsAlike(header) else {
            throw divergence(at: at, "a header whose checksum is not the unsigned sum of its bytes, written as octal digits ending in a NUL or space")
        }
        let type = header[156]
        let isLink = type == UInt8(ascii: "1") || type == UInt8(ascii: "2")
        // node-tar forbids a link name on anything but a link (and wants one on a link);
        // libarchive ignores it. Any byte counts: node-tar's NUL cut stops at a newline.
        let hasLinkName = header[157..<257].contains { $0 != 0 }
        if isLink != hasLinkName {
            throw divergence(at: at, isLink ? "a link header with no link name" : "a header of type \(Self.describe(type)) with a link name")
        }
        // An extension header needs a name for node-tar; libarchive never looks at it.
        let extensions: Set<UInt8> = [UInt8(ascii: "x"), UInt8(ascii: "g"), UInt8(ascii: "X"), UInt8(ascii: "L"), UInt8(ascii: "K"), UInt8(ascii: "A"), UInt8(ascii: "V")]
        let isUstar = header[257..<265].elementsEqual("ustar\u{0}00".utf8)
        if extensions.contains(type), header[0] == 0, !isUstar || header[345] == 0 {
            throw divergence(at: at, "a header of type \(Self.describe(type)) with no name")
        }
        // node-tar skips the size a header states for a link, a device or a FIFO; libarchive reads
        // no data for them and takes the next block as a header (a link's "data" held a README
        // header whose data hid a second package.json).
        let dataless: Set<UInt8> = [UInt8(ascii: "1"), UInt8(ascii: "2"), UInt8(ascii: "3"), UInt8(ascii: "4"), UInt8(ascii: "6")]
        if dataless.contains(type), size != 0 {
            throw divergence(at: at, "a header of type \(Self.describe(type)) with a size of \(size.map(String.init) ?? "unreadable")")
        }
        // A Solaris ACL ('A': libarchive carries a pax header on past it, node-tar and Python's
        // tarfile spend it there), a GNU volume header, continuation or old long name, which
        // libarchive reads on past and the others take as files: no packer of npm's or Python's writes them.
        let refused: [UInt8: String] = [UInt8(ascii: "A"): "a Solaris ACL header", UInt8(ascii: "V"): "a GNU volume header",
                                        UInt8(ascii: "M"): "a GNU continuation header", UInt8(ascii: "N"): "an old GNU long name header"]
        if let what = refused[type] {
            throw divergence(at: at, "\(what) (\(Self.describe(type)))")
        }
        // node-tar reads the size with parseInt (a sign, white space), libarchive octal digits alone.
        if !Self.sizeReadsAlike(header[124..<136]) {
            throw divergence(at: at, "a header whose size field is not octal digits ending in a NUL or space")
        }
        // node-tar cuts a name at its NUL only up to a line break (JavaScript's /\0.*/), so it
        // reads on past one where libarchive stops (a path such as "x\0\n/package.json").
        let names = [("name", header[0..<100]), ("link name", header[157..<257])] + (isUstar ? [("name prefix", header[345..<500])] : [])
        if let (field, _) = names.first(where: { Self.readsOnPastNUL($0.1) }) {
            throw divergence(at: at, "a header whose \(field) holds a line break after its NUL")
        }
    }

    /// Whether a line break (as JavaScript's `.` stops at one: LF, CR, U+2028, U+2029)
    /// follows the first NUL, where node-tar's cut would keep what comes after it.
    static func readsOnPastNUL(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let nul = bytes.firstIndex(of: 0) else { return false }
        let rest = bytes[nul...]
        if rest.contains(0x0A) || rest.contains(0x0D) { return true }
        var i = rest.startIndex
        while i + 2 < rest.endIndex {
            if rest[i] == 0xE2, rest[i + 1] == 0x80, rest[i + 2] == 0xA8 || rest[i + 2] == 0xA9 { return true }
            i += 1
        }
        return false
    }

    private func divergence(at offset: Int64, _ what: String) -> ArchiveError {
        .unreadable(archive: name, entry: nil, reason: "tar structure: \(what) at offset \(offset) of the uncompressed tar (npm's tar reader would read the tar differently from libarchive, so it could install files Bouncer does not see)")
    }

    static func describe(_ type: UInt8) -> String {
        (0x21...0x7E).contains(type) ? "'\(Character(Unicode.Scalar(type)))'" : "0x" + String(type, radix: 16)
    }

    /// The size field as both readers take it: base-256, or spaces, octal digits, then NULs or spaces.
    static func sizeReadsAlike(_ field: ArraySlice<UInt8>) -> Bool {
        if let first = field.first, first & 0x80 != 0 { return true }
        let digits = field.drop(while: { $0 == 0x20 }).prefix(while: { (0x30...0x37).contains($0) })
        return !digits.isEmpty && field[digits.endIndex...].allSatisfy { $0 == 0 || $0 == 0x20 }
    }

    /// The checksum field as both readers take it: spaces, octal digits and a NUL or space
    /// inside the field (node-tar parses 12 bytes on, into the type), equal to the unsigned sum.
    static func checksumReadsAlike(_ header: [UInt8]) -> Bool {
        let field = header[148..<156]
        let digits = field.drop(while: { $0 == 0x20 }).prefix(while: { (0x30...0x37).contains($0) })
        guard !digits.isEmpty, digits.endIndex < 156, header[digits.endIndex] == 0 || header[digits.endIndex] == 0x20 else { return false }
        var stated = 0
        for digit in digits { stated = stated << 3 | Int(digit - 0x30) }
        var sum = 8 * 0x20
        for (offset, byte) in header.enumerated() where !(148..<156).contains(offset) { sum += Int(byte) }
        return stated == sum
    }
}

/// Reads a file from its start with pread, leaving the descriptor's offset alone.
private final class PreadSource {
    let fd: Int32
    var offset: Int64 = 0
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 128 << 10, alignment: 16)
    init(fd: Int32) { self.fd = fd }
    deinit { buffer.deallocate() }
}

private let preadRead: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, UnsafeMutablePointer<UnsafeRawPointer?>?) -> la_ssize_t = { _, context, out in
    guard let context, let out else { return -1 }
    let source = Unmanaged<PreadSource>.fromOpaque(context).takeUnretainedValue()
    let count = pread(source.fd, source.buffer.baseAddress, source.buffer.count, off_t(source.offset))
    guard count >= 0 else { return -1 }
    source.offset += Int64(count)
    out.pointee = UnsafeRawPointer(source.buffer.baseAddress)
    return la_ssize_t(count)
}
