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
}

public enum CurlCommand: Equatable, Sendable {
    case download(CurlInvocation)
    /// Not an artifact download (a POST, `-I`, an upload, `--version`): the real curl runs it.
    case passThrough(reason: String)
    /// An option Bouncer cannot honour while verifying (named, with why).
    case unsupported(option: String, why: String)
    case usage(String)
}

public enum CurlArguments {
    enum Kind {
        case flag                // understood; effect recorded or harmless
        case value               // understood, takes a value
        case passFlag(String)    // not a download
        case passValue(String)
        case refuseFlag(String)  // could change what is fetched or written
        case refuseValue(String)
    }

    static let short: [Character: (String, Kind)] = [
        "s": ("silent", .flag), "S": ("show-error", .flag), "f": ("fail", .flag), "L": ("location", .flag),
        "#": ("progress-bar", .flag), "O": ("remote-name", .flag), "k": ("insecure", .flag),
        "g": ("globoff", .flag), "Z": ("parallel", .flag), "N": ("no-buffer", .flag), "R": ("remote-time", .flag),
        "q": ("disable", .flag), "v": ("verbose", .flag), "4": ("ipv4", .flag), "6": ("ipv6", .flag),
        "o": ("output", .value), "C": ("continue-at", .value), "m": ("max-time", .value),
        "I": ("head", .passFlag("-I asks for headers only")), "G": ("get", .passFlag("-G sends data as a query")),
        "V": ("version", .passFlag("--version")), "h": ("help", .passFlag("--help")), "M": ("manual", .passFlag("--manual")),
        "X": ("request", .value),
        "d": ("data", .passValue("-d sends a request body")), "F": ("form", .passValue("-F posts a form")),
        "T": ("upload-file", .passValue("-T uploads a file")),
        "H": ("header", .refuseValue("adds a request header")), "u": ("user", .refuseValue("sends credentials")),
        "b": ("cookie", .refuseValue("sends cookies")), "e": ("referer", .refuseValue("sets the Referer")),
        "A": ("user-agent", .refuseValue("sets the User-Agent")), "r": ("range", .refuseValue("asks for part of the body")),
        "K": ("config", .refuseValue("reads further options from a file")), "E": ("cert", .refuseValue("uses a client certificate")),
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
                     "retry-all-errors", "tlsv1.2", "tlsv1.3", "styled-output", "no-styled-output"] {
            table[name] = .flag
        }
        for name in ["output-dir", "connect-timeout", "retry", "retry-delay", "retry-max-time", "max-redirs", "url",
                     "limit-rate", "max-filesize", "parallel-max", "proto", "proto-redir", "proto-default",
                     "keepalive-time", "speed-limit", "speed-time", "expect100-timeout"] {
            table[name] = .value
        }
        for name in ["data-binary", "data-raw", "data-ascii", "data-urlencode", "form-string", "json"] {
            table[name] = .passValue("--\(name) sends a request body")
        }
        for (name, why) in [("oauth2-bearer", "sends a bearer token"), ("aws-sigv4", "signs the request"),
                            ("resolve", "overrides name resolution"), ("connect-to", "redirects the connection"),
                            ("cacert", "trusts other certificate authorities"), ("capath", "trusts other certificate authorities"),
                            ("key", "uses a client key"), ("netrc-file", "sends credentials from a file")] {
            table[name] = .refuseValue(why)
        }
        for (name, why) in [("netrc-optional", "sends credentials from .netrc"), ("location-trusted", "sends credentials to redirect targets"),
                            ("anyauth", "authenticates"), ("basic", "authenticates"), ("digest", "authenticates"),
                            ("ntlm", "authenticates"), ("negotiate", "authenticates"), ("no-clobber", "changes the file name when it exists")] {
            table[name] = .refuseFlag(why)
        }
        return table
    }()

    public static func parse(_ arguments: [String]) -> CurlCommand {
        var invocation = CurlInvocation()
        var urls: [String] = []
        var outputs: [CurlInvocation.Output] = []
        var remoteNameAll = false
        var passReason: String? = nil
        var refusal: (String, String)? = nil
        var endOfOptions = false
        var index = 0

        func takeValue(_ shown: String) -> String? {
            index += 1
            return index < arguments.count ? arguments[index] : nil
        }

        // Records one option; returns a usage error text if its value is missing.
        func apply(_ name: String, _ kind: Kind, shown: String, inlineValue: String?) -> String? {
            var value: String? = inlineValue
            switch kind {
            case .value, .passValue, .refuseValue:
                if value == nil { value = takeValue(shown) }
                guard value != nil else { return "option \(shown): requires parameter" }
            default: break
            }
            switch kind {
            case .flag:
                switch name {
                case "silent": invocation.silent = true
                case "show-error": invocation.showError = true
                case "fail", "fail-with-body": invocation.fail = true
                case "location": invocation.followRedirects = true
                case "progress-bar": invocation.progressBar = true
                case "remote-name": outputs.append(.remoteName)
                case "remote-name-all": remoteNameAll = true
                case "create-dirs": invocation.createDirs = true
                default: break
                }
            case .value:
                let value = value ?? ""
                switch name {
                case "output": outputs.append(value == "-" ? .standardOutput : .file(value))
                case "output-dir": invocation.outputDir = value
                case "continue-at": invocation.resume = true
                case "url": urls.append(value)
                case "request":
                    if value.uppercased() != "GET" && passReason == nil { passReason = "-X \(value) is not a download" }
                default: break
                }
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
                urls.append(argument)
            } else if argument == "--" {
                endOfOptions = true
            } else if argument.hasPrefix("--") {
                var name = String(argument.dropFirst(2))
                if let kind = long[name] {
                    if let error = apply(name, kind, shown: argument, inlineValue: nil) { return .usage(error) }
                } else if name.hasPrefix("no-"), case .flag? = long[String(name.dropFirst(3))] {
                    name = String(name.dropFirst(3))
                    // --no-silent and the like only undo a flag: harmless.
                    if name == "silent" { invocation.silent = false }
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
                    case .value, .passValue, .refuseValue:
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
        for (position, url) in urls.enumerated() {
            // curl expands [1-3] and {a,b} unless -g; Bouncer fetches one URL per argument.
            if url.contains("[") || url.contains("{") {
                return .unsupported(option: url, why: "uses curl URL globbing, which Bouncer does not expand")
            }
            let output = position < outputs.count ? outputs[position] : (remoteNameAll ? .remoteName : .standardOutput)
            invocation.transfers.append(.init(url: normalise(url), output: output))
        }
        return .download(invocation)
    }

    /// curl accepts URLs without a scheme and defaults them to http.
    static func normalise(_ url: String) -> String {
        url.contains("://") ? url : "http://" + url
    }
}
