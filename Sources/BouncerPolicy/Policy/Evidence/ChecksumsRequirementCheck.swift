import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
/// `{"checksums": {"url": "{dir}/SHA256SUMS", "signature": {"url": …, "key": …}}}`:
/// the artifact is listed, with a matching strong digest, in a checksum
/// list whose detached (or clear-) signature verifies against the named key.
/// Without a signature the list proves integrity only, and says so.
enum ChecksumsRequirementCheck {
    static func check(_ spec: ChecksumsRequirement, _ context: EvidenceContext) -> Result<EvidenceProof, EvidenceProblem> {
        let list: (bytes: [UInt8], shown: String)
        switch context.fetch(spec.url, what: "checksum list", unavailable: .checksumsUnavailable) {
        case .success(let value): list = value
        case .failure(let problem): return .failure(problem)
        }
        var keys: [KeyMaterial] = []
        var signingKey: PolicyKey? = nil
        var signature: (bytes: [UInt8], path: String)? = nil
        var keyName: String? = nil
        do {
            if let detached = spec.signature {
                let key = try context.key(detached.key)
                let fetched: (bytes: [UInt8], shown: String)
                switch context.fetch(detached.url, what: "checksum list signature", unavailable: .checksumsSignatureUnavailable) {
                case .success(let value): fetched = value
                case .failure(let problem): return .failure(problem)
                }
                if let problem = KeyedSignature.formatProblem(fetched.bytes, shown: fetched.shown, key: key) { return .failure(problem) }
                signature = (fetched.bytes, fetched.shown)
                keys = [key.material]
                signingKey = key
                keyName = detached.key
            } else if let clearsigned = spec.clearsignedKey {
                guard OpenPGPFormat.isClearsigned(list.bytes) else {
                    return .failure(EvidenceProblem(code: .checksumsNotSigned,
                                                    message: "\(list.shown) is not clearsigned (the rule requires a signature by key '\(clearsigned)')"))
                }
                let key = try context.key(clearsigned)
                keys = [key.material]
                signingKey = key
                keyName = clearsigned
            }
        } catch {
            return .failure(EvidenceProblem(error))
        }

        let loaded: SignedChecksumList.Loaded
        do {
            let load = { (options: SignatureOptions) throws -> SignedChecksumList.Result in
                try SignedChecksumList.load(list.bytes, source: list.shown, signature: signature, keys: keys, options: options)
            }
            let result = try signingKey.map { key in
                try KeyedSignature.firstVerified(key, now: context.now, load) { if case .loaded = $0 { true } else { false } }
            } ?? load(SignatureOptions(now: context.now))
            switch result {
            case .loaded(let value): loaded = value
            case .refused(let outcome):
                return .failure(KeyedSignature.refusal(outcome.report, shown: signature?.path ?? list.shown, keyName: keyName ?? "?"))
            }
        } catch let error as BouncerFailure {
            return .failure(EvidenceProblem(error))
        } catch {
            return .failure(EvidenceProblem(code: .checksumsInvalid, message: "\(list.shown): \(error)"))
        }
        if keyName != nil && loaded.signature?.report.passed != true {
            return .failure(EvidenceProblem(code: .checksumsNotSigned, message: "\(list.shown): its signature was not verified"))
        }
        // A validly signed list may still be an old one replayed: compare with the newest seen at this URL.
        var observation: ListObservation? = nil
        if keyName != nil, let signer = loaded.signature?.report.verifiedSigners.first {
            let observed = ListObservation(url: list.shown, sha256: Hasher.digest(list.bytes, .sha256).hex, issuedAt: loaded.issuedAt,
                                           signer: signer.pinned, seenAt: context.now)
            if let rollback = ListFreshness.judge(observed, against: context.seenLists[list.shown]) {
                return .failure(EvidenceProblem(code: .checksumsRollback, message: rollback.message, refusesInEveryMode: true))
            }
            observation = observed
        }

        let entry = spec.entry?.expand(for: context.request)
            ?? loaded.list.resolve(baseName: URLParts.dirAndFile(context.request.url).file)
        let digests: [HashAlgorithm: Digest]
        do { digests = try context.digests(including: ChecksumListCheck.algorithms(for: entry, in: loaded.list)) } catch {
            return .failure(EvidenceProblem(error))
        }
        let signer = loaded.signature?.signerSummary
        let report = DigestEvidence.report(digests: digests, size: context.size, displayName: context.shownURL, entryName: entry,
                                           inputs: DigestEvidence.Inputs(list: loaded.list, listName: entry, listSigner: signer))
        guard report.verdict == .pass, let evidence = report.evidence.first else {
            let reason = report.reasons.first
            return .failure(EvidenceProblem(code: reason.map { ReasonCode(reported: $0.code) } ?? .checksumsRefused,
                                            message: "\(list.shown): " + (reason?.message ?? "\(entry) is not listed")))
        }
        let listName = URLParts.dirAndFile(list.shown).file
        let proves = evidence.proves.compactMap(Proven.init(rawValue:))
        if signer == nil {
            // An unsigned list is an artifact too: when a rule covers its URL, it must pass that rule.
            switch ListUnderPolicy.verify(list.bytes, url: spec.url.expand(for: context.request), shown: list.shown, context) {
            case .none: break
            case .some(.failure(let problem)): return .failure(problem)
            case .some(.success(let chained)):
                return .success(EvidenceProof(kind: .checksums, proves: Array(Set(proves + chained.proves)).sorted { $0.rawValue < $1.rawValue },
                                              summary: "listed in \(listName), which \(chained.rule) verified: \(chained.summary)",
                                              signer: chained.signer, source: list.shown, observation: chained.observation))
            }
        }
        let summary = signer.map { "listed in \(listName) signed by \($0)" } ?? "listed in \(listName) (unsigned list: integrity only)"
        return .success(EvidenceProof(kind: .checksums, proves: proves, summary: summary, signer: signer.map { _ in
                                          loaded.signature?.report.verifiedSigners.first.map(\.pinned) ?? "" },
                                                           source: list.shown, observation: observation,
                                                           verifiedTime: loaded.issuedAt.map { ReleaseTime(date: $0, source: "signed time of \(list.shown)") }))
    }
}

