import FoundationEssentials
import BouncerBase
import BouncerIO
import BouncerPolicy
/// What a wget command line asks for, classified like curl's (see CurlArguments).
public struct WgetInvocation: Equatable, Sendable {
    public var urls: [String] = []
    /// `-O FILE` (all bodies concatenated into it, as wget does); "-" is standard output.
    public var outputDocument: String?
    /// `-P DIR`.
    public var prefix: String?
    public var quiet = false
    public var resume = false
    public var noClobber = false
}

public enum WgetCommand: Equatable, Sendable {
    case download(WgetInvocation)
    case passThrough(reason: String)
    case unsupported(option: String, why: String)
    case usage(String)
}

public enum WgetArguments {
    enum Kind {
        case flag, value
        case passFlag(String), passValue(String)
        case refuseFlag(String), refuseValue(String)
    }

    static let long: [String: Kind] = {
        var table: [String: Kind] = [:]
        for name in ["quiet", "continue", "no-verbose", "verbose", "show-progress", "no-check-certificate",
                     "retry-connrefused", "no-clobber", "inet4-only", "inet6-only", "no-cache", "no-dns-cache",
                     "https-only", "no-hsts", "no-config", "no-netrc"] {
            table[name] = .flag
        }
        for name in ["output-document", "directory-prefix", "tries", "timeout", "connect-timeout", "read-timeout",
                     "dns-timeout", "waitretry", "wait", "max-redirect", "progress", "limit-rate"] {
            table[name] = .value
        }
        for name in ["version", "help"] { table[name] = .passFlag("--\(name)") }
        table["spider"] = .passFlag("--spider checks that the URL exists and saves nothing")
        // The request's method and body: judged once the whole line is read (see `request`).
        for name in ["method", "post-data", "post-file", "body-data", "body-file", "input-file", "base"] { table[name] = .value }
        for (name, why) in [("header", "adds a request header"), ("user", "sends credentials"), ("password", "sends credentials"),
                            ("http-user", "sends credentials"), ("http-password", "sends credentials"),
                            ("user-agent", "sets the User-Agent"), ("referer", "sets the Referer"),
                            ("load-cookies", "sends cookies"),
                            ("execute", "runs wgetrc commands"), ("ca-certificate", "trusts another certificate authority (Bouncer's own fetch trusts the PEM file BOUNCER_CA_BUNDLE names)"),
                            ("certificate", "uses a client certificate (Bouncer's own fetch presents the one BOUNCER_CLIENT_CERT names)"),
                            ("private-key", "uses a client key (Bouncer's own fetch reads BOUNCER_CLIENT_KEY)"), ("output-file", "writes a log file"),
                            ("append-output", "writes a log file"), ("level", "fetches recursively"),
                            ("accept", "fetches recursively"), ("reject", "fetches recursively"), ("quota", "limits the download")] {
            table[name] = .refuseValue(why)
        }
        for (name, why) in [("recursive", "fetches recursively"), ("mirror", "fetches recursively"),
                            ("page-requisites", "fetches recursively"), ("background", "runs in the background"),
                            ("timestamping", "makes the download conditional"), ("content-disposition", "names the file from a response header"),
                            ("server-response", "prints the response headers"), ("save-headers", "puts the headers into the file"),
                            ("force-html", "reads the input file as HTML and fetches the links in it")] {
            table[name] = .refuseFlag(why)
        }
        return table
    }()

    static let short: [Character: String] = [
        "q": "quiet", "c": "continue", "v": "verbose", "O": "output-document", "P": "directory-prefix",
        "t": "tries", "T": "timeout", "w": "wait", "4": "inet4-only", "6": "inet6-only", "V": "version", "h": "help",
        "U": "user-agent", "i": "input-file", "e": "execute", "o": "output-file", "a": "append-output",
        "r": "recursive", "m": "mirror", "p": "page-requisites", "b": "background", "N": "timestamping",
        "S": "server-response", "l": "level", "A": "accept", "R": "reject", "Q": "quota", "B": "base", "F": "force-html",
    ]

