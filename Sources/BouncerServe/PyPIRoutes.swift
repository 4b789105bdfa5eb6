import FoundationEssentials
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

    /// `userAgent`: pip's and uv's say what the client runs on (which wheel it will fetch next).
    func pypi(_ segments: [String], accept: String?, base: String, userAgent: String? = nil) async -> Reply {
        let sources = await pypiSources()
        guard sources.primary != nil || !sources.extras.isEmpty || !sources.findLinks.isEmpty else {
            return .text(.badGateway, "no PyPI upstream: pip names no index here; start bouncer serve with --pypi-upstream URL")
        }
        switch segments.count {
        case 1 where segments[0] == "simple":
            return await pypiRoot(sources, accept: accept, base: base)
        case 2 where segments[0] == "simple":
            return await pypiProject(segments[1], sources: sources, accept: accept, base: base, userAgent: userAgent)
        case 3 where segments[0] == "files":
            return await pypiFile(project: segments[1], filename: segments[2], sources: sources)
        default:
            return .text(.notFound, "not found: /pypi/simple/ and /pypi/simple/<project>/ are served")
        }
    }

    /// The sources, with pip's own index filled in (once) when none was named.
    func pypiSources() async -> PyPISources {
        let sources = settings.pypi
        guard sources.primaryFromPip, let lazy = lazyPip else { return sources }
        return sources.adding(await blocking { lazy.value() } ?? PipUpstreams(index: nil))
    }

    private func pypiRoot(_ sources: PyPISources, accept: String?, base: String) async -> Reply {
        guard let format = SimpleIndexRenderer.negotiate(accept) else {
            return .text(.notAcceptable, "no acceptable type: this index serves PEP 691 JSON and PEP 503 HTML")
        }
        // The project list is the primary index's (pip never reads it; uv and people do).
        guard let upstream = sources.primary ?? sources.extras.first else {
            let rendered = SimpleIndexRenderer.root([], base: base, format: format)
            return .bytes(status: .ok, type: rendered.type, body: rendered.body, headers: [("Vary", "Accept")])
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

    /// One remote page of `name`: an index's project page, or a find-links page (its links filtered to the project).
    private func remotePage(_ url: String, name: String, index: PackageIndex?, filter: Bool) async -> Result<ProjectPage, UpstreamFailure> {
        let client = self.upstream
        guard let fetched = await blocking({ client.document(url, accept: Self.upstreamAccept) }) else {
            return .failure(UpstreamFailure(status: 503, reason: "the proxy is stopping"))
        }
        switch fetched {
        case .failure(let failure):
            return .failure(failure)
        case .success(let document):
            do {
                var page = try SimpleIndexParser.project(document.bytes, contentType: document.contentType,
                                                         pageURL: document.url, name: name)
                if filter { page.files = page.files.filter { FileNames.project($0.filename) == name } }
                for position in page.files.indices {
                    page.files[position].index = index
                    page.files[position].page = Redaction.url(url)
                }
                return .success(page)
            } catch {
                return .failure(UpstreamFailure(status: 502, reason: "upstream page \(Redaction.url(url)): \(error)"))
            }
        }
    }

    /// A project's files from every source, merged in pip's order (a file
    /// name seen on an earlier source hides the same name later), and
    /// remembered for the file requests that follow. Fails only when no
    /// source could be read, with the first failure that is not a 404.
    func projectPage(_ name: String, sources: PyPISources) async -> Result<ProjectPage, UpstreamFailure> {
        var remote: [(url: String, index: PackageIndex?, filter: Bool)] = []
        if let primary = sources.primary { remote.append((primary + PathCoding.encode(name) + "/", PackageIndex(url: primary, isPrimary: true), false)) }
        for extra in sources.extras { remote.append((extra + PathCoding.encode(name) + "/", PackageIndex(url: extra, isPrimary: false), false)) }
        for link in sources.findLinks where PipConfiguration.isRemote(link) { remote.append((link, nil, true)) }
        let results = await withTaskGroup(of: (Int, Result<ProjectPage, UpstreamFailure>).self) { group in
            for (position, source) in remote.enumerated() {
                group.addTask { (position, await self.remotePage(source.url, name: name, index: source.index, filter: source.filter)) }
            }
            var ordered = [Result<ProjectPage, UpstreamFailure>?](repeating: nil, count: remote.count)
            for await (position, result) in group { ordered[position] = result }
            return ordered.compactMap { $0 }
        }
        var merged = ProjectPage(name: name, files: [], hasPEP700: !results.isEmpty)
        var seen: Set<String> = []
        var failures: [UpstreamFailure] = []
        var anyPage = false
        for result in results {
            switch result {
            case .success(let page):
                anyPage = true
                merged.hasPEP700 = merged.hasPEP700 && page.hasPEP700
                for file in page.files where seen.insert(file.filename).inserted { merged.files.append(file) }
            case .failure(let failure):
                failures.append(failure)
            }
        }
        for directory in sources.findLinks where !PipConfiguration.isRemote(directory) {
            anyPage = true
            for file in Self.localFiles(directory, project: name) where seen.insert(file.filename).inserted { merged.files.append(file) }
        }
        if merged.files.isEmpty && !anyPage {
            return .failure(failures.first { $0.status != 404 } ?? failures.first
                            ?? UpstreamFailure(status: 404, reason: "\(name) is on no index the proxy serves"))
        }
        if merged.files.isEmpty, let failure = failures.first(where: { $0.status != 404 }) { return .failure(failure) }
        pypiPages.set(name, merged)
        return .success(merged)
    }

    /// A local find-links directory's files of one project, as `file://` links.
    static func localFiles(_ directory: String, project: String) -> [IndexFile] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        let root = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        return names.sorted().compactMap { filename in
            guard FileNames.isSafe(filename), FileNames.project(filename) == project else { return nil }
            var file = IndexFile(filename: filename, url: "file://" + PathCoding.encodePath(root + "/" + filename), hashes: [:])
            file.page = root + "/"
            return file
        }
    }

    /// Why the proxy never offers a file, or nil when the guard may decide.
    func hiddenReason(_ file: IndexFile, project: String, sources: PyPISources) -> String? {
        if let reason = file.yanked {
            return "\(file.filename) is yanked upstream\(reason.isEmpty ? "" : " (\(reason))"), and yanked files are not offered"
        }
        let request = Self.request(for: file, project: project, sources: sources)
        let policy = settings.policy
        let now = Date()
        let excepted = policy.activeException(for: request, at: now) != nil
        if !file.isWheel && policy.mode == .enforce && !policy.threats(for: request).allowsInstallScripts(of: project) && !excepted {
            return "\(file.filename) is a source distribution: building it runs its code, and in enforce mode the proxy offers wheels only (unless installScripts.allow names \(project))"
        }
        // Dependency confusion: a file from an index no rule trusts is not offered, so pip resolves to one that is.
        if policy.mode == .enforce && policy.unmatched == .deny && policy.rule(for: request) == nil && !excepted {
            let from = file.index.map { "the index \(Redaction.url($0.url))" } ?? "\(file.page)"
            return "\(file.filename) from \(from): no rule in \(policy.file) covers it (unmatched: deny)"
        }
        if let tooNew = policy.releaseAgeRefusal(request, at: now) {
            return "\(file.filename): \(tooNew)"
        }
        return nil
    }

    /// What the guard is asked for a listed file: the page's digests, the
    /// requirement's `--hash` list, and its PEP 700 upload-time.
    static func request(for file: IndexFile, project: String, sources: PyPISources) -> ArtifactRequest {
        let listed = file.listedDigests
        var request = ArtifactRequest(url: file.url, ecosystem: .pypi, package: project,
                                      version: FileNames.version(file.filename, project: project), claimedDigests: listed,
                                      index: file.index,
                                      releaseTime: file.uploadTime.flatMap { ReleaseTime(rfc3339: $0, source: "upload-time on \(file.page)") })
        request.provenanceURL = file.provenance
        let hashes = sources.statedHashes[project] ?? []
        if hashes.count == 1 {
            if !request.claimedDigests.contains(hashes[0]) { request.claimedDigests.append(hashes[0]) }
        } else if !hashes.isEmpty {
            // Several (pip-compile lists one per file of the release): the ones the page states for
            // this file are claimed; when the page states none of them, the bytes must match one.
            let onPage = hashes.filter { listed.contains($0) }
            if onPage.isEmpty { request.statedAlternatives = hashes }
        }
        return request
    }

    private func pypiProject(_ requested: String, sources: PyPISources, accept: String?, base: String, userAgent: String?) async -> Reply {
        guard PythonName.isValid(requested) else { return .text(.notFound, "not a valid project name: \(requested)") }
        guard let format = SimpleIndexRenderer.negotiate(accept) else {
            return .text(.notAcceptable, "no acceptable type: this index serves PEP 691 JSON and PEP 503 HTML")
        }
        let name = PythonName.normalised(requested)
        let ahead: AheadPage
        if let read = await pagesAhead.take(name) {
            ahead = read
        } else {
            switch await projectPage(name, sources: sources) {
            case .failure(let failure):
                if failure.status != 404 { log.unreachable("pypi:\(name)", status: failure.status, reason: failure.reason) }
                return .text(HTTPResponseStatus(statusCode: failure.status), failure.reason)
            case .success(let page):
                ahead = sorted(page, project: name, sources: sources, base: nil)
            }
        }
        for left in ahead.hidden { log.hidden(left.request, file: left.file, reason: left.reason) }
        let platform = userAgent.flatMap(ClientPlatform.init(userAgent:))
        if let platform { clientPlatform.learn(platform) }
        // Verified ahead while the client reads the page: the file it will most likely fetch next.
        if let likely = Self.likelyPick(ahead.offered, project: name, platform: platform) {
            gate.anticipate(Self.request(for: likely, project: name, sources: sources))
        }
        if case .json = format, let rendered = ahead.json, rendered.base == base {
            return .bytes(status: .ok, type: rendered.type, body: rendered.body, headers: [("Vary", "Accept")])
        }
        let rendered = SimpleIndexRenderer.project(ahead.page, files: ahead.offered, base: base, format: format)
        return .bytes(status: .ok, type: rendered.type, body: rendered.body, headers: [("Vary", "Accept")])
    }

    /// A page split into what is offered and what is left off (and why), and,
    /// given `base`, already rendered as PEP 691 JSON (what pip asks for).
    func sorted(_ page: ProjectPage, project: String, sources: PyPISources, base: String?) -> AheadPage {
        var offered: [IndexFile] = []
        var hidden: [AheadPage.Hidden] = []
        for file in page.files where FileNames.isSafe(file.filename) {
            guard let reason = hiddenReason(file, project: project, sources: sources) else {
                offered.append(file)
                continue
            }
            // Yanked files are left off silently (pip would pass them over too).
            if file.yanked == nil { hidden.append(.init(request: Self.request(for: file, project: project, sources: sources), file: file.filename, reason: reason)) }
        }
        var ahead = AheadPage(page: page, offered: offered, hidden: hidden)
        if let base {
            let rendered = SimpleIndexRenderer.project(page, files: offered, base: base, format: .json)
            ahead.json = (base, rendered.type, rendered.body)
        }
        return ahead
    }

    private func pypiFile(project requested: String, filename: String, sources: PyPISources) async -> Reply {
        guard PythonName.isValid(requested), FileNames.isSafe(filename) else { return .text(.notFound, "not found: \(filename)") }
        let project = PythonName.normalised(requested)
        let isMetadata = filename.hasSuffix(".metadata")
        let distribution = isMetadata ? String(filename.dropLast(".metadata".count)) : filename
        // The page the client was just shown; read again when it is gone or does not list the file.
        var page = pypiPages.get(project)
        if page?.files.contains(where: { $0.filename == distribution }) != true {
            switch await projectPage(project, sources: sources) {
            case .success(let fresh): page = fresh
            case .failure(let failure): return .text(HTTPResponseStatus(statusCode: failure.status), failure.reason)
            }
        }
        guard let file = page?.files.first(where: { $0.filename == distribution }) else {
            return .text(.notFound, "\(distribution) is not listed on the upstream page of \(project)")
        }
        if let hidden = hiddenReason(file, project: project, sources: sources) {
            let request = Self.request(for: file, project: project, sources: sources)
            log.refused(request, message: "refused: " + hidden, status: 403)
            return .text(.forbidden, "refused: " + hidden)
        }
        return isMetadata ? await metadata(file, project: project, sources: sources) : await artifact(file, project: project, sources: sources)
    }

    /// Reads the pages of the projects the pip shim's command names while
    /// pip starts, and verifies ahead the file it will fetch of each: the
    /// pinned version's file whose digest the requirement states, else its
    /// only universal wheel, else — once pip's first request has said what
    /// it runs on — the platform wheel its tags prefer; unpinned, the newest
    /// release's (`likelyPick`).
    func prefetchExpected() async {
        await prefetch(settings.pypi.expected)
    }

    /// What a verified wheel requires, read ahead too when this proxy serves
    /// one install (it was given `--pypi-expect`): the client asks for those
    /// pages next. A proxy serving everyone does not guess.
    func learn(from request: ArtifactRequest, path: String) {
        guard !settings.pypi.expected.isEmpty, request.ecosystem == .pypi,
              URLParts.dirAndFile(request.url).file.lowercased().hasSuffix(".whl") else { return }
        let wanted = WheelDependencies.read(path).map { PyPISources.ExpectedProject(name: $0) }
        guard !wanted.isEmpty else { return }
        // Started from a worker of the proxy's own pool: this may run on a thread verifying ahead, at
        // a lower priority, and a thread the task's executor started from there would keep it.
        pool.submit { state in
            guard case .active = state else { return }
            Task { await self.prefetch(wanted) }
        }
    }

    /// Reads the pages of `projects` (each project once per proxy) and
    /// verifies ahead the file the client will fetch of each.
    func prefetch(_ projects: [PyPISources.ExpectedProject]) async {
        let fresh = projects.filter { prefetched.insert($0.name) }
        guard !fresh.isEmpty else { return }
        let sources = await pypiSources()
        await withTaskGroup(of: Void.self) { group in
            for (position, project) in fresh.enumerated() {
                // Two pages at a time: with two files verified ahead and the client's own request, a small
                // index (Python's http.server: one request at a time, an accept queue of five) is never
                // sent more connections than it queues; each one it dropped cost ~0.4 s of retransmission.
                if position >= 2 { await group.next() }
                // A client asking for the page meanwhile waits for this read instead of starting another.
                let base = servingBase.value
                let reading = Task { () -> AheadPage? in
                    guard case .success(let page) = await self.projectPage(project.name, sources: sources) else { return nil }
                    return self.sorted(page, project: project.name, sources: sources, base: base)
                }
                pagesAhead.start(project.name, reading)
                group.addTask {
                    let read = await reading.value
                    self.pagesAhead.finish(project.name, read)
                    guard let offered = read?.offered else { return }
                    let stated = sources.statedHashes[project.name] ?? []
                    if let file = Self.expectedPick(offered, project: project, stated: stated) {
                        self.gate.anticipate(Self.request(for: file, project: project.name, sources: sources))
                    } else if project.version != nil {
                        // Platform wheels only: picked once the client's platform is known.
                        self.clientPlatform.whenKnown { platform in
                            guard let file = Self.expectedPick(offered, project: project, stated: stated, platform: platform) else { return }
                            self.gate.anticipate(Self.request(for: file, project: project.name, sources: sources))
                        }
                    }
                }
            }
        }
    }

    static func expectedPick(_ offered: [IndexFile], project: PyPISources.ExpectedProject, stated: [Digest],
                             platform: ClientPlatform? = nil) -> IndexFile? {
        guard let version = project.version.flatMap(ReleaseNumber.init) else {
            return project.version == nil ? likelyPick(offered, project: project.name) : nil
        }
        let files = offered.filter { file in
            FileNames.version(file.filename, project: project.name).flatMap(ReleaseNumber.init) == version
        }
        let matching = files.filter { file in
            let listed = file.listedDigests
            return stated.contains { digest in listed.contains(where: digest.matches) }
        }
        if matching.count == 1 { return matching[0] }
        let wheels = files.filter(\.isWheel)
        if wheels.count == 1 && wheels[0].isUniversalWheel { return wheels[0] }
        return platform.flatMap { Self.preferred(wheels, by: $0) }
    }

    /// The file pip fetches after reading a page without PEP 658 metadata,
    /// when it can be told without knowing the client's platform or
    /// specifier: the newest final release's only wheel, a universal one.
    /// With metadata on the page pip fetches that first, and the metadata
    /// request names the wheel exactly (see `metadata`).
    static func likelyPick(_ offered: [IndexFile], project: String, platform: ClientPlatform? = nil) -> IndexFile? {
        var newest: ReleaseNumber? = nil
        var files: [IndexFile] = []
        for file in offered {
            guard let text = FileNames.version(file.filename, project: project), let version = ReleaseNumber(text) else { continue }
            if let best = newest, version < best { continue }
            if let best = newest, best == version {
                files.append(file)
            } else {
                newest = version
                files = [file]
            }
        }
        if files.count == 1, let file = files.first, file.isUniversalWheel, file.coreMetadata == nil {
            return file
        }
        // Platform wheels: the one the client's tags prefer, when the client said what it runs on.
        guard let platform, let file = preferred(files, by: platform), file.coreMetadata == nil else { return nil }
        return file
    }

    /// The one file among `files` that `platform`'s tags prefer; nil when none fits or two tie.
    static func preferred(_ files: [IndexFile], by platform: ClientPlatform) -> IndexFile? {
        let ranked = files.compactMap { file in platform.priority(wheel: file.filename).map { (file, $0) } }
        guard let best = ranked.map(\.1).min() else { return nil }
        let chosen = ranked.filter { $0.1 == best }.map(\.0)
        return chosen.count == 1 ? chosen.first : nil
    }

    private func artifact(_ file: IndexFile, project: String, sources: PyPISources) async -> Reply {
        let request = Self.request(for: file, project: project, sources: sources)
        return respond(await gate.verify(request), type: file.isWheel ? "application/zip" : "application/octet-stream")
    }

    /// PEP 658 metadata: served only against the digest the index states for it.
    /// The wheel itself is verified ahead meanwhile: a client reads metadata
    /// to resolve, then fetches the distributions it chose.
    private func metadata(_ file: IndexFile, project: String, sources: PyPISources) async -> Reply {
        guard let hashes = file.coreMetadata,
              let digest = [HashAlgorithm.sha256, .sha384, .sha512].lazy.compactMap({ algorithm in
                  hashes[algorithm.rawValue].flatMap { try? Digest(algorithm: algorithm, hex: $0) } }).first else {
            return .text(.notFound, "upstream offers no metadata file with a digest for \(file.filename)")
        }
        gate.anticipate(Self.request(for: file, project: project, sources: sources))
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
            // pip resolves from this file, not the wheel's own METADATA: a requirement by URL
            // here is fetched before the wheel is ever asked for.
            if let refusal = remoteRequirement(fd: fd, size: size, file: file, project: project, sources: sources) {
                close(fd)
                log.refused(Self.request(for: file, project: project, sources: sources), message: refusal + " (exotic-source)", status: 403)
                return .text(.forbidden, refusal + " (exotic-source)")
            }
            return .file(fd: fd, size: size, type: "text/plain; charset=utf-8")
        }
    }

    /// Why the metadata file's requirements by URL are refused (exoticSources; enforce mode, no exception), or nil.
    private func remoteRequirement(fd: Int32, size: UInt64, file: IndexFile, project: String, sources: PyPISources) -> String? {
        let request = Self.request(for: file, project: project, sources: sources)
        let policy = settings.policy
        guard policy.mode == .enforce, policy.activeException(for: request, at: Date()) == nil else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        let read = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, Int(size), 0) }
        guard read == Int(size) else { return "cannot read the downloaded metadata of \(file.filename)" }
        return ArtifactInspection.exoticProblem(WheelMetadata.directReferences(bytes), package: project,
                                                threats: policy.threats(for: request))
    }

    /// The guard's outcome as a reply: verified bytes, 403 with the reason, or 502 when upstream failed.
    func respond(_ result: GateResult, type: String) -> Reply {
        switch result {
        case .allowed(let fd, let size, let outcome):
            log.verified(outcome)
            return .file(fd: fd, size: size, type: type)
        case .allowedAgain(let fd, let size, let outcome, let at):
            log.info("\(outcome.shownURL): served again, as verified \(Int(Date().timeIntervalSince(at))) s ago")
            return .file(fd: fd, size: size, type: type)
        case .refused(let outcome):
            let status: HTTPResponseStatus = outcome.family == .transport ? .badGateway : .forbidden
            let error = outcome.error
            log.refused(outcome.request, message: error.message, status: Int(status.code), hint: error.hint, family: outcome.family)
            return .text(status, error.description)
        case .failed(let reason):
            log.error("503 \(reason)")
            return .text(.serviceUnavailable, reason)
        }
    }
}

/// A project page sorted for serving (see `RegistryProxy.sorted`).
struct AheadPage: Sendable {
    struct Hidden: Sendable {
        var request: ArtifactRequest
        var file: String
        var reason: String
    }
    var page: ProjectPage
    var offered: [IndexFile]
    var hidden: [Hidden]
    var json: (base: String, type: String, body: [UInt8])? = nil
}
