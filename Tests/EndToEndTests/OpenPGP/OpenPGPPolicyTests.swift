import Foundation
import Testing
import BouncerTestSupport

/// The refusals the policy demands, each with a reason naming the key:
/// SHA-1 data signatures, RSA below 2048 bits, expired keys and signatures,
/// signatures older than their key, revoked keys and subkeys, subkeys
/// without a 0x19 back-signature or without a valid 0x18 binding.
@Suite(.blocking) struct OpenPGPPolicyTests {
    @Test func refusals() throws {
        guard GnuPG.available else { print("NOTICE: OpenPGP policy tests skipped: gpg is not installed"); return }
        let gpg = try GnuPG()
        let file = try gpg.write("artifact.txt", "policy test artifact\n")
        func refused(_ signature: String, _ key: String, _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let result = try BouncerProcess.run(["verify-signature", file, "--signature", gpg.file(signature), "--key", key])
            #expect(result.status == 1, "\(signature): \(result.out)", sourceLocation: sourceLocation)
            #expect(result.err.contains(expected), "\(signature): \(result.err)", sourceLocation: sourceLocation)
        }

        let main = try gpg.generate("main@example.org", algorithm: "ed25519")
        let mainKey = try gpg.export("main@example.org", to: "main.gpg")
        try gpg.sign("main@example.org", file, "primary.sig", ["--detach-sign"])
        let fine = try BouncerProcess.run(["verify-signature", file, "--signature", gpg.file("primary.sig"), "--key", mainKey])
        #expect(fine.status == 0, "\(fine.err)")

        for digest in ["SHA384", "SHA512"] {
            try gpg.sign("main@example.org", file, "\(digest).sig", ["--detach-sign", "--digest-algo", digest])
            let strong = try BouncerProcess.run(["verify-signature", file, "--signature", gpg.file("\(digest).sig"), "--key", mainKey, "--json"])
            #expect(strong.status == 0, "\(digest): \(strong.err)")
            let used = ((jsonObject(strong)["signatures"] as? [[String: Any]])?.first?["details"] as? [String: String])?["hash"]
            #expect(used == digest)
        }
        try gpg.sign("main@example.org", file, "sha224.sig", ["--detach-sign", "--digest-algo", "SHA224"])
        try refused("sha224.sig", mainKey, "SHA224 is not supported for data signatures")

        // A secret key given as a trusted key is a configuration error (exit 2).
        let secret = try gpg.run(["--armor", "--export-secret-keys", "main@example.org"])
        let secretPath = try gpg.write("secret.asc", secret.out)
        let secretResult = try BouncerProcess.run(["verify-signature", file, "--signature", gpg.file("primary.sig"), "--key", secretPath])
        #expect(secretResult.status == 2)
        #expect(secretResult.err.contains("secret key"), "\(secretResult.err)")

        try gpg.sign("main@example.org", file, "sha1.sig", ["--detach-sign", "--digest-algo", "SHA1"])
        try refused("sha1.sig", mainKey, "uses SHA1, which is too weak")

        let weak = try gpg.generate("weak@example.org", algorithm: "rsa1024")
        try gpg.sign("weak@example.org", file, "weak.sig", ["--detach-sign"])
        try refused("weak.sig", try gpg.export("weak@example.org", to: "weak.gpg"), "key \(weak) is RSA-1024, below the 2048-bit minimum")

        // Algorithms outside the supported set are refused by name.
        try gpg.generate("dsa@example.org", algorithm: "dsa2048")
        try gpg.sign("dsa@example.org", file, "dsa.sig", ["--detach-sign", "--digest-algo", "SHA256"])
        try refused("dsa.sig", try gpg.export("dsa@example.org", to: "dsa.gpg"), "DSA signatures are not supported")
        let brainpool = try gpg.generate("bp@example.org", algorithm: "brainpoolP256r1")
        try gpg.sign("bp@example.org", file, "bp.sig", ["--detach-sign"])
        try refused("bp.sig", try gpg.export("bp@example.org", to: "bp.gpg"), "key \(brainpool) cannot verify: ECDSA curve")

        let old = try gpg.generate("old@example.org", algorithm: "ed25519", expire: "1d", fakedTime: "20200101T000000")
        try gpg.sign("old@example.org", file, "old.sig", ["--detach-sign"], fakedTime: "20200101T010000")
        try refused("old.sig", try gpg.export("old@example.org", to: "old.gpg"), "primary key \(old) expired on 2020-01-02")

        try gpg.sign("main@example.org", file, "early.sig", ["--detach-sign"], fakedTime: "20210101T000000")
        try refused("early.sig", mainKey, "before key \(main) was created")

        try gpg.sign("main@example.org", file, "expiring.sig", ["--detach-sign", "--default-sig-expire", "1d"], fakedTime: "20300101T000000")
        // A signature from the future is refused too; make one that expired in the past instead.
        let expired = try gpg.generate("expsig@example.org", algorithm: "ed25519", fakedTime: "20200101T000000")
        try gpg.sign("expsig@example.org", file, "expsig.sig", ["--detach-sign", "--default-sig-expire", "1d"], fakedTime: "20200102T000000")
        try refused("expsig.sig", try gpg.export("expsig@example.org", to: "expsig.gpg"), "by \(expired): expired on 2020-01-03")
        try refused("expiring.sig", mainKey, "is dated in the future")

        // A signing subkey: accepted with its back-signature, refused without it, refused once revoked.
        try gpg.run(["--quick-add-key", main, "ed25519", "sign", "never"])
        let sub = try gpg.fingerprints("main@example.org")[1]
        try gpg.sign(sub + "!", file, "sub.sig", ["--detach-sign"])
        let subKey = try gpg.export("main@example.org", to: "main-sub.gpg")
        let good = try BouncerProcess.run(["verify-signature", file, "--signature", gpg.file("sub.sig"), "--key", subKey, "--json"])
        #expect(good.status == 0, "\(good.err)")
        #expect(verifiedSigners(good) == [main])
        let stripped = gpg.file("main-sub-noback.gpg")
        try Data(try KeyringSurgery.removingBackSignatures([UInt8](Data(contentsOf: URL(fileURLWithPath: subKey))))).write(to: URL(fileURLWithPath: stripped))
        try refused("sub.sig", stripped, "signing subkey \(sub) of \(main) lacks a valid primary-key binding back-signature")

        // The subkey binding (0x18) itself: one bit of its hashed area
        // changed, or the packet gone. The primary key still certifies the
        // user ID, so only the subkey is refused, by fingerprint.
        let subKeyBytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: subKey)))
        #expect(try KeyringSurgery.bindingCount(subKeyBytes) == 1)
        let corrupted = gpg.file("main-sub-badbinding.gpg")
        try Data(try KeyringSurgery.corruptingBindingHashedArea(subKeyBytes)).write(to: URL(fileURLWithPath: corrupted))
        try refused("sub.sig", corrupted, "subkey \(sub) has no valid binding signature from primary key \(main)")
        let unbound = gpg.file("main-sub-unbound.gpg")
        let unboundBytes = try KeyringSurgery.droppingBindings(subKeyBytes)
        #expect(try KeyringSurgery.bindingCount(unboundBytes) == 0 && unboundBytes.count < subKeyBytes.count)
        try Data(unboundBytes).write(to: URL(fileURLWithPath: unbound))
        try refused("sub.sig", unbound, "subkey \(sub) has no valid binding signature from primary key \(main)")
        // The same edited keyrings still verify the primary key's own signature.
        for keyring in [corrupted, unbound] {
            let primaryOK = try BouncerProcess.run(["verify-signature", file, "--signature", gpg.file("primary.sig"), "--key", keyring])
            #expect(primaryOK.status == 0, "\(keyring): \(primaryOK.err)")
        }

        try gpg.run(["--command-fd", "0", "--edit-key", main], stdin: Data("key 1\nrevkey\ny\n0\n\ny\nsave\n".utf8))
        try refused("sub.sig", try gpg.export("main@example.org", to: "main-subrevoked.gpg"), "subkey \(sub) of \(main) is revoked")

        // Revoking the primary key with the certificate gpg made at generation time.
        let revocation = gpg.home.appendingPathComponent("openpgp-revocs.d/\(main).rev")
        let text = try String(contentsOf: revocation, encoding: .utf8).replacingOccurrences(of: ":-----BEGIN", with: "-----BEGIN")
        try gpg.run(["--import", try gpg.write("rev.asc", text)])
        let revoked = try gpg.export("main@example.org", to: "main-revoked.gpg")
        try refused("primary.sig", revoked, "primary key \(main) is revoked")
        try refused("sub.sig", revoked, "primary key \(main) is revoked")
    }

    /// The newest self-signature that verifies carries the key's expiry: a
    /// newer one lifting the expiry counts, and once it is corrupted the
    /// older, expiring one decides again.
    @Test func newestValidSelfSignatureDecides() throws {
        guard GnuPG.available else { print("NOTICE: OpenPGP policy tests skipped: gpg is not installed"); return }
        let gpg = try GnuPG()
        let file = try gpg.write("artifact.txt", "self-signature test artifact\n")
        let fpr = try gpg.generate("renewed@example.org", algorithm: "ed25519", expire: "1d", fakedTime: "20200101T000000")
        let expiring = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try gpg.export("renewed@example.org", to: "expiring.gpg"))))
        // GnuPG keeps only the newest self-signature, so the keyring holding
        // both is put together here: the first export plus the new signature.
        try gpg.run(["--faked-system-time", "20200101T120000", "--quick-set-expire", fpr, "never"])
        let renewedPath = try gpg.export("renewed@example.org", to: "renewed-only.gpg")
        let renewed = [UInt8](try Data(contentsOf: URL(fileURLWithPath: renewedPath)))
        let listing = try gpg.run(["--list-packets", renewedPath]).out
        let header = try #require(listing.split(separator: "\n").first { $0.hasPrefix("# off=") && $0.contains(" tag=2 ") })
        func field(_ name: String) -> Int? {
            header.split(separator: " ").first { $0.hasPrefix(name + "=") }.flatMap { Int($0.dropFirst(name.count + 1)) }
        }
        let off = try #require(field("off")), length = try #require(field("hlen")) + (try #require(field("plen")))
        let key = gpg.file("both.gpg")
        try Data(expiring + renewed[off..<(off + length)]).write(to: URL(fileURLWithPath: key))

        try gpg.sign("renewed@example.org", file, "renewed.sig", ["--detach-sign"], fakedTime: "20200101T130000")
        let verify = { try BouncerProcess.run(["verify-signature", file, "--signature", gpg.file("renewed.sig"), "--key", key]) }
        let good = try verify()
        #expect(good.status == 0, "\(good.err)")

        try flipByte(key, at: -1)  // the last byte of the newer self-signature's value
        let expired = try verify()
        #expect(expired.status == 1, "\(expired.out)")
        #expect(expired.err.contains("primary key \(fpr) expired on 2020-01-02"), "\(expired.err)")
    }
}

