import Foundation
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerIO
import BouncerPolicy

/// `npm ci` / `npm install` behind Bouncer: every tarball the lock names is
/// fetched through the guard (in parallel), its `integrity` must match, its
/// package.json must carry the locked name and version, and only then does
/// the real npm run, offline, against a private cache that holds exactly
/// those verified tarballs (npm reads a tarball from its cache by integrity;
/// with `--offline` a miss is an error, never a download).
public enum NpmShim {
    static let installCommands: Set<String> = ["ci", "clean-install", "install-clean", "isntall-clean", "ic",
                                               "install", "i", "in", "ins", "inst", "insta", "instal", "isnt", "isnta",
                                               "isntal", "isntall", "add"]
    /// Commands that fetch packages Bouncer does not guard yet.
    static let fetching: Set<String> = ["exec", "x", "update", "up", "upgrade", "udpate", "dedupe", "ddp", "create",
                                        "install-test", "it", "install-ci-test", "cit", "init", "innit", "pack", "diff"]
    /// npm options that take a value (so the value is not mistaken for the command).
    static let valued: Set<String> = ["--prefix", "-C", "--cache", "--registry", "--userconfig", "--globalconfig", "--loglevel",
                                      "--omit", "--include", "--workspace", "-w", "--tag", "--install-strategy"]

