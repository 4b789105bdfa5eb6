import FoundationEssentials
import BouncerBase
import BouncerIO
import BouncerPolicy

/// The forms of `pip install` that make the real pip run code before Bouncer
/// has verified anything: pip builds a project's metadata (running its
/// `setup.py` or build backend) while it resolves, so a local project, a
/// local or direct-URL sdist, a VCS checkout, `--no-binary`, `-e` and a
/// `--dry-run` of any of them execute code the policy never saw. Requirement
/// files are read in full (nested `-r` and `-c` too), since pip honours the
/// same forms and options inside them.
public enum PipSourceCheck {
    public struct Finding: Equatable, Sendable {
        /// The form as written (`./project`, `--no-binary :all:`, `git+https://…`).
        public var form: String
        /// What it is and why it runs code.
        public var why: String
        /// Where it was found: "the command line" or "req.txt:3".
        public var place: String
    }

    /// Digests stated in direct-URL fragments (`name @ URL#sha256=HEX`), by URL without fragment.
    public struct Scan: Sendable {
        public var findings: [Finding] = []
        public var directDigests: [String: [Digest]] = [:]
        /// Requirements that do not come from an index (direct URLs, VCS,
        /// local paths, wheels included): `exoticSources` decides on them.
        public var exotic: [Finding] = []
        /// The lines of requirement files that set where pip looks (-i,
        /// --extra-index-url, -f, --no-index), in the order pip applies them:
        /// constraints files first, then requirement files.
        var indexLines: [RequirementLines.Line] = []
        /// Every file read, in order, with its lines as read (the shim hands
        /// pip copies of exactly these when it must take index options out).
        var files: [(path: String, lines: [RequirementLines.Line])] = []
        /// The requirement files' projects and `--hash` lists, read in the
        /// same pass (the shim reads each file once).
        public var requirementFiles = RequirementFile()
    }

    static let vcsPrefixes = ["git+", "hg+", "svn+", "bzr+"]
    /// Every archive pip takes as a path when the file exists, and zstd.
    static let sdistSuffixes = PythonPackageName.sdistSuffixes + [".tar.zst"]
    static let buildsCode = "pip would build it (running its setup.py or build backend) before Bouncer verifies anything"

    public static func scan(_ invocation: PipInvocation, cwd: String, environment: [String: String]) throws -> Scan {
        var scan = Scan()
        let commandLine = "the command line"
        if invocation.noBinary {
            scan.findings.append(Finding(form: "--no-binary", why: "makes pip build packages from source, running their setup.py", place: commandLine))
        }
        for editable in invocation.editables {
            scan.findings.append(Finding(form: "-e \(editable)", why: "an editable install of a source tree: \(buildsCode)", place: commandLine))
        }
        if invocation.editable && invocation.editables.isEmpty {
            scan.findings.append(Finding(form: "-e", why: "an editable install of a source tree: \(buildsCode)", place: commandLine))
        }
        for requirement in invocation.requirements {
            classify(requirement, base: cwd, place: commandLine, into: &scan)
        }
        // pip reads the constraints files first, then the requirement files.
        var seen: Set<String> = []
        for file in invocation.constraintFiles {
            guard let path = RequirementLines.path(of: file, relativeTo: cwd) else { throw RequirementLines.remote(file, at: "-c") }
            try read(path, environment: environment, inConstraints: true, viaURL: file.lowercased().hasPrefix("file:"), seen: &seen, into: &scan)
        }
        for file in invocation.requirementFiles {
            guard let path = RequirementLines.path(of: file, relativeTo: cwd) else { throw RequirementLines.remote(file, at: "-r") }
            try read(path, environment: environment, viaURL: file.lowercased().hasPrefix("file:"), seen: &seen, into: &scan)
        }
        return scan
    }

    /// pip takes a requirement for a path when it has a separator, starts with '.', or names an
    /// archive; uv takes a backslash for a separator too (on Unix the folder's name holds it), and
    /// a shell may leave a `~` for pipx to expand. (No package name starts with either.)
    static func isPathLike(_ location: String) -> Bool {
        let lower = location.lowercased()
        return location.contains("/" as Character) || location.contains("\\" as Character) || location.hasPrefix(".") || location.hasPrefix("~")
            || lower.hasSuffix(".whl") || sdistSuffixes.contains(where: { lower.hasSuffix($0) })
    }

    /// "URL#sha256=HEX&..." → ("URL", evidence-grade digests of the fragment).
    static func splitFragment(_ url: String) -> (String, [Digest]) {
        guard let hash = url.firstIndex(of: "#") else { return (url, []) }
        var digests: [Digest] = []
        for parameter in url[url.index(after: hash)...].split(separator: "&") {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, let algorithm = HashAlgorithm(rawValue: String(pair[0])),
                  algorithm == .sha256 || algorithm == .sha384 || algorithm == .sha512,
                  let digest = try? Digest(algorithm: algorithm, hex: String(pair[1])) else { continue }
            digests.append(digest)
        }
        return (String(url[..<hash]), digests)
    }

