import BouncerBase
import BouncerIO

/// The inspect stage, before anything is pinned: authentic bytes can still
/// be a wheel whose files differ from its own RECORD (a rebuilt or patched
/// wheel, which pip installs without looking) or an npm tarball whose
/// package.json names another package or version than the lock (manifest
/// confusion). Both are refused in every mode, within the policy's
/// `archive` limits. Other artifacts are not opened.
enum ArtifactInspection {
    enum Kind {
        case wheel
        case npm(name: String?, version: String?)
    }

    static func kind(of request: ArtifactRequest) -> Kind? {
        switch request.ecosystem {
        case .pypi:
            let file = URLParts.dirAndFile(request.url).file
            return file.hasSuffix(".whl") ? .wheel : nil
        case .npm: return .npm(name: request.package, version: request.version)
        case .url: return nil
        }
    }

    /// The problem that refuses the artifact, or nil when the inspection passed.
    static func inspect(_ path: String, as kind: Kind, archive: ArchivePolicy) -> EvidenceProblem? {
        let what: String
        let options: ArchiveInspector.Options
        switch kind {
        case .wheel:
            what = "the wheel check (RECORD, archive limits) failed"
            options = .init(kind: .wheel, refuseCaseCollisions: archive.refuseCaseCollisions)
        case .npm(let name, let version):
            what = "the tarball's contents do not match the lock (package.json, archive limits)"
            options = .init(kind: .npm, expectName: name, expectVersion: version, refuseCaseCollisions: archive.refuseCaseCollisions)
        }
        let report: InspectionReport
        do {
            report = try ArchiveInspector.inspect(try ArchiveReader(path: path, limits: archive.limits), options: options)
        } catch {
            let why = error.isLimit ? "\(error)" : "cannot read the archive: \(error)"
            return EvidenceProblem(code: ReasonCode(error), message: "\(what): \(why)", refusesInEveryMode: true, cause: error)
        }
        guard let first = report.problems.first else { return nil }
        let details = report.problems.map { problem in (problem.entry.map { "\($0): " } ?? "") + problem.message }
        return EvidenceProblem(code: ReasonCode(inspection: first.code), message: "\(what): \(details.joined(separator: "; "))",
                               refusesInEveryMode: true)
    }
}

extension ReasonCode {
    /// An archive inspection's own code (`wheel-record-mismatch`, `npm-name-mismatch`, …), passed through.
    init(inspection code: String) { self.init(code) }
}
