import FoundationEssentials
import BouncerBase

/// The environment `bouncer exec` gives its command when a policy is in
/// force: pip by any path (an activated venv's, `venv/bin/pip`, pip's build
/// isolation) and npm by any path are pointed at the exec's own verifying
/// proxy, so what no shim sees still goes through Bouncer. The proxy's
/// address changes with every exec, so no client may write it into the
/// project: uv is not pointed at it (`uv sync`, `uv lock` and `uv add` record
/// their index in uv.lock; the uv shim runs uv only against a serve of the
/// user's own), and npm keeps recording the registry's tarball URLs
/// (the proxy serves them unchanged; npm reaches the proxy for them by
/// `replace-registry-host=always`). The variables it changed are recorded
/// with their old values, so a shim under it reads the user's own settings
/// again (`restored`) and runs its tool through a proxy of its own over the
/// real index, as without exec, instead of a proxy over the exec's proxy
/// (whose pins would name the exec proxy's passing address).
public enum ExecProxyEnvironment {
    /// The exec's proxy, `http://127.0.0.1:PORT`.
    public static let proxyVariable = "BOUNCER_EXEC_PROXY"
    /// JSON: each variable exec changed, `{"set": VALUE-or-null, "was": VALUE-or-null}`.
    public static let changesVariable = "BOUNCER_EXEC_CHANGED"

    /// pip's settings that name where it looks: the proxy serves them (it read
    /// them as it started), so pip is given none of them but the proxy.
    static let pipPlaces = ["index-url", "pypi-url", "extra-index-url", "find-links"]

    /// `variables` with pip and npm pointed at the proxy at `base`.
    /// `pip` and `npmScopes`: their configuration as read from `variables`;
    /// `npmCache`: the command's own npm cache (npm's is content-addressed: a
    /// tarball it holds, fetched unguarded once, would be installed without
    /// asking the proxy).
    /// `pipServed` / `npmServed`: that client's configuration already names
    /// a running `bouncer serve` of the user's own under the same policy
    /// (`ProxyCoverage.localServe`): it is left pointed there, with no proxy
    /// of exec's in between (each file would be verified twice, and the lock
    /// would pin that serve's address, a free port). npm still gets its cache.
    public static func pointing(at base: String, over variables: [String: String], pip: PipConfiguration,
                                npmScopes: [String], npmCache: String,
                                pipServed: Bool = false, npmServed: Bool = false) -> [String: String] {
        var changed: [String: String?] = [:]
        if !pipServed { pointPip(at: base, over: variables, pip: pip, into: &changed) }
        if !npmServed { pointNpm(at: base, over: variables, npmScopes: npmScopes, into: &changed) }
        // npm's cache: every spelling npm reads as that setting goes first (any case, `-` or `_`).
        for variable in variables.keys where variable.lowercased().replacing("-", with: "_") == "npm_config_cache" {
            changed[variable] = .some(nil)
        }
        changed["npm_config_cache"] = npmCache
        // The proxy is reached directly, whatever HTTP proxy the clients are told to use.
        changed["no_proxy"] = EphemeralProxy.directHosts([variables["no_proxy"], variables["NO_PROXY"]])
        changed["NO_PROXY"] = changed["no_proxy"]

        var environment = variables
        var record: [String: JSON] = [:]
        for (variable, value) in changed {
            record[variable] = .object(["set": value.map(JSON.string) ?? .null, "was": variables[variable].map(JSON.string) ?? .null])
            environment[variable] = value
        }
        if !(pipServed && npmServed) { environment[proxyVariable] = base }
        environment[changesVariable] = String(decoding: JSON.object(record).serialized(), as: UTF8.self)
        return environment
    }

    private static func pointPip(at base: String, over variables: [String: String], pip: PipConfiguration,
                                 into changed: inout [String: String?]) {
        let index = base + "/pypi/simple/"
        // pip reads no file (a configured extra index or find-links could not be switched off
        // otherwise); its other settings come as variables, and the places it looked are the proxy's.
        changed["PIP_CONFIG_FILE"] = "/dev/null"
        var settings = pip.otherSettings
        if pip.noIndex { settings["no-index"] = "1" }
        if !pip.requirementFiles.isEmpty { settings["requirement"] = pip.requirementFiles.joined(separator: " ") }
        if !pip.constraintFiles.isEmpty { settings["constraint"] = pip.constraintFiles.joined(separator: " ") }
        if !pip.editables.isEmpty { settings["editable"] = pip.editables.joined(separator: " ") }
        for (key, value) in settings where key != "proxy" {
            let variable = PipConfiguration.variable(key)
            if variables[variable] == nil { changed[variable] = value }
        }
        // Every spelling pip reads as one of them (`PIP___EXTRA_INDEX_URL` is `extra-index-url` to pip).
        for variable in pipPlaces.map(PipConfiguration.variable) + PipConfiguration.variables(in: variables, naming: Set(pipPlaces)) {
            changed[variable] = .some(nil)
        }
        changed["PIP_INDEX_URL"] = index
    }

    /// npm: the registry, each scope's, and the lockfile's tarball URLs (every spelling npm
    /// reads as those settings goes first: any case, `-` or `_`).
    private static func pointNpm(at base: String, over variables: [String: String], npmScopes: [String],
                                 into changed: inout [String: String?]) {
        for variable in variables.keys {
            let setting = variable.lowercased().replacing("-", with: "_")
            if setting == "npm_config_registry" || (setting.hasPrefix("npm_config_@") && setting.hasSuffix(":registry")) {
                changed[variable] = .some(nil)
            }
        }
        changed["npm_config_registry"] = base + "/npm/"
        for scope in npmScopes { changed["npm_config_\(scope):registry"] = base + "/npm/" }
        changed["npm_config_replace_registry_host"] = "always"
    }

    /// `variables` as they were before `bouncer exec` pointed them at its
    /// proxy: each variable still holding what exec set gets its old value
    /// back (one the command changed since is the command's). Unchanged when
    /// no exec is above.
    public static func restored(_ variables: [String: String]) -> [String: String] {
        guard let text = variables[changesVariable], let record = try? JSON.parse(Array(text.utf8)),
              case .object(let changes) = record else { return variables }
        var environment = variables
        for (variable, change) in changes {
            let set: String? = if case .string(let value)? = change["set"] { value } else { nil }
            let was: String? = if case .string(let value)? = change["was"] { value } else { nil }
            guard environment[variable] == set else { continue }
            environment[variable] = was
        }
        environment[changesVariable] = nil
        environment[proxyVariable] = nil
        return environment
    }
}
