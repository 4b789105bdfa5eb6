import Foundation
#if canImport(Glibc)
import Glibc
#endif
import NIOHTTP1
import BouncerBase
import BouncerIO
import BouncerPolicy

/// `BASE/pypi/simple/`, `BASE/pypi/simple/<project>/`, `BASE/pypi/files/<project>/<file>[.metadata]`.
extension RegistryProxy {
    /// What upstream is asked for: its JSON form first (it alone carries PEP 700's upload-time and size).
    static let upstreamAccept = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1"

    func pypi(_ segments: [String], accept: String?, base: String) async -> Reply {
        guard let upstream = settings.pypiUpstream else {
            return .text(.badGateway, "no PyPI upstream: pip names no index here; start bouncer serve with --pypi-upstream URL")
        }
        switch segments.count {
        case 1 where segments[0] == "simple":
            return await pypiRoot(upstream: upstream, accept: accept, base: base)
        case 2 where segments[0] == "simple":
            return await pypiProject(segments[1], upstream: upstream, accept: accept, base: base)
        case 3 where segments[0] == "files":
            return await pypiFile(project: segments[1], filename: segments[2], upstream: upstream)
        default:
            return .text(.notFound, "not found: /pypi/simple/ and /pypi/simple/<project>/ are served")
        }
    }

    private func pypiRoot(upstream: String, accept: String?, base: String) async -> Reply {
        guard let format = SimpleIndexRenderer.negotiate(accept) else {
            return .text(.notAcceptable, "no acceptable type: this index serves PEP 691 JSON and PEP 503 HTML")
        }
        let client = self.upstream
        let fetched = await blocking { client.document(upstream, accept: Self.upstreamAccept) }
        guard let fetched else { return .text(.serviceUnavailable, "the proxy is stopping") }
        switch fetched {
        case .failure(let failure):
            log.error("\(failure.status) \(Redaction.url(upstream)): \(failure.reason)")
            return .text(HTTPResponseStatus(statusCode: failure.status), failure.reason)
        case .success(let document):
            do {
                let names = try SimpleIndexParser.projects(document.bytes, contentType: document.contentType)
                let rendered = SimpleIndexRenderer.root(names, base: base, format: format)
                return .bytes(status: .ok, type: rendered.type, body: rendered.body, headers: [("Vary", "Accept")])
            } catch {
                return .text(.badGateway, "upstream index \(Redaction.url(upstream)): \(error)")
            }
        }
    }

    /// Reads a project page from upstream (always fresh) and remembers it for the file requests that follow.
    func projectPage(_ name: String, upstream: String) async -> Result<ProjectPage, UpstreamFailure> {
        let url = upstream + PathCoding.encode(name) + "/"
        let client = self.upstream
        guard let fetched = await blocking({ client.document(url, accept: Self.upstreamAccept) }) else {
            return .failure(UpstreamFailure(status: 503, reason: "the proxy is stopping"))
        }
        switch fetched {
        case .failure(let failure):
            return .failure(failure)
        case .success(let document):
            do {
                let page = try SimpleIndexParser.project(document.bytes, contentType: document.contentType,
                                                         pageURL: document.url, name: name)
                pypiPages.set(name, page)
                return .success(page)
            } catch {
                return .failure(UpstreamFailure(status: 502, reason: "upstream page \(Redaction.url(url)): \(error)"))
            }
        }
    }

    /// Why the proxy never offers a file, or nil when the guard may decide.
    func hiddenReason(_ file: IndexFile, project: String, upstream: String) -> String? {
        if let reason = file.yanked {
            return "\(file.filename) is yanked upstream\(reason.isEmpty ? "" : " (\(reason))"), and yanked files are not offered"
        }
        let request = Self.request(for: file, project: project, upstream: upstream)
        let policy = settings.policy
        if !file.isWheel && policy.mode == .enforce && !policy.threats(for: request).allowsInstallScripts(of: project)
            && policy.activeException(for: request, at: Date()) == nil {
            return "\(file.filename) is a source distribution: building it runs its code, and in enforce mode the proxy offers wheels only (unless installScripts.allow names \(project))"
        }
        if let tooNew = policy.releaseAgeRefusal(request, at: Date()) {
            return "\(file.filename): \(tooNew)"
        }
        return nil
    }

    /// What the guard is asked for a listed file: the page's digests and its PEP 700 upload-time.
    static func request(for file: IndexFile, project: String, upstream: String) -> ArtifactRequest {
        var claimed: [Digest] = []
        for algorithm in [HashAlgorithm.sha256, .sha384, .sha512] {
            if let hex = file.hashes[algorithm.rawValue], let digest = try? Digest(algorithm: algorithm, hex: hex) { claimed.append(digest) }
        }
        let page = Redaction.url(upstream + PathCoding.encode(project) + "/")
        // The proxy serves one upstream: for the policy it is the primary index.
        return ArtifactRequest(url: file.url, ecosystem: .pypi, package: project,
                               version: FileNames.version(file.filename, project: project), claimedDigests: claimed,
                               index: PackageIndex(url: upstream, isPrimary: true),
                               releaseTime: file.uploadTime.flatMap { ReleaseTime(rfc3339: $0, source: "upload-time on \(page)") })
    }

