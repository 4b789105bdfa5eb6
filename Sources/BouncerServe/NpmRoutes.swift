import FoundationEssentials
import NIOHTTP1
import BouncerBase
import BouncerIO
import BouncerPolicy

/// Where a tarball the proxy offers really comes from, and what the packument says it is.
struct NpmTarball: Sendable {
    var version: String
    var url: String
    var integrity: String?
    /// The packument's `time[version]`, when it states one.
    var time: String?
}

/// `BASE/npm/<name>` (full or abbreviated packument), `BASE/npm/<name>/-/<file>.tgz`,
/// and the registry's `-/npm/v1/keys`, attestations and ping.
extension RegistryProxy {
    static let abbreviatedType = "application/vnd.npm.install-v1+json"

    /// `statedIntegrity`: the `pacote-integrity` npm sends for a tarball (its lock's
    /// integrity): one more digest the bytes must match, never a reason to accept them.
    func npm(_ segments: [String], rawSegments: [String], accept: String?, base: String, statedIntegrity: String? = nil) async -> Reply {
        var registry = settings.npmUpstream
        if registry == nil, let lazy = lazyNpm { registry = await blocking { lazy.value() } ?? nil }
        let scopes = settings.npmScopes
        var segments = segments
        // npm rewrites a lock's `resolved` to the proxy keeping its path, which carries the
        // upstream's own path prefix (a registry under /api/npm/...): the registry's, or a
        // scope registry's (then followed by the scope).
        let prefixed = scopes.map { (scope: Optional($0.key), url: $0.value) } + (registry.map { [(scope: nil, url: $0)] } ?? [])
        for (scope, url) in prefixed.sorted(by: { $0.url.count > $1.url.count }) {
            let prefix = URLParts.path(of: url).split(separator: "/").map(String.init)
            guard !prefix.isEmpty, segments.count > prefix.count + 2, Array(segments.prefix(prefix.count)) == prefix,
                  scope.map({ segments[prefix.count] == $0 }) ?? true else { continue }
            segments.removeFirst(prefix.count)
            break
        }
        // npm with replace-registry-host=always (the shims set it, so a lock's resolved URLs come
        // here) also rewrites the tarball URLs the proxy hands out: BASE/npm/npm/NAME/-/FILE.
        if segments.count >= 4, segments[0] == "npm", segments[segments.count - 2] == "-" { segments.removeFirst() }
        /// The registry a package comes from: its scope's own, else the registry.
        func upstream(for name: String?) throws(ReplyError) -> String {
            let scope = name.flatMap { $0.hasPrefix("@") ? $0.split(separator: "/").first.map(String.init) : nil }
            guard let chosen = scope.flatMap({ scopes[$0] }) ?? registry else {
                throw ReplyError(.text(.badGateway, "no npm upstream: npm names no registry here; start bouncer serve with --npm-upstream URL"))
            }
            // npm's configuration may point a scope at this very proxy: reading it from itself would never
            // end. Answered 403, which npm does not retry (a 5xx it retries for minutes).
            let origin = URLParts.origin(chosen)
            if origin == URLParts.origin(base) || origin == servingBase.value.map(URLParts.origin) {
                throw ReplyError(.text(.forbidden, "the registry for \(scope ?? "unscoped packages"), \(Redaction.url(chosen)), is this proxy itself: "
                                       + "start bouncer serve with \(scope.map { "--npm-scope-upstream \($0)=URL" } ?? "--npm-upstream URL") naming the real one"))
            }
            return chosen
        }
        do {
            if segments.first == "-" {
                // An attestation request names its package: its scope's registry answers it.
                let named = segments.count >= 4 && segments[2] == "attestations" ? Self.attestedName(segments[3...].joined(separator: "/")) : nil
                return await npmSpecial(Array(segments.dropFirst()), upstream: try upstream(for: named))
            }
            if segments.count >= 3, segments[segments.count - 2] == "-" {
                let name = segments[..<(segments.count - 2)].joined(separator: "/")
                guard let last = segments.last, Self.isValidNpmName(name), FileNames.isSafe(last) else {
                    return .text(.notFound, "not a valid package tarball path")
                }
                return await npmTarball(name: name, file: last, upstream: try upstream(for: name), statedIntegrity: statedIntegrity)
            }
            // A tarball the registry keeps outside NAME/-/ (another path or host), which npm was sent
            // here for by replace-registry-host: known by its path from a packument the proxy served.
            if let last = segments.last, last.hasSuffix(".tgz") {
                let path = "/" + rawSegments.joined(separator: "/")
                if let (name, file) = npmTarballs.first({ name, tarballs in
                    tarballs.first(where: { URLParts.path(of: $0.value.url) == path }).map { (name, $0.key) } }) {
                    return await npmTarball(name: name, file: file, upstream: try upstream(for: name), statedIntegrity: statedIntegrity)
                }
                return .text(.notFound, "\(path) is not a tarball of a packument this proxy has served (registry tarballs are at NAME/-/FILE.tgz)")
            }
            let name: String
            if segments.count == 1 {
                name = segments[0]
            } else if segments.count == 2, segments[0].hasPrefix("@") {
                name = segments[0] + "/" + segments[1]
            } else {
                return .text(.notFound, "not found: the proxy serves packuments (/npm/NAME) and their tarballs")
            }
            guard Self.isValidNpmName(name) else { return .text(.notFound, "not a valid package name: \(name)") }
            return await npmPackument(name, upstream: try upstream(for: name), accept: accept, base: base)
        } catch {
            return error.reply
        }
    }

