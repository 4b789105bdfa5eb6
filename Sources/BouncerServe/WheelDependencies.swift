import BouncerBase
import BouncerIO

/// The projects a verified wheel's `*.dist-info/METADATA` requires
/// (`Requires-Dist`), for reading ahead along an install's dependency tree.
/// Requirements for an extra are left out: pip installs them only when
/// asked. Other markers are not evaluated (a guess costs one page).
enum WheelDependencies {
    static func read(_ path: String) -> [String] {
        guard let reader = try? ArchiveReader(path: path, limits: ArchiveLimits()) else { return [] }
        do {
            while let entry = try reader.next() {
                let parts = entry.path.split(separator: "/")
                guard entry.kind == .file, parts.count == 2, parts[0].hasSuffix(".dist-info"), parts[1] == "METADATA" else { continue }
                var bytes: [UInt8] = []
                try reader.readContiguous { block in
                    if bytes.count < 1 << 20 { bytes.append(contentsOf: block) }
                }
                return parse(bytes)
            }
        } catch {
            return []
        }
        return []
    }

    /// Normalised project names from the header section of a METADATA file.
    static func parse(_ bytes: [UInt8]) -> [String] {
        var names: [String] = []
        for value in WheelMetadata.requirements(bytes) {
            if let semicolon = value.firstIndex(of: ";"), value[semicolon...].contains("extra") { continue }
            let name = WheelMetadata.projectName(value)
            guard PythonPackageName.isValid(String(name)) else { continue }
            let normalised = PythonPackageName.normalised(String(name))
            if !names.contains(normalised) { names.append(normalised) }
        }
        return names
    }
}
