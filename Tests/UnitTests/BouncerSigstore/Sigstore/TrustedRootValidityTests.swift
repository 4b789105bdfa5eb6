import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools
import BouncerTestSupport

/// Every validity window of a trusted root needs a start, and an end (when
/// given) not before it; otherwise the root is refused when loaded, naming
/// the JSON path (as sigstore-go and sigstore-python refuse it). The roots
/// are a minted instance's, with a log and a CT log added.
@Suite(.enabled(if: MintedSigstore.openssl != nil, "openssl is not installed"))
struct TrustedRootValidityTests {
    /// The minted root with one entry in each of the four lists.
    static func fullRoot(_ sigstore: MintedSigstore) -> [String: Any] {
        var root = sigstore.trustedRoot(withLog: true)
        root["ctlogs"] = root["tlogs"]
        return root
    }

    /// Where each list keeps its window, as a path of keys below the list's first item.
    static let windows: [(list: String, path: [String], jsonPath: String)] = [
        ("tlogs", ["publicKey", "validFor"], "$.tlogs[0].publicKey.validFor"),
        ("ctlogs", ["publicKey", "validFor"], "$.ctlogs[0].publicKey.validFor"),
        ("certificateAuthorities", ["validFor"], "$.certificateAuthorities[0].validFor"),
        ("timestampAuthorities", ["validFor"], "$.timestampAuthorities[0].validFor"),
    ]

    /// `root` with the first item of `list` changed at `path` by `edit` (nil removes).
    static func editing(_ root: [String: Any], _ list: String, _ path: [String], _ edit: ([String: Any]) -> [String: Any]?) -> [String: Any] {
        func apply(_ object: [String: Any], _ keys: ArraySlice<String>) -> [String: Any] {
            var object = object
            guard let key = keys.first else { return object }
            if keys.count == 1 {
                object[key] = edit(object[key] as? [String: Any] ?? [:])
            } else {
                object[key] = apply(object[key] as? [String: Any] ?? [:], keys.dropFirst())
            }
            return object
        }
        var root = root
        var items = root[list] as? [[String: Any]] ?? []
        if !items.isEmpty { items[0] = apply(items[0], path[...]) }
        root[list] = items
        return root
    }

    static func parse(_ root: [String: Any]) throws -> SigstoreTrustedRoot {
        try SigstoreTrustedRoot.parse(Array(try JSONSerialization.data(withJSONObject: root)), source: "root.json")
    }

    @Test func aWindowWithoutStartIsRefusedWhereverItIs() throws {
        let sigstore = try MintedSigstore()
        let root = Self.fullRoot(sigstore)
        let parsed = try Self.parse(root)
        #expect(parsed.tlogs.count == 1 && parsed.ctlogs.count == 1 && parsed.certificateAuthorities.count == 1 && parsed.timestampAuthorities.count == 1)
        for window in Self.windows {
            for (what, edit) in [("empty validFor", { (_: [String: Any]) -> [String: Any]? in [:] }),
                                 ("only an end", { _ in ["end": "2099-01-01T00:00:00Z"] }),
                                 ("no validFor", { _ in nil })] {
                do {
                    _ = try Self.parse(Self.editing(root, window.list, window.path, edit))
                    Issue.record("\(window.jsonPath), \(what): the root was accepted")
                } catch let error as SigstoreError {
                    #expect(error.step == .trustedRoot && error.family == .configuration, "\(error)")
                    #expect(error.message.hasPrefix("root.json \(window.jsonPath).start: missing"), "\(what): \(error.message)")
                } catch {
                    Issue.record("\(window.jsonPath), \(what): \(error)")
                }
            }
        }
    }

    @Test func aWindowEndingBeforeItStartsIsRefused() throws {
        let sigstore = try MintedSigstore()
        let root = Self.fullRoot(sigstore)
        for window in Self.windows {
            let backwards = Self.editing(root, window.list, window.path) { _ in
                ["start": "2025-01-02T00:00:00Z", "end": "2025-01-01T23:59:59Z"]
            }
            #expect(throws: SigstoreError(.trustedRoot, "root.json \(window.jsonPath).end: the window ends before it starts")) {
                try Self.parse(backwards)
            }
            // A window of one instant is a window.
            let instant = Self.editing(root, window.list, window.path) { _ in ["start": "2025-01-02T00:00:00Z", "end": "2025-01-02T00:00:00Z"] }
            _ = try Self.parse(instant)
        }
    }

    @Test func theEmbeddedRootsHaveAStartEverywhere() throws {
        _ = try SigstoreTrustedRoot.production()
        _ = try SigstoreTrustedRoot.staging()
    }
}