    /// The package an attestation request (`NAME@VERSION`, the name possibly
    /// scoped) is for, when it is a valid name.
    static func attestedName(_ spec: String) -> String? {
        guard let at = spec.lastIndex(of: "@"), at != spec.startIndex else { return nil }
        let name = String(spec[..<at])
        return isValidNpmName(name) ? name : nil
    }

    /// The registry an npm artifact comes from, for the policy's `match.index`:
    /// npm's registry is its primary index; a scope's own registry is not
    /// (unless it is the same registry), so a policy trusting only
    /// `"index": "primary"` refuses a scope an `.npmrc` sent elsewhere.
    func npmIndex(_ upstream: String) -> PackageIndex {
        let registry = settings.npmUpstream ?? lazyNpm?.value() ?? nil
        return PackageIndex(url: upstream, isPrimary: upstream == registry || !settings.npmScopes.values.contains(upstream))
    }

    /// `name` or `@scope/name`, in the characters npm allows (nothing that could walk a path).
    static func isValidNpmName(_ name: String) -> Bool {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        func plain(_ part: Substring) -> Bool {
            guard let first = part.first, first != ".", first != "_", part.count <= 214 else { return false }
            return part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-._~".contains($0)) }
        }
        switch parts.count {
        case 1: return plain(parts[0])
        case 2: return parts[0].hasPrefix("@") && plain(parts[0].dropFirst()) && plain(parts[1])
        default: return false
        }
    }

    /// The name as the registry spells it in a packument URL (`@scope%2fname`).
    static func upstreamName(_ name: String) -> String {
        name.split(separator: "/").map { PathCoding.encode(String($0)) }.joined(separator: "%2f")
    }

    private func npmPackument(_ name: String, upstream: String, accept: String?, base: String) async -> Reply {
        let wantsAbbreviated = accept?.contains(Self.abbreviatedType) ?? false
        switch await packument(name, upstream: upstream, abbreviated: wantsAbbreviated && !releaseTimesNeeded) {
        case .failure(let failure):
            if failure.status != 404 { log.unreachable("npm:\(name)", status: failure.status, reason: failure.reason) }
            return .text(HTTPResponseStatus(statusCode: failure.status), failure.reason)
        case .success(let (document, type)):
            let rewritten = rewrite(withoutTooNew(document, name: name, upstream: upstream), name: name, base: base)
            return .bytes(status: .ok, type: type, body: rewritten.serialized(), headers: [("Vary", "Accept")])
        }
    }

