import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerIO
import BouncerPolicy

/// `pip install` behind Bouncer: the real pip runs once, pointed at a
/// verifying proxy of its own (`bouncer serve` on 127.0.0.1:0) over the
/// indexes and find-links the command and pip's configuration name. pip
/// resolves against the proxy's pages (files the policy would refuse are not
/// on them), and every file it downloads is fetched, verified, inspected and
/// pinned by the proxy before a byte reaches pip. `PIP_INDEX_URL` carries the
/// proxy to pip's children too (build isolation installs its backend through it).
public enum PipShim {
    /// Subcommands that neither download nor install.
    /// `index` reads index pages and prints versions: no file lands, nothing runs.
    static let harmless: Set<String> = ["list", "show", "freeze", "uninstall", "check", "config", "cache", "debug", "help",
                                        "inspect", "hash", "completion", "index"]

    public static func run(_ arguments: [String], context: ShimContext) -> Int32 {
        var invocation = PipArguments.parse(arguments)
        guard let subcommand = invocation.subcommand else { return context.passThrough(arguments) }
        if harmless.contains(subcommand) { return context.passThrough(arguments) }
        // `pip download` and `pip wheel` resolve and fetch as `install` does, through the same
        // proxy, into their --dest / --wheel-dir (wheel builds only what the policy lets the proxy offer).
        guard PipArguments.resolving.contains(subcommand) else {
            return context.unsupportedCommand("pip \(subcommand)", why: "is not a pip command Bouncer knows; use pip install, which Bouncer guards", arguments: arguments)
        }
        // Where pip would look, and what its settings add: its environment over its configuration files.
        let isolated = invocation.globalOptions.contains("--isolated") || invocation.installOptions.contains("--isolated")
        let configured = PipConfiguration.read(environment: context.environment.variables, realTool: context.realTool, isolated: isolated)
        // pip takes the requirement files, constraints and editables of its settings as if they came
        // first on its command line (`PIP_REQUIREMENT=req.txt`): they are checked as such, and the
        // real pip gets them on its command line (the shim clears the settings).
        invocation.requirementFiles = configured.requirementFiles + invocation.requirementFiles
        invocation.constraintFiles = configured.constraintFiles + invocation.constraintFiles
        invocation.installOptions = configured.requirementFiles.flatMap { ["-r", $0] } + configured.constraintFiles.flatMap { ["-c", $0] }
            + configured.editables.flatMap { ["-e", $0] } + invocation.installOptions
        // Forms that run code before anything is verified are refused before the real pip starts.
        var scan: PipSourceCheck.Scan
        do {
            scan = try PipSourceCheck.scan(invocation, cwd: context.environment.cwd, environment: context.environment.variables)
        } catch {
            return context.installStopped(error, tool: "pip")
        }
        let settings = "PIP_* or pip's configuration"
        for editable in configured.editables {
            invocation.editable = true
            scan.findings.append(PipSourceCheck.Finding(form: "editable = \(editable)", why: "an editable install of a source tree: \(PipSourceCheck.buildsCode)", place: settings))
        }
        if let noBinary = configured.otherSettings["no-binary"] {
            scan.findings.append(PipSourceCheck.Finding(form: "no-binary = \(noBinary)", why: "makes pip build packages from source, running their setup.py", place: settings))
        }
        // Requirements from outside the index, unless exoticSources.allow names them (by the spec as written).
        scan.findings += scan.exotic.filter { exotic in
            !context.policy.allowsExoticSource(exotic.form, .pypi) && !scan.findings.contains { $0.place == exotic.place && exotic.form.contains($0.form) }
        }
        // Anything else from outside the index in a requirement file would be fetched by pip itself,
        // past the proxy (a wheel in a requirement file is verified first, as on the command line;
        // a constraints file only limits versions, and a URL there is not taken).
        let constraintLines = Set(scan.files.flatMap(\.lines).filter(\.inConstraints).map(\.place))
        scan.findings += scan.exotic.filter { exotic in
            exotic.place != "the command line" && !scan.findings.contains { $0.place == exotic.place }
                && (DirectRequirement(exotic.form, cwd: context.environment.cwd) == nil || constraintLines.contains(exotic.place))
        }.map { PipSourceCheck.Finding(form: $0.form, why: "a requirement from outside the index inside a requirement file: pip would fetch it past Bouncer's verifying proxy", place: $0.place) }
        if !scan.findings.isEmpty {
            if context.policy.enforce {
                for finding in scan.findings {
                    let message = "refused: \(finding.form) (\(finding.place)): \(finding.why)"
                    ShimOutput.error("bouncer: pip: \(message)")
                    context.annotateRefusal(message)
                }
                ShimOutput.error("bouncer: pip: no code of a project, sdist or package may run before its bytes are verified and the policy allows building it (policy \(context.policy.path) is in enforce mode); the real pip was not started, nothing was installed")
                return ErrorFamily.evidence.exitCode
            }
            for finding in scan.findings {
                ShimOutput.error("bouncer: AUDIT: pip: \(finding.form) (\(finding.place)): \(finding.why); running it anyway, UNVERIFIED (enforce mode would refuse)")
            }
        }
        if invocation.editable {
            return context.unsupported("-e/--editable", why: "installs from a source tree Bouncer cannot verify", arguments: arguments)
        }
        if let unknown = invocation.unknownOption {
            return context.unsupported(unknown, why: "is not a pip install option Bouncer understands", arguments: arguments)
        }
        do {
            return try install(invocation, scan: scan, configured: configured, isolated: isolated, context: context)
        } catch {
            return context.installStopped(error, tool: "pip")
        }
    }

