import Foundation

/// The harnesses. Fixed trust material is built here from constant bytes, so
/// the fuzzed input reaches the signature parsers and verifiers, not only the
/// key-file checks in front of them.
enum Harness {
    static let message = Array("fuzzed message\n".utf8)
    static let now = Date(timeIntervalSince1970: 1_750_000_000)
    /// An Ed25519 public key (any 32 bytes load; none verifies a fuzzed signature).
    static let edKey: [UInt8] = (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
    static let keyID: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]

    static func material(_ data: Data, _ path: String) -> KeyMaterial { KeyMaterial(path: path, bytes: [UInt8](data)) }

    // MARK: OpenPGP

    /// The same bytes as a keyring (armored or binary), as a detached
    /// signature, and through the armor decoder alone.
    static func openPGP(_ data: Data) {
        let bytes = [UInt8](data)
        _ = try? Armor.decode(bytes, source: "fuzz", strict: true)
        _ = try? PGPKeyring.load([KeyMaterial(path: "fuzz.asc", bytes: bytes)])
        _ = try? OpenPGPFormat.signaturePackets(bytes, source: "fuzz")
        _ = try? OpenPGPFormat.verify(message: message, signature: bytes, keys: [KeyMaterial(path: "fuzz.asc", bytes: bytes)],
                                      options: SignatureOptions(now: now))
    }

    /// A clearsigned document (InRelease): the text extraction and the verifier.
    static func openPGPCleartext(_ data: Data) {
        let bytes = [UInt8](data)
        _ = OpenPGPFormat.isClearsigned(bytes)
        _ = try? OpenPGPFormat.clearsignedText(bytes, source: "fuzz")
        _ = try? ClearsignedParts.parse(bytes, source: "fuzz")
    }

    // MARK: SSH