    /// One requirements or constraints file and those it includes, every line:
    /// the options pip takes there and the requirements.
    static func read(_ path: String, environment: [String: String], inConstraints: Bool = false, viaURL: Bool = false,
                     seen: inout Set<String>, into scan: inout Scan) throws {
        try RequirementLines.visit(path, environment: environment, inConstraints: inConstraints, viaURL: viaURL, seen: &seen) { line in
            if scan.files.last?.path == line.file {
                scan.files[scan.files.count - 1].lines.append(line)
            } else if let slot = scan.files.firstIndex(where: { $0.path == line.file }) {
                scan.files[slot].lines.append(line)  // back in the including file after an include
            } else {
                scan.files.append((line.file, [line]))
            }
            try scan.requirementFiles.take(line)
            let place = line.place
            if let requirement = line.requirement {
                classify(requirement, base: Filesystem.split(line.file).directory, place: place, into: &scan)
            }
            // `-e` anywhere on a line makes it an editable requirement (pip: `--pre -e ./project`).
            for option in line.options where option.name == .editable {
                scan.findings.append(Finding(form: "-e \(option.value ?? "")", why: "an editable install of a source tree: \(buildsCode)", place: place))
            }
            // The rest of an option line is pip's, unless the line installs or includes (pip applies nothing else of it).
            guard !line.isRequirement, line.included == nil else { return }
            for option in line.options where option.name == .noBinary {
                scan.findings.append(Finding(form: "--no-binary \(option.value ?? "")", why: "makes pip build packages from source, running their setup.py", place: place))
            }
            // pip obeys these over its command line and environment: the shim takes them over for the proxy.
            if line.options.contains(where: \.name.isIndexOption) { scan.indexLines.append(line) }
        }
    }

    /// A requirement's text without its environment marker (`; python_version…`),
    /// split as a PEP 508 direct reference, `name[extras] @ URL`: the name as
    /// written (nil: none) and where it points (the whole spec when unnamed).
    static func directReference(_ text: String) -> (spec: String, name: String?, location: String) {
        var spec = text.trimmingSpaces()
        if let marker = spec.firstIndex(of: ";") { spec = spec[..<marker].trimmingSpaces() }
        // (Single characters searched as characters: the generic substring search costs more than the rest.)
        if let at = spec.firstIndex(of: "@"), !spec[..<at].contains("/" as Character), !spec[..<at].contains(":" as Character) {
            let name = spec[..<at].trimmingSpaces()
            if !name.isEmpty { return (spec, name, spec[spec.index(after: at)...].trimmingSpaces()) }
        }
        return (spec, nil, spec)
    }

    /// A requirement that is a path or URL (alone or as `name @ URL`) is
    /// checked; a plain name or specifier resolves from the index.
    static func classify(_ text: String, base: String, place: String, into scan: inout Scan) {
        let (spec, _, location) = directReference(text)
        let lower = location.lowercased()
        let exoticWhy = "a requirement from outside the index (exotic-source): whoever controls it decides the bytes, and the policy's exoticSources.allow does not name it"
        if location != spec || vcsPrefixes.contains(where: { lower.hasPrefix($0) }) || lower.hasPrefix("http://") || lower.hasPrefix("https://")
            || lower.hasPrefix("file:") || isPathLike(location) {
            scan.exotic.append(Finding(form: spec, why: exoticWhy, place: place))
        }
        if let prefix = vcsPrefixes.first(where: { lower.hasPrefix($0) }) {
            scan.findings.append(Finding(form: location, why: "a version-control URL (\(prefix.dropLast())): pip checks it out and \(buildsCode)", place: place))
            return
        }
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
            let (url, digests) = splitFragment(location)
            if !digests.isEmpty { scan.directDigests[url, default: []] += digests }
            // pip takes a file for a wheel by its `.whl` in lower case (`Link.is_wheel`); `.WHL` is a source archive to it.
            let path = url.prefix(while: { $0 != "?" })
            if !path.hasSuffix(".whl") {
                scan.findings.append(Finding(form: location, why: "a direct URL to a source distribution: \(buildsCode)", place: place))
            }
            return
        }
        var path: String
        if lower.hasPrefix("file:") {
            let (url, digests) = splitFragment(location)
            if !digests.isEmpty { scan.directDigests[url, default: []] += digests }
            path = URL(string: url)?.path ?? String(url.dropFirst(5))
        } else {
            guard isPathLike(location) else { return }
            path = location
        }
        if let bracket = path.firstIndex(of: "["), path.hasSuffix("]") { path = String(path[..<bracket]) }
        let full = Filesystem.absolute(path, cwd: base)
        if path.hasSuffix(".whl") { return }  // a wheel runs nothing while pip reads it; it is verified like any other (`.WHL` is built)
        if Filesystem.isDirectory(full) {
            scan.findings.append(Finding(form: location, why: "a local project directory: \(buildsCode)", place: place))
        } else {
            scan.findings.append(Finding(form: location, why: "a local source distribution or path: \(buildsCode)", place: place))
        }
    }
}
