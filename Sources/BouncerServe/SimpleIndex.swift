import FoundationEssentials
import BouncerBase
import BouncerPolicy

/// One file of a project page, as the upstream index describes it
/// (PEP 503 anchors or PEP 691 JSON, with PEP 700 and PEP 714 fields).
struct IndexFile: Sendable, Equatable {
    var filename: String
    /// Absolute upstream URL, without the fragment.
    var url: String
    /// Algorithm name (lowercase) → hex digest.
    var hashes: [String: String]
    var requiresPython: String?
    /// nil: not yanked; "" yanked without a reason.
    var yanked: String?
    /// PEP 658/714: the digests of `url + ".metadata"`; nil when none is offered
    /// (an offer without a digest cannot be verified and counts as none).
    var coreMetadata: [String: String]?
    var gpgSig: Bool?
    var size: Int64?
    var uploadTime: String?
    /// PEP 740: the URL of the file's provenance object, when the index offers one.
    var provenance: String?
    /// The index it was listed on (nil: a find-links page or directory, on no index).
    var index: PackageIndex?
    /// The page it was listed on (named as the source of its upload time).
    var page: String = ""

    /// As pip tells a wheel (`Link.is_wheel`): `.whl` in lower case.
    var isWheel: Bool { filename.hasSuffix(".whl") }
    /// A wheel for any ABI and platform (`…-none-any.whl`).
    var isUniversalWheel: Bool { filename.lowercased().hasSuffix("-none-any.whl") }
    /// The page's digests for the file that can serve as evidence (sha256, sha384, sha512).
    var listedDigests: [Digest] {
        [HashAlgorithm.sha256, .sha384, .sha512].compactMap { algorithm in
            hashes[algorithm.rawValue].flatMap { try? Digest(algorithm: algorithm, hex: $0) }
        }
    }
}

/// A project page: the upstream's files and the API version it spoke.
struct ProjectPage: Sendable {
    var name: String
    var files: [IndexFile]
    /// PEP 700 fields (size, upload-time, versions) are carried only when upstream gave them.
    var hasPEP700: Bool
}

enum SimpleIndexError: Error, CustomStringConvertible {
    case malformed(String)
    var description: String {
        switch self { case .malformed(let why): "malformed simple index page: \(why)" }
    }
}

/// Reading upstream pages.
enum SimpleIndexParser {
    /// Parses a project page in whichever form upstream answered.
    static func project(_ bytes: [UInt8], contentType: String?, pageURL: String, name: String) throws -> ProjectPage {
        if isJSON(contentType, bytes) { return try projectJSON(bytes, pageURL: pageURL, name: name) }
        return projectHTML(bytes, pageURL: pageURL, name: name)
    }

    /// Project names of the root page.
    static func projects(_ bytes: [UInt8], contentType: String?) throws -> [String] {
        if isJSON(contentType, bytes) {
            let root: JSON
            do { root = try JSON.parse(bytes) } catch { throw SimpleIndexError.malformed("\(error)") }
            guard case .array(let projects)? = root["projects"] else { throw SimpleIndexError.malformed("no \"projects\" array") }
            return projects.compactMap { if case .string(let name)? = $0["name"] { return name } else { return nil } }
        }
        return HTMLAnchors.scan(bytes).map(\.text)
    }

