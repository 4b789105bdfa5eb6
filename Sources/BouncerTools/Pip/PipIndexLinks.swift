import Foundation
import BouncerBase
import BouncerIO
import BouncerPolicy

/// The digests the index itself states for each artifact pip chose.
///
/// Why not the installation report's `archive_info.hashes`: when the index
/// gives no digest, pip fills that field with the hash of the bytes it just
/// downloaded, which proves nothing. Only a digest on the index page (or a
/// requirement's `--hash`) is a claim made before the bytes were seen.
///
/// pip's resolution log (`-vv`) names every link and the page it came from:
/// "Found link URL[#sha256=HEX] (from PAGE), version: V". A fragment in that
/// line is the page's digest; for links without one (pip's JSON index client
/// logs none) Bouncer reads the page itself and takes the link's fragment.
public enum PipIndexLinks {
    public struct Found: Equatable, Sendable {
        public var digests: [Digest] = []
        public var page: String?
    }

    /// URL without fragment → the digests in its fragment and the page it came from.
    public static func parseLog(_ log: [UInt8]) -> [String: Found] {
        var result: [String: Found] = [:]
        for line in String(decoding: log, as: UTF8.self).split(separator: "\n") {
            guard let start = line.range(of: "Found link ") else { continue }
            let rest = line[start.upperBound...]
            // The URL ends at the first space (" (from PAGE)" or ", version" follows).
            var url = rest.prefix(while: { $0 != " " })
            if url.hasSuffix(",") { url = url.dropLast() }
            let (base, digests) = split(String(url))
            var found = result[base] ?? Found()
            for digest in digests where !found.digests.contains(digest) { found.digests.append(digest) }
            if let from = rest.range(of: "(from ") {
                let page = rest[from.upperBound...].prefix(while: { $0 != ")" && $0 != " " })
                if !page.isEmpty { found.page = String(page) }
            }
            result[base] = found
        }
        return result
    }

    /// The indexes and find-links locations pip's log names: "Looking in
    /// indexes: PRIMARY, EXTRA…" (logged only when they are not pip's
    /// default index alone) and "Looking in links: …". Credentials come
    /// redacted in pip's log and are dropped here.
    public static func locations(_ log: [UInt8]) -> (indexes: [String]?, links: [String]) {
        var indexes: [String]? = nil
        var links: [String] = []
        for line in String(decoding: log, as: UTF8.self).split(separator: "\n") {
            for (label, isIndex) in [("Looking in indexes: ", true), ("Looking in links: ", false)] {
                guard let start = line.range(of: label) else { continue }
                let list = line[start.upperBound...].split(separator: ",").map {
                    URLParts.withoutCredentials($0.trimmingCharacters(in: .whitespaces))
                }
                if isIndex { indexes = list } else { links += list }
            }
        }
        return (indexes, links)
    }

    /// The index a link's page belongs to: the first index pip names is its
    /// primary one (`index-url`), the others extra. With no index named, the
    /// one index is pip's own default, the primary. A find-links page or a
    /// local file is on no index.
    public static func index(ofPage page: String?, indexes: [String]?, links: [String]) -> PackageIndex? {
        guard let page else { return nil }
        let shown = URLParts.withoutCredentials(page)
        guard shown.hasPrefix("http://") || shown.hasPrefix("https://") else { return nil }
        func trimmed(_ url: String) -> String { url.hasSuffix("/") ? String(url.dropLast()) : url }
        if links.contains(where: { shown.hasPrefix(trimmed($0)) }) { return nil }
        guard let indexes else { return PackageIndex(url: URLParts.dirAndFile(trimmed(shown)).dir + "/", isPrimary: true) }
        for (position, index) in indexes.enumerated() where shown.hasPrefix(trimmed(index) + "/") || shown == trimmed(index) {
            return PackageIndex(url: index, isPrimary: position == 0)
        }
        return nil
    }

    /// The digests a PEP 503 HTML page states for `url` (hrefs resolved against the page).
    public static func digests(inPage html: [UInt8], pageURL: String, for url: String) -> [Digest] {
        let text = String(decoding: html, as: UTF8.self)
        guard let base = URL(string: pageURL) else { return [] }
        var result: [Digest] = []
        var rest = text[...]
        while let attribute = rest.range(of: "href=", options: .caseInsensitive) {
            rest = rest[attribute.upperBound...]
            guard let quote = rest.first, quote == "\"" || quote == "'" else { continue }
            let value = rest.dropFirst().prefix(while: { $0 != quote })
            rest = rest.dropFirst(value.count + 1)
            let href = value.replacingOccurrences(of: "&amp;", with: "&")
            guard let resolved = URL(string: href, relativeTo: base)?.absoluteString else { continue }
            let (linkBase, digests) = split(resolved)
            if linkBase == url { result += digests.filter { !result.contains($0) } }
        }
        return result
    }