    /// wget's reading of a boolean option's value (`--spider=off`): nil when it is none.
    static func boolean(_ value: String) -> Bool? {
        switch value.lowercased() {
        case "on", "yes", "1": true
        case "off", "no", "0": false
        default: nil
        }
    }

    /// `readFile` reads an `-i` list ("-" is standard input); nil when it cannot be read.
    /// `posixlyCorrect`: POSIXLY_CORRECT is set, so wget's getopt stops at the first
    /// URL and every word after it is a URL too (`wget URL --spider` fetches "--spider").
    public static func parse(_ arguments: [String], posixlyCorrect: Bool = false,
                             readFile: (String) -> [UInt8]? = CurlArguments.readDataFile) -> WgetCommand {
        var invocation = WgetInvocation()
        var method: String? = nil
        var bodies: [String] = []
        var posts: [String] = []
        var inputFiles: [String] = []
        var base: String? = nil
        var passReason: String? = nil
        var refusal: (String, String)? = nil
        var index = 0

        func apply(_ name: String, shown: String, inlineValue: String?) -> String? {
            guard let kind = long[name] else {
                if refusal == nil { refusal = (shown, "is not one Bouncer understands (it could change what is fetched)") }
                return nil
            }
            var value = inlineValue
            switch kind {
            case .value, .passValue, .refuseValue:
                if value == nil {
                    index += 1
                    value = index < arguments.count ? arguments[index] : nil
                }
                guard value != nil else { return "option requires an argument -- '\(shown)'" }
            default: break
            }
            // wget takes every boolean option with a value too: `--spider=off` is `--no-spider`.
            var on = true
            switch kind {
            case .flag, .passFlag, .refuseFlag:
                if let value {
                    guard let parsed = boolean(value) else { return "\(shown): Invalid boolean ‘\(value)’; use 'on' or 'off'." }
                    on = parsed
                }
            default: break
            }
            switch kind {
            case .flag:
                switch name {
                case "quiet": invocation.quiet = on
                case "continue": invocation.resume = on
                case "no-clobber": invocation.noClobber = on
                default: break
                }
            case .value:
                switch name {
                case "output-document": invocation.outputDocument = value
                case "directory-prefix": invocation.prefix = value
                case "method": method = value
                case "body-data", "body-file": bodies.append(shown)
                case "post-data", "post-file": posts.append(shown)
                case "input-file": inputFiles.append(value ?? "")
                case "base": base = value
                default: break
                }
            case .passFlag where !on:
                // Turned off again (`--spider=off`): wget downloads after all, which a pass-through must not hand it.
                if refusal == nil { refusal = ("\(shown)=\(value ?? "")", "turns the option off with a value; give the download without it") }
            case .passFlag(let why), .passValue(let why):
                if passReason == nil { passReason = why }
            case .refuseFlag where !on:
                break
            case .refuseFlag(let why), .refuseValue(let why):
                if refusal == nil { refusal = (shown, why) }
            }
            return nil
        }

        var endOfOptions = false
        while index < arguments.count {
            let argument = arguments[index]
            if endOfOptions || !argument.hasPrefix("-") || argument == "-" {
                invocation.urls.append(argument)
                if posixlyCorrect { endOfOptions = true }
            } else if argument == "--" {
                endOfOptions = true
            } else if argument.hasPrefix("--") {
                let body = argument.dropFirst(2)
                let name: String
                var inline: String? = nil
                if let equals = body.firstIndex(of: "=") {
                    name = String(body[..<equals])
                    inline = String(body[body.index(after: equals)...])
                } else {
                    name = String(body)
                }
                if let error = apply(name, shown: "--" + name, inlineValue: inline) { return .usage(error) }
            } else {
                var letters = Substring(argument.dropFirst())
                while let letter = letters.first {
                    letters = letters.dropFirst()
                    // -nc, -nv, -nd, -nH: wget's two-letter "n" options.
                    if letter == "n", let second = letters.first {
                        letters = letters.dropFirst()
                        switch second {
                        case "c": invocation.noClobber = true
                        case "v", "d", "H": break
                        default:
                            if refusal == nil { refusal = ("-n\(second)", "is not one Bouncer understands (it could change what is fetched)") }
                        }
                        continue
                    }
                    guard let name = short[letter] else {
                        if refusal == nil { refusal = ("-\(letter)", "is not one Bouncer understands (it could change what is fetched)") }
                        break
                    }
                    let takesValue: Bool
                    switch long[name] {
                    case .value?, .passValue?, .refuseValue?: takesValue = true
                    default: takesValue = false
                    }
                    if takesValue {
                        let inline = letters.isEmpty ? nil : String(letters)
                        letters = ""
                        if let error = apply(name, shown: "-\(letter)", inlineValue: inline) { return .usage(error) }
                    } else {
                        _ = apply(name, shown: "-\(letter)", inlineValue: nil)
                    }
                }
            }
            index += 1
        }
        // A refusal first: `--spider --no-spider` or `--spider -e spider=off` download after all.
        if let refusal { return .unsupported(option: refusal.0, why: refusal.1) }
        if let passReason { return .passThrough(reason: passReason) }
        // wget saves the response body of every request: a GET is guarded, anything else refused.
        if let post = posts.first {
            return .unsupported(option: post, why: "sends a POST, whose response body wget would save unverified; Bouncer fetches with GET only and must not repeat a POST")
        }
        if let method, method.uppercased() != "GET" {
            return .unsupported(option: "--method=\(method)", why: "sends a \(method) request, whose response body wget would save unverified; Bouncer fetches with GET only")
        }
        if let body = bodies.first {
            return .unsupported(option: body, why: method == nil ? "needs --method, and a request with a body returns what Bouncer's GET cannot verify"
                                : "sends a GET with a request body; Bouncer fetches without a body, so it cannot verify what that request returns")
        }
        for list in inputFiles {
            if list.contains("://") {
                return .unsupported(option: "-i \(list)", why: "fetches the list of URLs itself, unverified; download the list first (through the shim) and give wget the file")
            }
            guard let bytes = readFile(list) else { return .usage("-i \(list): cannot read \(list == "-" ? "standard input" : list)") }
            for line in String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0.isNewline }) {
                let url = line.trimmingSpaces()
                if url.isEmpty { continue }
                // wget resolves a list's relative URLs against -B/--base.
                if let base, !url.contains("://") {
                    guard let resolved = URL(string: url, relativeTo: URL(string: base))?.absoluteString else {
                        return .usage("-i \(list): cannot resolve '\(url)' against --base \(base)")
                    }
                    invocation.urls.append(resolved)
                } else {
                    invocation.urls.append(url)
                }
            }
        }
        guard !invocation.urls.isEmpty else { return .usage(inputFiles.isEmpty ? "missing URL" : "no URLs found in \(inputFiles.joined(separator: ", "))") }
        invocation.urls = invocation.urls.map { $0.contains("://") ? $0 : "http://" + $0 }
        return .download(invocation)
    }

    /// The file name wget gives a URL: its last path segment with the query
    /// kept, percent-escapes decoded; `index.html` for a directory URL.
    public static func fileName(for url: String) -> String {
        var rest = Substring(url)
        if let scheme = rest.firstRange(of: "://") { rest = rest[scheme.upperBound...] }
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        var query: Substring? = nil
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        var name = "index.html"
        if let slash = rest.firstIndex(of: "/"), let last = rest[slash...].split(separator: "/", omittingEmptySubsequences: false).last,
           !last.isEmpty, last != ".", last != ".." {
            name = URLParts.percentDecoded(String(last))
        }
        if let query { name += "?" + query }
        // Never a path: a decoded "%2F" must not leave the directory.
        return name.replacing("/", with: "%2F")
    }

}