    static func isJSON(_ contentType: String?, _ bytes: [UInt8]) -> Bool {
        if let type = contentType?.lowercased() { return type.contains("json") }
        return bytes.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) == UInt8(ascii: "{")
    }

    static func projectJSON(_ bytes: [UInt8], pageURL: String, name: String) throws -> ProjectPage {
        let root: JSON
        do { root = try JSON.parse(bytes) } catch { throw SimpleIndexError.malformed("\(error)") }
        guard case .array(let entries)? = root["files"] else { throw SimpleIndexError.malformed("no \"files\" array") }
        var apiVersion = "1.0"
        if case .string(let version)? = root["meta"]?["api-version"] { apiVersion = version }
        var files: [IndexFile] = []
        for entry in entries {
            guard case .string(let filename)? = entry["filename"], case .string(let href)? = entry["url"],
                  let absolute = resolve(href, against: pageURL) else { continue }
            var file = IndexFile(filename: filename, url: absolute.url, hashes: [:])
            if case .object(let hashes)? = entry["hashes"] {
                for (algorithm, value) in hashes { if case .string(let hex) = value { file.hashes[algorithm.lowercased()] = hex.lowercased() } }
            }
            if case .string(let requires)? = entry["requires-python"] { file.requiresPython = requires }
            switch entry["yanked"] {
            case .bool(true)?: file.yanked = ""
            case .string(let reason)?: file.yanked = reason
            default: break
            }
            // PEP 714 renamed dist-info-metadata to core-metadata; either may be present.
            for key in ["core-metadata", "dist-info-metadata"] where file.coreMetadata == nil {
                if case .object(let hashes)? = entry[key] {
                    var digests: [String: String] = [:]
                    for (algorithm, value) in hashes { if case .string(let hex) = value { digests[algorithm.lowercased()] = hex.lowercased() } }
                    if !digests.isEmpty { file.coreMetadata = digests }
                }
            }
            if case .bool(let signed)? = entry["gpg-sig"] { file.gpgSig = signed }
            if case .integer(let size)? = entry["size"] { file.size = size }
            if case .string(let time)? = entry["upload-time"] { file.uploadTime = time }
            if case .string(let provenance)? = entry["provenance"], let absolute = resolve(provenance, against: pageURL) { file.provenance = absolute.url }
            files.append(file)
        }
        let pep700 = apiVersion.split(separator: ".").count == 2 && (Int(apiVersion.split(separator: ".")[1]) ?? 0) >= 1
            && files.allSatisfy { $0.size != nil }
        return ProjectPage(name: name, files: files, hasPEP700: pep700)
    }

    static func projectHTML(_ bytes: [UInt8], pageURL: String, name: String) -> ProjectPage {
        var base = pageURL
        if let href = HTMLAnchors.baseHref(bytes), let resolved = resolve(href, against: pageURL) { base = resolved.url }
        var files: [IndexFile] = []
        for anchor in HTMLAnchors.scan(bytes) {
            guard let href = anchor.attributes["href"], let absolute = resolve(href, against: base) else { continue }
            var file = IndexFile(filename: anchor.text, url: absolute.url, hashes: [:])
            // PEP 503: the link text is the filename; fall back to the URL's last segment.
            if file.filename.isEmpty || file.filename.contains("/") {
                file.filename = String(absolute.url.split(separator: "/").last ?? "")
            }
            if let fragment = absolute.fragment, let equals = fragment.firstIndex(of: "=") {
                file.hashes[fragment[..<equals].lowercased()] = fragment[fragment.index(after: equals)...].lowercased()
            }
            file.requiresPython = anchor.attributes["data-requires-python"]
            file.yanked = anchor.attributes["data-yanked"]
            for key in ["data-core-metadata", "data-dist-info-metadata"] where file.coreMetadata == nil {
                if let value = anchor.attributes[key], let equals = value.firstIndex(of: "=") {
                    file.coreMetadata = [value[..<equals].lowercased(): value[value.index(after: equals)...].lowercased()]
                }
            }
            if let signed = anchor.attributes["data-gpg-sig"] { file.gpgSig = signed == "true" }
            if let provenance = anchor.attributes["data-provenance"], let absolute = resolve(provenance, against: base) { file.provenance = absolute.url }
            files.append(file)
        }
        return ProjectPage(name: name, files: files, hasPEP700: false)
    }

    /// An href made absolute against the page, split from its fragment. Only
    /// http(s) results, and `file:` ones from a page that is a local file
    /// itself (a find-links folder): a remote index naming `file:///etc/…`
    /// had the proxy read, hash and (with the right digest) serve a local file.
    static func resolve(_ href: String, against page: String) -> (url: String, fragment: String?)? {
        // Already absolute and plain (what PEP 691 indexes send): taken as it is, not re-parsed.
        if let plain = plainAbsolute(href) { return plain }
        let local = page.lowercased().hasPrefix("file:")
        guard let base = URL(string: page), let url = URL(string: href, relativeTo: base)?.absoluteURL,
              let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme) || (scheme == "file" && local) else { return nil }
        let text = url.absoluteString
        if let hash = text.firstIndex(of: "#") {
            return (String(text[..<hash]), String(text[text.index(after: hash)...]))
        }
        return (text, nil)
    }
}

