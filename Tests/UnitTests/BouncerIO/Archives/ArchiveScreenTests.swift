import Testing
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools

/// The lexical path rules and the order-aware entry screen, without any archive.
@Suite struct ArchiveScreenTests {
    @Test func safePathsNormalise() throws {
        #expect(try EntryPath.components("./a//b/./c/") == ["a", "b", "c"])
        #expect(try EntryPath.components("./") == [])
        #expect(try EntryPath.components("a..b/..c") == ["a..b", "..c"])
    }

    @Test(arguments: ["", "/etc/passwd", "a/../../x", "..", "a\\b", "C:evil", "c:/x",
                      String(repeating: "a", count: 256), String(repeating: "d/", count: 200) + "f",
                      "a\u{0}b"])
    func unsafePathsAreRefused(_ path: String) {
        #expect(throws: ArchiveError.self) { try EntryPath.components(path) }
    }

    private func code(_ body: () throws -> Void) -> String? {
        do { try body() } catch { return (error as? ArchiveError)?.code ?? "\(error)" }
        return nil
    }

    @Test func caseCollisionsWhenAsked() throws {
        var screen = EntryScreen(refuseCaseCollisions: true)
        _ = try screen.admit(ArchiveEntry(path: "Docs/readme.txt", kind: .file))
        #expect(code { _ = try screen.admit(ArchiveEntry(path: "Docs/README.txt", kind: .file)) } == "archive-case-collision")
        #expect(code { _ = try screen.admit(ArchiveEntry(path: "docs/other.txt", kind: .file)) } == "archive-case-collision")
        var relaxed = EntryScreen()
        _ = try relaxed.admit(ArchiveEntry(path: "Docs/a", kind: .file))
        #expect(try relaxed.admit(ArchiveEntry(path: "docs/a", kind: .file)) != nil)
    }

    /// Names are compared as Unicode (canonical equivalence): NFC and NFD
    /// spellings are one path, refused as a duplicate even without the case flag.
    @Test func unicodeSpellingsOfOneNameAreDuplicates() throws {
        var screen = EntryScreen()
        _ = try screen.admit(ArchiveEntry(path: "caf\u{E9}.txt", kind: .file))
        #expect(code { _ = try screen.admit(ArchiveEntry(path: "cafe\u{301}.txt", kind: .file)) } == "archive-duplicate-entry")
    }

    @Test func directoryMayFollowItsChildrenButNothingRepeats() throws {
        var screen = EntryScreen()
        _ = try screen.admit(ArchiveEntry(path: "a/b/c", kind: .file))
        #expect(try screen.admit(ArchiveEntry(path: "a/b/", kind: .directory))?.path == "a/b")
        #expect(throws: ArchiveError.self) { try screen.admit(ArchiveEntry(path: "a/b", kind: .directory)) }
        #expect(throws: ArchiveError.self) { try screen.admit(ArchiveEntry(path: "a/b/c/d", kind: .file)) }
        #expect(throws: ArchiveError.self) { try screen.admit(ArchiveEntry(path: "./a/b/c", kind: .file)) }
    }

    @Test func symlinksInsideAreAllowedAndLinksTheyFormAreChecked() throws {
        var screen = EntryScreen()
        _ = try screen.admit(ArchiveEntry(path: "lib/real.so.1", kind: .file))
        _ = try screen.admit(ArchiveEntry(path: "lib/real.so", kind: .symlink, linkTarget: "real.so.1"))
        _ = try screen.admit(ArchiveEntry(path: "bin/up", kind: .symlink, linkTarget: "../lib"))
        _ = try screen.admit(ArchiveEntry(path: "same", kind: .hardlink, linkTarget: "lib/real.so.1"))
        #expect(throws: ArchiveError.self) { try screen.admit(ArchiveEntry(path: "x", kind: .symlink, linkTarget: "bin/up/../..")) }
        #expect(throws: ArchiveError.self) { try screen.admit(ArchiveEntry(path: "y", kind: .hardlink, linkTarget: "lib/real.so")) }
        #expect(throws: ArchiveError.self) { try screen.admit(ArchiveEntry(path: "z", kind: .symlink, linkTarget: "")) }
        #expect(throws: ArchiveError.self) { try screen.admit(ArchiveEntry(path: "bin/up/evil", kind: .file)) }
        #expect(throws: ArchiveError.self) { try screen.admit(ArchiveEntry(path: "s", kind: .socket)) }
        #expect(throws: ArchiveError.self) { try screen.admit(ArchiveEntry(path: "e", kind: .file, isEncrypted: true)) }
    }
}
