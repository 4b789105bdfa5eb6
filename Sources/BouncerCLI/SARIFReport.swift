import FoundationEssentials
import BouncerBase
import BouncerPolicy

/// `bouncer check --format sarif`: the outcomes as one SARIF 2.1.0 log for
/// code scanning. One result per reason of each refused artifact (level
/// `error`) and of each artifact allowed only with warnings (level
/// `warning`), `ruleId` the reason code (`release-too-new`, `identity-drift`,
/// …), the artifact URL (credentials removed) as the location, and the
/// policy rule and Bouncer's decision in the result's properties.
enum SARIFReport {
    static let schema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

    struct Log: Encodable {
        let schema = SARIFReport.schema
        let version = "2.1.0"
        let runs: [Run]
        enum CodingKeys: String, CodingKey { case schema = "$schema", version, runs }
    }
    struct Run: Encodable { let tool: Tool; let results: [Result] }
    struct Tool: Encodable { let driver: Driver }
    struct Driver: Encodable {
        let name = "bouncer"
        let version: String
        let rules: [Rule]
    }
    struct Rule: Encodable { let id: String; let shortDescription: Text }
    struct Text: Encodable { let text: String }
    struct Result: Encodable {
        let ruleId: String
        let ruleIndex: Int
        let level: String
        let message: Text
        let locations: [Location]
        let properties: Properties
    }
    struct Location: Encodable { let physicalLocation: Physical }
    struct Physical: Encodable { let artifactLocation: ArtifactLocation }
    struct ArtifactLocation: Encodable { let uri: String }
    struct Properties: Encodable {
        /// The policy rule that matched ("rule 'app'", or what `unmatched` did).
        let policyRule: String
        /// allowed / warned / refused.
        let decision: String
        let sha256: String?
    }

    static func log(_ outcomes: [GuardOutcome], version: String) -> String {
        var ruleIDs: [String] = []
        var results: [Result] = []
        for outcome in outcomes where outcome.verdict != .allowed {
            for reason in outcome.problems {
                let index: Int
                if let known = ruleIDs.firstIndex(of: reason.code) { index = known } else {
                    ruleIDs.append(reason.code)
                    index = ruleIDs.count - 1
                }
                results.append(Result(ruleId: reason.code, ruleIndex: index, level: outcome.verdict == .refused ? "error" : "warning",
                                      message: Text(text: "\(outcome.shownURL): \(reason.message)"),
                                      locations: [Location(physicalLocation: Physical(artifactLocation: ArtifactLocation(uri: outcome.shownURL)))],
                                      properties: Properties(policyRule: outcome.rule, decision: outcome.verdict.rawValue, sha256: outcome.sha256?.hex)))
            }
        }
        let rules = ruleIDs.map { Rule(id: $0, shortDescription: Text(text: "Bouncer reason code \($0)")) }
        let log = Log(runs: [Run(tool: Tool(driver: Driver(version: version, rules: rules)), results: results)])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
        guard let data = try? encoder.encode(log) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