extension SimpleIndexParser {
    /// An absolute http(s) URL of RFC 3986 characters only, with no dot
    /// segments: resolving it against any page gives itself.
    static func plainAbsolute(_ href: String) -> (url: String, fragment: String?)? {
        let bytes = Array(href.utf8)
        let scheme: Int
        if bytes.starts(with: Array("https://".utf8)) { scheme = 8 } else if bytes.starts(with: Array("http://".utf8)) { scheme = 7 } else { return nil }
        guard bytes.count > scheme, bytes[scheme] != UInt8(ascii: "/") else { return nil }
        var hash: Int? = nil
        for (position, byte) in bytes.enumerated() {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                continue
            case UInt8(ascii: "#"):
                if hash == nil { hash = position } else { return nil }
            case UInt8(ascii: "%"):
                // A '%' must start a valid escape, as URL(string:) would insist.
                guard position + 2 < bytes.count, bytes[position + 1].isHexDigit, bytes[position + 2].isHexDigit else { return nil }
            case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "/"), UInt8(ascii: ":"),
                 UInt8(ascii: "="), UInt8(ascii: "&"), UInt8(ascii: "+"), UInt8(ascii: "@"), UInt8(ascii: ","), UInt8(ascii: "?"):
                continue
            default:
                return nil
            }
        }
        let end = hash ?? bytes.count
        // No "." or ".." segment (bytes, not Foundation's String.contains: pages list thousands of links).
        var segmentStart = 0
        for position in 0...end where position == end || bytes[position] == UInt8(ascii: "/") {
            let segment = bytes[segmentStart..<position]
            if segment.elementsEqual([UInt8(ascii: ".")]) || segment.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) { return nil }
            segmentStart = position + 1
        }
        let path = hash.map { String(decoding: bytes[..<$0], as: UTF8.self) } ?? href
        return (path, hash.map { String(decoding: bytes[($0 + 1)...], as: UTF8.self) })
    }
}

private extension UInt8 {
    var isHexDigit: Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(self)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(self)
    }
}

/// A small, tolerant scanner for the anchors of a PEP 503 page.
enum HTMLAnchors {
    struct Anchor {
        var attributes: [String: String]
        var text: String
    }

    static func scan(_ bytes: [UInt8]) -> [Anchor] {
        let text = String(decoding: bytes, as: UTF8.self)
        var anchors: [Anchor] = []
        var rest = text[...]
        while let open = rest.firstRange(ignoringASCIICaseOf: "<a") {
            let after = rest[open.upperBound...]
            // "<a" must be a whole tag name (not <abbr>).
            guard let next = after.first, next == ">" || next.isWhitespace else { rest = after; continue }
            guard let close = after.firstIndex(of: ">") else { break }
            let attributes = parseAttributes(after[..<close])
            let body = after[after.index(after: close)...]
            let end = body.firstRange(ignoringASCIICaseOf: "</a")
            let inner = end.map { body[..<$0.lowerBound] } ?? body[body.startIndex..<body.startIndex]
            anchors.append(Anchor(attributes: attributes, text: unescape(String(inner)).trimmingWhitespace()))
            rest = end.map { body[$0.upperBound...] } ?? body
        }
        return anchors
    }

