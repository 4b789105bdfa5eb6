/// The options on one requirement-file line, read the way pip reads them:
/// the words after the requirement (if any) are split as a POSIX shell
/// would (`shlex.split`) and parsed by optparse, which takes *every* option
/// on the line (`--pre -i URL`, `--pre -r other.txt`, `--pre -e ./project`)
/// and any unambiguous prefix of a long option (`--index-ur`, `--extra`).
/// Reading only a line's first word, or only whole option names, let such
/// a line send pip past the proxy or into a file nobody checked.
struct RequirementOption: Equatable, Sendable {
    enum Name: String, Sendable, CaseIterable {
        case indexURL = "--index-url", extraIndexURL = "--extra-index-url", noIndex = "--no-index"
        case constraint = "--constraint", requirement = "--requirement", editable = "--editable"
        case findLinks = "--find-links", noBinary = "--no-binary", onlyBinary = "--only-binary"
        case preferBinary = "--prefer-binary", requireHashes = "--require-hashes", pre = "--pre"
        case trustedHost = "--trusted-host", useFeature = "--use-feature"
        case globalOption = "--global-option", hash = "--hash", configSettings = "--config-settings"
        /// Not an option of pip's requirement-file parser (pip stops at it; kept so nothing after it is misread).
        case unknown = ""

        var takesValue: Bool {
            switch self {
            case .noIndex, .preferBinary, .requireHashes, .pre, .unknown: return false
            default: return true
            }
        }

        /// Where pip looks: options that change the finder's indexes and find-links.
        var isIndexOption: Bool { self == .indexURL || self == .extraIndexURL || self == .noIndex || self == .findLinks }
    }

    var name: Name
    var value: String?
    /// The words as written on the line (after shell splitting), to write the option out again.
    var words: [String]

    /// Every long spelling pip's requirement-file parser knows (`--pypi-url` is an old alias of `--index-url`).
    static let longSpellings: [(String, Name)] = Name.allCases.filter { $0 != .unknown }.map { ($0.rawValue, $0) } + [("--pypi-url", .indexURL)]
    static let shortSpellings: [Character: Name] = ["i": .indexURL, "c": .constraint, "r": .requirement, "e": .editable,
                                                   "f": .findLinks, "C": .configSettings]

    /// optparse's long-option lookup: the exact spelling, else the one spelling the word begins.
    static func long(_ written: String) -> Name? {
        if let exact = longSpellings.first(where: { $0.0 == written }) { return exact.1 }
        let candidates = longSpellings.filter { $0.0.hasPrefix(written) }
        return candidates.count == 1 ? candidates[0].1 : nil
    }

    /// The options of `text`, the part of a line from its first word that starts with "-".
    static func parse(_ text: String) -> [RequirementOption] {
        let words = shellWords(text)
        var options: [RequirementOption] = []
        var index = 0
        while index < words.count {
            let word = words[index]
            index += 1
            // optparse stops at "--"; pip ignores what follows it, and words that are not options.
            if word == "--" { break }
            guard word.hasPrefix("-"), word != "-" else { continue }
            if word.hasPrefix("--") {
                let (written, inline) = word.firstIndex(of: "=").map { (String(word[..<$0]), String(word[word.index(after: $0)...])) } ?? (word, nil)
                guard let name = long(written) else {
                    options.append(RequirementOption(name: .unknown, value: nil, words: [word]))
                    continue
                }
                if name.takesValue, inline == nil {
                    let value = index < words.count ? words[index] : nil
                    if value != nil { index += 1 }
                    options.append(RequirementOption(name: name, value: value, words: [word] + (value.map { [$0] } ?? [])))
                } else {
                    options.append(RequirementOption(name: name, value: inline, words: [word]))
                }
                continue
            }
            // Every short option here takes a value: the rest of the word, else the next word.
            let letter = word[word.index(after: word.startIndex)]
            guard let name = shortSpellings[letter] else {
                options.append(RequirementOption(name: .unknown, value: nil, words: [word]))
                continue
            }
            var value: String? = word.count > 2 ? String(word.dropFirst(2)) : nil
            var written = [word]
            if value == nil, index < words.count {
                value = words[index]
                written.append(words[index])
                index += 1
            }
            options.append(RequirementOption(name: name, value: value, words: written))
        }
        return options
    }

    /// POSIX shell words (Python's `shlex.split`): quotes group, a backslash
    /// escapes outside single quotes. An unclosed quote (pip refuses the
    /// line) ends the last word where the text ends.
    static func shellWords(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character? = nil
        var escaped = false
        for character in text {
            if escaped {
                // Inside double quotes a backslash escapes only \ and " (as shlex); elsewhere it is kept.
                if quote == "\"" && character != "\\" && character != "\"" { current.append("\\") }
                current.append(character)
                escaped = false
                continue
            }
            switch (quote, character) {
            case ("'", "'"), ("\"", "\""): quote = nil
            case ("'", _): current.append(character)
            case (_, "\\"): escaped = true; inWord = true
            case (nil, "'"), (nil, "\""): quote = character; inWord = true
            case (nil, " "), (nil, "\t"), (nil, "\n"), (nil, "\r"):
                if inWord { words.append(current); current = ""; inWord = false }
            default: current.append(character); inWord = true
            }
        }
        if escaped { current.append("\\") }
        if inWord || quote != nil { words.append(current) }
        return words
    }

    /// A word as a shell (and pip's `shlex.split`) reads it back unchanged.
    static func quoted(_ word: String) -> String {
        let plain = !word.isEmpty && word.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "@%+=:,./_-[]<>!~*".contains($0)) }
        return plain ? word : "'" + word.replacing("'", with: "'\"'\"'") + "'"
    }
}
