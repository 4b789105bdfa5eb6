import BouncerBase

/// What a builder takes from a base image's config blob beyond its layers:
/// the ONBUILD triggers (docker's image config, `config.OnBuild`, or
/// `container_config.OnBuild` when there is no `config`). A build
/// FROM the image runs each as an instruction of its own Dockerfile, so a
/// trigger may pull or download what the Dockerfile never names.
public enum ImageConfig {
    /// Configs are small (a few KiB; history lines make the long ones).
    public static let maxBytes: UInt64 = 4 << 20

    /// The triggers of a config, in order: `config.OnBuild`, an array of
    /// strings; absent or null is none. Anything else is refused, since the
    /// builder might still read triggers from it.
    public static func onBuildTriggers(_ bytes: [UInt8], what: String) throws(OCIError) -> [String] {
        let root: JSON
        do { root = try JSON.parse(bytes) } catch {
            throw .malformed(what: what, "not a JSON image config: \(error)")
        }
        guard case .object(let members) = root else { throw .malformed(what: what, "the image config is not a JSON object") }
        // buildah takes `container_config` for the config when `config` is absent or null (red team, round 7).
        var field = "config"
        var config = try member(members, field, at: "$", what: what)
        if config == nil || config == .null {
            field = "container_config"
            config = try member(members, field, at: "$", what: what)
        }
        guard let config, config != .null else { return [] }
        guard case .object(let settings) = config else { throw .malformed(what: what, "$.\(field) is not an object") }
        guard let triggers = try member(settings, "OnBuild", at: "$.\(field)", what: what), triggers != .null else { return [] }
        guard case .array(let items) = triggers else { throw .malformed(what: what, "$.\(field).OnBuild is not an array") }
        var found: [String] = []
        for (index, item) in items.enumerated() {
            guard case .string(let trigger) = item else { throw .malformed(what: what, "$.\(field).OnBuild[\(index)] is not a string") }
            found.append(trigger)
        }
        return found
    }

    /// A member as Go's encoding/json finds it for a field: the key matched
    /// with ASCII case ignored (the names here have no letter Unicode folds
    /// further). Two spellings are refused: Go keeps the last, in an order
    /// this reader does not see.
    static func member(_ members: [String: JSON], _ name: String, at path: String, what: String) throws(OCIError) -> JSON? {
        let keys = members.keys.filter { $0.lowercased() == name.lowercased() }
        guard keys.count <= 1 else {
            throw .malformed(what: what, "\(path) spells \(name) \(keys.count) ways (\(keys.sorted().joined(separator: ", "))); a builder reads the last")
        }
        return keys.first.flatMap { members[$0] }
    }
}