    /// Reads a packument from upstream (always fresh) and remembers its tarballs.
    func packument(_ name: String, upstream: String, abbreviated requested: Bool) async -> Result<(JSON, String), UpstreamFailure> {
        // Abbreviated packuments carry no `time`: with a minimum release age the full one is read.
        let abbreviated = requested && !releaseTimesNeeded
        let url = upstream + Self.upstreamName(name)
        let accept = abbreviated ? "\(Self.abbreviatedType); q=1.0, application/json; q=0.8, */*" : "application/json"
        let client = self.upstream
        guard let fetched = await blocking({ client.document(url, accept: accept) }) else {
            return .failure(UpstreamFailure(status: 503, reason: "the proxy is stopping"))
        }
        switch fetched {
        case .failure(let failure):
            return .failure(failure)
        case .success(let document):
            let json: JSON
            do { json = try JSON.parse(document.bytes, maxDepth: 128) } catch {
                return .failure(UpstreamFailure(status: 502, reason: "upstream packument \(Redaction.url(url)): \(error)"))
            }
            guard case .object = json, case .string(let declared)? = json["name"], declared == name else {
                return .failure(UpstreamFailure(status: 502, reason: "upstream packument \(Redaction.url(url)) is not the packument of \(name)"))
            }
            npmTarballs.set(name, Self.tarballs(json, name: name, upstream: upstream))
            let type = (document.contentType?.contains(Self.abbreviatedType) ?? false) ? Self.abbreviatedType : "application/json"
            return .success((json, type))
        }
    }

    /// Tarball file name → where it comes from, for every version with a tarball.
    static func tarballs(_ packument: JSON, name: String, upstream: String) -> [String: NpmTarball] {
        guard case .object(let versions)? = packument["versions"] else { return [:] }
        let times: [String: JSON]
        if case .object(let object)? = packument["time"] { times = object } else { times = [:] }
        var out: [String: NpmTarball] = [:]
        for (version, manifest) in versions {
            // Only http(s) tarballs: a remote packument's `file:///…` had the proxy read (and pin) a file of the machine's.
            guard case .string(let url)? = manifest["dist"]?["tarball"], ExoticSource.isRegistryTarball(url),
                  let file = url.split(separator: "/").last else { continue }
            var integrity: String? = nil
            if case .string(let sri)? = manifest["dist"]?["integrity"] { integrity = sri }
            var time: String? = nil
            if case .string(let stated)? = times[version] { time = stated }
            out[String(file)] = NpmTarball(version: version, url: url, integrity: integrity, time: time)
        }
        return out
    }

    /// Whether any rule (or the top level) sets a minimum release age: npm's times are then needed.
    var releaseTimesNeeded: Bool {
        let policy = settings.policy
        guard policy.mode == .enforce else { return false }
        return !(policy.threats.minimumReleaseAge ?? .off).isOff || policy.rules.contains { !($0.threats.minimumReleaseAge ?? .off).isOff }
    }

    static func releaseTime(_ time: String?, name: String, upstream: String) -> ReleaseTime? {
        time.flatMap { ReleaseTime(rfc3339: $0, source: "time in the packument \(Redaction.url(upstream + upstreamName(name)))") }
    }

