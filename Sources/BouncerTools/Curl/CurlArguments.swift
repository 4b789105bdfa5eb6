import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerIO
import BouncerPolicy
/// What a curl command line asks for, as far as Bouncer understands it.
/// Every option is classified: understood (and either honoured or harmless
/// for a verified download), a sign that this is not an artifact download
/// (passed to the real curl), or something that could change what is fetched
/// or written (refused in enforce mode). Anything not in the tables is the last kind.
public struct CurlInvocation: Equatable, Sendable {
    public enum Output: Equatable, Sendable {
        case standardOutput
        case file(String)
        /// `-O`: the URL's last path segment in the output directory.
        case remoteName
    }

    public struct Transfer: Equatable, Sendable {
        public var url: String
        public var output: Output
    }

    public var transfers: [Transfer] = []
    public var outputDir: String?
    public var createDirs = false
    public var silent = false
    public var showError = false
    public var fail = false
    public var followRedirects = false
    public var progressBar = false
    public var resume = false
    /// `-m SECONDS` / `--max-time`: the whole operation's limit (fetching and verifying).
    public var maxTime: Double?
}

public enum CurlCommand: Equatable, Sendable {
    case download(CurlInvocation)
    /// No response body is written (`-I`, `--version`, no URL): the real curl runs it.
    case passThrough(reason: String)
    /// An option Bouncer cannot honour while verifying (named, with why).
    case unsupported(option: String, why: String)
    case usage(String)
    /// What the real curl would refuse with its own exit code (`--proto =https` and an http URL: 1).
    case curlError(code: Int32, message: String)
}

public enum CurlArguments {
    enum Kind {
        case flag                // understood; effect recorded or harmless
        case value               // understood, takes a value
        case passFlag(String)    // not a download
        case passValue(String)
        case refuseFlag(String)  // could change what is fetched or written
        case refuseValue(String)
        case data                // a request body; with -G, the query string
        case send(String)        // sends something else (a form, an upload)
    }

    static let short: [Character: (String, Kind)] = [
        "s": ("silent", .flag), "S": ("show-error", .flag), "f": ("fail", .flag), "L": ("location", .flag),
        "#": ("progress-bar", .flag), "O": ("remote-name", .flag), "k": ("insecure", .flag),
        "g": ("globoff", .flag), "Z": ("parallel", .flag), "N": ("no-buffer", .flag), "R": ("remote-time", .flag),
        "q": ("disable", .flag), ":": ("next", .refuseFlag("starts another set of options and URLs, which Bouncer does not parse")), "v": ("verbose", .flag), "4": ("ipv4", .flag), "6": ("ipv6", .flag),
        "o": ("output", .value), "C": ("continue-at", .value), "m": ("max-time", .value),
        "I": ("head", .flag), "G": ("get", .flag),
        "V": ("version", .passFlag("--version")), "h": ("help", .passFlag("--help")), "M": ("manual", .passFlag("--manual")),
        "X": ("request", .value),
        "d": ("data", .data), "F": ("form", .send("-F posts a form")),
        "T": ("upload-file", .send("-T uploads a file (PUT)")),
        "H": ("header", .refuseValue("adds a request header")), "u": ("user", .refuseValue("sends credentials")),
        "b": ("cookie", .refuseValue("sends cookies")), "e": ("referer", .refuseValue("sets the Referer")),
        "A": ("user-agent", .refuseValue("sets the User-Agent")), "r": ("range", .refuseValue("asks for part of the body")),
        "K": ("config", .refuseValue("reads more options and URLs from a file in curl's config syntax, which Bouncer does not parse, so it cannot know what would be fetched")), "E": ("cert", .refuseValue("uses a client certificate (Bouncer's own fetch presents the one BOUNCER_CLIENT_CERT names)")),
        "z": ("time-cond", .refuseValue("makes the download conditional")), "c": ("cookie-jar", .refuseValue("writes a cookie file")),
        "D": ("dump-header", .refuseValue("writes the response headers")), "w": ("write-out", .refuseValue("prints transfer details")),
        "x": ("proxy", .refuseValue("sends the request through a proxy")), "U": ("proxy-user", .refuseValue("sends proxy credentials")),
        "i": ("include", .refuseFlag("puts the response headers into the output")),
        "J": ("remote-header-name", .refuseFlag("names the file from a response header")),
        "n": ("netrc", .refuseFlag("sends credentials from .netrc")),
    ]

