import FoundationEssentials

/// Where pip looks for packages when the command line does not say: its
/// environment (`PIP_INDEX_URL`, ...) over its configuration files, read the
/// way pip reads them (INI, `[global]` then `[install]`, later files
/// overriding earlier ones). Read here, not by asking pip, so that neither
/// the pip shim nor a standalone `bouncer serve` starts Python for it (`pip
/// config list` takes ~0.4 s of CPU); when nothing names an index, the proxy
/// asks pip for its built-in default.
public struct PipConfiguration: Equatable, Sendable {
    public var indexURL: String?
    public var extraIndexURLs: [String] = []
    public var findLinks: [String] = []
    public var noIndex = false
    /// Requirement files, constraints files and editables the settings add
    /// (`requirement`, `constraint`, `editable`: pip takes any option's long
    /// name as a setting, `PIP_REQUIREMENT=req.txt` as `-r req.txt`, before
    /// those of its command line).
    public var requirementFiles: [String] = []
    public var constraintFiles: [String] = []
    public var editables: [String] = []
    /// Every other setting of the files and the environment (`cert`, `timeout`,
    /// `break-system-packages`, `no-binary`...), to hand on as environment
    /// variables: the real pip reads no file (see `PipShim`).
    public var otherSettings: [String: String] = [:]

    public init() {}

    /// A setting's name as this reader keeps it: `pypi-url` is an old name of `index-url`.
    static func canonical(_ key: String) -> String { key == "pypi-url" ? "index-url" : key }

    /// A setting's name as pip's `_normalize_name` makes it, from a file's key
    /// or a variable's name after `PIP_`: lower case, `_` as `-`, one leading
    /// `--` dropped (`--editable = …` in pip.conf, `PIP___EDITABLE`, are `editable`).
    public static func normalisedKey<S: StringProtocol>(_ name: S) -> String {
        let key = name.lowercased().replacing("_", with: "-")
        return canonical(key.hasPrefix("--") ? String(key.dropFirst(2)) : key)
    }

    /// Every variable in `environment` pip reads as one of `keys`, in any spelling it takes.
    public static func variables(in environment: [String: String], naming keys: Set<String>) -> [String] {
        environment.keys.filter { $0.hasPrefix("PIP_") && keys.contains(normalisedKey($0.dropFirst(4))) }.sorted()
    }

    /// The variables in `environment` that carry the settings the shim takes over.
    public static func placeVariables(in environment: [String: String]) -> [String] {
        variables(in: environment, naming: placeKeys.union(["proxy"]))
    }

    /// The settings the pip shim takes over (`pypi-url` is an old name of `index-url`).
    static let placeKeys: Set<String> = ["index-url", "pypi-url", "extra-index-url", "find-links", "no-index",
                                         "requirement", "constraint", "editable"]
    /// The variables that carry them: the shim clears them for the real pip.
    public static var placeVariables: [String] { placeKeys.sorted().map(variable) }

    /// pip's variable for a setting: `PIP_` and the name in capitals, `_` for `-`.
    public static func variable(_ key: String) -> String { "PIP_" + key.uppercased().replacing("-", with: "_") }

    /// An http(s) URL: an index, or a find-links page, pip fetches.
    public static func isRemote(_ location: String) -> Bool {
        let lower = location.lowercased()
        return lower.hasPrefix("http://") || lower.hasPrefix("https://")
    }

    /// Where a find-links entry points, as pip takes it: an http(s) URL as it
    /// is; a `file://` URL or a path as an absolute path (a relative one under
    /// `cwd`, pip's working directory). Whether a local one is a directory is
    /// the caller's to check.
    public static func findLinksLocation(_ link: String, cwd: String) -> String {
        if isRemote(link) { return link }
        guard link.lowercased().hasPrefix("file:") else { return Filesystem.absolute(link, cwd: cwd) }
        // A file: URL for another host: no local folder (pip refuses it too).
        return fileURLPath(link).map { Filesystem.absolute($0, cwd: cwd) } ?? link
    }

    /// The path pip opens for a `file:` URL (its `url_to_path`): the host
    /// empty or `localhost`, the query and fragment dropped, the rest
    /// percent-decoded (`file://localhost/p#x` is `/p`; `file:p` is `p`,
    /// under pip's working directory). nil for another host, which pip
    /// refuses, or for what is no file: URL.
    public static func fileURLPath(_ url: String) -> String? {
        guard url.lowercased().hasPrefix("file:") else { return nil }
        var rest = Substring(url.dropFirst("file:".count))
        if rest.hasPrefix("//") {
            let authority = rest.dropFirst(2).prefix { $0 != "/" && $0 != "?" && $0 != "#" }
            guard authority.isEmpty || authority.lowercased() == "localhost" else { return nil }
            rest = rest.dropFirst(2 + authority.count)
        }
        return URLParts.percentDecoded(String(rest.prefix { $0 != "?" && $0 != "#" }))
    }

