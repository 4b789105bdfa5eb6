import BouncerBase

/// The images a Dockerfile makes its builder pull, and where each is
/// written, so the build shim can verify every one and hand the builder a
/// copy with each replaced by the digest it verified: `FROM IMAGE`,
/// `COPY --from=IMAGE`, `RUN --mount=…,from=IMAGE`, and the `# syntax=`
/// directive (BuildKit pulls its frontend image). What Bouncer cannot tell
/// is refused (`DockerfileImages.Problem`): an `ADD` of a URL (the builder
/// downloads it unverified), an expansion it does not implement, an image
/// written across lines. Pure: bytes, build arguments, platform in; uses out.
///
/// Read as BuildKit reads a Dockerfile: parser directives at the top,
/// `escape` for line continuations, comment lines dropped inside an
/// instruction, here-documents after RUN/COPY/ADD skipped, variables in FROM
/// from the ARGs declared before the first FROM (a `--build-arg` overrides
/// the default; an undeclared one is empty), stage names and indexes
/// referring to earlier stages. A builder that reads here-documents as
/// instructions (buildah before 1.33) would pull an image named on a
/// here-document line: such a line is refused.
struct DockerfileImages: Equatable {
    struct Use: Equatable {
        enum Place: String { case from = "FROM", copyFrom = "COPY --from", mountFrom = "RUN --mount from", syntax = "# syntax" }
        var place: Place
        /// 1-based physical line.
        var line: Int
        /// The reference after expansion, as the builder would pull it.
        var reference: String
        /// FROM's `--platform`, when it expands to one.
        var platform: String?
        /// Where the written reference sits in the file's bytes (replaced by the verified digest).
        var range: Range<Int>
        /// The stage it belongs to, counted from 0 (a FROM starts that stage).
        var stage: Int = 0
        /// FROM's `--platform` is written with a variable: a builder may work it out
        /// otherwise than Bouncer did, so which image of an index it builds on is unsure.
        var platformHasVariable = false

        /// The reference as written (variables unexpanded).
        func written(in bytes: [UInt8]) -> String {
            range.upperBound <= bytes.count ? String(decoding: bytes[range], as: UTF8.self) : ""
        }
    }

    struct Problem: Error, Equatable, CustomStringConvertible {
        var line: Int
        var message: String
        var description: String { "line \(line): \(message)" }
    }

    /// What the build command line tells the reader.
    struct Settings {
        /// `--build-arg NAME=VALUE` (NAME alone: the value from the environment, resolved by the caller).
        var buildArguments: [String: String] = [:]
        /// Names from `--build-context NAME=…`, as written: FROM NAME and `--from=NAME` use that context, not an image.
        var namedContexts: Set<String> = []
        /// The target platform (`--platform`, else the host's): TARGETOS, TARGETARCH… and BUILD… from the host.
        var targetPlatform = "linux/amd64"
        var buildPlatform = "linux/amd64"
        /// Whether FROM's words see TARGETARCH and the other automatic platform
        /// arguments undeclared. BuildKit defines them there; buildah 1.28 does
        /// not unless the build names `--platform` (`FROM --platform=linux/${TARGETARCH:-arm64}`
        /// is linux/arm64 to it, red team round 9).
        var platformArgumentsInFrom = true
    }

    var uses: [Use] = []

