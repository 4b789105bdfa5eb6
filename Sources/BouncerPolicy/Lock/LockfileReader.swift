import BouncerBase

/// Strict reading of bouncer.lock: every key known, every field of the
/// right type, every entry's key the one Bouncer would write for it. The lock
/// is machine-written, but people merge it, resolve conflicts in it and edit
/// it by hand; a field Bouncer would drop on its next rewrite (a typo, a
/// stray "comment"), or an entry whose key names another package than its
/// fields, is named by its JSON path rather than quietly taken.
enum LockfileReader {
    static func read(_ bytes: [UInt8], file: String) throws(BouncerError) -> Lockfile {
        let root: JSON
        do { root = try JSON.parse(file: bytes) } catch {
            throw invalid(file, "line \(error.line), column \(error.column): \(error.why)")
        }
        do {
            let top = try JSONReader(root, file: file, path: "$")
            try top.onlyKeys(["artifacts", "version"])
            guard let versionValue = top.fields["version"] else { throw top.error("version", "missing required field 'version'") }
            guard case .integer(let version) = versionValue else {
                throw top.error("version", "expected a whole number, found \(JSONReader.show(versionValue))")
            }
            guard version == 1 else {
                throw BouncerError(.configuration, code: "lock-invalid", "\(file): unsupported lockfile version \(version)",
                                   hint: "this lock was written by another version of Bouncer")
            }
            guard let items = try top.array("artifacts") else { throw top.error("artifacts", "missing required field 'artifacts'") }
            var artifacts: [LockEntry] = []
            var seen: [String: String] = [:]
            for item in items {
                let entry = try self.entry(JSONReader(item.value, file: file, path: item.path))
                if let first = seen[entry.key] {
                    throw PolicyError(file: file, path: item.path, "duplicate entry '\(entry.key)' (first at \(first))")
                }
                seen[entry.key] = item.path
                artifacts.append(entry)
            }
            return Lockfile(version: Int(version), artifacts: artifacts)
        } catch let error as PolicyError {
            throw invalid(file, "\(error.path): \(error.reason)")
        } catch let error as BouncerError {
            throw error
        } catch {
            throw invalid(file, "\(error)")
        }
    }

    private static func invalid(_ file: String, _ reason: String) -> BouncerError {
        BouncerError(.configuration, code: "lock-invalid", "\(file): not a valid bouncer.lock: \(reason)",
                     hint: "restore it from version control, or remove it to start over")
    }

    private static func entry(_ reader: JSONReader) throws(PolicyError) -> LockEntry {
        try reader.onlyKeys(["ecosystem", "evidence", "index", "key", "package", "rule", "sha256", "size", "url", "version"])
        let key = try reader.requiredString("key")
        let url = try reader.requiredString("url")
        guard let ecosystemName = try reader.choice("ecosystem", Ecosystem.allCases.map(\.rawValue)),
              let ecosystem = Ecosystem(rawValue: ecosystemName) else {
            throw reader.error("ecosystem", "missing required field 'ecosystem'")
        }
        let package = try reader.nonEmptyString("package")
        let version = try reader.nonEmptyString("version")
        let sha256 = try reader.requiredString("sha256")
        guard (try? Digest(algorithm: .sha256, hex: sha256)) != nil else {
            throw reader.error("sha256", "'\(sha256)' is not a sha256 digest (64 hexadecimal digits)")
        }
        guard let sizeValue = reader.fields["size"] else { throw reader.error("size", "missing required field 'size'") }
        guard case .integer(let size) = sizeValue, size >= 0 else {
            throw reader.error("size", "expected a whole number of bytes, 0 or more, found \(JSONReader.show(sizeValue))")
        }
        let rule = try reader.requiredString("rule")
        guard let items = try reader.array("evidence") else { throw reader.error("evidence", "missing required field 'evidence'") }
        var evidence: [LockEvidence] = []
        for item in items {
            let record = try JSONReader(item.value, file: reader.file, path: item.path)
            try record.onlyKeys(["issuer", "kind", "logIndex", "signer", "source"])
            guard let kindName = try record.choice("kind", EvidenceKind.allCases.map(\.rawValue)),
                  let kind = EvidenceKind(rawValue: kindName) else {
                throw record.error("kind", "missing required field 'kind'")
            }
            evidence.append(LockEvidence(kind: kind, signer: try record.string("signer"), issuer: try record.string("issuer"),
                                         source: try record.string("source"), logIndex: try record.string("logIndex")))
        }
        var index: LockIndex? = nil
        if let place = try reader.child("index") {
            try place.onlyKeys(["primary", "url"])
            guard let primary = try place.bool("primary") else { throw place.error("primary", "missing required field 'primary'") }
            index = LockIndex(PackageIndex(url: try place.requiredString("url"), isPrimary: primary))
        }
        // The key is how every later run finds the entry: it must say what the fields say.
        let expected: String
        switch ecosystem {
        case .oci: expected = "oci:"
        case .url: expected = "url:"
        case .pypi, .npm:
            if let package, let version { expected = "\(ecosystem.rawValue):\(package)@\(version)" } else { expected = "url:" }
        }
        let matches = expected.hasSuffix(":") ? key.hasPrefix(expected) && key.count > expected.count : key == expected
        guard matches else {
            let wanted = expected.hasSuffix(":") ? "a key starting '\(expected)'" : "the key '\(expected)'"
            throw reader.error("key", "'\(key)' does not match the entry's fields (ecosystem \(ecosystem.rawValue)"
                               + (package.map { ", package \($0)" } ?? "") + (version.map { ", version \($0)" } ?? "")
                               + "): expected \(wanted)")
        }
        return LockEntry(key: key, url: url, ecosystem: ecosystem, package: package, version: version, sha256: sha256,
                         size: UInt64(size), rule: rule, evidence: evidence, index: index)
    }
}