    /// Versions the policy would refuse for their release age, or for a
    /// dependency from outside the registry, are left out
    /// (`versions` and `time`), and every dist-tag on one of them points to
    /// the newest version left, so that ranges resolve to what can pass.
    func withoutTooNew(_ packument: JSON, name: String, upstream: String) -> JSON {
        guard case .object(var root) = packument, case .object(var versions)? = root["versions"] else { return packument }
        var times: [String: JSON] = [:]
        if case .object(let object)? = root["time"] { times = object }
        let now = Date()
        let index = npmIndex(upstream)
        var hidden: Set<String> = []
        for (version, manifest) in versions {
            var stated: String? = nil
            if case .string(let text)? = times[version] { stated = text }
            var url = upstream + Self.upstreamName(name)
            if case .string(let tarball)? = manifest["dist"]?["tarball"] { url = tarball }
            // A tarball whose file name the proxy cannot serve (a leading dot, non-ASCII, over 255 bytes)
            // would keep its upstream URL in `rewrite`, and a client pointed here would fetch it from
            // there itself, unverified (red team, round 5): not offered, in any mode.
            if !settings.npmKeepsTarballURLs, !(url.split(separator: "/").last.map { FileNames.isSafe(String($0)) } ?? false) {
                hidden.insert(version)
                log.hidden(ArtifactRequest(url: url, ecosystem: .npm, package: name, version: version), file: "\(name)@\(version)",
                           reason: "\(name)@\(version): its tarball's file name (\(Redaction.url(url))) is not one the proxy serves, so a client would fetch it from upstream itself, unverified")
                continue
            }
            var request = ArtifactRequest(url: url, ecosystem: .npm, package: name, version: version,
                                          releaseTime: Self.releaseTime(stated, name: name, upstream: upstream))
            request.index = index
            if let tooNew = settings.policy.releaseAgeRefusal(request, at: now) {
                hidden.insert(version)
                log.hidden(request, file: "\(name)@\(version)", reason: "\(name)@\(version): \(tooNew)")
                continue
            }
            // The checks below refuse only in enforce mode, and not what an exception covers.
            guard settings.policy.mode == .enforce, settings.policy.activeException(for: request, at: now) == nil else { continue }
            if let exotic = exoticDependency(manifest, request: request) {
                hidden.insert(version)
                log.hidden(request, file: "\(name)@\(version)", reason: "\(name)@\(version) depends on \(exotic), which does not come from the registry (exotic-source)")
            } else if let command = shadowingCommand(manifest, request: request) {
                hidden.insert(version)
                log.hidden(request, file: "\(name)@\(version)", reason: "\(name)@\(version) installs a command named \(command), which npm puts first on every install script's PATH in place of \(command), and the policy's installScripts.allow does not name it (install-script)")
            } else if let (command, other) = commandClaimedByAnother(manifest, request: request) {
                hidden.insert(version)
                log.hidden(request, file: "\(name)@\(version)", reason: "\(name)@\(version) installs a command named \(command), as \(other) does: npm links one of the two into node_modules/.bin, so a script that runs \(other)'s \(command) could run \(name)'s code instead (install-script)")
            }
        }
        guard !hidden.isEmpty else { return packument }
        for version in hidden {
            versions[version] = nil
            times[version] = nil
        }
        root["versions"] = .object(versions)
        if root["time"] != nil { root["time"] = .object(times) }
        // The newest version left, by its release time.
        let newest = versions.keys.max { left, right in
            let l = times[left].flatMap { if case .string(let t) = $0 { RFC3339.parse(t) } else { nil } } ?? .distantPast
            let r = times[right].flatMap { if case .string(let t) = $0 { RFC3339.parse(t) } else { nil } } ?? .distantPast
            return l < r
        }
        if case .object(var tags)? = root["dist-tags"] {
            for (tag, value) in tags {
                guard case .string(let version) = value, hidden.contains(version) else { continue }
                tags[tag] = newest.map { .string($0) }
            }
            root["dist-tags"] = .object(tags)
        }
        log.info("npm:\(name): not offered (release age, exotic dependencies, a command in place of one install scripts run, or a tarball the proxy cannot serve): \(hidden.sorted().joined(separator: ", "))")
        return .object(root)
    }

