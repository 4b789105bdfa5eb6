import Foundation
import Testing
import BouncerCore
import BouncerTestSupport

/// The real secure-APT chain on this machine: InRelease (from apt-get
/// update) → the Packages index next to it → a .deb from apt-get download,
/// against the Debian archive keyring; and refused against an unrelated key.
@Suite struct DebianChainTests {
    static let lists = "/var/lib/apt/lists"
    static let keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"

    struct Index {
        let inRelease: String
        let packages: String
        /// The entry for the uncompressed index (what InRelease always lists).
        let entry: String
    }

    /// An InRelease with a Packages index beside it (same file-name prefix).
    static func findIndex() -> Index? {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: lists)) ?? []).sorted()
        for name in names where name.hasSuffix("_InRelease") {
            let prefix = String(name.dropLast("InRelease".count))
            guard let packages = names.first(where: { $0.hasPrefix(prefix) && $0.contains("_binary-") && $0.contains("_Packages") }) else { continue }
            var path = String(packages.dropFirst(prefix.count)).replacingOccurrences(of: "_", with: "/")
            for suffix in [".lz4", ".xz", ".gz"] where path.hasSuffix(suffix) { path = String(path.dropLast(suffix.count)) }
            return Index(inRelease: "\(lists)/\(name)", packages: "\(lists)/\(packages)", entry: path)
        }
        return nil
    }

    @Test func inReleasePackagesDeb() throws {
        guard FileManager.default.fileExists(atPath: Self.keyring), let index = Self.findIndex() else {
            print("NOTICE: DebianChainTests skipped: no *InRelease with a Packages index under \(Self.lists) (run apt-get update) or no \(Self.keyring)")
            return
        }
        let dir = try BouncerProcess.temporaryDirectory("bouncer-debian-chain")
        defer { try? FileManager.default.removeItem(at: dir) }

        // 1. InRelease is signed by the archive keys.
        let signature = try BouncerProcess.run(["verify-signature", index.inRelease, "--key", Self.keyring, "--json"])
        #expect(signature.status == 0, "\(signature.err)")
        #expect(!verifiedSigners(signature).isEmpty)

        // 2. The Packages index (decompressed: apt keeps it recompressed locally)
        //    matches the size and SHA256 InRelease lists for it.
        let compressed = [UInt8](try Data(contentsOf: URL(fileURLWithPath: index.packages)))
        let plain = CompressedIndex.isCompressed(compressed) ? try CompressedIndex.decompress(compressed, source: index.packages) : compressed
        let packagesPath = dir.appendingPathComponent("Packages").path
        try Data(plain).write(to: URL(fileURLWithPath: packagesPath))
        let listed = try BouncerProcess.run(["verify", packagesPath, "--checksums", index.inRelease, "--key", Self.keyring,
                                             "--name", index.entry, "--json"])
        #expect(listed.status == 0, "\(listed.out) \(listed.err)")
        let evidence = (jsonObject(listed)["evidence"] as? [[String: Any]])?.first
        #expect((evidence?["proves"] as? [String])?.starts(with: ["integrity", "origin"]) == true)
        #expect((evidence?["details"] as? [String: String])?["size"] == String(plain.count))
        if (evidence?["details"] as? [String: String])?["validUntil"] != nil {
            #expect((evidence?["proves"] as? [String])?.contains("freshness") == true)
        }

        // 3. A .deb fetched with apt-get download matches its Packages stanza.
        let text = String(decoding: plain, as: UTF8.self)
        guard let (package, version, filename) = Self.smallPackage(text) else {
            Issue.record("no small package found in \(index.packages)"); return
        }
        let download = try BouncerProcess.runProgram("/usr/bin/apt-get", ["download", "\(package)=\(version)"], cwd: dir.path)
        let debs = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix(".deb") }
        guard download.status == 0, let deb = debs.first else {
            print("NOTICE: DebianChainTests: apt-get download \(package) failed (offline?), .deb step skipped: \(download.err.prefix(300))")
            return
        }
        let debPath = dir.appendingPathComponent(deb).path
        let debOK = try BouncerProcess.run(["verify", debPath, "--checksums", index.packages, "--name", filename, "--json"])
        #expect(debOK.status == 0, "\(debOK.out) \(debOK.err)")
        #expect((jsonObject(debOK)["evidence"] as? [[String: Any]])?.first?["kind"] as? String == "checksums")

        // A flipped byte in the .deb is refused.
        try flipByte(debPath, at: 1000)
        let debBad = try BouncerProcess.run(["verify", debPath, "--checksums", index.packages, "--name", filename])
        #expect(debBad.status == 1)
        #expect(debBad.err.contains("sha256 of '\(filename)' is"), "\(debBad.err)")

        // 4. An unrelated keyring (a fresh key) trusts none of it.
        guard GnuPG.available else { print("NOTICE: unrelated-keyring step skipped: gpg is not installed"); return }
        let gpg = try GnuPG()
        try gpg.generate("unrelated@example.org", algorithm: "ed25519")
        let unrelated = try gpg.export("unrelated@example.org", to: "unrelated.gpg")
        let refused = try BouncerProcess.run(["verify-signature", index.inRelease, "--key", unrelated])
        #expect(refused.status == 1)
        #expect(refused.err.contains("not in the trusted keyring"), "\(refused.err)")
        let refusedList = try BouncerProcess.run(["verify", packagesPath, "--checksums", index.inRelease, "--key", unrelated, "--name", index.entry])
        #expect(refusedList.status == 1)
        #expect(refusedList.err.contains("not in the trusted keyring"), "\(refusedList.err)")
    }

    /// A small package of this index: (name, version, Filename).
    static func smallPackage(_ packages: String) -> (String, String, String)? {
        var best: (String, String, String, Int)? = nil
        for stanza in packages.components(separatedBy: "\n\n") {
            var fields: [String: String] = [:]
            for line in stanza.split(separator: "\n") where !line.hasPrefix(" ") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            guard let name = fields["Package"], let version = fields["Version"], let file = fields["Filename"],
                  let size = fields["Size"].flatMap(Int.init), size > 2000, size < 60000 else { continue }
            if name == "hello" { return (name, version, file) }
            if best == nil { best = (name, version, file, size) }
        }
        return best.map { ($0.0, $0.1, $0.2) }
    }
}
