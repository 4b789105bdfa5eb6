import BouncerBase
/// PEP 376/427 RECORD verification, failing closed as formats.md §11 asks:
/// every file of the wheel (but RECORD and its signatures) must be listed
/// with a sha256-or-stronger hash and its size, and every listed file must
/// be in the archive with exactly that hash and size.
enum WheelRecordCheck {
    struct FileFacts {
        var digests: [HashAlgorithm: Digest]
        var size: UInt64
        var entry: String
    }

    /// The wheel is the distribution it is offered as: its `NAME-VERSION.dist-info`
    /// names the project (PEP 503 normal form) and version expected (the
    /// file name pip was offered, the page's project). A file listed as
    /// `p1-1.0` that is `other-2.0` inside was served and pinned as p1 1.0.
    static func checkIdentity(record: String?, expectName: String?, expectVersion: String?, report: inout InspectionReport) {
        guard expectName != nil || expectVersion != nil, let record else { return }
        let distInfo = String(record.dropLast("/RECORD".count))
        let stem = distInfo.dropLast(".dist-info".count)
        let parts = stem.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        let name = String(parts[0]), version = parts.count > 1 ? String(parts[1]) : ""
        if let expectName, PythonPackageName.normalised(name) != PythonPackageName.normalised(expectName) {
            report.add(code: "wheel-name-mismatch", entry: distInfo, "\(distInfo) is the distribution '\(name)', expected '\(expectName)'")
        }
        if let expectVersion, version.lowercased() != expectVersion.lowercased().replacing("-", with: "_") {
            report.add(code: "wheel-version-mismatch", entry: distInfo, "\(distInfo) is version '\(version)', expected '\(expectVersion)'")
        }
    }

    /// - Parameters:
    ///   - files: regular files of the archive, keyed by normalised path.
    ///   - records: normalised paths of `*.dist-info/RECORD` files found.
    static func check(records: [String: [UInt8]], files: [String: FileFacts],
                      report: inout InspectionReport) {
        guard records.count == 1, let (recordPath, bytes) = records.first else {
            let why = records.isEmpty ? "the wheel has no .dist-info/RECORD"
                : "the wheel has several RECORD files: " + records.keys.sorted().joined(separator: ", ")
            report.add(code: "wheel-record-missing", entry: nil, why)
            report.wheel = .init(record: nil, verified: 0)
            return
        }
        report.wheel = .init(record: recordPath, verified: 0)
        let rows: [RecordCSV.Row]
        do {
            rows = try RecordCSV.parse(bytes)
        } catch {
            report.add(code: "wheel-record-malformed", entry: recordPath, "\(recordPath) is not valid CSV: \(error)")
            return
        }
        let distInfo = String(recordPath.dropLast("/RECORD".count))
        let exempt: Set<String> = [recordPath, distInfo + "/RECORD.jws", distInfo + "/RECORD.p7s"]
        var listed: Set<String> = []
        var verified = 0
        for row in rows {
            guard row.fields.count == 3 else {
                report.add(code: "wheel-record-malformed", entry: recordPath,
                           "\(recordPath) line \(row.line): expected 3 fields (path,hash,size), found \(row.fields.count)")
                continue
            }
            let (name, hash, size) = (row.fields[0], row.fields[1], row.fields[2])
            let path: String
            do {
                path = try EntryPath.components(name).joined(separator: "/")
            } catch {
                report.add(code: "wheel-record-unsafe-path", entry: name, "RECORD line \(row.line) lists an unsafe path: \(error)")
                continue
            }
            guard listed.insert(path).inserted else {
                report.add(code: "wheel-record-duplicate", entry: name, "RECORD lists '\(quoted(name))' more than once")
                continue
            }
            if exempt.contains(path) { continue }
            guard let facts = files[path] else {
                report.add(code: "wheel-record-missing-file", entry: name,
                           "'\(quoted(name))' is listed in RECORD but is not in the wheel")
                continue
            }
            if let problem = mismatch(name: name, hash: hash, size: size, facts: facts) {
                report.add(code: problem.code, entry: name, problem.message)
            } else {
                verified += 1
            }
        }
        for (path, facts) in files where !listed.contains(path) && !exempt.contains(path) {
            report.add(code: "wheel-record-unlisted-file", entry: facts.entry,
                       "'\(quoted(facts.entry))' is in the wheel but not listed in RECORD")
        }
        report.wheel?.verified = verified
    }

    private static func mismatch(name: String, hash: String, size: String,
                                 facts: FileFacts) -> (code: String, message: String)? {
        guard let equals = hash.firstIndex(of: "=") else {
            return ("wheel-record-no-hash", "RECORD gives no hash for '\(quoted(name))'")
        }
        let algorithmName = String(hash[..<equals]).lowercased()
        let encoded = String(hash[hash.index(after: equals)...])
        guard let algorithm = HashAlgorithm(name: algorithmName),
              [.sha256, .sha384, .sha512].contains(algorithm) else {
            return ("wheel-record-weak-hash", "RECORD hashes '\(quoted(name))' with '\(quoted(algorithmName))'; only sha256 or stronger counts")
        }
        // Unpadded is the rule; a padded spelling is tolerated, the bytes decide.
        guard let bytes = Base64.decode(encoded, alphabet: .urlSafe, padding: false)
                ?? Base64.decode(encoded, alphabet: .urlSafe, padding: true),
              let expected = try? Digest(algorithm: algorithm, bytes: bytes) else {
            return ("wheel-record-bad-hash", "RECORD hash for '\(quoted(name))' is not urlsafe base64 of a \(algorithm.rawValue) digest")
        }
        guard let actual = facts.digests[algorithm], actual.matches(expected) else {
            return ("wheel-record-hash-mismatch", "'\(quoted(name))' does not match its RECORD \(algorithm.rawValue) hash")
        }
        if !size.isEmpty {
            guard let listedSize = UInt64(size), listedSize == facts.size else {
                return ("wheel-record-size-mismatch", "'\(quoted(name))' has \(facts.size) bytes, RECORD says \(quoted(size))")
            }
        }
        return nil
    }
}