    static func install(_ invocation: PipInvocation, scan: PipSourceCheck.Scan, configured: PipConfiguration, isolated: Bool,
                        context: ShimContext) throws -> Int32 {
        let work = try Filesystem.makePrivateDirectory(prefix: "bouncer-pip")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let cwd = context.environment.cwd
        let quiet = invocation.installOptions.contains { $0 == "-q" || $0 == "--quiet" }
            || invocation.globalOptions.contains { $0 == "-q" || $0 == "--quiet" || ($0.hasPrefix("-q") && !$0.hasPrefix("--")) }

        // 1. Where pip would look: its command line over its environment over its configuration files,
        //    then the index options of its requirement files, which pip obeys over all of those.
        let noIndex = invocation.noIndex || configured.noIndex
        var places = PipIndexes(noIndex: noIndex, primary: noIndex ? nil : (invocation.indexURL ?? configured.indexURL),
                                extras: noIndex ? [] : configured.extraIndexURLs + invocation.extraIndexURLs,
                                findLinks: (configured.findLinks + invocation.findLinks).map { PipConfiguration.findLinksLocation($0, cwd: cwd) })
        for line in scan.indexLines { places.apply(line, cwd: cwd) }

        // 2. Direct-URL and local wheels the policy allows, on the command line or in a requirement
        //    file: verified here first, then handed to pip as the verified copy.
        var requirements: [String] = []
        /// Where each goes: a position among the command line's requirements, or a requirement-file line.
        enum Place { case commandLine(Int), file(RequirementLines.Line) }
        var directRequests: [(place: Place, name: String, request: ArtifactRequest)] = []
        func request(_ direct: DirectRequirement) -> ArtifactRequest {
            ArtifactRequest(url: direct.url, ecosystem: .pypi, package: PythonPackageName.normalised(direct.name),
                            version: direct.version, claimedDigests: scan.directDigests[direct.url] ?? [])
        }
        for requirement in invocation.requirements {
            if let direct = DirectRequirement(requirement, cwd: cwd) {
                directRequests.append((.commandLine(requirements.count), direct.name, request(direct)))
            }
            requirements.append(requirement)
        }
        for file in scan.files {
            for line in file.lines where !line.inConstraints {
                // pip takes a path in a requirement file from the working directory, as on its command line.
                guard let requirement = line.requirement, let direct = DirectRequirement(requirement, cwd: cwd) else { continue }
                var claimed = request(direct)
                // The line's own --hash values: the bytes must match one, as for pip.
                claimed.statedAlternatives = try RequirementFile.digests(of: line, project: direct.name)
                directRequests.append((.file(line), direct.name, claimed))
            }
        }
        var replacements: [String: String] = [:]
        if !directRequests.isEmpty {
            let verifiedDirectory = work + "/direct"
            try Filesystem.makeDirectories(verifiedDirectory)
            let results = context.obtain(directRequests.map(\.request))
            var worst: ErrorFamily? = nil
            for (slot, direct) in directRequests.enumerated() {
                let label = "\(direct.request.package ?? direct.name) \(direct.request.version ?? "")"
                switch results[slot] {
                case .failure(let error):
                    ShimOutput.error("bouncer: pip: refused \(label) (\(Redaction.url(direct.request.url))): \(error.message)")
                    context.annotateRefusal("refused \(label): \(error.message)")
                    if let hint = error.hint { ShimOutput.error("hint: \(hint)") }
                    if worst == nil || error.family == .evidence { worst = error.family }
                case .success(let artifact):
                    defer { context.policy.release(artifact) }
                    let file = verifiedDirectory + "/" + (DirectRequirement.fileName(direct.request.url) ?? "artifact.whl")
                    try Placement.place(artifact.path, at: file, mode: .copy)
                    switch direct.place {
                    case .commandLine(let position): requirements[position] = "\(direct.name) @ file://\(file)"
                    case .file(let line): replacements[line.place] = RequirementCopies.replacing(line, with: "\(direct.name) @ file://\(file)")
                    }
                    context.report(artifact, as: URLParts.lastSegment(of: direct.request.url).map(URLParts.percentDecoded) ?? direct.name, quiet: quiet)
                }
            }
            if let worst {
                ShimOutput.error("bouncer: pip: nothing was installed")
                return worst.exitCode
            }
        }
        // pip gets copies of its requirement files without their index options (it would look
        // past the proxy) and with the verified copies of their direct wheels.
        var installOptions = invocation.installOptions
        if !scan.indexLines.isEmpty || !replacements.isEmpty {
            let copies = try RequirementCopies.write(scan.files, replacing: replacements, into: work + "/requirements")
            for slot in installOptions.indices.dropLast() where ["-r", "--requirement", "-c", "--constraint"].contains(installOptions[slot]) {
                if let path = RequirementLines.path(of: installOptions[slot + 1], relativeTo: cwd), let copy = copies[path] {
                    installOptions[slot + 1] = copy
                }
            }
        }

        // 3. The requirement files' --hash lists, for the policy's digest rule, and the projects
        //    pip will ask for first, which the proxy fetches and verifies ahead of it.
        var read = scan.requirementFiles
        for requirement in invocation.requirements where DirectRequirement(requirement, cwd: cwd) == nil {
            read.note(requirement: requirement)
        }
        let stated = read.hashes
        // This proxy serves pip only (npm is not started to ask for its registry).
        var proxyArguments: [String] = ["--no-npm"] + places.proxyArguments
        for project in read.projects.prefix(500) { proxyArguments += ["--pypi-expect", project.name + (project.version.map { "==" + $0 } ?? "")] }
        if !read.projects.isEmpty, let guess = PipInterpreter.platformGuess(realPip: context.realTool, asModule: !context.toolArguments.isEmpty, invocation: invocation) {
            proxyArguments += ["--pypi-platform-guess", guess]
        }
        if !stated.isEmpty {
            let file = work + "/stated-hashes.json"
            let object = JSON.object(stated.mapValues { .array($0.map { .string($0.description) }) })
            guard FileManager.default.createFile(atPath: file, contents: Data(object.serialized())) else {
                throw BouncerError.io("cannot write \(file)")
            }
            proxyArguments += ["--stated-hashes", file]
        }

        // 4. The real pip, once, against the proxy and nothing else.
        // pip's own HTTP proxy (`--proxy`, or the `proxy` setting) is the verifying proxy's, for its
        // upstream requests: pip sends even a loopback request through one it is given on its command line.
        var globalOptions = invocation.globalOptions
        let httpProxy = OptionWords.take("--proxy", from: &globalOptions) ?? OptionWords.take("--proxy", from: &installOptions) ?? configured.otherSettings["proxy"]
        // pip's CA bundle (`--cert`, the `cert` setting, else requests' REQUESTS_CA_BUNDLE) is the proxy's too.
        let caFile = OptionWords.lastValue(of: "--cert", in: globalOptions + installOptions) ?? configured.otherSettings["cert"]
            ?? context.environment.variables["REQUESTS_CA_BUNDLE"]
        var proxyEnvironment = EphemeralProxy.trusting(caFile, cwd: cwd, over: context.environment.variables)
        // And the client certificate pip presents (`--client-cert`, the `client-cert` setting).
        let clientCertificate = OptionWords.lastValue(of: "--client-cert", in: globalOptions + installOptions) ?? configured.otherSettings["client-cert"]
        proxyEnvironment = EphemeralProxy.presenting(clientCertificate, cwd: cwd, over: proxyEnvironment)
        if let httpProxy { proxyEnvironment = EphemeralProxy.upstreamProxies(http: httpProxy, https: httpProxy, over: proxyEnvironment) }
        // pip's one index is a bouncer serve on this machine (a shell set up as the README's
        // standalone recipe): pip reads from it, with no second proxy over it.
        let serve = places.runningServe(policy: context.policy.path)
        let proxy = serve == nil ? try EphemeralProxy.start(proxyArguments, context: context, environment: proxyEnvironment) : nil
        let index = (proxy?.base ?? serve ?? "") + "/pypi/simple/"
        if let serve, !quiet {
            ShimOutput.error("bouncer: pip: the index is the bouncer serve at \(serve), which verifies every file under this same policy: pip reads from it, with no proxy of the shim's over it")
        }
        var environment = context.toolEnvironment
        // pip ignores an empty setting, so a configuration file's find-links or extra-index-url
        // cannot be emptied: pip reads no file at all, and its other settings come as variables.
        environment["PIP_CONFIG_FILE"] = "/dev/null"
        for (key, value) in configured.otherSettings where key != "proxy" {
            let variable = "PIP_" + key.uppercased().replacing("-", with: "_")
            if environment[variable] == nil { environment[variable] = value }
        }
        // pip builds a setup.py-only sdist in this environment when setuptools and wheel are in it, where
        // setuptools runs every installed wheel's `setuptools.*` entry points (a red-team pass ran one from
        // an allowed wheel in an allowed sdist's build): PEP 517 builds it isolated, unless the user chose
        // either way (the variable, pip.conf's use-pep517, the option; --no-build-isolation stays theirs).
        let choosesPEP517 = (globalOptions + installOptions).contains { ["--use-pep517", "--no-use-pep517"].contains($0) }
        if !choosesPEP517, environment["PIP_USE_PEP517"] == nil { environment["PIP_USE_PEP517"] = "1" }
        // The places and files the shim took over (pip would take PIP_PYPI_URL over the proxy, say).
        for variable in PipConfiguration.placeVariables + ["PIP_PROXY"] + PipConfiguration.placeVariables(in: environment) { environment[variable] = nil }
        environment["PIP_INDEX_URL"] = index
        // uv, run by a build backend or a script, reads its own variable.
        environment["UV_DEFAULT_INDEX"] = index
        environment["UV_INDEX_URL"] = index
        // Under --isolated pip ignores the environment: the options carry the proxy and PEP 517 instead.
        let final = globalOptions + [invocation.subcommand ?? "install"] + (isolated ? ["--index-url", index] + (choosesPEP517 ? [] : ["--use-pep517"]) : [])
            + installOptions + requirements
        guard let proxy else {
            return try EphemeralProxy.runAgainst("the bouncer serve at \(serve ?? "")", tool: "pip", context.realTool, context.toolArguments + final, environment: environment)
        }
        let (status, events) = try proxy.run(context.realTool, context.toolArguments + final, environment: environment)
        let refused = EphemeralProxy.report(events, tool: "pip", label: { event in
            event.verified ? (event.url.split(separator: "/").last.map { URLParts.percentDecoded(String($0)) } ?? event.url)
                           : "\(event.package ?? "?") \(event.version ?? "?")"
        }, quiet: quiet, context: context)
        if status != 0, let refused {
            let nothing = ["download": "downloaded", "wheel": "built"][invocation.subcommand ?? ""] ?? "installed"
            ShimOutput.error("bouncer: pip: the real pip stopped at Bouncer's refusal; nothing was \(nothing)")
            return refused
        }
        if status != 0 { EphemeralProxy.reportUnavailable(events, tool: "pip") }
        return status
    }
}

