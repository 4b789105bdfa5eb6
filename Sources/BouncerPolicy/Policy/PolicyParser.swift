import FoundationEssentials
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore

/// Strict loading of policy.json: unknown keys, wrong types, missing fields,
/// bad regexps, dangling key references and rules that require nothing are
/// all errors naming the JSON path (exit 2).
public enum PolicyParser {
    /// Largest policy file read (a policy is hand-written configuration).
    static let maxBytes = 4 << 20

    public static func load(file: String, now: Date = Date()) throws(BouncerError) -> Policy {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw BouncerError(.configuration, code: "policy-unreadable", "cannot read policy \(file)")
        }
        do { return try parse(Array(data), file: file, now: now) } catch { throw BouncerError(error) }
    }

    public static func parse(_ bytes: [UInt8], file: String, now: Date = Date()) throws(PolicyError) -> Policy {
        guard bytes.count <= maxBytes else { throw PolicyError(file: file, path: "$", "larger than \(maxBytes) bytes") }
        let root: JSON
        do {
            root = try JSON.parse(bytes)
        } catch {
            throw PolicyError(file: file, path: "line \(error.line), column \(error.column)", "not valid JSON: \(error.why)")
        }
        let directory = absoluteDirectory(of: file)
        let top = try JSONReader(root, file: file, path: "$")
        try top.onlyKeys(["$schema", "version", "mode", "unmatched", "lockfile", "keys", "rules", "exceptions", "sigstore", "archive"] + threatKeys)
        guard let versionValue = top.fields["version"] else { throw top.error("version", "missing required field 'version'") }
        guard let version = versionValue.doubleValue else {
            throw top.error("version", "expected a number, found \(versionValue.typeName)")
        }
        guard version == 1 else { throw top.error("version", "unsupported version \(JSONReader.show(versionValue)); this Bouncer reads version 1") }
        let mode = Policy.Mode(rawValue: try top.choice("mode", ["enforce", "audit"]) ?? "enforce") ?? .enforce
        let unmatched = Policy.Unmatched(rawValue: try top.choice("unmatched", ["deny", "pin", "allow"]) ?? "deny") ?? .deny
        let lockName = try top.nonEmptyString("lockfile") ?? "bouncer.lock"
        let lockfile = resolve(lockName, in: directory)

        var keys: [String: PolicyKey] = [:]
        if let keysReader = try top.child("keys") {
            for name in keysReader.fields.keys.sorted() {
                guard let reader = try keysReader.child(name) else { continue }
                keys[name] = try parseKey(name: name, reader, directory: directory)
            }
        }
        guard let ruleItems = try top.array("rules") else { throw top.error("rules", "missing required field 'rules'") }
        var rules: [PolicyRule] = []
        for item in ruleItems {
            rules.append(try parseRule(JSONReader(item.value, file: file, path: item.path), keys: keys))
        }
        var exceptions: [PolicyException] = []
        for item in try top.array("exceptions") ?? [] {
            exceptions.append(try parseException(JSONReader(item.value, file: file, path: item.path)))
        }
        let sigstore = try top.child("sigstore").map { reader throws(PolicyError) in try parseSigstore(reader, directory: directory) }
        let archive = try top.child("archive").map { reader throws(PolicyError) in try parseArchive(reader) }
        var policy = Policy(file: file, directory: directory, mode: mode, unmatched: unmatched, lockfile: lockfile,
                            keys: keys, rules: rules, exceptions: exceptions, sigstore: sigstore ?? SigstoreSettings(),
                            archive: archive ?? .defaults)
        policy.threats = try parseThreats(top).over(.defaults)
        return policy
    }

    /// The threat policy keys, allowed at the top level and in every rule.
    static let threatKeys = ["minimumReleaseAge", "installScripts", "exoticSources", "identity"]

    /// `minimumReleaseAge`, `installScripts`, `exoticSources`, `identity` where given (design: "Threat policies").
    static func parseThreats(_ reader: JSONReader) throws(PolicyError) -> ThreatPolicy {
        var threats = ThreatPolicy()
        if let text = try reader.string("minimumReleaseAge") {
            guard let age = ReleaseAge(parsing: text) else {
                throw reader.error("minimumReleaseAge", "'\(text)' is not a duration: \"0\" (off) or a whole number with m, h or d (\"30m\", \"48h\", \"7d\")")
            }
            threats.minimumReleaseAge = age
        }
        func allowList(_ key: String) throws(PolicyError) -> [Glob]? {
            guard let child = try reader.child(key) else { return nil }
            try child.onlyKeys(["allow"])
            guard let globs = try child.stringArray("allow") else { throw child.error("allow", "missing required field 'allow'") }
            for (index, glob) in globs.enumerated() where glob.isEmpty {
                throw child.error("allow", "entry \(index) is empty")
            }
            return globs.map(Glob.init)
        }
        threats.installScriptsAllow = try allowList("installScripts")
        threats.exoticSourcesAllow = try allowList("exoticSources")
        if let identity = try reader.choice("identity", ThreatPolicy.IdentityPinning.allCases.map(\.rawValue)) {
            threats.identity = ThreatPolicy.IdentityPinning(rawValue: identity)
        }
        return threats
    }

    /// Extension `"archive": {"maxUnpackedSize": "4G", "maxEntries": 100000,
    /// "maxRatio": 200, "refuseCaseCollisions": false}`: absent fields keep
    /// the defaults (`ArchiveLimits`).
    static func parseArchive(_ reader: JSONReader) throws(PolicyError) -> ArchivePolicy {
        try reader.onlyKeys(["maxUnpackedSize", "maxEntries", "maxRatio", "refuseCaseCollisions"])
        var settings = ArchivePolicy()
        if let bytes = try reader.integer("maxUnpackedSize") { settings.limits.maxTotalBytes = bytes }
        if let count = try reader.count("maxEntries") { settings.limits.maxEntries = count }
        if let ratio = try reader.number("maxRatio", atLeast: 1) { settings.limits.maxRatio = ratio }
        if let refuse = try reader.bool("refuseCaseCollisions") { settings.refuseCaseCollisions = refuse }
        return settings
    }

    /// Extension `"sigstore": {"trustedRoot": "FILE", "staging": false}`. The
    /// file is trust material: read and parsed now, so a bad one is a
    /// configuration error naming `$.sigstore.trustedRoot`, never a refusal later.
    static func parseSigstore(_ reader: JSONReader, directory: String) throws(PolicyError) -> SigstoreSettings {
        try reader.onlyKeys(["trustedRoot", "staging"])
        let staging = try reader.bool("staging") ?? false
        guard let name = try reader.nonEmptyString("trustedRoot") else { return SigstoreSettings(staging: staging) }
        if staging { throw reader.error("staging", "give 'trustedRoot' or 'staging': true, not both") }
        let path = resolve(name, in: directory)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw reader.error("trustedRoot", "cannot read trusted root \(path)")
        }
        do {
            return SigstoreSettings(trustedRoot: try SigstoreTrustedRoot.parse(Array(data), source: path), trustedRootPath: path)
        } catch {
            throw reader.error("trustedRoot", error.description)
        }
    }

    // MARK: - Keys

    static func parseKey(name: String, _ reader: JSONReader, directory: String) throws(PolicyError) -> PolicyKey {
        let typeNames = PolicyKey.Kind.allCases.map(\.rawValue)
        guard let typeName = try reader.choice("type", typeNames) else { throw reader.error("type", "missing required field 'type'") }
        guard let kind = PolicyKey.Kind(rawValue: typeName) else { throw reader.error("type", "unknown key type") }
        var namespace: String? = nil
        var identity: String? = nil
        let material: KeyMaterial
        switch kind {
        case .openpgp, .npmRegistry:
            try reader.onlyKeys(["type", "file"])
            material = try readKeyFile(reader, "file", directory: directory)
        case .publicKey:
            // A PEM public key (Sigstore `--key` style): a file or inline PEM text.
            try reader.onlyKeys(["type", "file", "pem"])
            material = try fileOrInline(reader, inline: "pem", directory: directory)
        case .minisign, .signify:
            try reader.onlyKeys(["type", "key", "file"])
            material = try fileOrInline(reader, inline: "key", directory: directory)
        case .ssh:
            try reader.onlyKeys(["type", "allowedSigners", "namespace", "identity"])
            material = try readKeyFile(reader, "allowedSigners", directory: directory)
            namespace = try reader.requiredString("namespace")
            identity = try reader.nonEmptyString("identity")
        }
        return PolicyKey(name: name, kind: kind, material: material, namespace: namespace, identity: identity)
    }

    static func fileOrInline(_ reader: JSONReader, inline: String, directory: String) throws(PolicyError) -> KeyMaterial {
        switch (reader.has(inline), reader.has("file")) {
        case (true, false):
            let text = try reader.requiredString(inline)
            return KeyMaterial(path: "\(reader.path).\(inline)", bytes: Array(text.utf8))
        case (false, true):
            return try readKeyFile(reader, "file", directory: directory)
        case (true, true):
            throw reader.error(nil, "give '\(inline)' or 'file', not both")
        case (false, false):
            throw reader.error(nil, "missing required field '\(inline)' or 'file'")
        }
    }

    static func readKeyFile(_ reader: JSONReader, _ key: String, directory: String) throws(PolicyError) -> KeyMaterial {
        let name = try reader.requiredString(key)
        let path = resolve(name, in: directory)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw reader.error(key, "cannot read key file \(path)")
        }
        guard data.count <= 16 << 20 else { throw reader.error(key, "key file \(path) is larger than 16 MiB") }
        return KeyMaterial(path: path, bytes: Array(data))
    }

    // MARK: - Rules

    static func parseMatch(_ reader: JSONReader) throws(PolicyError) -> PolicyMatch {
        try reader.onlyKeys(["url", "host", "ecosystem", "package", "index", "image"])
        var match = PolicyMatch(url: try reader.nonEmptyString("url").map(Glob.init),
                                host: try reader.nonEmptyString("host").map { Glob($0.lowercased()) },
                                ecosystem: try reader.choice("ecosystem", Ecosystem.allCases.map(\.rawValue)).flatMap(Ecosystem.init(rawValue:)),
                                package: try reader.nonEmptyString("package").map(Glob.init))
        if let index = try reader.nonEmptyString("index") {
            match.index = index == "primary" ? .primary : .url(Glob(index))
        }
        match.image = try reader.nonEmptyString("image").map(Glob.init)
        guard match.url != nil || match.host != nil || match.ecosystem != nil || match.package != nil || match.index != nil || match.image != nil else {
            throw reader.error(nil, "a match needs at least one of url, host, ecosystem, package, index, image")
        }
        if match.image != nil, let ecosystem = match.ecosystem, ecosystem != .oci {
            throw reader.error("ecosystem", "'image' matches container images (ecosystem 'oci'), not '\(ecosystem.rawValue)'")
        }
        if match.isImage, let other = ["url", "host", "package", "index"].first(where: reader.has) {
            throw reader.error(other, "an image match (image, or ecosystem 'oci') globs over REGISTRY/REPO with 'image'; '\(other)' does not apply to images")
        }
        return match
    }

    static func parseRule(_ reader: JSONReader, keys: [String: PolicyKey]) throws(PolicyError) -> PolicyRule {
        try reader.onlyKeys(["name", "match", "require", "redirectHosts", "maxSize"] + threatKeys)
        let match = try parseMatch(reader.requiredChild("match"))
        guard let items = try reader.array("require") else { throw reader.error("require", "missing required field 'require'") }
        let kinds = match.isImage ? Requirement.imageKinds : Requirement.kinds
        guard !items.isEmpty else {
            throw reader.error("require", "a rule must require at least one kind of evidence (\(kinds.joined(separator: ", ")))")
        }
        var requirements: [Requirement] = []
        for item in items {
            // {project} and {version} exist only for packages (pypi, npm): elsewhere the rule could never be satisfied.
            let package = match.ecosystem == .pypi || match.ecosystem == .npm
            requirements.append(try parseRequirement(JSONReader(item.value, file: reader.file, path: item.path), keys: keys,
                                                     image: match.isImage, package: package))
        }
        var rule = PolicyRule(name: try reader.nonEmptyString("name"), match: match, require: requirements,
                              redirectHosts: try reader.stringArray("redirectHosts")?.map { Glob($0.lowercased()) },
                              maxSize: try reader.integer("maxSize"))
        rule.threats = try parseThreats(reader)
        return rule
    }

    /// `image`: the rule matches container images, whose evidence comes from
    /// the registry (no bundle or attestation URL) and may only be `sigstore`
    /// or `provenance`.
    static func parseRequirement(_ entry: JSONReader, keys: [String: PolicyKey], image: Bool = false,
                                 package: Bool = true) throws(PolicyError) -> Requirement {
        guard entry.fields.count == 1, let kind = entry.fields.keys.first else {
            throw entry.error(nil, "each requirement is an object with exactly one evidence kind (\(Requirement.kinds.joined(separator: ", "))), found \(entry.fields.count) keys")
        }
        guard Requirement.kinds.contains(kind) else {
            throw entry.error(kind, "unknown evidence kind '\(kind)' (known: \(Requirement.kinds.joined(separator: ", ")))")
        }
        if image && !Requirement.imageKinds.contains(kind) {
            throw entry.error(kind, "'\(kind)' does not apply to container images; an image rule may require \(Requirement.imageKinds.joined(separator: " or "))")
        }
        let reader = try entry.requiredChild(kind)
        func keyReference(_ field: String, _ allowed: [PolicyKey.Kind], in reader: JSONReader) throws(PolicyError) -> String {
            let name = try reader.requiredString(field)
            guard let key = keys[name] else {
                let known = keys.keys.sorted().joined(separator: ", ")
                throw reader.error(field, "key '\(name)' is not defined in $.keys" + (known.isEmpty ? "" : " (defined: \(known))"))
            }
            guard allowed.contains(key.kind) else {
                throw reader.error(field, "key '\(name)' is of type '\(key.kind.rawValue)', which cannot verify this (expected \(allowed.map(\.rawValue).joined(separator: " or ")))")
            }
            return name
        }
        let signing: [PolicyKey.Kind] = [.openpgp, .minisign, .signify, .ssh]
        switch kind {
        case "digest":
            try reader.onlyKeys(["sha256"])
            guard let hex = try reader.string("sha256") else { return .digest(pinned: nil) }
            do { return .digest(pinned: try Digest(algorithm: .sha256, hex: hex)) } catch {
                throw reader.error("sha256", "not a sha256 digest: \(error)")
            }
        case "integrity":
            try reader.onlyKeys([])
            return .integrity
        case "checksums":
            try reader.onlyKeys(["url", "signature", "key", "entry"])
            let url = try template(reader, "url", package: package)
            var signature: DetachedSignatureSpec? = nil
            if let sig = try reader.child("signature") {
                try sig.onlyKeys(["url", "key"])
                signature = DetachedSignatureSpec(url: try template(sig, "url", package: package), key: try keyReference("key", signing, in: sig))
            }
            let clearsigned = reader.has("key") ? try keyReference("key", [.openpgp], in: reader) : nil
            if signature != nil && clearsigned != nil {
                throw reader.error("key", "give 'signature' (a detached signature) or 'key' (a clearsigned list), not both")
            }
            let entryName = reader.has("entry") ? try template(reader, "entry", requireURL: false, package: package) : nil
            return .checksums(ChecksumsRequirement(url: url, signature: signature, clearsignedKey: clearsigned, entry: entryName))
        case "signature":
            try reader.onlyKeys(["url", "key"])
            return .signature(SignatureRequirement(url: try template(reader, "url", package: package), key: try keyReference("key", signing, in: reader)))
        case "sigstore":
            try reader.onlyKeys(["bundle", "identity", "identityRegexp", "issuer", "issuerRegexp", "key", "requireLog"])
            let bundle = try imageOrTemplate(reader, "bundle", image: image, package: package)
            let signer = try signer(reader, keyReference: { r throws(PolicyError) in try keyReference("key", [.publicKey], in: r) })
            var requirement = SigstoreRequirement(bundle: bundle, signer: signer)
            if let requireLog = try reader.bool("requireLog") {
                guard image else {
                    throw reader.error("requireLog", "'requireLog' applies to image rules only (match.image or ecosystem 'oci')")
                }
                // Invariant: a keyless certificate lives minutes; only a log entry or timestamp says when it was used.
                guard requireLog || signer.key != nil else {
                    throw reader.error("requireLog", "\"requireLog\": false is allowed only with a 'key' (the policy form of cosign's --insecure-ignore-tlog); a keyless signature needs a transparency-log entry or trusted timestamp to prove its short-lived certificate was valid when it signed")
                }
                requirement.requireLog = requireLog
            }
            return .sigstore(requirement)
        case "provenance":
            try reader.onlyKeys(["attestation", "identity", "identityRegexp", "issuer", "issuerRegexp", "key",
                                 "predicateType", "sourceRepo", "sourceRef", "builderId", "signerWorkflow"])
            return .provenance(ProvenanceRequirement(
                attestation: try imageOrTemplate(reader, "attestation", image: image, package: package),
                signer: try signer(reader, keyReference: { r throws(PolicyError) in try keyReference("key", [.publicKey], in: r) }),
                predicateType: try reader.nonEmptyString("predicateType"), sourceRepo: try reader.nonEmptyString("sourceRepo"),
                sourceRef: try reader.nonEmptyString("sourceRef"), builderId: try reader.nonEmptyString("builderId"),
                signerWorkflow: try reader.nonEmptyString("signerWorkflow")))
        case "registrySignature":
            try reader.onlyKeys(["key"])
            return .registrySignature(keyName: reader.has("key") ? try keyReference("key", [.npmRegistry], in: reader) : nil)
        default: // "attestation"
            try reader.onlyKeys(["publisher", "url"])
            let publisher = try reader.requiredChild("publisher")
            try publisher.onlyKeys(["kind", "repository", "workflow", "environment"])
            guard let publisherKind = try publisher.choice("kind", ["GitHub", "GitLab", "Google"]) else {
                throw publisher.error("kind", "missing required field 'kind'")
            }
            return .attestation(AttestationRequirement(
                publisherKind: publisherKind,
                repository: try publisher.requiredString("repository"),
                workflow: try publisher.nonEmptyString("workflow"), environment: try publisher.nonEmptyString("environment"),
                url: reader.has("url") ? try template(reader, "url", package: package) : nil))
        }
    }

    /// identity/identityRegexp + issuer/issuerRegexp (one of each), or a named public key.
    static func signer(_ reader: JSONReader, keyReference: (JSONReader) throws(PolicyError) -> String) throws(PolicyError) -> SignerRequirement {
        let identity = try matcher(reader, exact: "identity", regexp: "identityRegexp")
        let issuer = try matcher(reader, exact: "issuer", regexp: "issuerRegexp")
        if reader.has("key") {
            guard identity == nil && issuer == nil else {
                throw reader.error("key", "give a 'key' or an identity and issuer, not both")
            }
            return SignerRequirement(identity: nil, issuer: nil, key: try keyReference(reader))
        }
        // Invariant 4: keyless evidence counts only against a named identity and issuer.
        guard let identity else {
            throw reader.error("identity", "missing required field 'identity' or 'identityRegexp' (or 'key'): keyless evidence needs a named signer")
        }
        guard let issuer else {
            throw reader.error("issuer", "missing required field 'issuer' or 'issuerRegexp' (or 'key'): keyless evidence needs a named OIDC issuer")
        }
        return SignerRequirement(identity: identity, issuer: issuer, key: nil)
    }

    static func matcher(_ reader: JSONReader, exact: String, regexp: String) throws(PolicyError) -> IdentityPolicy.Matcher? {
        let plain = try reader.nonEmptyString(exact)
        let pattern = try reader.nonEmptyString(regexp)
        switch (plain, pattern) {
        case (let plain?, nil): return .exact(plain)
        case (nil, let pattern?):
            // Compiled once here so a bad pattern is a load-time error, not a refusal at first use.
            let matcher = IdentityPolicy.Matcher.regex(pattern)
            do { _ = try matcher.matches("") } catch {
                throw reader.error(regexp, "invalid regular expression '\(pattern)'")
            }
            return matcher
        case (nil, nil): return nil
        case (.some, .some): throw reader.error(regexp, "give '\(exact)' or '\(regexp)', not both")
        }
    }

    /// A file rule's evidence URL (required), or nothing in an image rule,
    /// whose evidence the registry holds (refused if given, so nobody thinks it is read).
    static func imageOrTemplate(_ reader: JSONReader, _ key: String, image: Bool, package: Bool = true) throws(PolicyError) -> URLTemplate? {
        guard image else { return try template(reader, key, package: package) }
        if reader.has(key) {
            throw reader.error(key, "an image's signatures and attestations come from its registry (cosign's .sig tag and OCI referrers); leave '\(key)' out of an image rule")
        }
        return nil
    }

    static func template(_ reader: JSONReader, _ key: String, requireURL: Bool = true, package: Bool = true) throws(PolicyError) -> URLTemplate {
        let text = try reader.requiredString(key)
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else { throw reader.error(key, "unclosed '{' in '\(text)'") }
            let placeholder = String(rest[open...close])
            guard URLTemplate.placeholders.contains(placeholder) else {
                throw reader.error(key, "unknown placeholder \(placeholder) in '\(text)' (known: \(URLTemplate.placeholders.joined(separator: ", ")))")
            }
            if !package && URLTemplate.packagePlaceholders.contains(placeholder) {
                throw reader.error(key, "\(placeholder) in '\(text)' names a package's coordinates, which only a rule for ecosystem pypi or npm has: this rule could never be satisfied")
            }
            rest = rest[rest.index(after: close)...]
        }
        if requireURL {
            let lower = text.lowercased()
            guard lower.hasPrefix("{url}") || lower.hasPrefix("{dir}") || lower.hasPrefix("https://") || lower.hasPrefix("http://") else {
                throw reader.error(key, "'\(text)' must start with {url}, {dir}, https:// or http://")
            }
        }
        return URLTemplate(text: text)
    }

    static func parseException(_ reader: JSONReader) throws(PolicyError) -> PolicyException {
        try reader.onlyKeys(["match", "until", "reason"])
        let match = try parseMatch(reader.requiredChild("match"))
        let until = try reader.requiredString("until")
        guard let expiry = endOfDay(until) else {
            throw reader.error("until", "'\(until)' is not a date like 2026-12-31")
        }
        return PolicyException(match: match, until: until, expiry: expiry, reason: try reader.requiredString("reason"))
    }

    /// The instant after the last second of `YYYY-MM-DD` (UTC); nil if not such a date.
    static func endOfDay(_ text: String) -> Date? {
        UTCTime.startOfDay(text).map { $0.addingTimeInterval(86_400) }
    }

    static func absoluteDirectory(of file: String) -> String {
        let absolute = file.hasPrefix("/") ? file : FileManager.default.currentDirectoryPath + "/" + file
        return Filesystem.split(absolute).directory
    }

    static func resolve(_ path: String, in directory: String) -> String {
        path.hasPrefix("/") ? path : directory + "/" + path
    }
}
