/// A word of one-letter options (`-it`, `-qfFILE`, `-p8080:80`, `-e=A=B`)
/// read as docker's and podman's option parser (pflag) reads it, so the
/// shims find the same image, context and Dockerfile the real tool uses.
/// Letters that take no value come first; the first letter that takes one
/// takes the rest of the word (after one `=`, when something follows it),
/// or the next word when the word ends there. A letter that takes no value
/// followed by `=VALUE` is given VALUE (`-q=false`). A letter neither list
/// knows makes the word unreadable: taken for a flag, its value would be
/// taken for the operand.
enum ShortOptions {
    struct Reading: Equatable {
        /// Each letter as `-X`, with its value: nil for a flag, and for the
        /// last letter when its value is the next word.
        var options: [Option]
        /// The last letter's value is the next word.
        var takesNextWord: Bool
    }

    struct Option: Equatable {
        var name: String
        var value: String?
    }

    /// nil when `word` is no such run (a long option, `-`, `--`) or holds a letter neither set knows.
    static func read(_ word: String, flags: Set<String>, valued: Set<String>) -> Reading? {
        guard word.hasPrefix("-"), !word.hasPrefix("--"), word.count > 1 else { return nil }
        var rest = Substring(word.dropFirst())
        var options: [Option] = []
        while let letter = rest.first {
            let name = "-" + String(letter)
            rest = rest.dropFirst()
            // `X=VALUE`: pflag's form for either kind, when a value follows the `=`.
            let afterEquals: String? = rest.count >= 2 && rest.first == "=" ? String(rest.dropFirst()) : nil
            if flags.contains(name) {
                if let afterEquals {
                    options.append(Option(name: name, value: afterEquals))
                    return Reading(options: options, takesNextWord: false)
                }
                options.append(Option(name: name, value: nil))
                continue
            }
            guard valued.contains(name) else { return nil }
            if rest.isEmpty {
                options.append(Option(name: name, value: nil))
                return Reading(options: options, takesNextWord: true)
            }
            options.append(Option(name: name, value: afterEquals ?? String(rest)))
            return Reading(options: options, takesNextWord: false)
        }
        return Reading(options: options, takesNextWord: false)
    }
}