/// A requirement naming one wheel outside the index (`name @ URL`, a local
/// `.whl`): the shim verifies it through the guard before pip sees it.
struct DirectRequirement {
    var name: String
    var version: String?
    var url: String

    init?(_ text: String, cwd: String) {
        let (_, written, location) = PipSourceCheck.directReference(text)
        let name = written.flatMap { $0.split(separator: "[").first.map(String.init) }
        let (withoutFragment, _) = PipSourceCheck.splitFragment(location)
        let lower = withoutFragment.lowercased()
        guard withoutFragment.prefix(while: { $0 != "?" }).hasSuffix(".whl") else { return nil }
        let url: String
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") || lower.hasPrefix("file:") {
            url = withoutFragment
        } else {
            url = "file://" + Filesystem.absolute(withoutFragment, cwd: cwd)
        }
        guard let file = Self.fileName(url) else { return nil }
        let parts = file.dropLast(4).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 5 else { return nil }
        self.name = name ?? String(parts[0])
        self.version = String(parts[1])
        self.url = url
    }

    /// The wheel's file name (it carries the tags pip checks), when it is safe to use as one.
    static func fileName(_ url: String) -> String? {
        guard let segment = URLParts.lastSegment(of: String(url.prefix { $0 != "?" && $0 != "#" })) else { return nil }
        let name = URLParts.percentDecoded(segment)
        guard !name.isEmpty, !name.contains("/"), !name.hasPrefix("."), name.hasSuffix(".whl") else { return nil }
        return name
    }
}