/// A checksum list fetched as evidence, verified under the rule that covers
/// its own URL (the Debian chain: a `.deb` listed in `Packages`, `Packages`
/// listed in a signed `InRelease`). Nil when no rule covers it.
enum ListUnderPolicy {
    static let maxDepth = 3

    struct Chained {
        let rule: String
        let summary: String
        let proves: [Proven]
        let signer: String?
        let observation: ListObservation?
    }

    static func verify(_ bytes: [UInt8], url: String, shown: String, _ context: EvidenceContext) -> Result<Chained, EvidenceProblem>? {
        let request = ArtifactRequest(url: url)
        guard let (index, rule) = context.policy.rule(for: request), !rule.require.isEmpty else { return nil }
        // The rule that asked for this list covers the list too (a `{dir}/*` rule and its
        // own SHA256SUMS): the list is that rule's evidence, not another artifact of it.
        if let own = context.policy.rule(for: context.request), own.index == index { return nil }
        let label = rule.label(index: index)
        guard context.depth < maxDepth else {
            return .failure(EvidenceProblem(code: .checksumsRefused,
                                            message: "\(shown): evidence vouching for evidence more than \(maxDepth) deep (\(label) covers its own list?)"))
        }
        let file: (fd: Int32, path: String)
        do { file = try Filesystem.createExclusive(in: Filesystem.temporaryRoot, prefix: "bouncer-list") } catch { return .failure(EvidenceProblem(error)) }
        defer { close(file.fd); unlink(file.path) }
        let written = bytes.withUnsafeBytes { write(file.fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { return .failure(EvidenceProblem(code: .checksumsUnavailable, family: .transport, message: "cannot write a copy of \(shown)")) }
        let inner = EvidenceContext(request: request, shownURL: shown, artifactPath: file.path, size: UInt64(bytes.count),
                                digests: [.sha256: Hasher.digest(bytes, .sha256), .sha512: Hasher.digest(bytes, .sha512)],
                                policy: context.policy, now: context.now, fetchEvidence: context.fetchEvidence,
                                seenLists: context.seenLists, locked: nil, depth: context.depth + 1)
        var proofs: [EvidenceProof] = []
        for requirement in rule.require {
            switch EvidenceCheck.check(requirement, inner) {
            case .success(let proof): proofs.append(proof)
            case .failure(let problem):
                return .failure(EvidenceProblem(code: problem.code, family: problem.family,
                                                message: "\(shown) is evidence covered by \(label), which refuses it: \(problem.message)",
                                                refusesInEveryMode: problem.refusesInEveryMode, cause: problem.cause))
            }
        }
        return .success(Chained(rule: label, summary: proofs.map(\.summary).joined(separator: "; "),
                                proves: Array(Set(proofs.flatMap(\.proves))), signer: proofs.compactMap(\.signer).first,
                                observation: proofs.compactMap(\.observation).first))
    }
}

import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