    /// A dependency of this version from outside the registry that the policy
    /// does not allow: npm would fetch it itself, past the proxy, so the
    /// version is not offered at all (`exoticSources`). This and the two
    /// checks below are asked in enforce mode only, outside any exception
    /// (`withoutTooNew` judges that once per version).
    func exoticDependency(_ manifest: JSON, request: ArtifactRequest) -> String? {
        NpmLockSources.fromFields(manifest, NpmLockSources.installedFields, at: "$")
            .first { !settings.policy.threats(for: ArtifactRequest(url: $0.spec, ecosystem: .npm)).allowsExoticSource($0.spec) }
            .map { "\(Redaction.url($0.spec)) (\($0.place))" }
    }

    /// A command this version's manifest installs (`bin`) in place of one
    /// install scripts run, which the policy does not allow: npm links the
    /// manifest's commands, whatever the tarball says, so the version is not offered.
    func shadowingCommand(_ manifest: JSON, request: ArtifactRequest) -> String? {
        guard !settings.policy.threats(for: request).allowsInstallScripts(of: request.package) else { return nil }
        // (A manifest's `directories.bin` names files the tarball has: its check judges them.)
        return NpmBins.names(manifest["bin"], packageName: request.package, directoryBins: [])
            .first { NpmBins.shadowsACommandScriptsRun($0, package: request.package) }
    }

    /// For the npm shim's proxy (one project): a command this version installs
    /// that another package served in this run, or one the project's lock has
    /// at the top of node_modules (`npmClaimedCommands`), installs too. npm links one of
    /// them (whichever sorts first), silently, so a package that sorts before
    /// the genuine one took over its command for the project's own scripts (a
    /// red-team pass ran code through a `postinstall` that called `prisma`).
    /// Whichever comes second is not offered: the install stops, naming both.
    func commandClaimedByAnother(_ manifest: JSON, request: ArtifactRequest) -> (command: String, other: String)? {
        guard settings.npmOneProject, let package = request.package else { return nil }
        return npmCommandClaims.claim(NpmBins.names(manifest["bin"], packageName: package, directoryBins: []), by: package)
    }

    /// Tarball and attestation URLs pointed at the proxy. Each version's
    /// `scripts` are left out, as the registry's abbreviated packuments leave
    /// them out, with `hasInstallScript` set when they had an install script:
    /// npm then runs the scripts of the package.json in the tarball, which
    /// Bouncer judged, and not those a registry's manifest states beside it
    /// (npm ran a `postinstall` that only the manifest had). Nothing else changes.
    func rewrite(_ packument: JSON, name: String, base: String) -> JSON {
        guard case .object(var root) = packument, case .object(var versions)? = root["versions"] else { return packument }
        for (version, manifest) in versions {
            guard case .object(var fields) = manifest else { continue }
            if case .object(let scripts)? = fields.removeValue(forKey: "scripts"),
               NpmPackageCheck.lifecycle.contains(where: { scripts[$0].map(NpmPackageCheck.isTruthy) ?? false }) {
                fields["hasInstallScript"] = .bool(true)
            }
            guard case .object(var dist)? = fields["dist"] else {
                versions[version] = .object(fields)
                continue
            }
            // The shims keep the registry's own tarball URLs (npm sends them here by
            // replace-registry-host, and the lock npm writes names the registry, not this proxy).
            if !settings.npmKeepsTarballURLs, case .string(let url)? = dist["tarball"], let file = url.split(separator: "/").last, FileNames.isSafe(String(file)) {
                dist["tarball"] = .string(base + "/npm/" + name + "/-/" + String(file))
            }
            if case .object(var attestations)? = dist["attestations"], attestations["url"] != nil {
                attestations["url"] = .string(base + "/npm/-/npm/v1/attestations/" + Self.upstreamName(name) + "@" + PathCoding.encode(version))
                dist["attestations"] = .object(attestations)
            }
            fields["dist"] = .object(dist)
            versions[version] = .object(fields)
        }
        root["versions"] = .object(versions)
        return .object(root)
    }