    static let long: [String: Kind] = {
        var table: [String: Kind] = [:]
        for (_, entry) in short { table[entry.0] = entry.1 }
        for name in ["fail-with-body", "remote-name-all", "compressed", "create-dirs", "no-progress-meter", "http1.1",
                     "http2", "fail-early", "no-keepalive", "ssl-reqd", "tcp-nodelay", "retry-connrefused",
                     "retry-all-errors", "tlsv1.2", "tlsv1.3", "styled-output", "no-styled-output", "globoff"] {
            table[name] = .flag
        }
        for name in ["output-dir", "connect-timeout", "retry", "retry-delay", "retry-max-time", "max-redirs", "url",
                     "limit-rate", "max-filesize", "parallel-max", "proto", "proto-redir", "proto-default",
                     "keepalive-time", "speed-limit", "speed-time", "expect100-timeout"] {
            table[name] = .value
        }
        for name in ["data-binary", "data-raw", "data-ascii", "data-urlencode"] { table[name] = .data }
        table["form-string"] = .send("--form-string posts a form")
        table["json"] = .send("--json posts JSON (and sets its own headers)")
        table["upload-file"] = .send("--upload-file uploads a file (PUT)")
        table["url-query"] = .refuseValue("adds to the query in a way Bouncer does not reproduce")
        for (name, why) in [("oauth2-bearer", "sends a bearer token"), ("aws-sigv4", "signs the request"),
                            ("resolve", "overrides name resolution"), ("connect-to", "redirects the connection"),
                            ("cacert", "trusts other certificate authorities (Bouncer's own fetch trusts the PEM file BOUNCER_CA_BUNDLE names)"),
                            ("capath", "trusts other certificate authorities (Bouncer's own fetch trusts the PEM file BOUNCER_CA_BUNDLE names)"),
                            ("key", "uses a client key (Bouncer's own fetch reads BOUNCER_CLIENT_KEY)"), ("netrc-file", "sends credentials from a file")] {
            table[name] = .refuseValue(why)
        }
        for (name, why) in [("netrc-optional", "sends credentials from .netrc"), ("location-trusted", "sends credentials to redirect targets"),
                            ("anyauth", "authenticates"), ("basic", "authenticates"), ("digest", "authenticates"),
                            ("ntlm", "authenticates"), ("negotiate", "authenticates"), ("no-clobber", "changes the file name when it exists")] {
            table[name] = .refuseFlag(why)
        }
        return table
    }()

    /// One request-body argument, as curl takes it (see `queryString`).
    public struct DataPiece: Equatable, Sendable {
        public enum Kind: Equatable, Sendable {
            /// `-d`, `--data`, `--data-ascii`: `@FILE` is read with CR and LF removed.
            case ascii
            /// `--data-binary`: `@FILE` is read as it is.
            case binary
            /// `--data-raw`: the text as it is, `@` included.
            case raw
            /// `--data-urlencode`: `content`, `=content`, `name=content`, `@FILE`, `name@FILE`.
            case urlencode
        }
        public var kind: Kind
        public var value: String
        /// The option as given, for messages.
        public var option: String
    }

