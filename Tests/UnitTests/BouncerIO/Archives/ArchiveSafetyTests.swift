import Foundation
import Testing
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools
import BouncerTestSupport

/// Each hostile archive must be refused with the offending entry named, and
/// leave nothing behind: no DIR, no temporary directory, nothing outside.
@Suite struct ArchiveSafetyTests {
    struct Attack: CustomTestStringConvertible, Sendable {
        let archive: String
        let code: String
        let entry: String
        var caseCollisions = false
        var testDescription: String { archive }
    }

    static let attacks: [Attack] = [
        Attack(archive: "dotdot.tar", code: "archive-unsafe-path", entry: "../evil"),
        Attack(archive: "nested-dotdot.tar", code: "archive-unsafe-path", entry: "a/b/../../../evil"),
        Attack(archive: "backslash.tar", code: "archive-unsafe-path", entry: "..\\evil"),
        Attack(archive: "symlink-absolute.tar", code: "archive-symlink-escape", entry: "etc"),
        Attack(archive: "symlink-relative-escape.tar", code: "archive-symlink-escape", entry: "d/up"),
        Attack(archive: "write-through-symlink.tar", code: "archive-through-link", entry: "up/evil"),
        Attack(archive: "write-through-escaping-symlink.tar", code: "archive-symlink-escape", entry: "out"),
        Attack(archive: "symlink-through-symlink.tar", code: "archive-through-link", entry: "esc"),
        Attack(archive: "symlink-made-later.tar", code: "archive-through-link", entry: "d/s"),
        Attack(archive: "hardlink-absolute.tar", code: "archive-bad-hardlink", entry: "passwd"),
        Attack(archive: "hardlink-dotdot.tar", code: "archive-bad-hardlink", entry: "x"),
        Attack(archive: "hardlink-unknown.tar", code: "archive-bad-hardlink", entry: "x"),
        Attack(archive: "hardlink-to-symlink.tar", code: "archive-bad-hardlink", entry: "x"),
        Attack(archive: "hardlink-through-symlinked-dir.tar", code: "archive-bad-hardlink", entry: "y"),
        Attack(archive: "hardlink-through-escaping-dir.tar", code: "archive-symlink-escape", entry: "d"),
        Attack(archive: "chardev.tar", code: "archive-forbidden-type", entry: "null"),
        Attack(archive: "blockdev.tar", code: "archive-forbidden-type", entry: "sda"),
        Attack(archive: "fifo.tar", code: "archive-forbidden-type", entry: "pipe"),
        Attack(archive: "duplicate.tar", code: "archive-duplicate-entry", entry: "package/package.json"),
        Attack(archive: "duplicate-dir-then-file.tar", code: "archive-duplicate-entry", entry: "a"),
        Attack(archive: "case-collision.tar", code: "archive-case-collision", entry: "readme", caseCollisions: true),
        Attack(archive: "zip-slip.zip", code: "archive-unsafe-path", entry: "../../evil.txt"),
        Attack(archive: "zip-duplicate.zip", code: "archive-duplicate-entry", entry: "setup.py"),
        Attack(archive: "zip-dos-backslash.zip", code: "archive-unsafe-path", entry: "x\\zz.pth"),
        Attack(archive: "zip-symlink-escape.zip", code: "archive-symlink-escape", entry: "lib"),
        Attack(archive: "zip-symlink-absolute.zip", code: "archive-symlink-escape", entry: "etc"),
        Attack(archive: "zip-bomb.zip", code: "archive-ratio-exceeded", entry: "zeros.bin"),
    ]

