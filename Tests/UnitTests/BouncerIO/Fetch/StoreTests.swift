import Foundation
import Testing
import BouncerBase
import BouncerIO
import BouncerTestSupport

/// Filing verified bytes in the content-addressed store.
@Suite struct StoreTests {
    private func download(_ store: Store, _ bytes: [UInt8]) throws -> (path: String, sha256: Digest) {
        let (fd, path) = try store.makeTemporaryFile()
        try bytes.withUnsafeBytes { raw in try Filesystem.writeAll(fd, raw, name: path) }
        close(fd)
        return (path, Hasher.digest(bytes, .sha256))
    }

    @Test(arguments: [false, true]) func aBlobIsFiledUnderItsDigestWithOrWithoutItsShelfMadeFirst(shelfFirst: Bool) throws {
        let dir = try BouncerProcess.temporaryDirectory("bouncer-store")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = Store(root: dir.path + "/cache")
        let bytes = Array("a verified wheel".utf8)
        let (temporary, sha256) = try download(store, bytes)
        let shelf = Filesystem.split(store.blobPath(for: sha256)).directory
        if shelfFirst {
            store.makeShelf(for: sha256)
            #expect(Filesystem.isDirectory(shelf))
        } else {
            #expect(!Filesystem.isDirectory(shelf))
        }
        let blob = try store.adopt(temporaryPath: temporary, sha256: sha256)
        #expect(blob == store.blobPath(for: sha256))
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: blob))) == bytes)
        // The temp path stays the caller's; nothing but the blob is left on the shelf.
        #expect(FileManager.default.fileExists(atPath: temporary))
        #expect(try FileManager.default.contentsOfDirectory(atPath: shelf) == [sha256.hex])
        let reused = dir.path + "/reused"
        #expect(store.linkIntact(sha256, at: reused) == UInt64(bytes.count))
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: reused))) == bytes)
    }

    /// A blob whose bytes no longer hash to its name (a damaged disk, or
    /// someone who can write the cache) is never handed out, and is removed
    /// so that the next request downloads and verifies afresh.
    @Test func aBlobWhoseBytesChangedIsRemovedNotReused() throws {
        let dir = try BouncerProcess.temporaryDirectory("bouncer-store")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = Store(root: dir.path + "/cache")
        let (temporary, sha256) = try download(store, Array("the bytes that were verified".utf8))
        let blob = try store.adopt(temporaryPath: temporary, sha256: sha256)
        unlink(temporary)
        chmod(blob, 0o644)
        try Data("the bytes somebody put there".utf8).write(to: URL(fileURLWithPath: blob))
        #expect(store.linkIntact(sha256, at: dir.path + "/reused") == nil)
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/reused"))
        #expect(!FileManager.default.fileExists(atPath: blob))
        // Absent, nothing is linked either.
        #expect(store.linkIntact(sha256, at: dir.path + "/reused") == nil)
    }

    @Test func aShelfIsMadeOnlyForSHA256Keys() throws {
        let dir = try BouncerProcess.temporaryDirectory("bouncer-store")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = Store(root: dir.path + "/cache")
        let sha512 = try Digest(algorithm: .sha512, bytes: [UInt8](repeating: 7, count: 64))
        store.makeShelf(for: sha512)
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/cache/sha256"))
    }
}
