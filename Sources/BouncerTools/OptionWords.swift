/// Long options read from a command line's words as the tools' option
/// parsers take an option given more than once: the last one counts.
enum OptionWords {
    /// The last value of a valued option (`--proxy URL`, `--proxy=URL`), taken out of `options`.
    static func take(_ option: String, from options: inout [String]) -> String? {
        var found: String? = nil
        var kept: [String] = []
        var index = 0
        while index < options.count {
            if options[index] == option, index + 1 < options.count {
                found = options[index + 1]
                index += 2
                continue
            }
            if options[index].hasPrefix(option + "=") { found = String(options[index].dropFirst(option.count + 1)) } else { kept.append(options[index]) }
            index += 1
        }
        options = kept
        return found
    }

    /// The last value of a valued option in `options`, which keep it.
    static func lastValue(of option: String, in options: [String]) -> String? {
        var copy = options
        return take(option, from: &copy)
    }

    /// Whether a flag's `=VALUE` turns it off, as pflag parses a bool
    /// (`--tls-verify=false`, `=0`, `=f`); nil (the flag alone) is on.
    static func isFalse(_ value: String?) -> Bool {
        ["false", "0", "f", "FALSE", "False", "F"].contains(value ?? "true")
    }

    /// Whether a flag is on, as pflag reads the words: the last of `--NAME`,
    /// `--NAME=true` and `--NAME=false` counts (also 1/0, t/f).
    static func lastBool(_ name: String, in words: [String]) -> Bool {
        var on = false
        for word in words {
            if word == name {
                on = true
            } else if word.hasPrefix(name + "=") {
                on = ["true", "1", "t", "TRUE", "True", "T"].contains(String(word.dropFirst(name.count + 1)))
            }
        }
        return on
    }
}