    private func npmTarball(name: String, file: String, upstream: String, statedIntegrity: String?) async -> Reply {
        switch await tarballRequest(name: name, file: file, upstream: upstream, statedIntegrity: statedIntegrity) {
        case .failure(let reply): return reply.reply
        case .success(let request): return respond(await gate.verify(request), type: "application/octet-stream")
        }
    }

    /// What the guard is asked for a tarball: where the packument says it is,
    /// its version and release time, and the packument's and npm's integrity.
    func tarballRequest(name: String, file: String, upstream: String, statedIntegrity: String?) async -> Result<ArtifactRequest, ReplyError> {
        // A tarball of the npm shim's lock (which the shim checked for sources outside the registry):
        // its name, version and integrity are the lock's, so the packument is not needed unless
        // release times are (a packument per tarball doubled what `npm ci` asks of the registry).
        var known = npmTarballs.get(name)?[file]
        if known == nil, !releaseTimesNeeded, let locked = npmExpected[name + "/-/" + file],
           let integrity = locked.integrity, let claimed = try? SubresourceIntegrity(parsing: integrity).strongest, !claimed.isEmpty {
            // npm states the lock's integrity too; anything else it states takes the packument's way.
            let stated = statedIntegrity.flatMap { try? SubresourceIntegrity(parsing: $0).strongest } ?? []
            if stated.allSatisfy(claimed.contains) {
                var request = ArtifactRequest(url: upstream + name + "/-/" + file, ecosystem: .npm, package: name, version: locked.version,
                                              claimedDigests: claimed)
                request.index = npmIndex(upstream)
                return .success(request)
            }
        }
        if known == nil {
            switch await packument(name, upstream: upstream, abbreviated: true) {
            case .success: known = npmTarballs.get(name)?[file]
            case .failure(let failure): return .failure(ReplyError(.text(HTTPResponseStatus(statusCode: failure.status), failure.reason)))
            }
        }
        guard let tarball = known else { return .failure(ReplyError(.text(.notFound, "\(file) is not a tarball of any version of \(name) upstream"))) }
        var claimed: [Digest] = []
        if let integrity = tarball.integrity, let parsed = try? SubresourceIntegrity(parsing: integrity) { claimed = parsed.strongest }
        if let stated = statedIntegrity, let parsed = try? SubresourceIntegrity(parsing: stated) {
            for digest in parsed.strongest where !claimed.contains(digest) { claimed.append(digest) }
        }
        var request = ArtifactRequest(url: tarball.url, ecosystem: .npm, package: name, version: tarball.version, claimedDigests: claimed,
                                      releaseTime: Self.releaseTime(tarball.time, name: name, upstream: upstream))
        request.index = npmIndex(upstream)
        return .success(request)
    }

    /// The npm shim's lock (`--npm-expect FILE`: the tarballs `npm ci` will
    /// fetch, with the lock's integrity, which npm sends too): their
    /// packuments are read and the tarballs verified ahead while npm starts.
    func prefetchNpmLock() async {
        guard let upstream = settings.npmUpstream else { return }
        let expected = npmExpected.values.sorted { $0.name + "/" + $0.file < $1.name + "/" + $1.file }
        await withTaskGroup(of: Void.self) { group in
            for (position, tarball) in expected.enumerated() {
                // Four packuments at a time; the verifications queue behind --verify-ahead.
                if position >= 4 { await group.next() }
                group.addTask {
                    guard case .success(let request) = await self.tarballRequest(name: tarball.name, file: tarball.file, upstream: upstream,
                                                                                 statedIntegrity: tarball.integrity) else { return }
                    self.gate.anticipate(request)
                }
            }
        }
    }