    /// The files pip reads, later ones overriding earlier ones: site-wide, per
    /// user, the environment's own (`realTool`: the pip script or the Python
    /// that runs pip; in a venv's `bin`, its `pip.conf`), then `PIP_CONFIG_FILE`.
    /// As pip does, `PIP_CONFIG_FILE` is read beside the site-wide and venv
    /// files, not instead of them; an existing one replaces only the per-user
    /// files, and `/dev/null` turns every file off.
    static func files(environment: [String: String], realTool: String) -> [String] {
        let named = environment["PIP_CONFIG_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        if named == "/dev/null" { return [] }
        var files: [String] = []
        let xdgDirs = (environment["XDG_CONFIG_DIRS"].flatMap { $0.isEmpty ? nil : $0 } ?? "/etc/xdg").split(separator: ":")
        files += xdgDirs.map { "\($0)/pip/pip.conf" }
        files.append("/etc/pip.conf")
        if named.map({ !FileManager.default.fileExists(atPath: $0) }) ?? true {
            let home = environment["HOME"] ?? ""
            if !home.isEmpty { files.append(home + "/.pip/pip.conf") }
            let xdgHome = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (home.isEmpty ? "" : home + "/.config")
            if !xdgHome.isEmpty { files.append(xdgHome + "/pip/pip.conf") }
        }
        // A venv's pip (VENV/bin/pip) also reads VENV/pip.conf.
        let prefix = Filesystem.split(Filesystem.split(realTool).directory).directory
        if FileManager.default.fileExists(atPath: prefix + "/pyvenv.cfg") { files.append(prefix + "/pip.conf") }
        if let named { files.append(named) }
        return files
    }

    public static func read(environment: [String: String], realTool: String, isolated: Bool) -> PipConfiguration {
        var values: [String: String] = [:]
        // --isolated: pip ignores its environment variables and user configuration.
        if !isolated {
            for file in files(environment: environment, realTool: realTool) {
                guard let bytes = (try? AtomicFile.read(file, limit: 1 << 20, code: "pip-config")).flatMap({ $0 }) else { continue }
                for (key, value) in settings(String(decoding: bytes, as: UTF8.self)) { values[normalisedKey(key)] = value }
            }
            // Every PIP_ variable is a setting, over the files' (pip: `PIP_` + a long option's name);
            // PIP_INDEX_URL over PIP_PYPI_URL when both are set.
            for (variable, value) in environment.sorted(by: { $0.key > $1.key }) where variable.hasPrefix("PIP_") {
                let key = normalisedKey(variable.dropFirst(4))
                if variable != "PIP_CONFIG_FILE" && key != "version" && key != "help" { values[key] = value }
            }
        }
        var configuration = PipConfiguration()
        configuration.otherSettings = values.filter { !placeKeys.contains($0.key) && !$0.value.isEmpty }
        func list(_ key: String) -> [String] { values[key].map { $0.split(whereSeparator: \.isWhitespace).map(String.init) } ?? [] }
        configuration.indexURL = values["index-url"].flatMap { $0.isEmpty ? nil : $0 }
        configuration.extraIndexURLs = list("extra-index-url")
        configuration.findLinks = list("find-links")
        configuration.requirementFiles = list("requirement")
        configuration.constraintFiles = list("constraint")
        configuration.editables = list("editable")
        configuration.noIndex = values["no-index"].map { ["1", "true", "yes", "on"].contains($0.lowercased()) } ?? false
        return configuration
    }

    /// `[global]` then `[install]` keys of one INI file (continuation lines
    /// joined, as configparser does for multi-line values).
    static func settings(_ text: String) -> [(String, String)] {
        var global: [String: String] = [:], install: [String: String] = [:]
        var section = ""
        var lastKey: String? = nil
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : String(raw)
            let trimmed = line.trimmingSpaces()
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
            if trimmed.hasPrefix("[") && trimmed.hasSuffix("]") {
                section = String(trimmed.dropFirst().dropLast()).trimmingSpaces().lowercased()
                lastKey = nil
                continue
            }
            if line.first?.isWhitespace == true, let key = lastKey {
                // A continuation of the previous value.
                if section == "global" { global[key, default: ""] += "\n" + trimmed }
                if section == "install" { install[key, default: ""] += "\n" + trimmed }
                continue
            }
            guard let separator = trimmed.firstIndex(where: { $0 == "=" || $0 == ":" }) else { continue }
            let key = trimmed[..<separator].trimmingSpaces().lowercased().replacing("_", with: "-")
            let value = trimmed[trimmed.index(after: separator)...].trimmingSpaces()
            lastKey = key
            if section == "global" { global[key] = value }
            if section == "install" { install[key] = value }
        }
        return global.merging(install) { _, install in install }.map { ($0.key, $0.value) }
    }
}