/// Packet-level edits of a binary keyring made by gpg, for tests that
/// need a certificate no tool will produce.
enum KeyringSurgery {
    struct Bad: Error {}

    /// Every subkey binding (0x18) loses its unhashed subpackets, which is
    /// where GnuPG puts the embedded 0x19 back-signature. The binding stays
    /// valid (the unhashed area is not signed).
    static func removingBackSignatures(_ bytes: [UInt8]) throws -> [UInt8] {
        try rewriting(bytes) { tag, body in
            guard isSubkeyBinding(tag, body) else { return body }
            let unhashedAt = 6 + (Int(body[4]) << 8 | Int(body[5]))
            let unhashedLength = Int(body[unhashedAt]) << 8 | Int(body[unhashedAt + 1])
            return Array(body[0..<unhashedAt]) + [0, 0] + Array(body[(unhashedAt + 2 + unhashedLength)...])
        }
    }

    /// One bit of the last byte of every subkey binding's hashed subpacket
    /// area flipped (with GnuPG that is the key-flags value, so the binding
    /// still parses and still claims the sign flag): its signature no longer verifies.
    static func corruptingBindingHashedArea(_ bytes: [UInt8]) throws -> [UInt8] {
        try rewriting(bytes) { tag, body in
            guard isSubkeyBinding(tag, body) else { return body }
            let hashedLength = Int(body[4]) << 8 | Int(body[5])
            guard hashedLength > 0 else { throw Bad() }
            var edited = body
            edited[6 + hashedLength - 1] ^= 0x01
            return edited
        }
    }