    /// The registry endpoints npm calls besides packuments and tarballs.
    private func npmSpecial(_ segments: [String], upstream: String) async -> Reply {
        if segments == ["ping"] { return .bytes(status: .ok, type: "application/json", body: Array("{}".utf8)) }
        guard segments.count >= 3, segments[0] == "npm", segments[1] == "v1" else {
            return .text(.notFound, "not served by bouncer serve")
        }
        let upstreamPath: String
        switch segments[2] {
        case "keys" where segments.count == 3:
            upstreamPath = "-/npm/v1/keys"
        case "attestations" where segments.count >= 4:
            // The spec is NAME@VERSION, the name possibly scoped (@scope/name, %2f-encoded or not).
            let spec = segments[3...].joined(separator: "/")
            guard let name = Self.attestedName(spec), let at = spec.lastIndex(of: "@") else { return .text(.notFound, "not a valid attestation request") }
            upstreamPath = "-/npm/v1/attestations/" + Self.upstreamName(name) + "@" + PathCoding.encode(String(spec[spec.index(after: at)...]))
        default:
            // Audit (security advisories) and the rest are not answered: npm carries on without them.
            return .text(.notFound, "not served by bouncer serve")
        }
        let client = self.upstream
        let url = upstream + upstreamPath
        guard let fetched = await blocking({ client.document(url, accept: "application/json") }) else {
            return .text(.serviceUnavailable, "the proxy is stopping")
        }
        switch fetched {
        case .failure(let failure): return .text(HTTPResponseStatus(statusCode: failure.status), failure.reason)
        case .success(let document):
            // Passed on only if it is JSON (the strict reader), unchanged.
            guard (try? JSON.parse(document.bytes, maxDepth: 128)) != nil else {
                return .text(.badGateway, "upstream \(Redaction.url(url)) did not answer JSON")
            }
            return .bytes(status: .ok, type: "application/json", body: document.bytes)
        }
    }
}

/// A reply carried as an error (`Result`'s failure must be an Error).
struct ReplyError: Error {
    let reply: Reply
    init(_ reply: Reply) { self.reply = reply }
}

/// `--npm-expect FILE`: a JSON array of `{"name", "file", "version", "integrity"}`, the
/// registry tarballs (`NAME/-/FILE`) of the lock the npm shim runs `npm ci` on.
public enum NpmExpectation {
    public struct Tarball: Sendable { var name: String; var file: String; var version: String; var integrity: String? }

    public static func read(_ path: String) throws(BouncerError) -> [Tarball] {
        guard let bytes = try AtomicFile.read(path, limit: 64 << 20, code: "serve-npm-expect") else {
            throw BouncerError(.configuration, code: "serve-npm-expect", "\(path): no such file")
        }
        let root: JSON
        do { root = try JSON.parse(bytes) } catch { throw BouncerError(.configuration, code: "serve-npm-expect", "\(path): \(error)") }
        guard case .array(let items) = root else { throw BouncerError(.configuration, code: "serve-npm-expect", "\(path): $ is not an array") }
        return try items.enumerated().map { (position, item) throws(BouncerError) -> Tarball in
            guard case .string(let name)? = item["name"], case .string(let file)? = item["file"], case .string(let version)? = item["version"],
                  RegistryProxy.isValidNpmName(name), FileNames.isSafe(file), !version.isEmpty else {
                throw BouncerError(.configuration, code: "serve-npm-expect", "\(path): $[\(position)] is not {name, file, version, integrity}")
            }
            var integrity: String? = nil
            if case .string(let text)? = item["integrity"] { integrity = text }
            return Tarball(name: name, file: file, version: version, integrity: integrity)
        }
    }
}

/// Which package installs each command, among the packuments one npm run was
/// served (the npm shim's proxy): two packages of one tree with one command
/// would have npm link either.
final class NpmCommandClaims: @unchecked Sendable {
    private let lock = Lock()
    private var owners: [String: String] = [:]

    /// Records `commands` as `package`'s, unless one is already another
    /// package's: then that command and package, and nothing is recorded.
    func claim(_ commands: [String], by package: String) -> (command: String, other: String)? {
        lock.lock(); defer { lock.unlock() }
        for command in commands {
            if let other = owners[command.lowercased()], other != package { return (command, other) }
        }
        for command in commands { owners[command.lowercased()] = package }
        return nil
    }
}