    /// `<base href="...">`, which PEP 503 lets a page use for its relative links.
    static func baseHref(_ bytes: [UInt8]) -> String? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let open = text.firstRange(ignoringASCIICaseOf: "<base"),
              let close = text[open.upperBound...].firstIndex(of: ">") else { return nil }
        return parseAttributes(text[open.upperBound..<close])["href"]
    }

    static func parseAttributes(_ source: Substring) -> [String: String] {
        var attributes: [String: String] = [:]
        var index = source.startIndex
        func skipSpace() { while index < source.endIndex, source[index].isWhitespace || source[index] == "/" { index = source.index(after: index) } }
        while true {
            skipSpace()
            guard index < source.endIndex else { break }
            let nameStart = index
            while index < source.endIndex, !source[index].isWhitespace, source[index] != "=", source[index] != "/" {
                index = source.index(after: index)
            }
            let name = source[nameStart..<index].lowercased()
            var value = ""
            while index < source.endIndex, source[index].isWhitespace { index = source.index(after: index) }
            if index < source.endIndex, source[index] == "=" {
                index = source.index(after: index)
                while index < source.endIndex, source[index].isWhitespace { index = source.index(after: index) }
                if index < source.endIndex, source[index] == "\"" || source[index] == "'" {
                    let quote = source[index]
                    index = source.index(after: index)
                    let valueStart = index
                    while index < source.endIndex, source[index] != quote { index = source.index(after: index) }
                    value = String(source[valueStart..<index])
                    if index < source.endIndex { index = source.index(after: index) }
                } else {
                    let valueStart = index
                    while index < source.endIndex, !source[index].isWhitespace { index = source.index(after: index) }
                    value = String(source[valueStart..<index])
                }
            }
            if !name.isEmpty && attributes[name] == nil { attributes[name] = unescape(value) }
        }
        return attributes
    }

    /// HTML character references: the named ones index pages use, and numeric ones.
    static func unescape(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var out = ""
        var rest = text[...]
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            let tail = rest[amp...]
            guard let semi = tail.firstIndex(of: ";"), tail.distance(from: amp, to: semi) <= 10 else {
                out += "&"
                rest = rest[rest.index(after: amp)...]
                continue
            }
            let entity = tail[tail.index(after: amp)..<semi]
            var replacement: String?
            switch entity {
            case "amp": replacement = "&"
            case "lt": replacement = "<"
            case "gt": replacement = ">"
            case "quot": replacement = "\""
            case "apos": replacement = "'"
            default:
                if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                    replacement = UInt32(entity.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init).map { String(Character($0)) }
                } else if entity.hasPrefix("#") {
                    replacement = UInt32(entity.dropFirst()).flatMap(Unicode.Scalar.init).map { String(Character($0)) }
                }
            }
            if let replacement {
                out += replacement
                rest = rest[rest.index(after: semi)...]
            } else {
                out += "&"
                rest = rest[rest.index(after: amp)...]
            }
        }
        out += rest
        return out
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}

/// Writing the proxy's own pages.
enum SimpleIndexRenderer {
    static let jsonType = "application/vnd.pypi.simple.v1+json"
    static let htmlType = "application/vnd.pypi.simple.v1+html"

    enum Format { case json, html(String) }