    /// `readFile` reads a `@FILE` of the data options ("-" is standard input);
    /// nil when it cannot be read (a usage error naming the file).
    public static func parse(_ arguments: [String], readFile: (String) -> [UInt8]? = CurlArguments.readDataFile) -> CurlCommand {
        var invocation = CurlInvocation()
        /// Each URL, with `--remote-name-all` as it stood when the URL was read: curl gives a URL the
        /// default of that moment (`URL1 --remote-name-all URL2` sends URL1 to standard output).
        var urls: [(url: String, remoteNameAll: Bool)] = []
        var outputs: [CurlInvocation.Output] = []
        var remoteNameAll = false
        var passReason: String? = nil
        var refusal: (String, String)? = nil
        var endOfOptions = false
        var index = 0
        var get = false, head = false, globOff = false
        var method: String? = nil
        var data: [DataPiece] = []
        var sends: [String] = []
        var protocols: String? = nil
        var protocolDefault: String? = nil
        var redirectProtocols: [String] = []
        var maxTime: String? = nil

        func takeValue(_ shown: String) -> String? {
            index += 1
            return index < arguments.count ? arguments[index] : nil
        }

        // A flag turned on, or off by its `--no-` form (curl's toggle). `--no-remote-name` still takes
        // an output slot, to standard output, as curl's does.
        func toggle(_ name: String, on: Bool) {
            switch name {
            case "silent": invocation.silent = on
            case "show-error": invocation.showError = on
            case "fail", "fail-with-body": invocation.fail = on
            case "location": invocation.followRedirects = on
            case "progress-bar": invocation.progressBar = on
            case "remote-name": outputs.append(on ? .remoteName : .standardOutput)
            case "remote-name-all": remoteNameAll = on
            case "create-dirs": invocation.createDirs = on
            case "get": get = on
            case "head": head = on
            case "globoff": globOff = on
            default: break
            }
        }

        // Records one option; returns a usage error text if its value is missing.
        func apply(_ name: String, _ kind: Kind, shown: String, inlineValue: String?) -> String? {
            var value: String? = inlineValue
            switch kind {
            case .value, .passValue, .refuseValue, .data, .send:
                if value == nil { value = takeValue(shown) }
                guard value != nil else { return "option \(shown): requires parameter" }
            default: break
            }
            switch kind {
            case .flag:
                toggle(name, on: true)
            case .value:
                let value = value ?? ""
                switch name {
                case "output": outputs.append(value == "-" ? .standardOutput : .file(value))
                case "output-dir": invocation.outputDir = value
                case "continue-at": invocation.resume = true
                case "url": urls.append((value, remoteNameAll))
                case "request": method = value
                case "proto": protocols = value
                case "proto-default": protocolDefault = value
                case "proto-redir": redirectProtocols.append(value)
                case "max-time": maxTime = value
                default: break
                }
            case .data:
                let kind: DataPiece.Kind = switch name {
                case "data-binary": .binary
                case "data-raw": .raw
                case "data-urlencode": .urlencode
                default: .ascii
                }
                data.append(DataPiece(kind: kind, value: value ?? "", option: shown))
            case .send(let why):
                sends.append(why)
            case .passFlag(let why), .passValue(let why):
                if passReason == nil { passReason = why }
            case .refuseFlag(let why), .refuseValue(let why):
                if refusal == nil { refusal = (shown, why) }
            }
            return nil
        }

        while index < arguments.count {
            let argument = arguments[index]
            if endOfOptions || !argument.hasPrefix("-") || argument == "-" {
                urls.append((argument, remoteNameAll))
            } else if argument == "--" {
                endOfOptions = true
            } else if argument.hasPrefix("--") {
                var name = String(argument.dropFirst(2))
                if let kind = long[name] {
                    if let error = apply(name, kind, shown: argument, inlineValue: nil) { return .usage(error) }
                } else if name.hasPrefix("no-"), case .flag? = long[String(name.dropFirst(3))] {
                    name = String(name.dropFirst(3))
                    // `--no-X` undoes flag X, as curl's toggle does.
                    toggle(name, on: false)
                } else {
                    if refusal == nil { refusal = (argument, "is not one Bouncer understands (it could change what is fetched)") }
                    // Unknown long options may take a value; the command is refused or passed on anyway.
                }
            } else {
                // Short options cluster: -sSfL, -fsSLo FILE, -oFILE.
                var letters = Substring(argument.dropFirst())
                while let letter = letters.first {
                    letters = letters.dropFirst()
                    guard let (name, kind) = short[letter] else {
                        if refusal == nil { refusal = ("-\(letter)", "is not one Bouncer understands (it could change what is fetched)") }
                        break
                    }
                    switch kind {
                    case .value, .passValue, .refuseValue, .data, .send:
                        let inline = letters.isEmpty ? nil : String(letters)
                        letters = ""
                        if let error = apply(name, kind, shown: "-\(letter)", inlineValue: inline) { return .usage(error) }
                    default:
                        _ = apply(name, kind, shown: "-\(letter)", inlineValue: nil)
                    }
                }
            }
            index += 1
        }

        if let passReason { return .passThrough(reason: passReason) }
        if let refusal { return .unsupported(option: refusal.0, why: refusal.1) }
        guard !urls.isEmpty else { return .passThrough(reason: "no URL given") }
        if let maxTime {
            guard let seconds = Double(maxTime), seconds >= 0, seconds.isFinite else { return .usage("option --max-time: expected a proper numerical parameter") }
            invocation.maxTime = seconds > 0 ? seconds : nil
        }
        // curl's own protocol limits (`--proto =https`): a URL they disallow is curl's error 1, not a fetch.
        let allowed = protocols.map(Self.allowedProtocols)
        for (url, _) in urls {
            let scheme = Self.scheme(normalise(url, default: protocolDefault))
            if let allowed, !allowed.contains(scheme) {
                return .curlError(code: 1, message: "Protocol \"\(scheme)\" not supported or disabled in libcurl")
            }
        }

        // What the request is decides whether it is a download: every request whose
        // response body curl writes is one, so it is either guarded (a GET, with -G
        // the data as its query) or refused. Only -I (headers, no body) goes to the real curl.
        let upperMethod = method?.uppercased()
        if head {
            if let method { return .unsupported(option: "-X \(method)", why: "with -I changes the HEAD request into one that can return a body") }
            if let send = sends.first { return .unsupported(option: send.split(separator: " ").first.map(String.init) ?? "-F", why: "with -I: curl refuses two request methods") }
            // Headers only where the protocol has them: for telnet, dict, gopher… curl writes what the server sends.
            let withHeaders: Set<String> = ["http", "https", "ftp", "ftps", "file"]
            for (url, _) in urls {
                let scheme = Self.protocolCurlUses(url, default: protocolDefault)
                guard !withHeaders.contains(scheme) else { continue }
                return .unsupported(option: Redaction.url(url), why: "with -I: curl writes what a \(scheme) server sends, unverified")
            }
            // The same for where a redirect leads: curl follows one to http(s) and ftp(s) only, unless
            // `--proto-redir` allows more (each given one is judged, whichever curl keeps).
            if let list = redirectProtocols.first(where: { !Self.allowedProtocols($0).isSubset(of: withHeaders) }) {
                return .unsupported(option: "--proto-redir \(list)", why: "with -I: a redirect could lead to a protocol without headers (telnet, dict, gopher…), whose server's bytes curl writes, unverified")
            }
            return .passThrough(reason: "-I asks for headers only")
        }
        if let method, upperMethod != "GET" {
            return .unsupported(option: "-X \(method)", why: "sends a \(method) request, whose response body Bouncer cannot verify: it fetches with GET only and must not repeat a request that may change something")
        }
        if let send = sends.first {
            return .unsupported(option: String(send.prefix(while: { $0 != " " })),
                                why: "\(send.drop(while: { $0 != " " }).dropFirst()): the response body would reach its destination unverified, and Bouncer cannot repeat the request to verify it")
        }
        var query: String? = nil
        if let first = data.first {
            guard get else {
                if method != nil {
                    return .unsupported(option: first.option, why: "with -X GET sends a GET with a request body; Bouncer fetches without a body, so it cannot verify what that request returns (use -G to send the data as the query)")
                }
                return .unsupported(option: first.option, why: "sends a POST, whose response body Bouncer cannot verify: it fetches with GET only and must not repeat a POST (use -G to send the data as the query of a GET)")
            }
            switch queryString(data, readFile: readFile) {
            case .success(let text):
                // curl itself rejects such a URL (exit 3, "Malformed input to a URL function").
                if let bad = text.unicodeScalars.first(where: { $0 == " " || $0.value < 0x20 || $0.value == 0x7f }) {
                    return .usage("-G: the query would contain \(bad == " " ? "a space" : "a control character"), which curl rejects as a malformed URL (use --data-urlencode)")
                }
                query = text
            case .failure(let problem): return .usage(problem.text)
            }
        }
        for (position, (url, named)) in urls.enumerated() {
            // curl expands [1-3] and {a,b} unless -g; Bouncer fetches one URL per argument.
            if !globOff && (url.contains("[") || url.contains("{")) {
                return .unsupported(option: url, why: "uses curl URL globbing, which Bouncer does not expand (-g turns globbing off)")
            }
            let output = position < outputs.count ? outputs[position] : (named ? .remoteName : .standardOutput)
            var full = normalise(url, default: protocolDefault)
            if let query { full = appendingQuery(query, to: full) }
            invocation.transfers.append(.init(url: full, output: output))
        }
        return .download(invocation)
    }

