import BouncerBase

/// A wheel's `*.dist-info/entry_points.txt`: the names of the commands pip
/// writes into the environment's `bin` for it (`[console_scripts]` and
/// `[gui_scripts]`, one `name = module:function` per line), read as
/// importlib.metadata reads them: lines stripped, `#` and `;` lines skipped.
enum WheelEntryPoints {
    static func scriptNames(_ bytes: [UInt8]) -> [String] {
        var names: [String] = []
        var inScripts = false
        for raw in String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline) {
            let line = raw.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                let section = line.dropFirst().dropLast().trimmingWhitespace()
                inScripts = section == "console_scripts" || section == "gui_scripts"
                continue
            }
            guard inScripts, let equals = line.firstIndex(of: "=") else { continue }
            let name = line[..<equals].trimmingWhitespace()
            if !name.isEmpty { names.append(name) }
        }
        return names
    }
}