    /// PEP 691 content negotiation over the client's Accept header
    /// (quality values honoured; no header or */* gets HTML, which every client reads).
    static func negotiate(_ accept: String?) -> Format? {
        guard let accept, !accept.trimmingSpaces().isEmpty else { return .html("text/html") }
        var best: (quality: Double, format: Format)? = nil
        for item in accept.split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.trimmingSpaces().lowercased() }
            guard let type = parts.first else { continue }
            var quality = 1.0
            for parameter in parts.dropFirst() where parameter.hasPrefix("q=") { quality = Double(parameter.dropFirst(2)) ?? 0 }
            guard quality > 0 else { continue }
            let format: Format
            switch type {
            case "application/vnd.pypi.simple.v1+json", "application/vnd.pypi.simple.latest+json": format = .json
            case "application/vnd.pypi.simple.v1+html", "application/vnd.pypi.simple.latest+html": format = .html(htmlType)
            case "text/html", "text/*", "*/*": format = .html("text/html")
            default: continue
            }
            if let current = best, current.quality >= quality { continue }
            best = (quality, format)
        }
        return best?.format
    }

    static func root(_ projects: [String], base: String, format: Format) -> (type: String, body: [UInt8]) {
        switch format {
        case .json:
            let list = JSON.array(projects.map { .object(["name": .string($0)]) })
            return (jsonType, JSON.object(["meta": .object(["api-version": .string("1.0")]), "projects": list]).serialized())
        case .html(let type):
            var html = "<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"1.0\"><title>Simple index</title></head><body>\n"
            for name in projects {
                html += "<a href=\"\(HTMLAnchors.escape(base + "/pypi/simple/" + PythonName.normalised(name) + "/"))\">\(HTMLAnchors.escape(name))</a><br/>\n"
            }
            html += "</body></html>\n"
            return (type, Array(html.utf8))
        }
    }

    /// The link the proxy serves for a file.
    static func fileURL(_ file: IndexFile, project: String, base: String) -> String {
        base + "/pypi/files/" + PathCoding.encode(project) + "/" + PathCoding.encode(file.filename)
    }

    static func project(_ page: ProjectPage, files: [IndexFile], base: String, format: Format) -> (type: String, body: [UInt8]) {
        switch format {
        case .json:
            var entries: [JSON] = []
            var versions: [String] = []
            var seenVersions: Set<String> = []
            for file in files {
                var entry: [String: JSON] = [
                    "filename": .string(file.filename),
                    "url": .string(fileURL(file, project: page.name, base: base)),
                    "hashes": .object(file.hashes.mapValues { .string($0) }),
                ]
                if let requires = file.requiresPython { entry["requires-python"] = .string(requires) }
                // PEP 714's name only: pip 22.3 to 23.1 (Debian 12's pip is 23.0.1) fails on any file whose
                // JSON entry has the old `dist-info-metadata` key, whatever its value, `false` included.
                entry["core-metadata"] = file.coreMetadata.map { .object($0.mapValues { .string($0) }) } ?? .bool(false)
                if let signed = file.gpgSig { entry["gpg-sig"] = .bool(signed) }
                entry["yanked"] = .bool(false)
                if page.hasPEP700 {
                    if let size = file.size { entry["size"] = .integer(size) }
                    if let time = file.uploadTime { entry["upload-time"] = .string(time) }
                    if let version = FileNames.version(file.filename, project: page.name), seenVersions.insert(version).inserted {
                        versions.append(version)
                    }
                }
                entries.append(.object(entry))
            }
            var document: [String: JSON] = [
                "meta": .object(["api-version": .string(page.hasPEP700 ? "1.1" : "1.0")]),
                "name": .string(page.name),
                "files": .array(entries),
            ]
            if page.hasPEP700 { document["versions"] = .array(versions.map { .string($0) }) }
            return (jsonType, JSON.object(document).serialized())
        case .html(let type):
            let name = HTMLAnchors.escape(page.name)
            var html = "<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"1.0\"><title>Links for \(name)</title></head><body>\n<h1>Links for \(name)</h1>\n"
            for file in files {
                var href = fileURL(file, project: page.name, base: base)
                if let algorithm = ["sha256", "sha384", "sha512"].first(where: { file.hashes[$0] != nil }), let hex = file.hashes[algorithm] {
                    href += "#\(algorithm)=\(hex)"
                }
                var attributes = "href=\"\(HTMLAnchors.escape(href))\""
                if let requires = file.requiresPython { attributes += " data-requires-python=\"\(HTMLAnchors.escape(requires))\"" }
                if let metadata = file.coreMetadata, let algorithm = ["sha256", "sha384", "sha512"].first(where: { metadata[$0] != nil }),
                   let hex = metadata[algorithm] {
                    attributes += " data-dist-info-metadata=\"\(algorithm)=\(hex)\" data-core-metadata=\"\(algorithm)=\(hex)\""
                }
                if let signed = file.gpgSig { attributes += " data-gpg-sig=\"\(signed)\"" }
                html += "<a \(attributes)>\(HTMLAnchors.escape(file.filename))</a><br/>\n"
            }
            html += "</body></html>\n"
            return (type, Array(html.utf8))
        }
    }
}

