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

    /// The `infra_image` the files set (the last one), with the file that sets it.
    static func infraImage(environment: [String: String]) -> (image: String, file: String)? {
        var found: (String, String)? = nil
        for file in files(environment: environment) {
            guard let bytes = try? AtomicFile.read(file, limit: 4 << 20, code: "containers-conf") else { continue }
            for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
                let text = line.trimmingSpaces()
                guard text.hasPrefix("infra_image"), let equals = text.firstIndex(of: "=") else { continue }
                guard text[..<equals].trimmingSpaces() == "infra_image" else { continue }
                var value = text[text.index(after: equals)...].trimmingSpaces()
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
        guard makesPod, let (image, file) = infraImage(environment: environment) else { return nil }
        return "the new pod's infra container runs \(image), the infra_image \(file) sets, which podman pulls unverified (remove the setting: podman builds its own pause image locally; or create the pod with --infra=false)"
    }
}
