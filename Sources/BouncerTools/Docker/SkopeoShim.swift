import FoundationEssentials
import BouncerBase

/// The skopeo shim. `skopeo copy docker://IMAGE DEST` fetches an image from
/// a registry and lands it where DEST says (podman's storage, a directory,
/// an OCI layout, an archive): the source is verified under the policy as
/// the docker and podman shims verify a pull, and skopeo is handed the
/// verified digest (`docker://REGISTRY/REPO@sha256:…`), so it copies exactly
/// that. `sync` and `layers` from a registry fetch what Bouncer does not
/// verify one by one: refused in enforce mode. Everything else (`inspect`,
/// `list-tags`, copies between local transports, …) passes through.
public enum SkopeoShim {
    static let globalFlags: Set<String> = ["--debug", "--insecure-policy", "-h", "--help", "-v", "--version"]
    static let globalValued: Set<String> = ["--command-timeout", "--override-arch", "--override-os", "--override-variant", "--policy",
                                            "--registries.d", "--tmpdir"]
    /// skopeo copy's options (pflag: a flag's value only as `--NAME=VALUE`).
    static let copyFlags: Set<String> = [
        "-a", "--all", "--dest-compress", "--dest-decompress", "--dest-no-creds", "--dest-oci-accept-uncompressed-layers",
        "--dest-precompute-digests", "--dest-tls-verify", "--preserve-digests", "-q", "--quiet", "--remove-signatures",
        "--src-no-creds", "--src-tls-verify", "-h", "--help",
    ]
    static let copyValued: Set<String> = [
        "--additional-tag", "--authfile", "--decryption-key", "--dest-authfile", "--dest-cert-dir", "--dest-compress-format",
        "--dest-compress-level", "--dest-creds", "--dest-daemon-host", "--dest-password", "--dest-registry-token",
        "--dest-shared-blob-dir", "--dest-username", "--digestfile", "--encrypt-layer", "--encryption-key", "-f", "--format",
        "--multi-arch", "--retry-times", "--retry-delay", "--sign-by", "--sign-by-sigstore", "--sign-by-sigstore-private-key",
        "--sign-identity", "--sign-passphrase-file", "--src-authfile", "--src-cert-dir", "--src-creds", "--src-daemon-host",
        "--src-password", "--src-registry-token", "--src-shared-blob-dir", "--src-username", "--image-parallel-copies",
    ]

    /// A `skopeo copy` as skopeo reads it: options anywhere (pflag
    /// intersperses them), the operands in order.
    struct Copy: Equatable {
        var operands: [Int] = []
        /// `--src-tls-verify=false`: the source registry over plain http.
        var plainHTTP = false
        var help = false
    }

    public static func run(_ arguments: [String], context: ShimContext) -> Int32 {
        let copy: Copy
        let platform: String?
        do {
            let subcommand = try ContainerShim.pastOptions(arguments, from: 0, flags: globalFlags, valued: globalValued,
                                                           what: "global option", next: "the subcommand")
            guard subcommand < arguments.count else { return context.passThrough(arguments) }
            switch arguments[subcommand] {
            case "copy":
                copy = try readCopy(arguments, from: subcommand + 1)
            case "sync":
                guard syncSource(Array(arguments[(subcommand + 1)...])) == "dir" else {
                    return context.unsupported(nil, why: "skopeo sync copies every image and tag its source names from a registry, which Bouncer does not verify one by one; copy each image through the shim (skopeo copy docker://IMAGE:TAG …)",
                                               arguments: arguments)
                }
                return context.passThrough(arguments)
            case "layers":
                guard arguments.contains(where: { $0.hasPrefix("docker://") }) else { return context.passThrough(arguments) }
                return context.unsupported(nil, why: "skopeo layers downloads an image's layers, which Bouncer does not verify; copy the image through the shim (skopeo copy docker://IMAGE dir:DIR)",
                                           arguments: arguments)
            default:
                return context.passThrough(arguments)
            }
            // Global options are persistent (pflag): they may stand after `copy` too.
            platform = overriddenPlatform(Array(arguments.prefix { $0 != "--" }))
        } catch {
            return context.unsupported(nil, why: error.description, arguments: arguments)
        }
        // `docker-daemon:` reads from a daemon, which `--src-daemon-host URL` may put on another machine:
        // the image is then downloaded from there (a red-team pass landed one from a fake daemon).
        if !copy.help, let sourceIndex = copy.operands.first, arguments[sourceIndex].hasPrefix("docker-daemon:"),
           let host = OptionWords.lastValue(of: "--src-daemon-host", in: Array(arguments.prefix { $0 != "--" })), !host.hasPrefix("unix://") {
            return context.unsupported("--src-daemon-host", why: "has skopeo download the image from the daemon at \(Redaction.url(host)), which Bouncer does not verify; pull the image through the shim from its registry instead",
                                       arguments: arguments)
        }
        guard !copy.help, let sourceIndex = copy.operands.first, arguments[sourceIndex].hasPrefix("docker://") else { return context.passThrough(arguments) }
        return ContainerShim.withPolicy(context) { policy in
            do {
                let allowHTTP = copy.plainHTTP || context.environment.variables["BOUNCER_IMAGE_ALLOW_HTTP"] == "1"
                switch try ContainerShim.check(String(arguments[sourceIndex].dropFirst("docker://".count)), platform: platform, allowHTTP: allowHTTP,
                                               policy: policy, context: context, stopped: "nothing was copied") {
                case .refused(let status):
                    return status
                case .pinned(let pinned):
                    var rewritten = arguments
                    rewritten[sourceIndex] = "docker://" + pinned
                    return context.passThrough(rewritten)
                }
            } catch {
                return ContainerShim.failed(error, context: context)
            }
        }
    }