/// PEP 503 names and distribution file names.
enum PythonName {
    /// PEP 503's normal form (the one `PythonPackageName` the rest of Bouncer uses).
    static func normalised(_ name: String) -> String { PythonPackageName.normalised(name) }

    static func isValid(_ name: String) -> Bool { PythonPackageName.isValid(name) }
}

enum FileNames {
    /// The version in a wheel (`name-ver-...whl`) or sdist (`name-ver.tar.gz`) file name.
    static func version(_ filename: String, project: String) -> String? {
        if filename.utf8.count > 4, filename.utf8.suffix(4).map({ (0x41...0x5A).contains($0) ? $0 + 0x20 : $0 }) == Array(".whl".utf8) {
            let parts = filename.utf8.dropLast(4).split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
            return parts.count >= 5 ? String(decoding: parts[1], as: UTF8.self) : nil
        }
        let lower = filename.lowercased()
        guard let suffix = PythonPackageName.sdistSuffixes.first(where: { lower.hasSuffix($0) }) else { return nil }
        let stem = String(filename.dropLast(suffix.count))
        // The name part may itself contain '-': take the split whose prefix is the project.
        var index = stem.endIndex
        while let dash = stem[..<index].lastIndex(of: "-") {
            if PythonName.normalised(String(stem[..<dash])) == project { return String(stem[stem.index(after: dash)...]) }
            index = dash
        }
        return stem.lastIndex(of: "-").map { String(stem[stem.index(after: $0)...]) }
    }

    /// The normalised project a distribution file belongs to (wheel: the part
    /// before the version; sdist: before the last '-'), nil for other files.
    static func project(_ filename: String) -> String? {
        let lower = filename.lowercased()
        if lower.hasSuffix(".whl") {
            let parts = filename.dropLast(4).split(separator: "-", omittingEmptySubsequences: false)
            return parts.count >= 5 ? PythonName.normalised(String(parts[0])) : nil
        }
        guard let suffix = PythonPackageName.sdistSuffixes.first(where: { lower.hasSuffix($0) }),
              let dash = filename.dropLast(suffix.count).lastIndex(of: "-") else { return nil }
        return PythonName.normalised(String(filename[..<dash]))
    }

    /// A file name safe to put in a path: no separators, no `..`, printable ASCII.
    static func isSafe(_ name: String) -> Bool {
        // Bytes, not Characters: pages list thousands of files. Visible ASCII only (0x21...0x7E), no separators.
        let bytes = name.utf8
        guard let first = bytes.first, first != UInt8(ascii: "."), bytes.count <= 255 else { return false }
        return bytes.allSatisfy { $0 >= 0x21 && $0 < 0x7F && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "\\") }
    }
}

/// Percent-encoding for one path segment (RFC 3986 unreserved characters stay as they are).
enum PathCoding {
    /// An absolute path for a file: URL, each segment encoded.
    static func encodePath(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { encode(String($0)) }.joined(separator: "/")
    }

    static func encode(_ segment: String) -> String {
        // '@', '+' and '!' are left as they are in a path segment (scoped npm names, local versions).
        URLParts.pathSegmentEncoded(segment, alsoKeeping: "@+!")
    }

    /// Decodes %XX; nil for a malformed escape or invalid UTF-8.
    static func decode(_ segment: Substring) -> String? {
        URLParts.percentDecodedStrictly(segment)
    }
}