    static func sshString(_ bytes: [UInt8]) -> [UInt8] {
        let n = UInt32(bytes.count)
        return [UInt8(n >> 24), UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)] + bytes
    }

    static let allowedSignersFile: KeyMaterial = {
        let blob = sshString(Array("ssh-ed25519".utf8)) + sshString(edKey)
        let line = "fuzz@example.org ssh-ed25519 \(Data(blob).base64EncodedString())\n"
        return KeyMaterial(path: "allowed_signers", bytes: Array(line.utf8))
    }()

    /// An SSHSIG signature (armored) against a fixed allowed_signers file.
    static func sshSignature(_ data: Data) {
        let bytes = [UInt8](data)
        _ = try? SSHSignatureBlob.parse(armored: bytes)
        _ = try? SSHSignatureFormat.verify(message: message, signature: bytes, keys: [allowedSignersFile],
                                           options: SignatureOptions(identity: "fuzz@example.org", namespace: "file", now: now))
    }

    /// An allowed_signers file, and each line's key blob as an SSH public key.
    static func allowedSigners(_ data: Data) {
        _ = try? AllowedSigners.parse(material(data, "allowed_signers"))
        _ = try? SSHPublicKey.parse([UInt8](data))
    }

    // MARK: minisign, signify

    static let minisignKey = KeyMaterial(path: "fuzz.pub", bytes: Array(
        "untrusted comment: minisign public key\n\(Data(Array("Ed".utf8) + keyID + edKey).base64EncodedString())\n".utf8))
    static let signifyKey = KeyMaterial(path: "fuzz.pub", bytes: Array(
        "untrusted comment: signify public key\n\(Data(Array("Ed".utf8) + keyID + edKey).base64EncodedString())\n".utf8))

    /// A .minisig against a fixed key; the same bytes as a key file.
    static func minisign(_ data: Data) {
        let bytes = [UInt8](data)
        _ = try? MinisignSignature.parse(bytes)
        _ = try? MinisignFormat.verify(message: message, signature: bytes, keys: [minisignKey], options: SignatureOptions(now: now))
        _ = try? EdPublicKeyFile.parse(material(data, "fuzz.pub"), format: "minisign")
    }

    /// A .sig against a fixed key; the same bytes as a key file.
    static func signify(_ data: Data) {
        let bytes = [UInt8](data)
        _ = try? SignifyFormat.parse(bytes)
        _ = try? SignifyFormat.verify(message: message, signature: bytes, keys: [signifyKey], options: SignatureOptions(now: now))
        _ = try? EdPublicKeyFile.parse(material(data, "fuzz.pub"), format: "signify")
    }

    // MARK: checksum lists and Debian indices

    /// GNU/BSD checksum lists (SHA256SUMS and the like).
    static func checksumList(_ data: Data) {
        _ = try? ChecksumList.parse([UInt8](data), source: "SHA256SUMS")
    }

    /// Release/InRelease text, Packages and .dsc stanzas, and compressed
    /// indices (xz/gz/bz2) with a small output limit.
    static func debianIndex(_ data: Data) {
        var bytes = [UInt8](data)
        if CompressedIndex.isCompressed(bytes) {
            guard let text = try? CompressedIndex.decompress(bytes, source: "Packages.xz", limit: 1 << 20) else { return }
            bytes = text
        }
        _ = try? DebianLists.parse(bytes, source: "Release", now: now)
    }

    // MARK: Sigstore, DSSE, in-toto

    static let productionRoot = try? SigstoreTrustedRoot.production()

    /// A bundle, then the offline verifier against the embedded production
    /// root (keyless: fuzzed certificates, log entries and timestamps are read).
    static func sigstoreBundle(_ data: Data) {
        guard let bundle = try? SigstoreBundle.parse([UInt8](data)), let root = productionRoot else { return }
        let identity = IdentityPolicy(identity: .exact("fuzz@example.org"), issuer: .exact("https://accounts.example.org"))
        _ = try? BundleVerifier.verify(bundle: bundle, artifact: .bytes(message), trustedRoot: root, policy: .keyless(identity))
    }

    /// A DER certificate as a Fulcio leaf: the precertificate TBS and the SCT
    /// list cut from it, then the list parsed.
    static func precertificate(_ data: Data) {
        guard let (_, list) = try? PrecertificateTBS.split([UInt8](data)) else { return }
        _ = try? CertificateTransparency.parseList(list)
    }

    static func trustedRoot(_ data: Data) {
        _ = try? SigstoreTrustedRoot.parse([UInt8](data), source: "trusted_root.json")
    }

    /// A DSSE envelope and its in-toto payload; the same bytes also as a bare
    /// statement, a PEP 740 attestation file, an npm attestations document and
    /// an attestation set.
    static func dsse(_ data: Data) {
        let bytes = [UInt8](data)
        if let envelope = try? DSSEVerifier.parse(bytes) {
            _ = try? InTotoStatement.parse(envelope.payload)
            _ = try? InTotoSubjects.parse(envelope.payload)
            _ = try? DSSEVerifier.verify(envelope, keys: [])
        }
        _ = try? InTotoStatement.parse(bytes)
        _ = try? InTotoSubjects.parse(bytes)
        _ = try? PEP740.parse(bytes)
        _ = try? NpmAttestations.parse(bytes)
        _ = try? AttestationSet.parse(bytes)
    }

    // MARK: policy, lockfile, SRI

    /// policy.json. Key files it names are read relative to /nonexistent, so
    /// only the document itself is fuzzed.
    static func policy(_ data: Data) {
        _ = try? PolicyParser.parse([UInt8](data), file: "/nonexistent/policy.json", now: now)
    }

    /// The lockfile, and its round trip: Bouncer's own layout must read back
    /// as the same lock (entries sorted) and lay out to the same bytes.
    static func lockfile(_ data: Data) {
        guard let lock = try? Lockfile.decode([UInt8](data), file: "bouncer.lock") else { return }
        let encoded = lock.encoded()
        guard let again = try? Lockfile.decode(encoded, file: "re-encoded"),
              again.artifacts == lock.artifacts.sorted(by: { $0.key < $1.key }), again.encoded() == encoded else {
            fatalError("bouncer.lock round trip changed the lock")
        }
    }

    /// The rollback state file; also judges a list against every entry it parsed.
    static func freshnessState(_ data: Data) {
        guard let state = try? FreshnessState.decode([UInt8](data), file: "freshness.json") else { return }
        let observed = ListObservation(url: "https://example.org/SHA256SUMS", sha256: String(repeating: "0", count: 64),
                                       issuedAt: Date(timeIntervalSince1970: 1_700_000_000), signer: "s", seenAt: Date())
        for seen in state.lists.values {
            _ = ListFreshness.judge(observed, against: seen)
            _ = ListFreshness.advance(seen, with: observed)
        }
        _ = state.encoded()
    }

    /// TUF metadata: the envelope (strict JSON, canonical re-encoding), a root,
    /// and the root-rotation check of the input against itself as the trusted root.
    static func tufMetadata(_ data: Data) {
        let bytes = [UInt8](data)
        guard (try? TUFEnvelope.parse(bytes, file: "x.json")) != nil else { return }
        guard let root = try? TUFRoot.parse(bytes, file: "root.json") else { return }
        _ = try? TUFVerifier.verifyNextRoot(bytes, file: "2.root.json", trusted: root)
        _ = TUFVerifier.timestampOrSnapshotKeysChanged(from: root, to: root)
    }

    static func sri(_ data: Data) {
        _ = try? SubresourceIntegrity(parsing: String(decoding: data, as: UTF8.self))
    }

    /// A Dockerfile's images and their places, then the rewrite over them.
    static func dockerfile(_ data: Data) {
        let bytes = [UInt8](data)
        var settings = DockerfileImages.Settings()
        settings.buildArguments = ["BASE": "example.test/base:1"]
        guard let images = try? DockerfileImages.read(bytes, settings: settings) else { return }
        _ = DockerfileImages.rewrite(bytes, images.uses.map { ($0.range, "example.test/r@sha256:0") })
    }

    /// A docker / podman command line (words split at newlines): where the
    /// shims find the subcommand, the image, an import's URL, a build's context
    /// and Dockerfiles (and the builder's command line made from them), what a
    /// compose command would have the daemon pull, and each word as a run of
    /// one-letter options.
    static func containerArguments(_ data: Data) {
        let arguments = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let flags: Set<String> = ["-i", "-t", "-q", "-d"]
        let valued: Set<String> = ["-e", "-p", "-f", "-v"]
        for word in arguments { _ = ShortOptions.read(word, flags: flags, valued: valued) }
        _ = try? ContainerShim.locate(arguments)
        // The same words as a skopeo command line.
        _ = try? SkopeoShim.readCopy(arguments, from: 0)
        _ = SkopeoShim.syncSource(arguments)
        _ = SkopeoShim.overriddenPlatform(arguments)
        // ... and as a buildah pull / from.
        if !arguments.isEmpty { _ = try? BuildahShim.operand(arguments, subcommand: 0) }
        guard let subcommand = try? ContainerShim.subcommandIndex(arguments) else { return }
        _ = ContainerShim.unreadPull(arguments, subcommand: subcommand)
        _ = try? ContainerImport.urlIndex(arguments, subcommand: subcommand)
        _ = try? DockerCompose.unverifiedPull(arguments, compose: subcommand)
        guard let verbEnd = try? ContainerBuild.verbEnd(arguments, subcommand: subcommand),
              let call = try? ContainerBuild.parse(arguments, verbEnd: verbEnd) else { return }
        _ = ContainerBuild.handedOver(arguments, call: call, dockerfile: "/w/Dockerfile", emptyContext: "/w/empty")
    }

    /// A uv configuration file (uv.toml, or pyproject.toml's `[tool.uv]`), read for
    /// its indexes and find-links by the scanner the uv shim and `shims check` use.
    static func uvConfiguration(_ data: Data) {
        let text = String(decoding: data, as: UTF8.self)
        _ = UvConfiguration.parse(text, table: [])
        _ = UvConfiguration.parse(text, table: ["tool", "uv"])
    }

    /// yarn's settings files (`.yarnrc`, `.yarnrc.yml`, `.npmrc`), a yarn.lock's
    /// resolved lines, and the same bytes as a yarn command line (a word a line).
    static func yarnFiles(_ data: Data) {
        let bytes = [UInt8](data)
        _ = YarnSettings.entries(bytes)
        _ = YarnLock.strayResolved(bytes, file: "yarn.lock", registry: "http://127.0.0.1:8731/npm/")
        _ = YarnShim.fetchingCommand(String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
    }

    /// What the shims read of a project before anything runs: package.json
    /// and lock sources (as JSON, and each line as an npm spec, argument and
    /// workspace glob), requirement-file text as pip decodes and splits it,
    /// and each line as a URL the policy matches.
    static func projectSpecs(_ data: Data) {
        let bytes = [UInt8](data)
        if let json = try? JSON.parse(bytes, maxDepth: 128) {
            _ = ProjectSources.fromManifest(json, file: "package.json", root: true, tool: .npm)
            _ = ProjectSources.fromManifest(json, file: "package.json", root: true, tool: .yarn)
            _ = ProjectSources.fromLock(json, workspaces: NpmWorkspaces.patterns(json))
        }
        _ = WheelMetadata.directReferences(bytes)
        _ = WheelMetadata.eggRequirements(bytes)
        if let text = try? RequirementLines.decoded(bytes, file: "requirements.txt") {
            for (_, line) in RequirementLines.logicalLines(text).prefix(200) { _ = RequirementLines.Line(file: "r", number: 1, inConstraints: false, text: line) }
        }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n").prefix(200).map(String.init) {
            _ = ExoticSource.isExoticNpmSpec(line)
            _ = ExoticSource.isExoticNpmArgument(line)
            _ = NpmWorkspaces.expandBraces(line)
            _ = NpmConfiguration.iniText(line)
            _ = NpmWorkspaces.contains(line, patterns: ["packages/*", "apps/**", "!x"])
            _ = try? FetchedURL.canonical(line)
        }
    }

    // MARK: archives

    /// Archive listing over in-memory bytes (streaming reader: tar, gzip/xz/zstd,
    /// zip local headers, ar), with small limits so a bomb stops quickly.
    static func archive(_ data: Data) {
        var limits = ArchiveLimits()
        limits.maxEntries = 1000
        limits.maxTotalBytes = 4 << 20
        limits.ratioGraceBytes = 1 << 20
        guard let reader = try? ArchiveReader(source: MemorySource([UInt8](data)), name: "fuzz.tar", limits: limits) else { return }
        _ = try? ArchiveInspector.inspect(reader)
        // The same bytes as a file (unlinked at once): zip's central directory and its structure checks (ZipStructure).
        var template = Array("/tmp/bouncer-fuzz-archive-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { return }
        unlink(template)
        defer { close(fd) }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == data.count, let file = try? ArchiveReader(fd: fd, name: "fuzz.whl", limits: limits) else { return }
        _ = try? ArchiveInspector.inspect(file)
    }
}

/// Hands the reader an in-memory archive in chunks.
final class MemorySource: ArchiveByteSource {
    private let bytes: [UInt8]
    private var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = min(buffer.count, bytes.count - offset, 4096)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes { source in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<offset + count]))
        }
        offset += count
        return count
    }
}
