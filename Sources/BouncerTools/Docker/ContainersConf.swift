import FoundationEssentials
import BouncerBase

/// podman's containers.conf, for the one setting that has podman pull an
/// image no command line names: `infra_image` (the image of a pod's infra
/// container). A `pod create`, or a `run`/`create --pod new:NAME`, pulls it
/// unverified when it is set; podman's own default (a pause image it builds
/// locally) pulls nothing.
enum ContainersConf {
    /// The files podman reads, in order (a later setting wins): the
    /// distribution's, the system's, the user's, each with its `.d` folder of
    /// `*.conf` files; `CONTAINERS_CONF` instead of them all; `CONTAINERS_CONF_OVERRIDE` last.
    static func files(environment: [String: String]) -> [String] {
        var bases: [String]
        if let only = environment["CONTAINERS_CONF"], !only.isEmpty {
            bases = [only]
        } else {
            let config = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? ((environment["HOME"] ?? "") + "/.config")
            bases = ["/usr/share/containers/containers.conf", "/etc/containers/containers.conf", config + "/containers/containers.conf"]
        }
        var files: [String] = []
        for base in bases {
            files.append(base)
            let dropIns = base + ".d"
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dropIns)) ?? []
            files += names.filter { $0.hasSuffix(".conf") }.sorted().map { dropIns + "/" + $0 }
        }
        if let override = environment["CONTAINERS_CONF_OVERRIDE"], !override.isEmpty { files.append(override) }
        return files
    }

    /// The `infra_image` the files set (the last one), with the file that
    /// sets it. Read from the plain form only (`infra_image = "IMAGE"`, a
    /// bare key, a one-line string); any other TOML form that could spell it
    /// (a dotted or quoted key, whose escapes may spell any name; an inline
    /// table; a multi-line string) is refused, naming its file and line: each
    /// had podman pull an infra image Bouncer did not see (red team K3).
    static func infraImage(environment: [String: String]) throws(BouncerError) -> (image: String, file: String)? {
        var found: (String, String)? = nil
        for file in files(environment: environment) {
            guard let bytes = try? AtomicFile.read(file, limit: 4 << 20, code: "containers-conf") else { continue }
            for (number, line) in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let text = line.trimmingSpaces()
                guard !text.hasPrefix("#"), let equals = text.firstIndex(of: "=") else { continue }
                let key = text[..<equals].trimmingSpaces()
                var value = text[text.index(after: equals)...].trimmingSpaces()
                let bare = !key.isEmpty && key.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
                let unsure = "\(file):\(number + 1): a setting Bouncer cannot read with certainty, which may set infra_image (the image podman pulls unverified for a pod's infra container); write it as infra_image = \"IMAGE\" under [engine], or remove it"
                guard bare else {
                    if text.lowercased().contains("infra") || key.contains("\\") { throw .usage(unsure) }
                    continue
                }
                guard key == "infra_image" else {
                    // An inline table may hold it (`engine = { infra_image = … }`).
                    if value.hasPrefix("{"), value.lowercased().contains("infra") || value.contains("\\") { throw .usage(unsure) }
                    continue
                }
                if value.hasPrefix("\"\"\"") || value.hasPrefix("'''") { throw .usage(unsure) }
                if let hash = value.firstIndex(of: "#"), !value.hasPrefix("\"") && !value.hasPrefix("'") { value = String(value[..<hash]).trimmingSpaces() }
                let unquoted = value.count >= 2 && (value.hasPrefix("\"") || value.hasPrefix("'")) ? String(value.dropFirst().prefix { $0 != value.first }) : value
                found = unquoted.isEmpty ? nil : (unquoted, file)
            }
        }
        return found
    }

    /// Why a call would have podman pull the configured infra image, or nil:
    /// `pod create` (no `--infra=false`), `run`/`create --pod new:NAME`.
    static func infraPull(_ arguments: [String], subcommand: Int, environment: [String: String]) -> String? {
        let verb = arguments[subcommand]
        let rest = Array(arguments.dropFirst(subcommand + 1))
        let makesPod: Bool
        switch verb {
        case "pod": makesPod = rest.first == "create" && !rest.contains { $0 == "--infra=false" || $0 == "--infra=0" }
        case "run", "create", "container":
            let words = verb == "container" ? Array(rest.dropFirst()) : rest
            guard verb != "container" || ["run", "create"].contains(rest.first ?? "") else { return nil }
            // Read over every word (the command's too, which can only refuse more).
            makesPod = words.enumerated().contains { index, word in
                word.hasPrefix("--pod=new:") || (word == "--pod" && index + 1 < words.count && words[index + 1].hasPrefix("new:"))
            }
        default: makesPod = false
        }
        guard makesPod else { return nil }
        let setting: (image: String, file: String)?
        do { setting = try infraImage(environment: environment) } catch { return error.description }
        guard let (image, file) = setting else { return nil }
        return "the new pod's infra container runs \(image), the infra_image \(file) sets, which podman pulls unverified (remove the setting: podman builds its own pause image locally; or create the pod with --infra=false)"
    }
}