    public static func run(_ arguments: [String], context: ShimContext) -> Int32 {
        var command: String? = nil
        var positionals: [String] = []
        var prefix: String? = nil
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" { break }
            if argument.hasPrefix("-") {
                if valued.contains(argument), index + 1 < arguments.count {
                    if argument == "--prefix" || argument == "-C" { prefix = arguments[index + 1] }
                    index += 1
                } else if argument.hasPrefix("--prefix=") {
                    prefix = String(argument.dropFirst("--prefix=".count))
                } else if argument == "-g" || argument == "--global" || argument.hasPrefix("--global=") {
                    if command.map(installCommands.contains) ?? true {
                        return context.unsupported(argument, why: "installs globally without a lock", arguments: arguments)
                    }
                }
            } else if command == nil {
                command = argument
            } else {
                positionals.append(argument)
            }
            index += 1
        }
        guard let command else { return context.passThrough(arguments) }
        if fetching.contains(command) {
            return context.unsupported("npm \(command)", why: "fetches packages Bouncer does not guard yet", arguments: arguments)
        }
        guard installCommands.contains(command) else { return context.passThrough(arguments) }
        // Only resolving a lock: no tarball is fetched or unpacked and nothing runs (scripts off);
        // `npm ci` through the shim then verifies everything the lock pins.
        if arguments.contains(where: { $0 == "--package-lock-only" || $0 == "--package-lock-only=true" }) {
            return context.passThrough(arguments + ["--ignore-scripts"])
        }
        let project = prefix.map { $0.hasPrefix("/") ? $0 : context.environment.cwd + "/" + $0 } ?? context.environment.cwd
        // `npm install NAME` rewrites package.json and the lock before anything is verified:
        // they are put back byte for byte unless the verified install completes.
        // A signal while they are changed is recorded, not fatal (Interruption), so they are put back first.
        var snapshot: ProjectSnapshot? = nil
        var status: Int32 = Interruption.deferring { () -> Int32 in
            do {
                if !positionals.isEmpty {
                    if command == "ci" || command == "clean-install" || command == "ic" {
                        ShimOutput.error("npm ci takes no package names")
                        return 1
                    }
                    snapshot = try ProjectSnapshot(project: project)
                    // Resolve with the real npm: only the lock and package.json change, nothing is unpacked or run.
                    let resolved = try HandOver.run(context.realTool, arguments + ["--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund"],
                                                    environment: context.toolEnvironment, quietStdout: true)
                    if resolved != 0 {
                        ShimOutput.error("bouncer: npm: the real npm could not resolve \(positionals.joined(separator: " ")) (exit \(resolved)); nothing was installed")
                    }
                    return resolved == 0 ? try install(arguments: arguments.filter { !positionals.contains($0) }, project: project, context: context)
                                         : resolved
                } else {
                    return try install(arguments: arguments, project: project, context: context)
                }
            } catch {
                return context.installStopped(error, tool: "npm")
            }
        }
        // Interrupted before the install completed: report it as the shell would (an install
        // that did complete stands, and its files are kept).
        if status != 0, let interrupted = Interruption.signal {
            ShimOutput.error("bouncer: npm: interrupted (signal \(interrupted)); nothing was installed")
            status = Interruption.exitStatus(interrupted)
        }
        if status != 0, let snapshot {
            let restored = snapshot.restore()
            for problem in restored.problems { ShimOutput.error("bouncer: npm: \(problem)") }
            if !restored.names.isEmpty {
                ShimOutput.error("bouncer: npm: put back \(restored.names.joined(separator: " and ")) as they were before this install")
            }
        }
        return status
    }

    static func install(arguments: [String], project: String, context: ShimContext) throws -> Int32 {
        let lockPath = project + "/package-lock.json"
        guard FileManager.default.fileExists(atPath: lockPath) else {
            throw BouncerError(.configuration, code: "npm-no-lock", "no package-lock.json in \(project): Bouncer installs only what a lock pins",
                               hint: "create one with: npm install --package-lock-only (through the shim)")
        }
        if let refused = refuseExoticSources(lockPath, context: context) { return refused }
        let locked = try PackageLock.read(lockPath)
        let quiet = arguments.contains { $0 == "--silent" || $0 == "-s" || $0 == "--quiet" || $0 == "-q" || $0 == "--loglevel=silent" }

        // One request per distinct tarball URL, each with the lock's strongest integrity as a claimed digest.
        var unique: [String: LockedTarball] = [:]
        var order: [String] = []
        for tarball in locked where unique[tarball.url] == nil {
            guard let integrity = tarball.integrity, !integrity.strongest.isEmpty else {
                throw BouncerError(.evidence, code: "npm-no-integrity",
                                   "package-lock.json: \(tarball.location) (\(tarball.name)@\(tarball.version)) has no sha256/sha384/sha512 integrity")
            }
            _ = integrity
            unique[tarball.url] = tarball
            order.append(tarball.url)
        }
        var requests = order.compactMap { url in unique[url].map {
            ArtifactRequest(url: url, ecosystem: .npm, package: $0.name, version: $0.version, claimedDigests: $0.integrity?.strongest ?? [])
        } }
        if context.policy.releaseTimesNeeded { addReleaseTimes(&requests) }
        let results = context.obtain(requests)

        let cache = try PipShim.makePrivateDirectory()
        defer { try? FileManager.default.removeItem(atPath: cache) }
        var refused: ErrorFamily? = nil
        for (index, request) in requests.enumerated() {
            let label = "\(request.package ?? "?")@\(request.version ?? "?")"
            switch results[index] {
            case .failure(let error):
                ShimOutput.error("bouncer: npm: refused \(label) (\(Redaction.url(request.url))): \(error.message)")
                context.annotateRefusal("refused \(label): \(error.message)")
                if let hint = error.hint { ShimOutput.error("hint: \(hint)") }
                if refused == nil || error.family == .evidence { refused = error.family }
            case .success(let artifact):
                defer { context.policy.release(artifact) }
                // The guard has checked the tarball's package.json against the lock (manifest confusion).
                // The content-addressed slot npm reads by integrity: _cacache/content-v2/ALG/aa/bb/rest.
                for digest in request.claimedDigests {
                    let hex = digest.hex
                    guard hex.count > 4 else { continue }
                    let dir = "\(cache)/_cacache/content-v2/\(digest.algorithm.rawValue)/\(hex.prefix(2))/\(hex.dropFirst(2).prefix(2))"
                    try Filesystem.makeDirectories(dir)
                    try Placement.place(artifact.path, at: dir + "/" + String(hex.dropFirst(4)), mode: .copy)
                }
                context.report(artifact, as: label, quiet: quiet)
            }
        }
        if let refused {
            ShimOutput.error("bouncer: npm: nothing was installed")
            return refused.exitCode
        }
        // The real npm, offline, with a cache holding only verified tarballs: anything else is a miss, not a fetch.
        let final = arguments + ["--offline", "--cache", cache, "--no-audit", "--no-fund"]
        if let signal = Interruption.signal {
            throw BouncerError.io("interrupted by signal \(signal) before the real npm ran")
        }
        return try HandOver.run(context.realTool, final, environment: context.toolEnvironment)
    }
}