    /// The query curl builds from the data options under -G: every piece in
    /// order, joined by `&`.
    public static func queryString(_ pieces: [DataPiece], readFile: (String) -> [UInt8]?) -> Result<String, UsageText> {
        var parts: [String] = []
        for piece in pieces {
            func read(_ file: String) -> [UInt8]? { readFile(file) }
            switch piece.kind {
            case .raw:
                parts.append(piece.value)
            case .ascii, .binary:
                guard piece.value.hasPrefix("@") else { parts.append(piece.value); continue }
                let file = String(piece.value.dropFirst())
                guard var bytes = read(file) else { return .failure(UsageText("\(piece.option) @\(file): cannot read \(file)")) }
                // -d strips carriage returns and newlines from a file; --data-binary keeps them.
                if piece.kind == .ascii { bytes.removeAll { $0 == 13 || $0 == 10 } }
                parts.append(String(decoding: bytes, as: UTF8.self))
            case .urlencode:
                let value = piece.value
                // curl splits at the first '=' or '@': name=content, =content, name@file, @file.
                if let split = value.firstIndex(where: { $0 == "=" || $0 == "@" }) {
                    let name = String(value[..<split])
                    let rest = String(value[value.index(after: split)...])
                    let content: [UInt8]
                    if value[split] == "@" {
                        guard let bytes = read(rest) else { return .failure(UsageText("\(piece.option) \(value): cannot read \(rest)")) }
                        content = bytes
                    } else {
                        content = Array(rest.utf8)
                    }
                    parts.append((name.isEmpty ? "" : name + "=") + percentEncoded(content))
                } else {
                    parts.append(percentEncoded(Array(value.utf8)))
                }
            }
        }
        return .success(parts.joined(separator: "&"))
    }

