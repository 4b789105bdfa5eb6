import BouncerBase
import BouncerIO
/// The facts Bouncer reads from a SLSA provenance predicate, v0.2 or v1
/// (formats.md §6.3). All of it is written by the signer: it is trusted only
/// as far as the signer's identity is, and cross-checked against the
/// certificate's Fulcio extensions where both say the same thing.
public struct SLSAProvenance: Sendable, Equatable {
    public static let v1 = "https://slsa.dev/provenance/v1"
    public static let v02 = "https://slsa.dev/provenance/v0.2"

    public var version: String
    public var builderID: String
    public var buildType: String
    /// The source repository as written (`https://github.com/OWNER/REPO`).
    public var sourceRepository: String?
    public var sourceRef: String?
    public var sourceCommit: String?
    /// The workflow file inside the repository (`.github/workflows/release.yml`).
    public var workflowPath: String?
    public var runnerEnvironment: String?
    public var invocationID: String?

    public static func isProvenance(_ predicateType: String) -> Bool {
        predicateType == v1 || predicateType == v02
    }

    static func parse(predicateType: String, predicate: JSONNode?) throws(AttestationError) -> SLSAProvenance {
        guard let predicate else { throw AttestationError(.predicate, "the SLSA provenance statement has no predicate") }
        do {
            return predicateType == v1 ? try parseV1(predicate) : try parseV02(predicate)
        } catch let error as AttestationError {
            // The predicate's nodes carry the statement's path ($.predicate...): a wrong shape is a predicate refusal.
            throw AttestationError(.predicate, "SLSA provenance: \(error.message)")
        } catch {
            throw AttestationError(.predicate, "SLSA provenance predicate: \(error)")
        }
    }

    private static func parseV1(_ p: JSONNode) throws -> SLSAProvenance {
        let definition = try p.required("buildDefinition")
        let details = try p.required("runDetails")
        var facts = SLSAProvenance(version: v1, builderID: try details.required("builder").required("id").string(),
                                   buildType: try definition.required("buildType").string())
        // GitHub's build types (actions workflow, npm): externalParameters.workflow.
        if let workflow = try definition.optional("externalParameters")?.optional("workflow"), (try? workflow.object()) != nil {
            facts.sourceRepository = try workflow.optional("repository")?.string()
            facts.sourceRef = try workflow.optional("ref")?.string()
            facts.workflowPath = try workflow.optional("path")?.string()
        }
        if let github = try definition.optional("internalParameters")?.optional("github"), (try? github.object()) != nil {
            facts.runnerEnvironment = try github.optional("runner_environment")?.string()
        }
        // resolvedDependencies: the source checkout, `git+<repo>@<ref>` with a gitCommit digest.
        for dependency in try definition.optional("resolvedDependencies")?.array(max: 4096) ?? [] {
            guard let uri = try dependency.optional("uri")?.string(), uri.hasPrefix("git+") else { continue }
            let (repository, ref) = SourceRepository.splitRef(uri)
            if facts.sourceRepository == nil { facts.sourceRepository = repository }
            else if !SourceRepository.same(repository, facts.sourceRepository ?? "") { continue }
            if facts.sourceRef == nil { facts.sourceRef = ref }
            if let commit = try dependency.optional("digest")?.optional("gitCommit")?.string() { facts.sourceCommit = commit }
            break
        }
        facts.invocationID = try details.optional("metadata")?.optional("invocationId")?.string()
        return facts
    }

    private static func parseV02(_ p: JSONNode) throws -> SLSAProvenance {
        var facts = SLSAProvenance(version: v02, builderID: try p.required("builder").required("id").string(),
                                   buildType: try p.required("buildType").string())
        if let source = try p.optional("invocation")?.optional("configSource") {
            if let uri = try source.optional("uri")?.string() {
                let (repository, ref) = SourceRepository.splitRef(uri)
                facts.sourceRepository = repository
                facts.sourceRef = ref
            }
            facts.sourceCommit = try source.optional("digest")?.optional("sha1")?.string()
            facts.workflowPath = try source.optional("entryPoint")?.string()
        }
        facts.invocationID = try p.optional("metadata")?.optional("buildInvocationId")?.string()
        return facts
    }

    init(version: String, builderID: String, buildType: String) {
        self.version = version
        self.builderID = builderID
        self.buildType = buildType
    }
}
