import FoundationEssentials
import BouncerBase

/// The threat policies (design.md, "Threat policies"): top level, each
/// overridable per rule. A field left nil here is not set at that level;
/// `Policy.threats(for:)` resolves a request's settings (rule, else top
/// level, else the defaults below).
public struct ThreatPolicy: Sendable {
    public enum IdentityPinning: String, Sendable, CaseIterable {
        /// A new version signed by someone else than the locked ones is refused.
        case pin
        /// The signer is recorded, never compared.
        case off
    }

    /// `minimumReleaseAge`: an artifact must have been released at least this long ago.
    public var minimumReleaseAge: ReleaseAge?
    /// `installScripts.allow`: globs on package names whose install scripts may run.
    public var installScriptsAllow: [Glob]?
    /// `exoticSources.allow`: globs on specs that may come from outside the registry.
    public var exoticSourcesAllow: [Glob]?
    public var identity: IdentityPinning?

    public init(minimumReleaseAge: ReleaseAge? = nil, installScriptsAllow: [Glob]? = nil, exoticSourcesAllow: [Glob]? = nil,
                identity: IdentityPinning? = nil) {
        self.minimumReleaseAge = minimumReleaseAge
        self.installScriptsAllow = installScriptsAllow
        self.exoticSourcesAllow = exoticSourcesAllow
        self.identity = identity
    }

    /// What applies when neither the rule nor the top level says otherwise:
    /// no minimum age, no install scripts, no exotic sources, signers pinned.
    public static let defaults = ThreatPolicy(minimumReleaseAge: .off, installScriptsAllow: [], exoticSourcesAllow: [], identity: .pin)

    /// `self` where set, else `fallback`.
    func over(_ fallback: ThreatPolicy) -> ThreatPolicy {
        ThreatPolicy(minimumReleaseAge: minimumReleaseAge ?? fallback.minimumReleaseAge,
                     installScriptsAllow: installScriptsAllow ?? fallback.installScriptsAllow,
                     exoticSourcesAllow: exoticSourcesAllow ?? fallback.exoticSourcesAllow,
                     identity: identity ?? fallback.identity)
    }

    /// Whether `name`'s install scripts may run.
    public func allowsInstallScripts(of name: String?) -> Bool {
        guard let name else { return false }
        return (installScriptsAllow ?? []).contains { $0.matches(name) }
    }

    /// Whether a dependency spec from outside the registry is allowed.
    public func allowsExoticSource(_ spec: String) -> Bool {
        (exoticSourcesAllow ?? []).contains { $0.matches(spec) }
    }
}

/// `"48h"`, `"7d"`, `"30m"`, or `"0"` (off), as the policy spells it.
public struct ReleaseAge: Sendable, Equatable, CustomStringConvertible {
    public let seconds: TimeInterval
    public let text: String

    public static let off = ReleaseAge(seconds: 0, text: "0")

    public var isOff: Bool { seconds <= 0 }
    public var description: String { text }

    /// nil for anything but `0` or digits followed by one of m, h, d.
    public init?(parsing text: String) {
        if text == "0" {
            self = .off
            return
        }
        guard let unit = text.last, let scale: TimeInterval = ["m": 60, "h": 3600, "d": 86_400][unit] else { return nil }
        let digits = text.dropLast()
        guard !digits.isEmpty, digits.count <= 6, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let count = Int(digits) else { return nil }
        self.init(seconds: TimeInterval(count) * scale, text: text)
    }

    init(seconds: TimeInterval, text: String) {
        self.seconds = seconds
        self.text = text
    }
}

/// When an artifact was released, and who says so. Adapters and the proxy
/// pass what the index or registry states (PyPI's PEP 700 `upload-time`,
/// npm's packument `time[version]`); for plain URLs the guard takes a
/// verified time from the evidence (`EvidenceProof.verifiedTime`).
public struct ReleaseTime: Sendable, Equatable {
    public var date: Date
    /// In words, for messages: "upload-time on https://…/simple/six/".
    public var source: String

    public init(date: Date, source: String) {
        self.date = date
        self.source = source
    }

    /// An RFC 3339 time as indexes and registries write it (`2024-05-01T12:00:00.000000Z`).
    public init?(rfc3339 text: String, source: String) {
        guard let date = RFC3339.parse(text) else { return nil }
        self.init(date: date, source: source)
    }
}

/// The release-age check, shared by the guard (refusal) and the proxy
/// (versions it does not offer).
public enum ReleaseAgeCheck {
    public enum Verdict: Sendable {
        /// No minimum age applies, or the release is old enough.
        case passes
        case tooNew(released: Date, installableAt: Date, source: String)
        case unknown
    }

    public static func judge(_ time: ReleaseTime?, minimum: ReleaseAge, now: Date) -> Verdict {
        guard !minimum.isOff else { return .passes }
        guard let time else { return .unknown }
        let installable = time.date.addingTimeInterval(minimum.seconds)
        return now >= installable ? .passes : .tooNew(released: time.date, installableAt: installable, source: time.source)
    }

    /// The problem for a verdict that refuses, nil for one that passes.
    static func problem(_ verdict: Verdict, minimum: ReleaseAge, unknownBecause: String) -> EvidenceProblem? {
        switch verdict {
        case .passes:
            return nil
        case .tooNew(let released, let installable, let source):
            return EvidenceProblem(code: .releaseTooNew,
                                   message: "released \(UTCTime.format(released)) (\(source)), younger than the policy's minimumReleaseAge of \(minimum); installable from \(UTCTime.format(installable))")
        case .unknown:
            return EvidenceProblem(code: .releaseAgeUnknown,
                                   message: "its release time is unknown (\(unknownBecause)), and the policy's minimumReleaseAge is \(minimum): refused rather than assumed old")
        }
    }

    /// One line for a refusal outside the guard (the proxy's 403).
    public static func describe(_ verdict: Verdict, minimum: ReleaseAge) -> String? {
        problem(verdict, minimum: minimum, unknownBecause: "the index or registry states no release time for it")?.message
    }
}

/// npm release times, for adapters that know only a tarball URL (the npm
/// shim reads them from package-lock.json): the packument at
/// `REGISTRY/NAME` states `time[version]`.
public enum NpmReleaseTimes {
    /// The packument URL for a tarball in the registry layout `REGISTRY/NAME/-/FILE.tgz`.
    public static func packumentURL(forTarball url: String) -> String? {
        NpmTarballURL(url)?.packument
    }

    /// `time[version]` of a packument, or nil when it is not JSON or states none.
    public static func time(inPackument bytes: [UInt8], version: String, source: String) -> ReleaseTime? {
        guard let json = try? JSON.parse(bytes, maxDepth: 128), case .string(let text)? = json["time"]?[version] else { return nil }
        return ReleaseTime(rfc3339: text, source: "time in the packument \(source)")
    }
}