    /// Reads copy's words from `start`: options (known ones only: an
    /// unknown one's value could be taken for the source) and operands.
    static func readCopy(_ arguments: [String], from start: Int) throws(BouncerError) -> Copy {
        var copy = Copy()
        var index = start
        var optionsEnded = false
        while index < arguments.count {
            let word = arguments[index]
            index += 1
            if optionsEnded || !word.hasPrefix("-") || word == "-" {
                copy.operands.append(index - 1)
                continue
            }
            if word == "--" { optionsEnded = true; continue }
            var seen: [(String, String?)] = []
            if word.hasPrefix("--"), let equals = word.firstIndex(of: "=") {
                let name = String(word[..<equals])
                guard copyFlags.contains(name) || copyValued.contains(name) || globalFlags.contains(name) || globalValued.contains(name) else {
                    throw .usage("copy: cannot tell whether option '\(name)' takes a value, so the source image is unknown")
                }
                seen.append((name, String(word[word.index(after: equals)...])))
            } else if copyValued.contains(word) || globalValued.contains(word) {
                seen.append((word, index < arguments.count ? arguments[index] : nil))
                index += 1
            } else if copyFlags.contains(word) || globalFlags.contains(word) {
                seen.append((word, nil))
            } else if let run = ShortOptions.read(word, flags: copyFlags.union(globalFlags), valued: copyValued) {
                seen += run.options.map { ($0.name, $0.value) }
                if run.takesNextWord { index += 1 }
            } else {
                throw .usage("copy: cannot tell whether option '\(word)' takes a value, so the source image is unknown (write it as \(word)=VALUE if it takes one)")
            }
            for (name, value) in seen {
                if name == "--src-tls-verify" { copy.plainHTTP = OptionWords.isFalse(value) }
                // `--help=false` is no help: skopeo copies (pflag reads the value as Go's ParseBool).
                if name == "-h" || name == "--help" { copy.help = value.map { ["1", "t", "T", "true", "TRUE", "True"].contains($0) } ?? true }
            }
        }
        return copy
    }

    /// sync's source transport (`--src`, `-s`; the last one given), read in
    /// the plain spellings only: anything else is taken for a registry.
    static func syncSource(_ words: [String]) -> String? {
        var found: String? = nil
        var index = 0
        while index < words.count, words[index] != "--" {
            let word = words[index]
            if word == "--src" || word == "-s" {
                found = index + 1 < words.count ? words[index + 1] : nil
                index += 2
                continue
            }
            if word.hasPrefix("--src=") {
                found = String(word.dropFirst(6))
            } else if word.hasPrefix("-"), !word.hasPrefix("--"), word.count > 1 {
                // A run of letters as pflag reads it (`-asdocker` is `-a -s docker`); one it cannot read is no `dir`.
                guard let run = ShortOptions.read(word, flags: ["-a", "-h"], valued: ["-s", "-d", "-f"]) else { return nil }
                for option in run.options where option.name == "-s" {
                    found = option.value ?? (index + 1 < words.count ? words[index + 1] : nil)
                }
                if run.takesNextWord { index += 1 }
            }
            index += 1
        }
        return found
    }

    /// The platform skopeo picks from an index when told (`--override-os`,
    /// `--override-arch`, `--override-variant`), as `OS/ARCH[/VARIANT]`; nil: its own.
    static func overriddenPlatform(_ words: [String]) -> String? {
        ContainerShim.platform(os: OptionWords.lastValue(of: "--override-os", in: words),
                               arch: OptionWords.lastValue(of: "--override-arch", in: words),
                               variant: OptionWords.lastValue(of: "--override-variant", in: words))
    }
}