    /// Every subkey binding signature packet removed: the subkeys are left unbound.
    static func droppingBindings(_ bytes: [UInt8]) throws -> [UInt8] {
        try rewriting(bytes) { tag, body in isSubkeyBinding(tag, body) ? nil : body }
    }

    /// How many subkey binding signatures a keyring holds (so a test can
    /// check an edit found something to edit).
    static func bindingCount(_ bytes: [UInt8]) throws -> Int {
        var count = 0
        _ = try rewriting(bytes) { tag, body in
            if isSubkeyBinding(tag, body) { count += 1 }
            return body
        }
        return count
    }

    static func isSubkeyBinding(_ tag: Int, _ body: [UInt8]) -> Bool {
        tag == 2 && body.count > 6 && body[0] == 4 && body[1] == 0x18
    }

    /// Walks the packets, replacing each body with `edit`'s result (nil drops
    /// the packet), and re-frames them in the new format with 4-octet lengths.
    static func rewriting(_ bytes: [UInt8], _ edit: (_ tag: Int, _ body: [UInt8]) throws -> [UInt8]?) throws -> [UInt8] {
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let header = bytes[index]
            var tag: Int, length: Int, headerLength: Int
            if header & 0x40 != 0 {
                tag = Int(header & 0x3F)
                let o1 = Int(bytes[index + 1])
                if o1 < 192 { length = o1; headerLength = 2 }
                else if o1 < 224 { length = ((o1 - 192) << 8) + Int(bytes[index + 2]) + 192; headerLength = 3 }
                else if o1 == 255 { length = Int(bytes[index + 2]) << 24 | Int(bytes[index + 3]) << 16 | Int(bytes[index + 4]) << 8 | Int(bytes[index + 5]); headerLength = 6 }
                else { throw Bad() }
            } else {
                tag = Int(header >> 2) & 0x0F
                switch header & 3 {
                case 0: length = Int(bytes[index + 1]); headerLength = 2
                case 1: length = Int(bytes[index + 1]) << 8 | Int(bytes[index + 2]); headerLength = 3
                case 2: length = Int(bytes[index + 1]) << 24 | Int(bytes[index + 2]) << 16 | Int(bytes[index + 3]) << 8 | Int(bytes[index + 4]); headerLength = 5
                default: throw Bad()
                }
            }
            guard index + headerLength + length <= bytes.count else { throw Bad() }
            if let body = try edit(tag, Array(bytes[(index + headerLength)..<(index + headerLength + length)])) {
                out += [0xC0 | UInt8(tag), 0xFF, UInt8(body.count >> 24), UInt8(body.count >> 16 & 0xFF), UInt8(body.count >> 8 & 0xFF), UInt8(body.count & 0xFF)]
                out += body
            }
            index += headerLength + length
        }
        return out
    }
}
