import BouncerBase

/// A wheel's `*.dist-info/entry_points.txt`: the names of the commands pip
/// writes into the environment's `bin` for it (`[console_scripts]` and
/// `[gui_scripts]`, one `name = module:function` per line). Read as loosely
/// as any pip reads it: lines as Python splits and strips them, `#` lines
/// skipped; a section name with every bracket and space taken off its ends
/// (importlib.metadata strips all brackets, `[[console_scripts]]` is
/// console_scripts to it; pkg_resources strips spaces, `[ console_scripts ]`).
enum WheelEntryPoints {
    static func scriptNames(_ bytes: [UInt8]) -> [String] {
        var names: [String] = []
        var inScripts = false
        for raw in PythonText.splitLines(String(decoding: bytes, as: UTF8.self)) {
            let line = PythonText.stripped(raw)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                var section = Substring(line)
                while let first = section.unicodeScalars.first, first == "[" || first == "]" || PythonText.isSpace(first) { section = section.dropFirst() }
                while let last = section.unicodeScalars.last, last == "[" || last == "]" || PythonText.isSpace(last) { section = section.dropLast() }
                inScripts = section == "console_scripts" || section == "gui_scripts"
                continue
            }
            guard inScripts, let equals = line.firstIndex(of: "=") else { continue }
            let name = PythonText.stripped(line[..<equals])
            if !name.isEmpty { names.append(name) }
        }
        return names
    }
}