    /// The file with each range replaced (ranges must not overlap).
    static func rewrite(_ bytes: [UInt8], _ replacements: [(range: Range<Int>, text: String)]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 80 * replacements.count)
        var position = 0
        for replacement in replacements.sorted(by: { $0.range.lowerBound < $1.range.lowerBound }) where replacement.range.lowerBound >= position {
            out += bytes[position..<replacement.range.lowerBound]
            out += Array(replacement.text.utf8)
            position = replacement.range.upperBound
        }
        out += bytes[position...]
        return out
    }

    static func read(_ bytes: [UInt8], settings: Settings) throws(Problem) -> DockerfileImages {
        var reader = Reader(bytes: bytes, settings: settings)
        try reader.run()
        return DockerfileImages(uses: reader.uses)
    }

    /// Why an ONBUILD trigger a base image's config carries (`config.OnBuild`)
    /// may make the build fetch what Bouncer does not verify, or nil. The
    /// builder runs the triggers as the first instructions of the stage built
    /// FROM the image, joined with line breaks and read as a Dockerfile of
    /// their own: a trigger that spans lines, continues into the next (a final
    /// escape), opens a here-document over the next, or is a comment or parser
    /// directive there is refused, then each is judged as the Dockerfile's own
    /// ONBUILD lines are (`Reader.onbuildProblem`).
    static func baseImageTriggerProblem(_ trigger: String) -> String? {
        if trigger.unicodeScalars.contains(where: { $0 == "\n" || $0 == "\r" }) {
            return "it holds a line break, and the builder reads the triggers as the lines of one file"
        }
        // The builder trims every Unicode blank (Go's unicode.IsSpace) around a line and splits
        // words on ASCII ones: a trigger starting with U+00A0 was `COPY --from` to it (red team, round 7).
        if let odd = trigger.unicodeScalars.first(where: { $0.properties.isWhitespace && $0 != " " && $0 != "\t" }) {
            return "it holds the blank U+\(String(odd.value, radix: 16, uppercase: true)), which the builder and Bouncer split words at differently"
        }
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        let trimmed = String(trigger.drop(while: blank).reversed().drop(while: blank).reversed())
        if trimmed.hasPrefix("#") { return "it starts with #, a comment or parser directive to the builder" }
        if trimmed.hasSuffix("\\") || trimmed.hasSuffix("`") { return "it ends in an escape, so the builder continues it into the next trigger" }
        if trimmed.contains("<<") { return "it opens a here-document, which the builder may fill with the triggers that follow" }
        guard Reader.onbuildProblem(Reader.words(Array(trimmed.utf8)).map(\.string)) == nil else {
            return "it may pull or download what Bouncer does not verify (a trigger with options such as --from or --mount, an ADD of a URL or variable, a FROM or ONBUILD)"
        }
        return nil
    }

    // MARK: - Reading

    /// A physical line: its bytes' range in the file (no line ending).
    struct Line { var start: Int; var end: Int }

    /// One instruction joined from its physical lines; `origin[i]` is the
    /// file offset of `text[i]` (so a word maps back to the file).
    struct Logical {
        var text: [UInt8] = []
        var origin: [Int] = []
        var firstLine = 0
    }

    /// A word of an instruction, where it starts and ends in `Logical.text`.
    struct Word { var bytes: [UInt8]; var start: Int; var end: Int; var string: String { String(decoding: bytes, as: UTF8.self) } }

    /// A stage's name as BuildKit keeps it (lowercased) and as buildah compares it (as written).
    struct Stage { var name: String?; var written: String? = nil }

    struct Reader {
        let bytes: [UInt8]
        let settings: Settings
        /// TARGETARCH and the rest, from the settings.
        let platformArguments: [String: String]
        var lines: [Line] = []
        var escape = UInt8(ascii: "\\")
        var uses: [Use] = []
        var stages: [Stage] = []
        /// ARGs declared before the first FROM, with their values.
        var globalDeclared: [String: String] = [:]
        /// The current stage's ARG and ENV values.
        var stageScope: [String: String] = [:]

        init(bytes: [UInt8], settings: Settings) {
            self.bytes = bytes
            self.settings = settings
            platformArguments = Self.platformArguments(settings)
            // A UTF-8 byte order mark before the first line is dropped, as BuildKit drops it.
            var start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
            for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") && index >= start {
                lines.append(Line(start: start, end: index > start && bytes[index - 1] == UInt8(ascii: "\r") ? index - 1 : index))
                start = index + 1
            }
            if start < bytes.count { lines.append(Line(start: start, end: bytes.count)) }
        }

        func slice(_ line: Line) -> ArraySlice<UInt8> { bytes[line.start..<line.end] }

        /// The blanks BuildKit splits words on: space, tab, \v, \f, \r.
        static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0B || byte == 0x0C || byte == 0x0D }

        /// How many bytes of Unicode white space start `text` (BuildKit trims a line's leading
        /// white space as Go's unicode.IsSpace has it: the blanks above, NEL, NBSP and the Z spaces).
        static func leadingSpace(_ text: ArraySlice<UInt8>) -> Int {
            let wide: [[UInt8]] = [[0xC2, 0x85], [0xC2, 0xA0], [0xE1, 0x9A, 0x80], [0xE2, 0x80, 0xA8], [0xE2, 0x80, 0xA9],
                                   [0xE2, 0x80, 0xAF], [0xE2, 0x81, 0x9F], [0xE3, 0x80, 0x80]]
            var rest = text
            while let first = rest.first {
                if isSpace(first) { rest = rest.dropFirst(); continue }
                // U+2000 to U+200A: E2 80 80 to E2 80 8A.
                if rest.starts(with: [0xE2, 0x80]), rest.count >= 3, (0x80...0x8A).contains(rest[rest.startIndex + 2]) {
                    rest = rest.dropFirst(3); continue
                }
                guard let match = wide.first(where: { rest.starts(with: $0) }) else { break }
                rest = rest.dropFirst(match.count)
            }
            return text.count - rest.count
        }

        /// A line without its leading white space.
        func content(_ line: Line) -> ArraySlice<UInt8> {
            let text = slice(line)
            return text.dropFirst(Self.leadingSpace(text))
        }
        static func isLetter(_ byte: UInt8) -> Bool { (65...90).contains(byte) || (97...122).contains(byte) }
        static func isDigit(_ byte: UInt8) -> Bool { (48...57).contains(byte) }

        /// The automatic platform ARGs BuildKit and buildah define.
        static func platformArguments(_ settings: Settings) -> [String: String] {
            var values: [String: String] = [:]
            for (prefix, platform) in [("TARGET", settings.targetPlatform), ("BUILD", settings.buildPlatform)] {
                let parts = platform.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
                values[prefix + "PLATFORM"] = platform
                values[prefix + "OS"] = parts.first ?? ""
                values[prefix + "ARCH"] = parts.count > 1 ? parts[1] : ""
                values[prefix + "VARIANT"] = parts.count > 2 ? parts[2] : ""
            }
            return values
        }

        mutating func run() throws(Problem) {
            var index = try directives()
            while index < lines.count {
                let trimmed = content(lines[index])
                if trimmed.isEmpty || trimmed.first == UInt8(ascii: "#") { index += 1; continue }
                let (logical, next) = join(from: index)
                index = next
                let words = Self.words(logical.text)
                guard let first = words.first else { continue }
                let instruction = first.string.uppercased()
                let arguments = Array(words.dropFirst())
                if ["RUN", "COPY", "ADD"].contains(instruction) {
                    index = try skipHereDocuments(arguments, after: index, line: logical.firstLine)
                }
                try handle(instruction, arguments, logical)
            }
        }

        /// Parser directives (`# key=value` lines at the very top); returns the first line after them.
        mutating func directives() throws(Problem) -> Int {
            var index = 0
            /// The first directive not every builder knows: BuildKit and buildah stop reading
            /// directives there (a later one is a comment), and BuildKit knows `check`, buildah does not.
            var unknown: (key: String, line: Int)? = nil
            while index < lines.count {
                let line = content(lines[index])
                guard let hash = line.indices.first, line[hash] == UInt8(ascii: "#") else { break }
                let body = line[(hash + 1)...]
                guard let equals = body.firstIndex(of: UInt8(ascii: "=")) else { break }
                let key = String(decoding: body[..<equals], as: UTF8.self).trimmingSpaces().lowercased()
                guard !key.isEmpty, key.utf8.allSatisfy({ Self.isLetter($0) || Self.isDigit($0) }) else { break }
                let valueBytes = body[(equals + 1)...]
                guard let valueStart = valueBytes.firstIndex(where: { !Self.isSpace($0) }) else { break }
                var valueEnd = valueBytes.endIndex
                while valueEnd > valueStart, Self.isSpace(bytes[valueEnd - 1]) { valueEnd -= 1 }
                let value = Array(bytes[valueStart..<valueEnd])
                if let unknown, key == "escape" || key == "syntax" {
                    throw Problem(line: index + 1, message: "this \(key) directive follows '\(unknown.key)' (line \(unknown.line)), which not every builder knows: one builder would take it and another read it as a comment, so Bouncer cannot tell which images the file names; put escape and syntax first")
                }
                // buildah takes `escape` on the first line only (any other directive ends its directives):
                // a backtick there after `syntax` is one character to BuildKit and another to buildah.
                if key == "escape", index > 0, value != [UInt8(ascii: "\\")] {
                    throw Problem(line: index + 1, message: "this escape directive follows another directive: BuildKit takes it, buildah reads it as a comment, so Bouncer cannot tell where instructions continue; put it on the first line")
                }
                switch key {
                case "escape":
                    guard value == [UInt8(ascii: "\\")] || value == [UInt8(ascii: "`")] else {
                        throw Problem(line: index + 1, message: "the escape directive must be \\ or `")
                    }
                    escape = value[0]
                case "syntax":
                    uses.append(Use(place: .syntax, line: index + 1, reference: String(decoding: value, as: UTF8.self), platform: nil,
                                    range: valueStart..<valueEnd))
                default:
                    if unknown == nil { unknown = (key, index + 1) }
                }
                index += 1
            }
            return index
        }

        /// The instruction starting at `index`, its continuation lines joined
        /// (comment lines and empty lines within it dropped, as BuildKit does).
        func join(from index: Int) -> (Logical, next: Int) {
            var logical = Logical()
            logical.firstLine = index + 1
            var current = index
            while current < lines.count {
                let line = lines[current]
                // Only the instruction's first line loses its leading white space: BuildKit and buildah keep a
                // continuation line's, so `FROM\` then ` IMAGE` is `FROM IMAGE` (read as `FROMIMAGE`, it hid the image).
                let start = current == index ? line.start + Self.leadingSpace(slice(line)) : line.start
                // A continuation is the escape character with only spaces and tabs after it.
                var end = line.end
                while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
                let continues = end > start && bytes[end - 1] == escape
                let contentEnd = continues ? end - 1 : line.end
                logical.text += bytes[start..<max(start, contentEnd)]
                logical.origin += Array(start..<max(start, contentEnd))
                current += 1
                guard continues else { break }
                // Comment and empty lines inside a continued instruction are not part of it.
                while current < lines.count {
                    let trimmed = content(lines[current])
                    guard trimmed.isEmpty || trimmed.first == UInt8(ascii: "#") else { break }
                    current += 1
                }
            }
            return (logical, current)
        }

        /// Words separated by blanks; quotes ('…', "…") keep blanks inside a word and are kept in it.
        static func words(_ text: [UInt8]) -> [Word] {
            var words: [Word] = []
            var index = 0
            while index < text.count {
                while index < text.count, isSpace(text[index]) { index += 1 }
                guard index < text.count else { break }
                let start = index
                var quote: UInt8? = nil
                while index < text.count {
                    let byte = text[index]
                    if let open = quote {
                        if byte == open { quote = nil }
                    } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                        quote = byte
                    } else if isSpace(byte) {
                        break
                    }
                    index += 1
                }
                words.append(Word(bytes: Array(text[start..<index]), start: start, end: index))
            }
            return words
        }

        /// Skips the bodies of the here-documents an instruction opens
        /// (`<<EOF`, `<<-EOF`, `<<"EOF"`); a body line that reads as an
        /// instruction pulling an image is refused (see the type's comment).
        mutating func skipHereDocuments(_ arguments: [Word], after index: Int, line: Int) throws(Problem) -> Int {
            var terminators: [(word: [UInt8], tabs: Bool)] = []
            for word in arguments {
                var rest = word.bytes[...]
                guard rest.starts(with: [UInt8(ascii: "<"), UInt8(ascii: "<")]) else { continue }
                rest = rest.dropFirst(2)
                let tabs = rest.first == UInt8(ascii: "-")
                if tabs { rest = rest.dropFirst() }
                if let quote = rest.first, quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") {
                    guard rest.count >= 2, rest.last == quote else { continue }
                    rest = rest.dropFirst().dropLast()
                }
                guard let first = rest.first, Self.isLetter(first) || first == UInt8(ascii: "_"),
                      rest.allSatisfy({ Self.isLetter($0) || Self.isDigit($0) || $0 == UInt8(ascii: "_") }) else { continue }
                terminators.append((Array(rest), tabs))
            }
            var current = index
            for terminator in terminators {
                var ended = false
                while current < lines.count {
                    var body = slice(lines[current])
                    current += 1
                    if terminator.tabs { body = body.drop { $0 == 0x09 } }
                    if Array(body) == terminator.word { ended = true; break }
                    // Read as an instruction, continuation lines joined, as a builder that does not read
                    // here-documents reads it (buildah 1.28): one naming an image or a download is refused.
                    let (logical, _) = join(from: current - 1)
                    let words = Self.words(logical.text)
                    guard let first = words.first else { continue }
                    let name = first.string.uppercased()
                    if name == "ONBUILD", let why = Self.onbuildProblem(words.dropFirst().map(\.string)) {
                        throw Problem(line: current, message: "this here-document line (opened on line \(line)) reads as an instruction to a builder that does not read here-documents: \(why)")
                    }
                    let rest = words.dropFirst().map { $0.string.lowercased() }
                    // Its flags as buildah reads them: escapes and quotes removed, variables expanded.
                    let flagWords = rest.prefix { $0.hasPrefix("--") }.map { $0.filter { !"\\`'\"".contains($0) } }
                    let hiddenFrom = flagWords.contains { $0.contains("from") || $0.contains("$") }
                    if name == "FROM" || ["COPY", "ADD", "RUN"].contains(name) && (rest.contains(where: { $0.contains("from=") }) || hiddenFrom)
                        || name == "ADD" && rest.contains(where: { Self.isDownload($0) || $0.contains("$") }) {
                        throw Problem(line: current, message: "this here-document line (opened on line \(line)) reads as \(name) naming an image or a download to a builder that does not read here-documents; Bouncer cannot tell what it fetches")
                    }
                }
                guard ended else {
                    throw Problem(line: line, message: "the here-document opened here has no terminator line '\(String(decoding: terminator.word, as: UTF8.self))'; a builder would read the rest of the file as instructions or as its body")
                }
            }
            return current
        }

        mutating func handle(_ instruction: String, _ arguments: [Word], _ logical: Logical) throws(Problem) {
            let line = logical.firstLine
            switch instruction {
            case "ARG":
                for word in arguments {
                    let text = word.string
                    let name: String
                    var value: String? = nil
                    if let equals = text.firstIndex(of: "=") {
                        name = String(text[..<equals])
                        value = try expand(Self.unquoted(String(text[text.index(after: equals)...])), line: line)
                    } else {
                        name = text
                    }
                    if stages.isEmpty {
                        globalDeclared[name] = settings.buildArguments[name] ?? value ?? ""
                    } else if let given = settings.buildArguments[name] {
                        stageScope[name] = given
                    } else if let value {
                        stageScope[name] = value
                    } else if let global = globalDeclared[name] ?? platformArguments[name] {
                        stageScope[name] = global
                    }
                }
            case "ENV":
                guard !stages.isEmpty else { return }
                if let first = arguments.first, !first.string.contains("=") {
                    // The old form: ENV NAME VALUE WITH BLANKS.
                    let value = String(decoding: logical.text[(arguments.count > 1 ? arguments[1].start : first.end)...], as: UTF8.self)
                    stageScope[first.string] = try expand(Self.unquoted(value.trimmingSpaces()), line: line)
                } else {
                    for word in arguments {
                        let text = word.string
                        guard let equals = text.firstIndex(of: "=") else { continue }
                        stageScope[String(text[..<equals])] = try expand(Self.unquoted(String(text[text.index(after: equals)...])), line: line)
                    }
                }
            case "FROM":
                try from(arguments, logical)
            case "COPY", "ADD":
                try Self.screenFlagWords(arguments, line: line)
                for (flag, value) in Self.flags(arguments) where flag.lowercased() == "--from" {
                    try Self.screenReference(Self.unquoted(value.string), what: "--from", line: line)
                    try imageOrStage(value, place: .copyFrom, logical)
                }
                if instruction == "ADD" { try remoteSources(arguments, line: line) }
            case "RUN":
                try Self.screenFlagWords(arguments, line: line, everyWord: false)
                for (flag, value) in Self.flags(arguments) where flag.lowercased() == "--mount" {
                    // buildah expands the whole mount word with its ARGs and ENV (the base image's too) and
                    // removes escapes before reading its fields (`fr\om=IMAGE`, `${M}` are a `from` to it).
                    if value.bytes.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "`") || $0 == UInt8(ascii: "$") }) {
                        throw Problem(line: line, message: "--mount=\(value.string): an escape or a variable in a mount, which buildah works out (with ENV, the base image's too) before reading its fields and BuildKit does not; write the mount out plainly")
                    }
                    for field in try Self.fields(value, line: line) where field.key.lowercased() == "from" {
                        try imageOrStage(field.value, place: .mountFrom, logical)
                    }
                }
            case "ONBUILD":
                if let why = Self.onbuildProblem(arguments.map(\.string)) { throw Problem(line: line, message: why) }
            default:
                break
            }
        }

        /// Why an ONBUILD trigger may fetch what Bouncer does not verify, or nil. buildah keeps
        /// the trigger in the image and runs it in a later build FROM that image (this file's
        /// later stage too), where it pulls or downloads as the instruction would (red team K2);
        /// Bouncer does not follow it there, so a COPY, ADD or RUN with options (`--from`,
        /// `--mount`), an ADD of a URL or variable, and a FROM or ONBUILD trigger are refused.
        /// (A base image's own triggers: `baseImageTriggerProblem`.)
        static func onbuildProblem(_ words: [String]) -> String? {
            // As buildah reads flag words: escapes and quotes removed.
            let plain = words.map { $0.filter { !"\\`'\"".contains($0) } }
            guard let trigger = plain.first?.uppercased() else { return nil }
            let rest = plain.dropFirst()
            let text = words.joined(separator: " ")
            if ["FROM", "ONBUILD"].contains(trigger) {
                return "ONBUILD \(text): a trigger naming an image or another trigger, which Bouncer does not follow into the builds that run it"
            }
            if trigger == "ADD", rest.contains(where: { isDownload($0) || $0.contains("$") }) {
                return "ONBUILD \(text): the builder of a later build FROM this image downloads it itself, unverified; fetch it through the curl shim into the build context and COPY it"
            }
            if ["COPY", "ADD", "RUN"].contains(trigger), let first = rest.first, first.hasPrefix("-") || first.hasPrefix("$") {
                return "ONBUILD \(text): a trigger with options (--from, --mount) or a variable where they stand, which a later build FROM this image runs and Bouncer does not follow; write the instruction in the Dockerfile that needs it"
            }
            return nil
        }

        /// FROM [--platform=P] IMAGE [AS NAME].
        mutating func from(_ arguments: [Word], _ logical: Logical) throws(Problem) {
            let line = logical.firstLine
            var rest = arguments[...]
            var platform: String? = nil
            var platformHasVariable = false
            var scope = settings.platformArgumentsInFrom ? platformArguments : [:]
            scope.merge(globalDeclared) { _, declared in declared }
            while let word = rest.first, word.string.hasPrefix("--") {
                let text = word.string
                guard text.lowercased().hasPrefix("--platform=") else {
                    throw Problem(line: line, message: "FROM option \(text) is not one Bouncer knows; it cannot tell which image is pulled")
                }
                let written = String(text.dropFirst("--platform=".count))
                platformHasVariable = platformHasVariable || written.contains("$")
                let expanded = try expand(written, scope: scope, line: line)
                // Empty: the builder's own platform, as if none were written.
                platform = expanded.isEmpty ? nil : expanded
                rest = rest.dropFirst()
            }
            guard let image = rest.first else { throw Problem(line: line, message: "FROM names no image") }
            rest = rest.dropFirst()
            var name: String? = nil
            if !rest.isEmpty {
                guard rest.count == 2, rest.first?.string.lowercased() == "as", let stage = rest.last else {
                    throw Problem(line: line, message: "FROM takes IMAGE [AS NAME]; Bouncer cannot read '\(String(decoding: logical.text, as: UTF8.self))'")
                }
                // buildah compares a stage reference with the name as written, after removing escapes
                // and quotes from the reference and expanding it: a name holding one names no stage to it.
                if stage.string.contains(where: { "\\`'\"$".contains($0) }) {
                    throw Problem(line: line, message: "stage name \(stage.string): an escape, quote or variable, which buildah never matches and BuildKit refuses, so the two read its references differently; name the stage plainly")
                }
                name = stage.string.lowercased()
            }
            try Self.screenReference(Self.unquoted(image.string), what: "FROM", line: line)
            let expanded = try expand(image.string, scope: scope, line: line)
            guard !expanded.isEmpty else { throw Problem(line: line, message: "FROM \(image.string) expands to nothing") }
            let lowered = expanded.lowercased()
            let isStage = try isStage(image.string, expanded: expanded, among: stages[...], numbered: false, line: line)
            if !isStage, lowered != "scratch" {
                uses.append(Use(place: .from, line: line, reference: expanded, platform: platform,
                                range: try range(of: image, in: logical), stage: stages.count, platformHasVariable: platformHasVariable))
            }
            stages.append(Stage(name: name, written: rest.last?.string))
            stageScope = [:]
        }

        /// `--from=X` of COPY or a mount: an earlier stage (by name or index), a named context, or an image.
        mutating func imageOrStage(_ value: Word, place: Use.Place, _ logical: Logical) throws(Problem) {
            var scope = platformArguments
            scope.merge(stageScope) { _, own in own }
            let expanded = try expand(value.string, scope: scope, line: logical.firstLine)
            guard !expanded.isEmpty else { throw Problem(line: logical.firstLine, message: "\(place.rawValue)=\(value.string) names no stage and no image") }
            if try isStage(value.string, expanded: expanded, among: stages.dropLast(), numbered: true, line: logical.firstLine) { return }
            uses.append(Use(place: place, line: logical.firstLine, reference: expanded, platform: nil,
                            range: try range(of: value, in: logical), stage: max(0, stages.count - 1)))
        }

        /// Whether a FROM's or `--from`'s word names an earlier stage (or a named context).
        /// BuildKit expands the word and compares it lowercased; buildah compares it as
        /// written, before expanding, and case-sensitively: a word they read apart (an
        /// image to one, a stage to the other) cannot be verified for both.
        func isStage(_ written: String, expanded: String, among earlier: ArraySlice<Stage>, numbered: Bool, line: Int) throws(Problem) -> Bool {
            let lowered = expanded.lowercased()
            // A named context: buildah matches its name exactly, BuildKit ignores case (red team K4); one
            // read only with case ignored, or only expanded, is an image to a builder, pulled unverified.
            let context = settings.namedContexts.contains(expanded)
            guard context == settings.namedContexts.contains(where: { $0.lowercased() == lowered }),
                  context == settings.namedContexts.contains(written) else {
                throw Problem(line: line, message: "'\(written)' names a --build-context to one builder and an image to another (buildah compares the name exactly, BuildKit ignores case); write it exactly as --build-context names it, without variables or quotes")
            }
            if context { return true }
            let count = earlier.count
            func index(_ text: String) -> Bool { numbered && Int(text).map { $0 >= 0 && $0 < count } == true }
            let buildKit = earlier.contains { $0.name == lowered } || index(expanded)
            let buildah = earlier.contains { $0.written != nil && $0.written == written } || index(written)
            guard buildKit == buildah else {
                throw Problem(line: line, message: "'\(written)' names \(buildKit ? "a stage to BuildKit and an image to buildah" : "an image to BuildKit and a stage to buildah") (BuildKit expands it and ignores case, buildah compares it as written); write the stage's name exactly as its FROM … AS line does")
            }
            return buildKit
        }

        /// ADD's sources: one that is a URL or a git address is downloaded by the builder itself.
        func remoteSources(_ arguments: [Word], line: Int) throws(Problem) {
            let operands = arguments.drop { $0.string.hasPrefix("--") }
            var sources: [String]
            let joined = operands.map(\.string).joined(separator: " ")
            if joined.hasPrefix("["), case .array(let items)? = try? JSON.parse(Array(joined.utf8)),
               case let strings = items.compactMap({ if case .string(let text) = $0 { return text } else { return nil } }), strings.count == items.count {
                // The JSON form, read as JSON (escapes decoded, as the builders decode them): ["src", …, "dest"].
                sources = strings
            } else {
                sources = operands.map(\.string)
            }
            sources = Array(sources.dropLast())
            var scope = platformArguments
            scope.merge(stageScope) { _, own in own }
            for source in sources where !source.hasPrefix("<<") {
                // A variable's value is worked out differently by each builder (ENV over ARG,
                // inherited ENV, names, quoting): ADD, which downloads, takes none (COPY may).
                if source.contains("$") {
                    throw Problem(line: line, message: "ADD \(source): a source written with a variable, whose value the builders work out differently, so Bouncer cannot tell whether it is a download; use COPY for files of the context, or write the source out")
                }
                let expanded = try expand(Self.unquoted(source), scope: scope, line: line, strict: true)
                if Self.isDownload(expanded) {
                    throw Problem(line: line, message: "ADD \(expanded): the builder downloads it itself, unverified; fetch it through the curl shim into the build context and COPY it")
                }
            }
        }

        /// A URL or git address once the shell-style quotes and escapes the builders remove are
        /// gone (`http:/""/h`, `http:\/\/h` are `http://h` to buildah).
        static func isDownload(_ word: String) -> Bool {
            let plain = word.lowercased().filter { $0 != "\"" && $0 != "'" && $0 != "\\" && $0 != "`" }
            return plain.contains("://") || plain.contains("git@")
        }

        /// A word's bytes in the file, which must lie on one physical line to be replaced.
        func range(of word: Word, in logical: Logical) throws(Problem) -> Range<Int> {
            var start = word.start
            var end = word.end
            // A quoted word is replaced inside its quotes.
            if end - start >= 2, let open = word.bytes.first, open == UInt8(ascii: "\"") || open == UInt8(ascii: "'"), word.bytes.last == open {
                start += 1
                end -= 1
            }
            guard start < end, end <= logical.origin.count else {
                throw Problem(line: logical.firstLine, message: "an empty image reference")
            }
            let first = logical.origin[start]
            let last = logical.origin[end - 1]
            guard last - first == end - 1 - start else {
                throw Problem(line: logical.firstLine, message: "an image reference is split across lines; write it on one line")
            }
            return first..<(last + 1)
        }

        func expand(_ text: String, line: Int) throws(Problem) -> String {
            var scope = stages.isEmpty ? platformArguments.merging(globalDeclared) { _, own in own } : platformArguments
            scope.merge(stageScope) { _, own in own }
            return try expand(text, scope: scope, line: line)
        }

        /// `$NAME`, `${NAME}`, `${NAME:-WORD}`, `${NAME:+WORD}`; an undefined
        /// name is empty, as the builders expand it (`strict`: refused instead).
        func expand(_ text: String, scope: [String: String], line: Int, strict: Bool = false) throws(Problem) -> String {
            let input = Array(text.utf8)
            var out: [UInt8] = []
            var index = 0
            func value(_ name: String) throws(Problem) -> String? {
                if let found = scope[name] { return found }
                if strict { throw Problem(line: line, message: "$\(name) is not known to Bouncer, so it cannot tell what '\(text)' names") }
                return nil
            }
            while index < input.count {
                let byte = input[index]
                if byte == escape, index + 1 < input.count, input[index + 1] == UInt8(ascii: "$") {
                    out.append(UInt8(ascii: "$"))
                    index += 2
                    continue
                }
                guard byte == UInt8(ascii: "$"), index + 1 < input.count else { out.append(byte); index += 1; continue }
                if input[index + 1] == UInt8(ascii: "{") {
                    guard let close = input[(index + 2)...].firstIndex(of: UInt8(ascii: "}")) else {
                        throw Problem(line: line, message: "'\(text)': a ${ without its }")
                    }
                    let body = String(decoding: input[(index + 2)..<close], as: UTF8.self)
                    let name = String(body.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
                    let modifier = body.dropFirst(name.count)
                    guard !name.isEmpty else { throw Problem(line: line, message: "'\(text)': an empty variable name") }
                    if modifier.isEmpty {
                        out += Array((try value(name) ?? "").utf8)
                    } else if modifier.hasPrefix(":-") || modifier.hasPrefix(":+") {
                        let word = try expand(String(modifier.dropFirst(2)), scope: scope, line: line, strict: strict)
                        let current = scope[name] ?? ""
                        if modifier.hasPrefix(":-") { out += Array((current.isEmpty ? word : current).utf8) }
                        else { out += Array((current.isEmpty ? "" : word).utf8) }
                    } else {
                        throw Problem(line: line, message: "'\(text)': the expansion ${\(body)} is not one Bouncer implements (only ${NAME}, ${NAME:-WORD}, ${NAME:+WORD})")
                    }
                    index = close + 1
                } else {
                    let name = input[(index + 1)...].prefix { Self.isLetter($0) || Self.isDigit($0) || $0 == UInt8(ascii: "_") }
                    guard !name.isEmpty else { out.append(byte); index += 1; continue }
                    out += Array((try value(String(decoding: name, as: UTF8.self)) ?? "").utf8)
                    index += 1 + name.count
                }
            }
            return String(decoding: out, as: UTF8.self)
        }

        /// buildah removes shell quotes from a flag word before reading it, BuildKit does not:
        /// `--fr""om=IMAGE` is `--from` to one and nothing to the other. A quote in a flag's
        /// name, or in a `--from` value anywhere but around it whole, is refused.
        /// `everyWord`: COPY and ADD, whose paths rarely hold an escaped quote; RUN's command often
        /// does, so only its flag words are looked at there.
        static func screenFlagWords(_ arguments: [Word], line: Int, everyWord: Bool = true) throws(Problem) {
            // `\'` or `\"` is a quote to Bouncer's word splitting and a literal to the builders' (a
            // `--from=IMAGE` after `--chown="'"0'\''` was one word here, three flags to buildah).
            let flagWords = arguments.prefix { $0.string.hasPrefix("--") }
            // The builders' flag reader takes each byte for a rune: 0x85 and 0xA0 (also inside a
            // UTF-8 character) are blanks to it, so `--chown=0\u{A0}--from=IMAGE` is two flags there,
            // and a word `\u{A0}--from=IMAGE` a flag after a blank (red team, round 7).
            let blankToBuilders = { (byte: UInt8) in byte == 0x85 || byte == 0xA0 }
            let flagWordsToBuilders = arguments.prefix { $0.bytes.drop(while: blankToBuilders).starts(with: Array("--".utf8)) }
            if let hidden = flagWordsToBuilders.first(where: { $0.bytes.contains(where: blankToBuilders) }) {
                throw Problem(line: line, message: "\(hidden.string): a flag holding a byte (0x85 or 0xA0) the builders read as a blank and Bouncer does not; write it in plain ASCII")
            }
            if let escaped = (everyWord ? arguments[...] : flagWords).first(where: { word in
                ["\\'", "\\\"", "`'", "`\""].contains { word.string.contains($0) } }) {
                throw Problem(line: line, message: "\(escaped.string): an escaped quote, which Bouncer and the builders split into words differently; write the line without one")
            }
            for word in arguments {
                let text = word.string
                guard text.hasPrefix("--") else { break }
                let name = text.prefix { $0 != "=" }
                let value = text.dropFirst(name.count).dropFirst()
                let quoted = { (part: Substring) in part.contains("\"") || part.contains("'") }
                let wholeQuoted = value.count >= 2 && (value.first == "\"" || value.first == "'") && value.last == value.first && !quoted(value.dropFirst().dropLast())
                if quoted(name) || (name.lowercased() == "--from" && quoted(value) && !wholeQuoted) {
                    throw Problem(line: line, message: "\(text): a flag written with quotes, which buildah removes and BuildKit keeps, so the two read different flags; write it without quotes")
                }
                // buildah also removes escapes from a flag word and expands its variables (`--from\=IMAGE`,
                // `--fr\om=IMAGE` are `--from=IMAGE` to it), and pulls the image after any COPY flag
                // holding `--from` (`--chown--from=IMAGE`): BuildKit reads none of them as --from.
                if name.contains(where: { "\\`$".contains($0) }) {
                    throw Problem(line: line, message: "\(text): a flag name written with an escape or a variable, which buildah removes or expands and BuildKit keeps, so the two read different flags; write it plainly")
                }
                if text.contains("--from"), name.lowercased() != "--from" {
                    throw Problem(line: line, message: "\(text): a flag holding '--from' that is not --from, which buildah takes for --from and BuildKit does not; write --from=IMAGE as a flag of its own")
                }
            }
        }

        /// A stage reference (FROM's image, `--from`, a mount's `from`) with an escape or a quote:
        /// buildah removes them before it compares the word with the stage names, BuildKit refuses
        /// or keeps them, so a stage to one is an image to the other. Stage names hold none.
        static func screenReference(_ word: String, what: String, line: Int) throws(Problem) {
            guard word.contains(where: { "\\`'\"".contains($0) }) else { return }
            throw Problem(line: line, message: "\(what) \(word): an escape or a quote in a stage or image name, which buildah removes and BuildKit does not, so the two read different stages and images; write the name plainly")
        }

        /// The leading `--name=value` / `--name` words of COPY, ADD and RUN.
        static func flags(_ arguments: [Word]) -> [(String, Word)] {
            var found: [(String, Word)] = []
            for word in arguments {
                let text = word.bytes
                guard text.starts(with: [UInt8(ascii: "-"), UInt8(ascii: "-")]) else { break }
                guard let equals = text.firstIndex(of: UInt8(ascii: "=")) else { continue }
                let offset = equals + 1
                found.append((String(decoding: text[..<equals], as: UTF8.self),
                              Word(bytes: Array(text[offset...]), start: word.start + offset, end: word.end)))
            }
            return found
        }

        /// The `key=value` fields of a mount's value, read as the builders read it: CSV,
        /// where a field may be quoted whole (`"from=IMAGE"`, commas inside it too).
        static func fields(_ value: Word, line: Int) throws(Problem) -> [(key: String, value: Word)] {
            let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ",")
            var found: [(String, Word)] = []
            let text = value.bytes
            var index = 0
            while index <= text.count {
                var start = index, end: Int
                if index < text.count, text[index] == quote {
                    // A quoted field runs to its closing quote; `""` inside it is a quote, which moves the offsets.
                    guard let close = text[(index + 1)...].firstIndex(of: quote) else {
                        throw Problem(line: line, message: "--mount=\(String(decoding: text, as: UTF8.self)): a quote without its end")
                    }
                    guard close + 1 == text.count || text[close + 1] == comma else {
                        throw Problem(line: line, message: "--mount=\(String(decoding: text, as: UTF8.self)): Bouncer reads quoted fields only as a whole (\"key=value\")")
                    }
                    start = index + 1
                    end = close
                    index = close + 2
                } else {
                    end = text[index...].firstIndex(of: comma) ?? text.count
                    index = end + 1
                    // A quote anywhere else (`'from=…'`, `fr""om=…`): buildah removes it, BuildKit's CSV reader refuses it.
                    if text[start..<end].contains(where: { $0 == quote || $0 == UInt8(ascii: "'") }) {
                        throw Problem(line: line, message: "--mount=\(String(decoding: text, as: UTF8.self)): a quote inside a field, which the builders read differently; quote a field whole (\"key=value\") or not at all")
                    }
                }
                let field = text[start..<end]
                if let equals = field.firstIndex(of: UInt8(ascii: "=")) {
                    found.append((String(decoding: field[..<equals], as: UTF8.self),
                                  Word(bytes: Array(field[(equals + 1)...]), start: value.start + equals + 1, end: value.start + end)))
                }
            }
            return found
        }

        static func unquoted(_ text: String) -> String {
            guard text.count >= 2, let first = text.first, first == "\"" || first == "'", text.last == first else { return text }
            return String(text.dropFirst().dropLast())
        }
    }
}
