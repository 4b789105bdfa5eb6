import FoundationEssentials
import BouncerBase
import BouncerIO
import BouncerPolicy

/// Whether pip, uv and npm are pointed at a running `bouncer serve` (their
/// index or registry is `BASE/pypi/simple/` or `BASE/npm/` and BASE answers
/// as the proxy does). Clients pointed there are guarded whatever their
/// name (`python -m pip`, `venv/bin/pip`, npx); `bouncer shims check` says so.
public enum ProxyCoverage {
    public struct Client: Sendable, Equatable {
        public let tool: String
        /// The index or registry its configuration names (nil: its built-in default).
        public let configured: String?
        /// The proxy's base URL, when it answered as `bouncer serve`.
        public let proxy: String?
        /// Other places it takes packages from itself, beside that index, never
        /// through the proxy: pip's extra indexes and find-links, uv's other
        /// indexes and find-links (its environment and configuration files),
        /// npm's scope registries.
        public var direct: [String] = []
    }

    public static func survey(variables: [String: String], cwd: String) -> [Client] {
        let pipConfiguration = PipConfiguration.read(environment: variables, realTool: "", isolated: false)
        // uv's places as the uv shim reads them, with nothing on a command line.
        let uv = UvShim.Places.read([], cwd: cwd, environment: variables)
        let npmrc = NpmConfiguration.entries(project: NpmConfiguration.localPrefix(cwd: cwd), environment: variables, realTool: "/usr/bin/npm")
        let npm = NpmConfiguration.registry(environment: variables, npmrc: npmrc)
        let direct: [String: [String]] = [
            "pip": pipConfiguration.extraIndexURLs + pipConfiguration.findLinks,
            "uv": uv.others,
        ]
        return [("pip", pipConfiguration.indexURL, "/pypi/simple"), ("uv", uv.defaultIndex, "/pypi/simple"), ("npm", npm, "/npm")].map { tool, configured, suffix in
            var client = Client(tool: tool, configured: configured, proxy: configured.flatMap { proxyBase($0, suffix: suffix) })
            client.direct = direct[tool] ?? []
            if tool == "npm" {
                // A scope pointed at the same proxy goes through it (the proxy serves that scope's registry).
                let proxied = client.proxy.map { $0 + suffix }
                client.direct = NpmConfiguration.scopeRegistries(arguments: [], environment: variables, npmrc: npmrc)
                    .filter { proxied == nil || ($0.value.hasSuffix("/") ? String($0.value.dropLast()) : $0.value) != proxied }
                    .sorted { $0.key < $1.key }.map { "\($0.key):registry=\($0.value)" }
            }
            return client
        }
    }

    /// uv's other indexes and find-links from its environment (`UV_INDEX` and
    /// `UV_EXTRA_INDEX_URL` are space-separated, `UV_INDEX` entries may be
    /// `name=URL`; `UV_FIND_LINKS` is comma-separated). Its configuration
    /// files are `UvConfiguration`'s.
    static func uvDirectSources(_ variables: [String: String]) -> [String] {
        var found: [String] = []
        for name in ["UV_INDEX", "UV_EXTRA_INDEX_URL"] {
            for item in (variables[name] ?? "").split(whereSeparator: \.isWhitespace) {
                let entry = String(item)
                // `name=URL`: the part after the first '=' when what precedes it is no URL.
                if let equals = entry.firstIndex(of: "="), !entry[..<equals].contains(":") {
                    found.append(String(entry[entry.index(after: equals)...]))
                } else {
                    found.append(entry)
                }
            }
        }
        found += (variables["UV_FIND_LINKS"] ?? "").split(separator: ",").map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
        return found
    }

    /// BASE when `url` is BASE + suffix on this machine and what listens
    /// there is this user's own bouncer-serve (the binary beside this
    /// bouncer, found through /proc: `LocalListener`) judging by `policy`,
    /// the shim's own (the serve's root page names it by its path's sha256). A shim then
    /// hands its tool to that serve. Anything else answering there — another
    /// program, a serve under another policy — is an upstream like any
    /// index, judged by the shim's own proxy. Only a URL that fits is asked.
    static func localServe(_ url: String, suffix: String, policy: String) -> String? {
        guard let host = URLParts.host(url), ["127.0.0.1", "localhost", "[::1]"].contains(host) else { return nil }
        let port = URLParts.port(url)
        let holders = LocalListener.processes(port: port)
        guard !holders.isEmpty, let server = try? EphemeralProxy.serverBinary(), holders.allSatisfy({ LocalListener.runs($0, server) }),
              // It is this user's bouncer-serve: worth waiting for on a loaded machine.
              let (base, page) = introduction(url, suffix: suffix, patience: 15) else { return nil }
        // The page's last words: "policy: " and the mark of the serve's policy file.
        guard let marker = page.ranges(of: "policy: ").last else { return nil }
        return page[marker.upperBound...].trimmingWhitespace() == Policy.fileMark(policy) ? base : nil
    }

    /// BASE when `url` is BASE + suffix and BASE answers its root as `bouncer serve` does.
    static func proxyBase(_ url: String, suffix: String) -> String? {
        introduction(url, suffix: suffix)?.base
    }

    /// BASE and its root page, when `url` is BASE + suffix and the page begins as `bouncer serve`'s does.
    /// `patience`: seconds to wait for the connection and for the answer.
    static func introduction(_ url: String, suffix: String, patience: Int = 2) -> (base: String, page: String)? {
        let trimmed = url.hasSuffix("/") ? String(url.dropLast()) : url
        guard trimmed.hasSuffix(suffix), PipConfiguration.isRemote(trimmed) else { return nil }
        let base = String(trimmed.dropLast(suffix.count))
        var options = FetchOptions()
        options.progress = false
        options.retries = 0
        options.connectTimeout = patience
        options.stallTimeout = patience
        options.maxSize = 4096
        let fetcher = Fetcher(store: Store.standard(), options: options)
        guard case .success(let fetched) = fetcher.fetch(FetchRequest(url: base + "/")) else { return nil }
        defer { fetcher.discard(fetched) }
        guard let bytes = (try? AtomicFile.read(fetched.path, limit: 4096, code: "proxy-probe")).flatMap({ $0 }) else { return nil }
        let page = String(decoding: bytes, as: UTF8.self)
        return page.hasPrefix("bouncer serve: ") ? (base, page) : nil
    }
}