extension NpmShim {
    /// Dependencies from outside the registry (`exoticSources`), refused in
    /// enforce mode before anything is fetched: a tarball URL, a git or
    /// GitHub spec or a path anywhere in the lock. nil: go on.
    static func refuseExoticSources(_ lockPath: String, context: ShimContext) -> Int32? {
        guard let data = FileManager.default.contents(atPath: lockPath) else { return nil }
        let exotic = PackageLock.exoticDependencies([UInt8](data)).filter { !context.policy.allowsExoticSource($0.spec, .npm) }
        guard !exotic.isEmpty else { return nil }
        for dependency in exotic {
            let message = "\(Redaction.url(dependency.spec)) (package-lock.json \(dependency.place)) does not come from the registry, and the policy's exoticSources.allow does not name it (exotic-source)"
            if context.policy.enforce {
                ShimOutput.error("bouncer: npm: refused: " + message)
                context.annotateRefusal("refused: " + message)
            } else {
                ShimOutput.error("bouncer: AUDIT: npm: \(message); going on UNVERIFIED by the registry (enforce mode would refuse)")
            }
        }
        guard context.policy.enforce else { return nil }
        ShimOutput.error("bouncer: npm: nothing was fetched or installed")
        return ErrorFamily.evidence.exitCode
    }

    /// `time[version]` from each package's packument (one read per package,
    /// in parallel). A packument that cannot be read leaves the time unknown:
    /// the guard refuses such a version while a minimum release age applies.
    static func addReleaseTimes(_ requests: inout [ArtifactRequest]) {
        let packuments = Array(Set(requests.compactMap { NpmReleaseTimes.packumentURL(forTarball: $0.url) })).sorted()
        guard !packuments.isEmpty else { return }
        var options = FetchOptions()
        options.progress = false
        options.maxSize = 256 << 20
        let fetcher = Fetcher(store: Store.standard(), options: options)
        let fetched = fetcher.fetch(packuments.map { FetchRequest(url: $0, headers: ["Accept: application/json"]) })
        var documents: [String: [UInt8]] = [:]
        for (url, outcome) in zip(packuments, fetched) {
            guard case .success(let artifact) = outcome else { continue }
            defer { fetcher.discard(artifact) }
            if let data = FileManager.default.contents(atPath: artifact.path) { documents[url] = [UInt8](data) }
        }
        for index in requests.indices {
            guard let url = NpmReleaseTimes.packumentURL(forTarball: requests[index].url), let bytes = documents[url],
                  let version = requests[index].version else { continue }
            requests[index].releaseTime = NpmReleaseTimes.time(inPackument: bytes, version: version, source: Redaction.url(url))
        }
    }
}

/// The project files `npm install NAME` rewrites (package.json and the lock,
/// or the shrinkwrap that replaces it), as they were before the install: the
/// bytes and mode of each, or that it did not exist.
struct ProjectSnapshot {
    static let names = ["package.json", "package-lock.json", "npm-shrinkwrap.json"]
    struct Saved { let name: String; let path: String; let bytes: [UInt8]?; let mode: mode_t }
    let files: [Saved]

    init(project: String) throws(BouncerError) {
        var files: [Saved] = []
        for name in Self.names {
            let path = project + "/" + name
            let bytes = try AtomicFile.read(path, limit: 256 << 20, code: "npm-project")
            var info = stat()
            let mode: mode_t = bytes != nil && stat(path, &info) == 0 ? info.st_mode & 0o7777 : 0o644
            files.append(Saved(name: name, path: path, bytes: bytes, mode: mode))
        }
        self.files = files
    }

    /// Puts every file back that differs from the snapshot (removes one that
    /// did not exist); returns the names put back and what could not be.
    func restore() -> (names: [String], problems: [String]) {
        var names: [String] = []
        var problems: [String] = []
        for saved in files {
            let now: [UInt8]?
            do { now = try AtomicFile.read(saved.path, limit: 256 << 20, code: "npm-project") } catch {
                problems.append("cannot put back \(saved.path): \(error.message)")
                continue
            }
            guard now != saved.bytes else { continue }
            if let bytes = saved.bytes {
                do { try AtomicFile.replace(saved.path, with: bytes, mode: saved.mode) } catch {
                    problems.append("cannot put back \(saved.path): \(error.message)")
                    continue
                }
            } else if unlink(saved.path) != 0 && errno != ENOENT {
                problems.append("cannot remove \(saved.path), which this install created: \(String(cString: strerror(errno)))")
                continue
            }
            names.append(saved.name)
        }
        return (names, problems)
    }
}