    /// A usage problem found while building the query (a data file that cannot be read).
    public struct UsageText: Error, Equatable {
        public let text: String
        init(_ text: String) { self.text = text }
    }

    /// The escaping of curl's --data-urlencode (measured against curl 7.88
    /// with -G): every byte but A-Z a-z 0-9 - . _ ~ as %xx in lowercase hex,
    /// a space as '+'.
    static func percentEncoded(_ bytes: [UInt8]) -> String {
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            case UInt8(ascii: " "):
                out.append(UInt8(ascii: "+"))
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `URL?query`, or `URL&query` when it has one already (nothing for an
    /// empty query); the fragment, which curl never sends, is dropped.
    static func appendingQuery(_ query: String, to url: String) -> String {
        var base = url
        if let hash = base.firstIndex(of: "#") { base = String(base[..<hash]) }
        guard !query.isEmpty else { return base }
        return base + (base.contains("?") ? "&" : "?") + query
    }

    /// Reads a data file as curl does; "-" is standard input.
    public static func readDataFile(_ path: String) -> [UInt8]? {
        if path == "-" { return try? WholeFile.contents(fd: STDIN_FILENO, limit: Int.max - 1).get() }
        return FileManager.default.contents(atPath: path).map { [UInt8]($0) }
    }

    /// curl accepts URLs without a scheme and defaults them to http.
    /// The URL as curl reads it: a scheme-less one gets `--proto-default`'s
    /// scheme (else http), and the scheme is lower-cased (`HTTP://` is http).
    static func normalise(_ url: String, default scheme: String? = nil) -> String {
        guard let separator = url.firstRange(of: "://") else { return (scheme?.lowercased() ?? "http") + "://" + url }
        return url[..<separator.lowerBound].lowercased() + url[separator.lowerBound...]
    }

    /// The protocol curl uses for a URL as it parses one: `SCHEME:` with one to three
    /// slashes (`telnet:/host` is telnet), else a guess from the host's first label
    /// (`imap.host` is IMAP, as with ftp., dict., ldap., pop3., smtp.), else the default.
    static func protocolCurlUses(_ url: String, default given: String?) -> String {
        let lower = url.lowercased()
        if let colon = lower.firstIndex(of: ":"), let first = lower.first, first.isASCII, first.isLetter,
           lower[..<colon].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+.-".contains($0)) }),
           lower[lower.index(after: colon)...].hasPrefix("/") {
            return String(lower[..<colon])
        }
        if let given { return given.lowercased() }
        for guess in ["ftp", "dict", "ldap", "imap", "smtp", "pop3"] where lower.hasPrefix(guess + ".") { return guess }
        return "http"
    }

    static func scheme(_ url: String) -> String {
        url.firstRange(of: "://").map { String(url[..<$0.lowerBound]) } ?? ""
    }

    /// The protocols `--proto LIST` leaves allowed, as curl reads the list:
    /// from all of them, each comma-separated name added (`+`, the default),
    /// taken away (`-`) or made the only ones (`=`); `all` names every one.
    static func allowedProtocols(_ list: String) -> Set<String> {
        let every: Set<String> = ["dict", "file", "ftp", "ftps", "gopher", "gophers", "http", "https", "imap", "imaps", "ldap", "ldaps",
                                  "mqtt", "pop3", "pop3s", "rtmp", "rtsp", "scp", "sftp", "smb", "smbs", "smtp", "smtps", "telnet", "tftp", "ws", "wss"]
        var allowed = every
        for token in list.lowercased().split(separator: ",") {
            var name = token.trimmingSpaces()
            var action: Character = "+"
            while let first = name.first, "+-=".contains(first) {
                action = first
                name = String(name.dropFirst())
            }
            let named: Set<String> = name == "all" ? every : [name]
            switch action {
            case "-": allowed.subtract(named)
            case "=": allowed = named
            default: allowed.formUnion(named)
            }
        }
        return allowed
    }
}
