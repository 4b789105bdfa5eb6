import Foundation
import Testing
import BouncerBase
import BouncerTestSupport

/// Every `oci/` corpus case through the real `bouncer verify-image` binary
/// against a loopback `docker-registry`: the test pushes each case as cosign
/// lays it out (the `.sig` manifest assembled from payload and annotations;
/// for bundles the referrer manifest, the bundle blob and the tag-fallback
/// index), then verifies by digest with the flags the case's trust and
/// identity call for, and compares the verdict with `expect`.
@Suite(.blocking, .enabled(if: LoopbackRegistry.isAvailable && Corpus.rootOrNotice("VerifyImageCorpusTests") != nil,
                "needs docker-registry, curl and ../shared/corpus"))
struct VerifyImageCorpusTests {
    /// A case.json member, read with Bouncer's strict reader.
    struct Case {
        let name: String
        let directory: URL
        let root: JSON

        func member(_ path: String...) -> JSON? {
            var node: JSON? = root
            for key in path {
                guard case .object(let members)? = node else { return nil }
                node = members[key]
            }
            return node == .null ? nil : node
        }

        func string(_ path: String...) -> String? {
            var node: JSON? = root
            for key in path {
                guard case .object(let members)? = node else { return nil }
                node = members[key]
            }
            if case .string(let text)? = node { return text }
            return nil
        }

        func file(_ relative: String) throws -> [UInt8] {
            Array(try Data(contentsOf: directory.appendingPathComponent(relative)))
        }

        func path(_ relative: String) -> String { directory.appendingPathComponent(relative).path }
    }

    static func load() throws -> [Case] {
        try Corpus.cases(format: "oci").map { dir in
            Case(name: dir.lastPathComponent, directory: dir,
                 root: try JSON.parse(Array(try Data(contentsOf: dir.appendingPathComponent("case.json")))))
        }
    }

    static func annotations(_ bytes: [UInt8]) throws -> [String: String] {
        guard case .object(let members) = try JSON.parse(bytes) else { return [:] }
        var result: [String: String] = [:]
        for (key, value) in members { if case .string(let text) = value { result[key] = text } }
        return result
    }

    /// Pushes the case to `repository`; returns whether any legacy signature carries a Rekor bundle.
    static func push(_ c: Case, to registry: LoopbackRegistry, repository: String, digest: String) throws -> Bool {
        var logged = false
        if c.string("format") == "oci-cosign" {
            guard case .array(let signatures)? = c.member("files", "signatures") else { throw BouncerError.io("\(c.name): no signatures") }
            var layers: [(payload: [UInt8], mediaType: String, annotations: [String: String])] = []
            for signature in signatures {
                guard case .object(let s) = signature, case .string(let payload)? = s["payload"], case .string(let notes)? = s["annotations"] else {
                    throw BouncerError.io("\(c.name): malformed signature entry")
                }
                // mime_type is given where it is not cosign's (the other-attachment case).
                var mime = "application/vnd.dev.cosign.simplesigning.v1+json"
                if case .string(let given)? = s["mime_type"] { mime = given }
                let annotations = try annotations(try c.file(notes))
                logged = logged || annotations["dev.sigstore.cosign/bundle"] != nil
                layers.append((try c.file(payload), mime, annotations))
            }
            try registry.pushCosignSignatures(repository, signedDigest: digest, layers: layers)
            return logged
        }
        // Sigstore bundle referrer.
        guard let bundlePath = c.string("files", "bundle") else { throw BouncerError.io("\(c.name): no bundle") }
        let bundle = try c.file(bundlePath)
        let empty = try registry.pushBlob(repository, Array("{}".utf8))
        let bundleDigest = try registry.pushBlob(repository, bundle)
        let referrer: [UInt8]
        if let given = c.string("files", "referrer_manifest") {
            referrer = try c.file(given)
        } else {
            // As cosign's WriteAttestationNewBundleFormat lays it out: empty config, the bundle layer, the image as subject.
            var subjectType = "application/vnd.oci.image.manifest.v1+json"
            var subjectSize = 0
            if let manifestPath = c.string("files", "image_manifest") {
                let manifest = try c.file(manifestPath)
                subjectSize = manifest.count
                if case .object(let m) = try JSON.parse(manifest), case .string(let type)? = m["mediaType"] { subjectType = type }
            }
            referrer = Array("""
                {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json",\
                "config":{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"\(empty)"},\
                "layers":[{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","size":\(bundle.count),"digest":"\(bundleDigest)"}],\
                "subject":{"mediaType":"\(subjectType)","size":\(subjectSize),"digest":"\(digest)"}}
                """.utf8)
        }
        let referrerDigest = try registry.pushManifest(repository, referrer, mediaType: "application/vnd.oci.image.manifest.v1+json")
        // The registry has no referrers API (distribution 2.8): the tag schema carries the listing.
        let index: [UInt8]
        let given = try (c.string("files", "referrers_api_response") ?? c.string("files", "referrers_tag_index")).map { try c.file($0) }
        if let given, String(decoding: given, as: UTF8.self).contains(referrerDigest) {
            index = given
        } else {
            // No listing, or one captured before the push (Docker Hub's answer is empty): cosign 3's own.
            // Its tag-fallback entry has artifactType empty, so only the referrer manifest says "bundle".
            index = Array("""
                {"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[\
                {"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.oci.empty.v1+json","size":\(referrer.count),"digest":"\(referrerDigest)"}]}
                """.utf8)
        }
        try registry.pushManifest(repository, reference: "sha256-" + digest.dropFirst(7), index, mediaType: "application/vnd.oci.image.index.v1+json")
        return true
    }