    /// The digests a PEP 691 JSON page states for `url` (its `hashes`), or nil
    /// when the page is not such JSON (an index answering JSON whatever is asked).
    public static func digests(inJSONPage bytes: [UInt8], pageURL: String, for url: String) -> [Digest]? {
        guard let json = try? JSON.parse(bytes, maxDepth: 64), case .array(let files)? = json["files"],
              let base = URL(string: pageURL) else { return nil }
        var result: [Digest] = []
        for file in files {
            guard case .string(let href)? = file["url"], let resolved = URL(string: href, relativeTo: base)?.absoluteString,
                  split(resolved).0 == url, case .object(let hashes)? = file["hashes"] else { continue }
            for algorithm in [HashAlgorithm.sha256, .sha384, .sha512] {
                if case .string(let hex)? = hashes[algorithm.rawValue], let digest = try? Digest(algorithm: algorithm, hex: hex),
                   !result.contains(digest) {
                    result.append(digest)
                }
            }
        }
        return result
    }

    /// "URL#sha256=HEX&..." → ("URL", evidence-grade digests of the fragment).
    static func split(_ url: String) -> (String, [Digest]) {
        guard let hash = url.firstIndex(of: "#") else { return (url, []) }
        var digests: [Digest] = []
        for parameter in url[url.index(after: hash)...].split(separator: "&") {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, let algorithm = HashAlgorithm(rawValue: String(pair[0])),
                  algorithm == .sha256 || algorithm == .sha384 || algorithm == .sha512,
                  let digest = try? Digest(algorithm: algorithm, hex: String(pair[1])) else { continue }
            digests.append(digest)
        }
        return (String(url[..<hash]), digests)
    }

    /// PEP 700 upload times for `urls`, read from the pages pip found them on,
    /// asked for in PEP 691 JSON (the only form that carries `upload-time`).
    /// A page that cannot be read, or speaks HTML, leaves its files without a
    /// time: the guard then refuses them as of unknown age where a minimum applies.
    public static func uploadTimes(_ found: [String: Found], for urls: [String]) -> [String: ReleaseTime] {
        var pages: [String: [String]] = [:]
        for url in urls {
            if let page = found[url]?.page { pages[page, default: []].append(url) }
        }
        guard !pages.isEmpty else { return [:] }
        var options = FetchOptions()
        options.progress = false
        options.maxSize = 64 << 20
        let fetcher = Fetcher(store: Store.standard(), options: options)
        let order = pages.keys.sorted()
        let fetched = fetcher.fetch(order.map { FetchRequest(url: $0, headers: ["Accept: application/vnd.pypi.simple.v1+json"]) })
        var result: [String: ReleaseTime] = [:]
        for (page, outcome) in zip(order, fetched) {
            guard case .success(let artifact) = outcome else { continue }
            defer { fetcher.discard(artifact) }
            guard let data = FileManager.default.contents(atPath: artifact.path),
                  let json = try? JSON.parse([UInt8](data), maxDepth: 64), case .array(let files)? = json["files"],
                  let base = URL(string: artifact.effectiveURL) else { continue }
            let wanted = Set(pages[page] ?? [])
            for file in files {
                guard case .string(let href)? = file["url"], case .string(let time)? = file["upload-time"],
                      let resolved = URL(string: href, relativeTo: base)?.absoluteString else { continue }
                let (url, _) = split(resolved)
                if wanted.contains(url), let release = ReleaseTime(rfc3339: time, source: "upload-time on \(Redaction.url(page))") {
                    result[url] = release
                }
            }
        }
        return result
    }

    /// Fills in digests from the pages for links whose log line had none.
    /// Pages are fetched once each; an unreadable page leaves its links without a claim (fail closed).
    public static func resolve(_ found: [String: Found], for urls: [String]) -> [String: [Digest]] {
        var result: [String: [Digest]] = [:]
        var pages: [String: [String]] = [:]
        for url in urls {
            let entry = found[url] ?? Found()
            if !entry.digests.isEmpty {
                result[url] = entry.digests
            } else if let page = entry.page {
                pages[page, default: []].append(url)
            }
        }
        guard !pages.isEmpty else { return result }
        var options = FetchOptions()
        options.progress = false
        options.maxSize = 64 << 20
        let fetcher = Fetcher(store: Store.standard(), options: options)
        let order = pages.keys.sorted()
        let fetched = fetcher.fetch(order.map { FetchRequest(url: $0) })
        for (page, outcome) in zip(order, fetched) {
            guard case .success(let artifact) = outcome else { continue }
            defer { fetcher.discard(artifact) }
            guard let data = FileManager.default.contents(atPath: artifact.path) else { continue }
            for url in pages[page] ?? [] {
                let digests = digests(inJSONPage: [UInt8](data), pageURL: artifact.effectiveURL, for: url)
                    ?? digests(inPage: [UInt8](data), pageURL: page, for: url)
                if !digests.isEmpty { result[url] = digests }
            }
        }
        return result
    }
}