    private func pypiProject(_ requested: String, upstream: String, accept: String?, base: String) async -> Reply {
        guard PythonName.isValid(requested) else { return .text(.notFound, "not a valid project name: \(requested)") }
        guard let format = SimpleIndexRenderer.negotiate(accept) else {
            return .text(.notAcceptable, "no acceptable type: this index serves PEP 691 JSON and PEP 503 HTML")
        }
        let name = PythonName.normalised(requested)
        switch await projectPage(name, upstream: upstream) {
        case .failure(let failure):
            if failure.status != 404 { log.error("\(failure.status) pypi:\(name): \(failure.reason)") }
            return .text(HTTPResponseStatus(statusCode: failure.status), failure.reason)
        case .success(let page):
            let offered = page.files.filter { hiddenReason($0, project: name, upstream: upstream) == nil && FileNames.isSafe($0.filename) }
            let rendered = SimpleIndexRenderer.project(page, files: offered, base: base, format: format)
            return .bytes(status: .ok, type: rendered.type, body: rendered.body, headers: [("Vary", "Accept")])
        }
    }

    private func pypiFile(project requested: String, filename: String, upstream: String) async -> Reply {
        guard PythonName.isValid(requested), FileNames.isSafe(filename) else { return .text(.notFound, "not found: \(filename)") }
        let project = PythonName.normalised(requested)
        let isMetadata = filename.hasSuffix(".metadata")
        let distribution = isMetadata ? String(filename.dropLast(".metadata".count)) : filename
        // The page the client was just shown; read again when it is gone or does not list the file.
        var page = pypiPages.get(project)
        if page?.files.contains(where: { $0.filename == distribution }) != true {
            switch await projectPage(project, upstream: upstream) {
            case .success(let fresh): page = fresh
            case .failure(let failure): return .text(HTTPResponseStatus(statusCode: failure.status), failure.reason)
            }
        }
        guard let file = page?.files.first(where: { $0.filename == distribution }) else {
            return .text(.notFound, "\(distribution) is not listed on the upstream page of \(project)")
        }
        if let hidden = hiddenReason(file, project: project, upstream: upstream) {
            log.error("403 pypi:\(project) \(distribution): \(hidden)")
            return .text(.forbidden, "refused: " + hidden)
        }
        return isMetadata ? await metadata(file, project: project) : await artifact(file, project: project, upstream: upstream)
    }

    private func artifact(_ file: IndexFile, project: String, upstream: String) async -> Reply {
        let request = Self.request(for: file, project: project, upstream: upstream)
        return respond(await gate.verify(request), type: file.isWheel ? "application/zip" : "application/octet-stream")
    }

    /// PEP 658 metadata: served only against the digest the index states for it.
    private func metadata(_ file: IndexFile, project: String) async -> Reply {
        guard let hashes = file.coreMetadata,
              let digest = [HashAlgorithm.sha256, .sha384, .sha512].lazy.compactMap({ algorithm in
                  hashes[algorithm.rawValue].flatMap { try? Digest(algorithm: algorithm, hex: $0) } }).first else {
            return .text(.notFound, "upstream offers no metadata file with a digest for \(file.filename)")
        }
        let client = upstream
        let url = file.url + ".metadata"
        guard let fetched = await blocking({ client.verifiedFile(url, expected: digest, maxSize: 16 << 20) }) else {
            return .text(.serviceUnavailable, "the proxy is stopping")
        }
        switch fetched {
        case .failure(let failure):
            log.error("\(failure.status) pypi:\(project) \(file.filename).metadata: \(failure.reason)")
            return .text(HTTPResponseStatus(statusCode: failure.status), failure.reason)
        case .success(let (path, size)):
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            unlink(path)
            guard fd >= 0 else { return .text(.internalServerError, "cannot open the downloaded metadata") }
            return .file(fd: fd, size: size, type: "text/plain; charset=utf-8")
        }
    }

    /// The guard's outcome as a reply: verified bytes, 403 with the reason, or 502 when upstream failed.
    func respond(_ result: GateResult, type: String) -> Reply {
        switch result {
        case .allowed(let fd, let size, let outcome):
            for line in outcome.humanLines() { log.info(line) }
            return .file(fd: fd, size: size, type: type)
        case .refused(let outcome):
            let status: HTTPResponseStatus = outcome.family == .transport ? .badGateway : .forbidden
            let reason = outcome.error.description
            log.error("\(status.code) \(reason)")
            return .text(status, reason)
        case .failed(let reason):
            log.error("503 \(reason)")
            return .text(.serviceUnavailable, reason)
        }
    }
}
