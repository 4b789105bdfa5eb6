import Foundation
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools

/// The real-world corpus in `../shared/corpus`, read in place and never copied
/// into the repository. Tests that need it call `Corpus.root()` and skip,
/// printing a notice, when it is absent.
public enum Corpus {
    /// The package root: the directory holding Package.swift, found from this file.
    public static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                return url
            }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }()

    /// `../shared/corpus` beside the checkout, or `BOUNCER_CORPUS` if set.
    public static func root() -> URL? {
        if let override = ProcessInfo.processInfo.environment["BOUNCER_CORPUS"] {
            return FileManager.default.fileExists(atPath: override) ? URL(fileURLWithPath: override) : nil
        }
        let url = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/corpus")
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    /// Whether the corpus is here: tests that need it carry
    /// `.enabled(if: Corpus.isPresent, …)`, so without it they are reported
    /// as skipped (with the reason), never as passed.
    public static var isPresent: Bool { root() != nil }

    /// Prints the skip notice; returns the corpus root when present.
    public static func rootOrNotice(_ test: String) -> URL? {
        guard let root = root() else {
            print("NOTICE: \(test) skipped: ../shared/corpus is absent")
            return nil
        }
        return root
    }

    /// The case folders of one format (e.g. "minisign"), sorted by name.
    public static func cases(format: String) -> [URL] {
        guard let root = root() else { return [] }
        let dir = root.appendingPathComponent(format)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.sorted().map { dir.appendingPathComponent($0) }
            .filter { FileManager.default.fileExists(atPath: $0.appendingPathComponent("case.json").path) }
    }

    /// The names of every folder under a format, with or without a
    /// `case.json`: tests compare it with the cases they ran, so a case
    /// folder that `cases(format:)` would pass over is noticed.
    public static func folderNames(format: String) -> Set<String> {
        guard let root = root() else { return [] }
        let dir = root.appendingPathComponent(format)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return Set(names.filter { name in
            var isDirectory: ObjCBool = false
            return !name.hasPrefix(".")
                && FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path, isDirectory: &isDirectory)
                && isDirectory.boolValue
        })
    }
}

/// A corpus case's `case.json` (see the corpus README for the schema).
public struct CorpusCase: Decodable, Sendable {
    public struct Identity: Decodable, Sendable {
        public let san: String?
        public let issuer: String?
    }

    public let format: String
    public let artifact: String?
    public let artifact_sha256: String?
    public let signature: String?
    public let trust: [String]?
    public let expect: String
    public let why: String?
    public let identity: Identity?

    /// The case folder.
    public var directory: URL = URL(fileURLWithPath: "/")

    enum CodingKeys: String, CodingKey {
        case format, artifact, artifact_sha256, signature, trust, expect, why, identity
    }

    public static func load(_ directory: URL) throws -> CorpusCase {
        let data = try Data(contentsOf: directory.appendingPathComponent("case.json"))
        var decoded = try JSONDecoder().decode(CorpusCase.self, from: data)
        decoded.directory = directory
        return decoded
    }

    public var name: String { directory.lastPathComponent }

    public func path(_ relative: String) -> String {
        directory.appendingPathComponent(relative).path
    }
}
