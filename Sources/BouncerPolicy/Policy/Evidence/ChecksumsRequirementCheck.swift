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
                                           signer: "\(signer.format):\(signer.signer)", seenAt: context.now)
            if let rollback = ListFreshness.judge(observed, against: context.seenLists[list.shown]) {
                return .failure(EvidenceProblem(code: .checksumsRollback, message: rollback.message, refusesInEveryMode: true))
            }
            observation = observed
        }

        let entry = spec.entry?.expand(for: context.request.url)
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
        let summary = signer.map { "listed in \(listName) signed by \($0)" } ?? "listed in \(listName) (unsigned list: integrity only)"
        return .success(EvidenceProof(kind: .checksums, proves: evidence.proves.compactMap(Proven.init(rawValue:)), summary: summary, signer: signer.map { _ in
                                          loaded.signature?.report.verifiedSigners.first.map { "\($0.format):\($0.signer)" } ?? "" },
                                                           source: list.shown, observation: observation,
                                                           verifiedTime: loaded.issuedAt.map { ReleaseTime(date: $0, source: "signed time of \(list.shown)") }))
    }
}

import Foundation
