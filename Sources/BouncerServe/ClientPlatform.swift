import BouncerBase

/// The platform a pip (or uv) client runs on, from the JSON its User-Agent
/// carries (CPython X.Y, Linux, the CPU, glibc 2.G), and the order in which
/// it prefers wheel tags — the order of `packaging.tags.sys_tags` — so the
/// proxy can tell which of a release's platform wheels the client will
/// fetch, and verify it ahead. Only a guess: nothing is decided on it.
public struct ClientPlatform: Hashable, Sendable {
    var major: Int
    var minor: Int
    var arch: String
    var glibcMinor: Int

    init(major: Int, minor: Int, arch: String, glibcMinor: Int) {
        self.major = major
        self.minor = minor
        self.arch = arch
        self.glibcMinor = glibcMinor
    }

    /// `pip/23.2.1 {"implementation": {"name": "CPython", ...}, "python": "3.11.7", "system": {"name": "Linux"},
    /// "cpu": "x86_64", "distro": {"libc": {"lib": "glibc", "version": "2.36"}}, ...}`; nil for anything else.
    init?(userAgent: String) {
        guard let brace = userAgent.firstIndex(of: "{"), let json = try? JSON.parse(Array(userAgent[brace...].utf8)),
              case .string("CPython")? = json["implementation"]?["name"], case .string(let python)? = json["python"],
              case .string("Linux")? = json["system"]?["name"], case .string(let cpu)? = json["cpu"],
              case .string("glibc")? = json["distro"]?["libc"]?["lib"], case .string(let glibc)? = json["distro"]?["libc"]?["version"] else {
            return nil
        }
        let pythonParts = python.split(separator: ".").compactMap { Int($0) }
        let glibcParts = glibc.split(separator: ".").compactMap { Int($0) }
        guard pythonParts.count >= 2, glibcParts.count >= 2, glibcParts[0] == 2,
              PlatformGuess.isCPUName(Substring(cpu)) else { return nil }
        self.init(major: pythonParts[0], minor: pythonParts[1], arch: cpu, glibcMinor: glibcParts[1])
    }

    /// The pip shim's guess before pip starts (`--pypi-platform-guess`).
    public init(guess: PlatformGuess) {
        self.init(major: guess.pythonMajor, minor: guess.pythonMinor, arch: guess.cpu, glibcMinor: guess.glibcMinor)
    }

    /// Linux platform tags, most preferred first: manylinux_2_G down to the
    /// oldest glibc the architecture has, each legacy alias right after its
    /// equivalent, then plain linux.
    var platforms: [String] {
        let oldest = ["x86_64", "i686"].contains(arch) ? 5 : 17
        var tags: [String] = []
        for glibc in stride(from: glibcMinor, through: oldest, by: -1) {
            tags.append("manylinux_2_\(glibc)_\(arch)")
            switch glibc {
            case 17: tags.append("manylinux2014_\(arch)")
            case 12: tags.append("manylinux2010_\(arch)")
            case 5: tags.append("manylinux1_\(arch)")
            default: break
            }
        }
        return tags + ["linux_\(arch)"]
    }

    /// Where (python, abi, platform) comes in the client's preference, lower
    /// first; nil when the client cannot install it.
    func priority(python: String, abi: String, platform: String) -> Int? {
        let cp = "cp\(major)\(minor)"
        var combos = [(cp, cp), (cp, "abi3"), (cp, "none")]
        for older in stride(from: minor - 1, through: 2, by: -1) { combos.append(("cp\(major)\(older)", "abi3")) }
        let pythons = ["py\(major)\(minor)", "py\(major)"] + stride(from: minor - 1, through: 0, by: -1).map { "py\(major)\($0)" }
        combos += pythons.map { ($0, "none") }
        let platforms = self.platforms
        if platform != "any" {
            guard let place = platforms.firstIndex(of: platform), let combo = combos.firstIndex(where: { $0 == (python, abi) }) else { return nil }
            return combo * platforms.count + place
        }
        let afterPlatforms = combos.count * platforms.count
        if python == cp && abi == "none" { return afterPlatforms }
        if abi == "none", let place = pythons.firstIndex(of: python) { return afterPlatforms + 1 + place }
        return nil
    }

    /// The best priority among a wheel's (possibly compressed) tags, nil when none fits.
    func priority(wheel filename: String) -> Int? {
        guard filename.lowercased().hasSuffix(".whl") else { return nil }
        let parts = filename.dropLast(4).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 5 else { return nil }
        let (pythons, abis, platforms) = (parts[parts.count - 3], parts[parts.count - 2], parts[parts.count - 1])
        var best: Int? = nil
        for python in pythons.split(separator: ".") {
            for abi in abis.split(separator: ".") {
                for platform in platforms.split(separator: ".") {
                    if let rank = priority(python: String(python), abi: String(abi), platform: String(platform)), rank < (best ?? .max) {
                        best = rank
                    }
                }
            }
        }
        return best
    }
}