    /// The verify-image flags the case's key, identity, trust and policy call for.
    static func flags(_ c: Case, logged: Bool) -> [String] {
        var flags: [String] = []
        var privatePKI = false
        if case .array(let trust)? = c.member("trust") {
            for entry in trust {
                guard case .object(let t) = entry, case .string(let role)? = t["role"], case .string(let file)? = t["file"] else { continue }
                switch role {
                case "sigstore_trusted_root": flags += ["--trusted-root", c.path(file)]
                case "byo_pki_root_ca": flags += ["--ca-roots", c.path(file)]; privatePKI = true
                case "byo_pki_intermediate_ca": flags += ["--ca-intermediates", c.path(file)]
                default: break  // rekor.pub and fulcio_v1.crt.pem are public-good's, in the embedded trusted root
                }
            }
        }
        if let key = c.string("key") {
            flags += ["--key", c.path(key)]
            if !logged { flags.append("--insecure-ignore-tlog") }
        } else {
            if let san = c.string("identity", "san") { flags += ["--certificate-identity", san] }
            if let re = c.string("identity", "san_regexp") { flags += ["--certificate-identity-regexp", re] }
            if let issuer = c.string("identity", "issuer") { flags += ["--certificate-oidc-issuer", issuer] }
            else if let re = c.string("identity", "issuer_regexp") { flags += ["--certificate-oidc-issuer-regexp", re] }
            else { flags.append("--allow-missing-oidc-issuer") }
            if privatePKI && !logged { flags.append("--insecure-ignore-tlog") }
        }
        if case .bool(false)? = c.member("policy", "require_sct") { flags.append("--insecure-ignore-sct") }
        if c.string("policy", "signedIdentity") == "matchExact", let pulled = c.string("policy", "pulled_reference") {
            flags += ["--signed-reference", pulled]
        }
        return flags
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func everyCaseGetsItsExpectedVerdict() throws {
        let registry = try LoopbackRegistry()
        defer { registry.stop() }
        let cases = try Self.load()
        var passed = 0, refused = 0
        var mismatches: [String] = []
        for c in cases {
            guard let digest = c.string("manifest_digest"), let expect = c.string("expect") else {
                mismatches.append("\(c.name): no manifest_digest or expect"); continue
            }
            let repository = "corpus/\(c.name)"
            let logged = try Self.push(c, to: registry, repository: repository, digest: digest)
            let result = try BouncerProcess.run(["verify-image", "\(registry.host)/\(repository)@\(digest)", "--allow-http-registry", "--json"]
                                                + Self.flags(c, logged: logged))
            let verdict = result.out.contains("\"verdict\":\"pass\"") ? "pass" : result.out.contains("\"verdict\":\"fail\"") ? "fail" : "none"
            let status: Int32 = expect == "pass" ? 0 : 1
            if verdict != expect || result.status != status {
                mismatches.append("\(c.name): expected \(expect) (exit \(status)), got \(verdict) (exit \(result.status)): \(result.out.prefix(600)) \(result.err.prefix(300))")
            }
            if verdict == "pass" && result.status == 0 { passed += 1 } else if verdict == "fail" && result.status == 1 { refused += 1 }
        }
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
        // Pinned: the corpus holds 22 cases, 14 that verify and 8 that must be refused.
        #expect(cases.count == 22)
        #expect(passed == 14)
        #expect(refused == 8)
        #expect(Set(cases.map(\.name)) == Corpus.folderNames(format: "oci"))
    }
}