    @Test(arguments: attacks) func hostileArchiveIsRefused(_ attack: Attack) throws {
        let work = try BouncerProcess.temporaryDirectory("bouncer-unpack")
        defer { try? FileManager.default.removeItem(at: work) }
        let destination = work.appendingPathComponent("nested/out").path
        try FileManager.default.createDirectory(atPath: work.appendingPathComponent("nested").path,
                                                withIntermediateDirectories: true)
        let reader = try ArchiveReader(path: try ArchiveFixtures.path(attack.archive))
        let options = UnpackOptions(refuseCaseCollisions: attack.caseCollisions)
        let error = #expect(throws: ArchiveError.self) {
            try SafeExtractor.unpack(reader, into: destination, options: options)
        }
        #expect(error?.code == attack.code, "\(String(describing: error))")
        #expect(error?.family.exitCode == 1)
        #expect(error.map { "\($0)".contains("'\(attack.entry)'") } == true, "\(String(describing: error))")
        // A bomb is stopped early: at most the grace bytes and one block past them were read.
        #expect(reader.totalBytes < 16 << 20)
        // Nothing in DIR's parent (no DIR, no temporary tree) and nothing beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("nested").path) == [])
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.path) == ["nested"])
        #expect(!FileManager.default.fileExists(atPath: ArchiveFixtures.absoluteTarget))
    }

    /// `out -> OUTSIDE` then `out/evil`: with OUTSIDE present (so a write
    /// through the link would succeed), Bouncer writes nothing there — while a
    /// naive extractor (Python's tarfile, fully trusted) does, which shows the
    /// archive really is the attack.
    @Test func writeThroughEscapingSymlinkLeavesTheOutsideTargetUntouched() throws {
        let archive = try ArchiveFixtures.path("write-through-escaping-symlink.tar")
        let outside = ArchiveFixtures.outsideDirectory
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: outside) }
        let work = try BouncerProcess.temporaryDirectory("bouncer-unpack")
        defer { try? FileManager.default.removeItem(at: work) }

        let error = #expect(throws: ArchiveError.self) {
            try SafeExtractor.unpack(try ArchiveReader(path: archive), into: work.appendingPathComponent("out").path)
        }
        #expect(error?.code == "archive-symlink-escape", "\(String(describing: error))")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside) == [])
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.path) == [])

        try ArchiveFixtures.runPython("""
            import sys, tarfile
            with tarfile.open(sys.argv[1]) as t:
                t.extractall(sys.argv[2], filter="fully_trusted")
            """, arguments: [archive, work.appendingPathComponent("naive").path])
        #expect(try String(contentsOfFile: outside + "/evil", encoding: .utf8) == "evil")
    }

    @Test func absolutePathsAreRefused() throws {
        for name in ["absolute.tar", "zip-absolute.zip"] {
            let work = try BouncerProcess.temporaryDirectory("bouncer-unpack")
            defer { try? FileManager.default.removeItem(at: work) }
            let reader = try ArchiveReader(path: try ArchiveFixtures.path(name))
            let error = #expect(throws: ArchiveError.self) {
                try SafeExtractor.unpack(reader, into: work.appendingPathComponent("out").path)
            }
            #expect(error?.code == "archive-unsafe-path")
            #expect(error.map { "\($0)".contains(ArchiveFixtures.absoluteTarget) } == true)
            #expect(try FileManager.default.contentsOfDirectory(atPath: work.path) == [])
            #expect(!FileManager.default.fileExists(atPath: ArchiveFixtures.absoluteTarget))
        }
    }

    @Test func caseCollisionsPassWhenNotAsked() throws {
        let work = try BouncerProcess.temporaryDirectory("bouncer-unpack")
        defer { try? FileManager.default.removeItem(at: work) }
        let out = work.appendingPathComponent("out").path
        let summary = try SafeExtractor.unpack(try ArchiveReader(path: try ArchiveFixtures.path("case-collision.tar")), into: out)
        #expect(summary.files == 3)
        #expect(try String(contentsOfFile: out + "/readme", encoding: .utf8) == "2")
    }

    @Test func entryCountAndSizeCapsStopUnpacking() throws {
        var fewEntries = ArchiveLimits()
        fewEntries.maxEntries = 10
        var small = ArchiveLimits()
        small.maxTotalBytes = 400_000
        let cases: [(String, ArchiveLimits, String, String)] = [
            ("many.tar", fewEntries, "archive-too-many-entries", "f010"),
            ("big.tar", small, "archive-too-large", "b"),
        ]
        for (name, limits, code, entry) in cases {
            let work = try BouncerProcess.temporaryDirectory("bouncer-unpack")
            defer { try? FileManager.default.removeItem(at: work) }
            let reader = try ArchiveReader(path: try ArchiveFixtures.path(name), limits: limits)
            let error = #expect(throws: ArchiveError.self) {
                try SafeExtractor.unpack(reader, into: work.appendingPathComponent("out").path,
                                         options: UnpackOptions(limits: limits))
            }
            #expect(error?.code == code)
            #expect(error.map { "\($0)".contains("'\(entry)'") } == true, "\(String(describing: error))")
            #expect(try FileManager.default.contentsOfDirectory(atPath: work.path) == [])
        }
    }

    @Test func nonEmptyOrSymlinkedDestinationIsRefusedAndLeftAlone() throws {
        let work = try BouncerProcess.temporaryDirectory("bouncer-unpack")
        defer { try? FileManager.default.removeItem(at: work) }
        let full = work.appendingPathComponent("full")
        try FileManager.default.createDirectory(at: full, withIntermediateDirectories: false)
        try Data("mine".utf8).write(to: full.appendingPathComponent("keep.txt"))
        let link = work.appendingPathComponent("link").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: work.path)
        for target in [full.path, link, work.appendingPathComponent("missing/out").path] {
            let reader = try ArchiveReader(path: try ArchiveFixtures.path("tree.tar"))
            let error = #expect(throws: ArchiveError.self) { try SafeExtractor.unpack(reader, into: target) }
            #expect(error?.code == "archive-destination")
            #expect(error?.family.exitCode == 2)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: full.path) == ["keep.txt"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.path).sorted() == ["full", "link"])
    }

    @Test func emptyDestinationStaysEmptyWhenRefusedAndIsFilledWhenNot() throws {
        let work = try BouncerProcess.temporaryDirectory("bouncer-unpack")
        defer { try? FileManager.default.removeItem(at: work) }
        let out = work.appendingPathComponent("out").path
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        #expect(throws: ArchiveError.self) {
            try SafeExtractor.unpack(try ArchiveReader(path: try ArchiveFixtures.path("dotdot.tar")), into: out)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: out) == [])
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.path) == ["out"])
        _ = try SafeExtractor.unpack(try ArchiveReader(path: try ArchiveFixtures.path("tree.tar")), into: out)
        #expect(try String(contentsOfFile: out + "/top/hello.txt", encoding: .utf8) == "hello\n")
    }

    /// The stored-name screen finds the central directory as Python's zipfile
    /// does, so a valid zip behind a self-extracting stub still unpacks.
    @Test func aZipBehindAPrefixStillUnpacks() throws {
        let work = try BouncerProcess.temporaryDirectory("bouncer-unpack")
        defer { try? FileManager.default.removeItem(at: work) }
        let out = work.appendingPathComponent("out").path
        _ = try SafeExtractor.unpack(try ArchiveReader(path: try ArchiveFixtures.path("zip-prefixed.zip")), into: out)
        #expect(try String(contentsOfFile: out + "/a/b.txt", encoding: .utf8) == "b")
        #expect(try String(contentsOfFile: out + "/c.txt", encoding: .utf8) == "c")
    }

    /// Zips libarchive and Python's zipfile (pip) would read apart are refused
    /// before any entry is read, naming why (red team: each showed Bouncer a clean
    /// wheel while pip installed a `.pth` or another `entry_points.txt`).
    @Test(arguments: [("zip-local-method.zip", "'a.txt': the local header and the central directory disagree on how it is stored"),
                      ("zip-two-ends.zip", "more than one end-of-central-directory record"),
                      ("zip-zip64-locator.zip", "the ZIP64 locator does not point at the ZIP64 end record before it"),
                      ("zip-dd-sizes.zip", "'a.txt': the local header and the central directory disagree on its CRC or sizes"),
                      ("zip-dir-attr.zip", "under a name the central directory does not store"),
                      ("zip-unicode-path.zip", "'pkg/data.txt': a Unicode path or comment extra field"),
                      ("zip-short-size.zip", "a.py")])
    func zipsTheReadersWouldReadApartAreRefused(_ archive: String, _ reason: String) throws {
        let reader = try ArchiveReader(path: try ArchiveFixtures.path(archive))
        let error = #expect(throws: ArchiveError.self) { _ = try ArchiveInspector.inspect(reader, options: .init(kind: .wheel)) }
        #expect(error?.code == "archive-unreadable", "\(String(describing: error))")
        #expect(error.map { "\($0)".contains(reason) } == true, "\(String(describing: error))")
    }

    /// A folder entry carrying bytes: libarchive reads a folder, pip reads `X.dist-info/METADATA/`
    /// as METADATA (red team: a `Requires-Dist: evil @ URL` Bouncer never saw; `entry_points.txt/`
    /// giving bin/pip). Refused in a wheel and in any zip, naming the entry; folders as zipfile
    /// and jar tools write them (no bytes, or deflated to the empty stream) still read.
    @Test(arguments: [("victim-1.0-py3-none-any.whl", "victim-1.0.dist-info/METADATA/", 116),
                      ("victim-entry-points.zip", "victim-1.0.dist-info/entry_points.txt/", 36)])
    func aFolderEntryCarryingBytesIsRefused(_ archive: String, _ entry: String, _ size: Int) throws {
        for kind in [ArchiveInspector.Kind.auto, .wheel, .plain] {
            let reader = try ArchiveReader(path: try ArchiveFixtures.path(archive))
            let error = #expect(throws: ArchiveError.self) { _ = try ArchiveInspector.inspect(reader, options: .init(kind: kind)) }
            #expect(error?.code == "archive-unsafe-path", "\(String(describing: error))")
            #expect(error.map { "\($0)".hasPrefix("entry '\(entry)' refused: a folder entry (its name ends in '/') carrying \(size) bytes")
                && "\($0)".contains("pip takes for the file '\(entry.dropLast())'") } == true, "\(String(describing: error))")
        }
        let folders = try ArchiveInspector.inspect(try ArchiveReader(path: try ArchiveFixtures.path("zip-folders.zip")))
        #expect(folders.verdict == .pass, "\(folders.problems)")
        #expect(folders.entries.map(\.path) == ["d/", "META-INF/", "d/x.txt"])
    }

    /// npm's and yarn's tar readers read on past a lone zero block where libarchive stops
    /// (red team: a second package.json after one brought a postinstall Bouncer never saw).
    @Test func whatFollowsATarsEndIsRefused() throws {
        let reader = try ArchiveReader(path: try ArchiveFixtures.path("zero-block-hides.tgz"))
        let error = #expect(throws: ArchiveError.self) { _ = try ArchiveInspector.inspect(reader, options: .init(kind: .npm)) }
        #expect(error?.code == "archive-unreadable", "\(String(describing: error))")
        #expect(error.map { "\($0)".contains("zero-block-hides.tgz") && "\($0)".contains("a non-zero byte at offset 1536 of the uncompressed tar") } == true,
                "\(String(describing: error))")
        // Tars that end in zeros (Python pads to a 10 KiB record) still read.
        #expect(try ArchiveInspector.inspect(try ArchiveReader(path: try ArchiveFixtures.path("many.tar"))).verdict == .pass)
    }

    /// A pax global header's size= or path=: node-tar and Python's tarfile apply it to every
    /// later entry, libarchive ignores it (red team: a global size= hid a second package.json).
    /// A comment alone (git archive's) reads the same to all.
    @Test(arguments: [("pax-global-size.tgz", "a pax global header at offset 0 sets size"),
                      ("pax-global-later.tar", "a pax global header at offset 1024 sets path")])
    func aPaxGlobalHeaderIsRefused(_ archive: String, _ reason: String) throws {
        let reader = try ArchiveReader(path: try ArchiveFixtures.path(archive))
        let error = #expect(throws: ArchiveError.self) { _ = try ArchiveInspector.inspect(reader, options: .init(kind: .npm)) }
        #expect(error?.code == "archive-unreadable", "\(String(describing: error))")
        #expect(error.map { "\($0)".contains(archive) && "\($0)".contains(reason) } == true, "\(String(describing: error))")
    }

    /// Headers node-tar rejects and steps over by one block (a link name on a file, a checksum
    /// that matches only as a signed sum), pax records it splits at a newline inside one, a
    /// volume header or a link whose stated size it skips: libarchive read a README where npm
    /// installed a second package.json with a postinstall (red team). Names node-tar reads on
    /// past a NUL (to a line break), and sparse files, which the two lay out differently.
    /// Round 9: a pax size node-tar drops (0) or parses otherwise, an empty path, a path beyond
    /// ASCII that node-tar's chunked decoding may drop for the header's name (an npm package
    /// only: Python's tarfile reads it whole), a Solaris ACL header, a signed size field.
    @Test(arguments: [("diverging-linkpath.tgz", "a header of type '0' with a link name at offset 1024"),
                      ("diverging-signedck.tgz", "a header whose checksum is not the unsigned sum of its bytes, written as octal digits ending in a NUL or space at offset 1024"),
                      ("diverging-paxnl.tgz", "the pax header's records at byte 0 hold a newline or NUL inside a record, or a record not ending in one at offset 1024"),
                      ("diverging-volhdr.tgz", "a GNU volume header ('V') at offset 1024"),
                      ("diverging-linksize.tgz", "a header of type '2' with a size of 1024 at offset 1024"),
                      ("diverging-nulname.tgz", "a header whose name holds a line break after its NUL at offset 1024"),
                      ("diverging-longnul.tgz", "a GNU long name ('L') holding a line break after its NUL at offset 1024"),
                      ("diverging-sparse.tgz", "a GNU sparse file header ('S') at offset 1024"),
                      ("diverging-paxsparse.tgz", "the pax header sets GNU.sparse.size, which npm's tar reader ignores at offset 1024"),
                      ("diverging-paxzero.tgz", "a pax size of 0 before a header giving the size 512, which npm's tar reader may take instead at offset 2048"),
                      ("diverging-solariszero.tgz", "a pax size of 0 before a header giving the size 512, which npm's tar reader may take instead at offset 2048"),
                      ("diverging-paxoctal.tgz", "the pax header gives the size '0512', not plain decimal at offset 1024"),
                      ("diverging-paxemptypath.tgz", "the pax header sets an empty path, which npm's tar reader drops at offset 1024"),
                      ("diverging-paxutf8.tgz", "a pax path beyond ASCII that differs from the header's name (npm's tar reader may drop it for the name) at offset 2048"),
                      ("diverging-paxlong.tgz", "a GNU long name after a pax path for the same entry (the two readers keep different ones) at offset 2048"),
                      ("diverging-longpax.tgz", "the pax header sets the path of an entry a GNU long name already named (the two readers keep different ones) at offset 2048"),
                      ("diverging-contigslash.tgz", "a header of type '7' whose path ends in '/' and that states a size of"),
                      ("diverging-paxdirsize.tgz", "a pax size of 512 before a header giving the size 0, which npm's tar reader may take instead at offset 2048"),
                      ("diverging-paxpax.tgz", "a 'x' header after a pax size of 512 in the same entry's headers at offset 2048"),
                      ("diverging-acl.tgz", "a Solaris ACL header ('A') at offset 1024"),
                      ("diverging-sizeplus.tgz", "a header whose size field is not octal digits ending in a NUL or space at offset 1024")])
    func aHeaderNpmReadsOtherwiseIsRefused(_ archive: String, _ reason: String) throws {
        let reader = try ArchiveReader(path: try ArchiveFixtures.path(archive))
        let error = #expect(throws: ArchiveError.self) { _ = try ArchiveInspector.inspect(reader, options: .init(kind: .npm)) }
        #expect(error?.code == "archive-unreadable", "\(String(describing: error))")
        #expect(error.map { "\($0)".contains(archive) && "\($0)".contains(reason) && "\($0)".contains("npm's tar reader would read the tar differently") } == true,
                "\(String(describing: error))")
    }

    /// What npm pack, git archive (a comment-only global header) and Python's tarfile write still reads.
    @Test(arguments: ["npm-pack-style.tgz", "pax-global-comment.tar", "many.tar", "wide.tar", "pax-long-nonascii.tar.gz"])
    func tarsAsWrittenStillRead(_ archive: String) throws {
        let report = try ArchiveInspector.inspect(try ArchiveReader(path: try ArchiveFixtures.path(archive)))
        #expect(report.verdict == .pass, "\(archive): \(report.problems)")
    }

    /// What the real `npm pack` writes for names beyond ASCII (a pax path, the same bytes in the
    /// header's name or name and prefix) reads as an npm package: the round-9 check of such paths
    /// refuses only a header naming something else.
    @Test func aRealNpmPackWithNamesBeyondASCIIReads() throws {
        let npm = ["/usr/bin/npm", "/usr/local/bin/npm"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/bin/npm"
        let dir = try BouncerProcess.temporaryDirectory("bouncer-npm-pack-nonascii")
        defer { try? FileManager.default.removeItem(at: dir) }
        let package = dir.appendingPathComponent("p")
        let deep = package.appendingPathComponent(String(repeating: "\u{e9}", count: 60))
        try FileManager.default.createDirectory(at: deep, withIntermediateDirectories: true)
        try #"{"name":"na","version":"1.0.0"}"#.write(to: package.appendingPathComponent("package.json"), atomically: true, encoding: .utf8)
        try "x\n".write(to: package.appendingPathComponent("l\u{e9}ame.md"), atomically: true, encoding: .utf8)
        try "y\n".write(to: deep.appendingPathComponent("x.txt"), atomically: true, encoding: .utf8)
        let packed = try BouncerProcess.runProgram(npm, ["pack", "--silent"], cwd: package.path,
                                                   environment: ["npm_config_cache": dir.appendingPathComponent("cache").path])
        try #require(packed.status == 0, "\(packed.err)")
        let report = try ArchiveInspector.inspect(try ArchiveReader(path: package.appendingPathComponent("na-1.0.0.tgz").path), options: .init(kind: .npm))
        #expect(report.verdict == .pass, "\(report.problems)")
        #expect(report.entries.contains { $0.path.hasSuffix("/x.txt") && $0.path.contains("\u{e9}\u{e9}") })
    }

    @Test func aPaxGlobalCommentReads() throws {
        let report = try ArchiveInspector.inspect(try ArchiveReader(path: try ArchiveFixtures.path("pax-global-comment.tar")))
        #expect(report.verdict == .pass, "\(report.problems)")
    }

    /// pip writes a wheel's symlink entry as a file holding the "target": inspected as a
    /// link, its content (an entry_points.txt, a METADATA) went unread (red team).
    @Test func aLinkInAWheelIsRefused() throws {
        let report = try ArchiveInspector.inspect(try ArchiveReader(path: try ArchiveFixtures.path("zip-symlink-absolute.zip")),
                                                  options: .init(kind: .wheel))
        #expect(report.problems.contains { $0.code == "wheel-not-a-file" && $0.entry == "etc" }, "\(report.problems)")
        let two = try ArchiveInspector.inspect(try ArchiveReader(path: try ArchiveFixtures.path("two-dist-info.zip")), options: .init(kind: .wheel))
        #expect(two.problems.contains { $0.code == "wheel-dist-info" }, "\(two.problems)")
    }
}
