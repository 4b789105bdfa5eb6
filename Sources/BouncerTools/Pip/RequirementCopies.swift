import FoundationEssentials
import BouncerBase

/// pip obeys an index option inside a requirement file over its command
/// line and environment: `-i URL` there would send it straight past the
/// proxy. So when the files set where pip looks, the shim hands the proxy
/// those places (`PipIndexes`) and pip copies of the files without them:
/// the lines as the shim read and checked them, each on its own line
/// number, index options taken out, includes pointing at the copies.
enum RequirementCopies {
    /// Writes a copy of every file in `files` under `directory` and returns
    /// the copy of each, by the path it was read from. `replacing`: the text
    /// of some lines, by their place (a direct wheel's verified copy).
    static func write(_ files: [(path: String, lines: [RequirementLines.Line])], replacing: [String: String] = [:],
                      into directory: String) throws -> [String: String] {
        var copies: [String: String] = [:]
        for (slot, file) in files.enumerated() {
            // The file's own name, so pip's messages ("line 3 of …/requirements.txt") still read right.
            copies[file.path] = "\(directory)/\(slot)/\(Filesystem.split(file.path).name)"
        }
        for file in files {
            guard let copy = copies[file.path] else { continue }
            var text = ""
            var written = 0
            for line in file.lines {
                // Blank lines up to the line's own number.
                while written + 1 < line.number { text += "\n"; written += 1 }
                text += (replacing[line.place] ?? content(of: line, copies: copies)) + "\n"
                written += 1
            }
            try Filesystem.makeDirectories(Filesystem.split(copy).directory)
            guard FileManager.default.createFile(atPath: copy, contents: Data(text.utf8)) else {
                throw BouncerError.io("cannot write \(copy)")
            }
        }
        return copies
    }

    /// A requirement line with another requirement, its options (`--hash`) kept.
    static func replacing(_ line: RequirementLines.Line, with requirement: String) -> String {
        ([requirement] + line.options.flatMap(\.words).map(RequirementOption.quoted)).joined(separator: " ")
    }

    /// One line of a copy.
    static func content(of line: RequirementLines.Line, copies: [String: String]) -> String {
        if let (path, constraints) = line.included {
            // pip takes nothing else from an including line.
            return (constraints ? "-c " : "-r ") + RequirementOption.quoted(copies[path] ?? path)
        }
        guard !line.isRequirement, line.options.contains(where: \.name.isIndexOption) else { return line.text }
        return line.options.filter { !$0.name.isIndexOption }.flatMap(\.words).map(RequirementOption.quoted).joined(separator: " ")
    }
}
