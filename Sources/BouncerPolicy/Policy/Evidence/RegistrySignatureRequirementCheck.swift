import FoundationEssentials
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore

/// `{"registrySignature": {"key": "npm"}}`: the npm registry signed
/// `name@version:integrity` for this package version (ECDSA P-256, a key of
/// the named `npm-registry` keys file valid when the version was published),
/// and the downloaded tarball matches that integrity. It proves what the
/// registry recorded, not who published.
///
/// The packument is fetched from the registry layout the tarball URL follows
/// (`REGISTRY/NAME/-/FILE.tgz` → `REGISTRY/NAME`); the name and version come
/// from the adapter (npm) or, for a plain URL, from that same layout.
enum RegistrySignatureRequirementCheck {
    static func check(keyName: String?, _ context: EvidenceContext) -> Result<EvidenceProof, EvidenceProblem> {
        guard let keyName else { return .failure(missingKey) }
        // Trust material: any problem with it is the policy's (exit 2).
        let key: PolicyKey, keys: NpmRegistryKeys
        do { key = try context.key(keyName) } catch { return .failure(EvidenceProblem(error)) }
        do { keys = try NpmRegistryKeys.parse(key.material.bytes, source: key.material.path) } catch {
            return .failure(EvidenceProblem(code: ReasonCode(error), family: .configuration, message: error.description, cause: error))
        }
        guard let layout = NpmTarballURL(context.request.url) else {
            return .failure(EvidenceProblem(code: .registrySignatureLayout,
                                            message: "the URL does not follow the npm registry layout REGISTRY/NAME/-/FILE.tgz, so no packument can be found"))
        }
        guard let name = context.request.package ?? layout.name, let version = context.request.version ?? layout.version(of: name) else {
            return .failure(EvidenceProblem(code: .registrySignatureCoordinates,
                                            message: "the package name and version are unknown (neither given by the adapter nor readable from the tarball URL)"))
        }
        let fetched: (bytes: [UInt8], shown: String)
        switch context.fetch(URLTemplate(text: layout.packument), what: "npm packument", unavailable: .registrySignatureUnavailable) {
        case .success(let value): fetched = value
        case .failure(let problem): return .failure(problem)
        }
        let verified: NpmRegistrySignature.Verified
        do {
            let record = try NpmRegistrySignature.record(packument: fetched.bytes, name: name, version: version)
            verified = try NpmRegistrySignature.verify(record, keys: keys)
        } catch {
            return .failure(EvidenceProblem(code: ReasonCode(error), family: error.family, message: "\(fetched.shown): \(error.description)", cause: error))
        }
        // The signed integrity must describe exactly the downloaded bytes.
        let sri: SubresourceIntegrity
        do { sri = try SubresourceIntegrity(parsing: verified.integrity) } catch {
            return .failure(EvidenceProblem(code: .npmIntegrity, message: "\(fetched.shown): dist.integrity is not SRI: \(error)"))
        }
        let strongest = sri.strongest
        guard let algorithm = strongest.first?.algorithm, algorithm.isEvidence else {
            return .failure(EvidenceProblem(code: .npmIntegrity, message: "\(fetched.shown): dist.integrity has no sha256/sha384/sha512 digest"))
        }
        let actual: Digest?
        do { actual = try context.digests(including: [algorithm])[algorithm] } catch { return .failure(EvidenceProblem(error)) }
        guard let actual, strongest.contains(where: { $0.matches(actual) }) else {
            return .failure(EvidenceProblem(code: .npmIntegrity,
                                            message: "the tarball's \(algorithm.rawValue) is \(actual?.sri ?? "?"), but the registry signed \(name)@\(version) with integrity \(verified.integrity.prefix(120))"))
        }
        return .success(EvidenceProof(kind: .registrySignature, proves: [.integrity],
                                      summary: "npm registry signature by \(verified.keyID) over \(name)@\(version) and its integrity", signer: verified.keyID, source: fetched.shown))
    }
}

extension RegistrySignatureRequirementCheck {
    /// No registry keys are built in: the policy must name them.
    static let missingKey = EvidenceProblem(code: .registryKeysMissing, family: .configuration,
                                            message: "registrySignature needs 'key': an npm-registry key (the registry's {\"keys\": [...]} document)")
}

/// `REGISTRY/NAME/-/FILE.tgz` (NAME may be `@scope/name`), the layout npm
/// registries serve tarballs under; the packument is `REGISTRY/NAME`.
struct NpmTarballURL {
    let packument: String
    let name: String?
    let file: String

    init?(_ url: String) {
        // Braces would read as template placeholders when the packument URL is fetched.
        guard !url.contains("{") else { return nil }
        let (dir, file) = URLParts.dirAndFile(url)
        guard dir.hasSuffix("/-"), file.hasSuffix(".tgz") else { return nil }
        let packument = String(dir.dropLast(2))
        let (parent, last) = URLParts.dirAndFile(packument)
        guard !last.isEmpty, URLParts.host(packument) != nil else { return nil }
        let scope = URLParts.dirAndFile(parent).file
        self.packument = packument
        self.name = scope.hasPrefix("@") ? "\(scope)/\(last)" : (last.hasPrefix("@") ? nil : last)
        self.file = file
    }

    /// `NAME-VERSION.tgz` (the unscoped part of the name) → VERSION.
    func version(of name: String) -> String? {
        let base = name.split(separator: "/").last.map(String.init) ?? name
        guard file.hasPrefix(base + "-") else { return nil }
        let version = String(file.dropFirst(base.count + 1).dropLast(4))
        return version.isEmpty ? nil : version
    }
}
