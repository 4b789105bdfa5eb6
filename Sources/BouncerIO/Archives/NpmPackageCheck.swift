import FoundationEssentials
import BouncerBase

/// The npm tarball checks of formats.md §7.3/§12.2: one top-level directory
/// (npm strips it whatever its name), `package.json` inside it with a name and
/// version (equal to the expected ones when given), and the install scripts
/// shown, because a genuine package can still run code on install.
enum NpmPackageCheck {
    static let lifecycle = ["preinstall", "install", "postinstall"]

    /// - Parameters:
    ///   - topLevel: the first path component of every entry, in order of appearance.
    ///   - manifests: captured `<top>/package.json` files by normalised path.
    ///   - hasBindingGyp: `<top>/binding.gyp` exists (npm then runs node-gyp on install).
    static func check(topLevel: [String], manifests: [String: [UInt8]], hasBindingGyp: Bool,
                      expectName: String?, expectVersion: String?, report: inout InspectionReport) {
        var npm = InspectionReport.Npm(packageJSON: nil, name: nil, version: nil, installScripts: [], otherScripts: [])
        defer { report.npm = npm }
        var distinct: [String] = []
        for top in topLevel where !distinct.contains(top) { distinct.append(top) }
        guard distinct.count == 1, let top = distinct.first else {
            report.add(code: "npm-top-level", entry: nil, distinct.isEmpty ? "the tarball is empty"
                : "entries sit under several top-level names (\(distinct.prefix(5).map(quoted).joined(separator: ", "))); npm expects one, like package/")
            return
        }
        let path = top + "/package.json"
        guard let bytes = manifests[path] else {
            report.add(code: "npm-no-package-json", entry: path, "the tarball has no \(quoted(path))")
            return
        }
        npm.packageJSON = path
        // Strict: a duplicated "name" or "version" would let npm and Bouncer read different packages.
        let object: [String: JSON]
        do {
            guard case .object(let members) = try JSON.parse(bytes) else {
                report.add(code: "npm-bad-package-json", entry: path, "\(quoted(path)) is not a JSON object")
                return
            }
            object = members
        } catch {
            report.add(code: "npm-bad-package-json", entry: path, "\(quoted(path)) is not valid JSON: \(error)")
            return
        }
        if case .string(let name)? = object["name"] { npm.name = name }
        if case .string(let version)? = object["version"] { npm.version = version }
        if npm.name == nil { report.add(code: "npm-no-name", entry: path, "\(quoted(path)) has no name") }
        if npm.version == nil { report.add(code: "npm-no-version", entry: path, "\(quoted(path)) has no version") }
        if let expectName, let name = npm.name, name != expectName {
            report.add(code: "npm-name-mismatch", entry: path, "\(quoted(path)) names '\(quoted(name))', expected '\(quoted(expectName))'")
        }
        if let expectVersion, let version = npm.version, version != expectVersion {
            report.add(code: "npm-version-mismatch", entry: path, "\(quoted(path)) has version '\(quoted(version))', expected '\(quoted(expectVersion))'")
        }
        var scripts: [String: JSON] = [:]
        if case .object(let members)? = object["scripts"] { scripts = members }
        for name in lifecycle {
            if case .string(let command)? = scripts[name] { npm.installScripts.append(.init(name: name, command: command)) }
        }
        // npm's default: a binding.gyp with no install/preinstall script means `node-gyp rebuild` on install.
        if hasBindingGyp && scripts["install"] == nil && scripts["preinstall"] == nil {
            npm.installScripts.insert(.init(name: "install", command: "node-gyp rebuild (implicit: binding.gyp present)"), at: 0)
        }
        npm.otherScripts = scripts.keys.filter { !lifecycle.contains($0) }.sorted()
    }
}
