import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools

/// RFC 6962 / 9162 inclusion proofs: the published reference tree (8 leaves,
/// roots for every size, audit paths from the CT test data), an independent
/// reference implementation of MTH/PATH from RFC 6962 §2.1 for every leaf of
/// every tree up to 40 leaves, and the failure modes named in formats.md §5.5.
@Suite struct MerkleInclusionTests {
    static let leaves: [[UInt8]] = ["", "00", "10", "2021", "3031", "40414243",
                                    "5051525354555657", "606162636465666768696a6b6c6d6e6f"].map { hex($0) }
    /// Roots of the reference tree for sizes 1...8 (RFC 6962 test data).
    static let roots: [[UInt8]] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ].map { hex($0) }
    /// (zero-based index, tree size, audit path) from the RFC 6962 test data.
    static let vectors: [(UInt64, UInt64, [String])] = [
        (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
        (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
        (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
        (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    ]

    static func hex(_ text: String) -> [UInt8] { Hex.decode(text) ?? [0xde, 0xad] }

    @Test func leafHashIsDomainSeparated() {
        // Leaf hash of the empty leaf is the size-1 root.
        #expect(MerkleInclusion.leafHash([]) == Self.roots[0])
        #expect(MerkleInclusion.leafHash([]) != Hasher.digest([], .sha256).bytes)
    }

    @Test func referenceRootsComeOutOfTheReferenceTree() {
        // Checks the test's own reference implementation against the published roots.
        for size in 1...8 {
            #expect(Reference.root(Self.leaves.prefix(size).map(MerkleInclusion.leafHash)) == Self.roots[size - 1], "size \(size)")
        }
    }

    @Test func publishedVectorsVerify() throws {
        for (index, size, path) in Self.vectors {
            let proof = path.map(Self.hex)
            let leaf = MerkleInclusion.leafHash(Self.leaves[Int(index)])
            try MerkleInclusion.verify(index: index, treeSize: size, leafHash: leaf, proof: proof, rootHash: Self.roots[Int(size) - 1])
            #expect(Reference.path(Int(index), Self.leaves.prefix(Int(size)).map(MerkleInclusion.leafHash)) == proof)
        }
    }

    @Test func singleLeafTreeHasAnEmptyPath() throws {
        try MerkleInclusion.verify(index: 0, treeSize: 1, leafHash: MerkleInclusion.leafHash([]), proof: [], rootHash: Self.roots[0])
        #expect(throws: TransparencyError.inclusionRootMismatch) {
            try MerkleInclusion.verify(index: 0, treeSize: 1, leafHash: MerkleInclusion.leafHash([0]), proof: [], rootHash: Self.roots[0])
        }
    }

    @Test func everyLeafOfEveryTreeUpTo40Verifies() throws {
        let all = (0..<40).map { MerkleInclusion.leafHash([UInt8($0), UInt8(truncatingIfNeeded: $0 * 7)]) }
        for size in 1...all.count {
            let leaves = Array(all.prefix(size))
            let root = Reference.root(leaves)
            for index in 0..<size {
                let proof = Reference.path(index, leaves)
                #expect(MerkleInclusion.pathLength(index: UInt64(index), treeSize: UInt64(size)) == proof.count)
                try MerkleInclusion.verify(index: UInt64(index), treeSize: UInt64(size), leafHash: leaves[index], proof: proof, rootHash: root)
                // The same proof must not pass for a neighbouring index or another leaf.
                if size > 1 {
                    let other = (index + 1) % size
                    #expect(throws: TransparencyError.self) {
                        try MerkleInclusion.verify(index: UInt64(other), treeSize: UInt64(size), leafHash: leaves[index], proof: proof, rootHash: root)
                    }
                    #expect(throws: TransparencyError.self) {
                        try MerkleInclusion.verify(index: UInt64(index), treeSize: UInt64(size), leafHash: leaves[other], proof: proof, rootHash: root)
                    }
                }
            }
        }
    }

    @Test func wrongIndexIsRefused() {
        let (index, size, path) = Self.vectors[1]
        let leaf = MerkleInclusion.leafHash(Self.leaves[Int(index)])
        #expect(throws: TransparencyError.inclusionRootMismatch) {
            try MerkleInclusion.verify(index: index - 1, treeSize: size, leafHash: leaf, proof: path.map(Self.hex), rootHash: Self.roots[7])
        }
    }

    @Test func wrongTreeSizeIsRefused() {
        // A size that changes the leaf's path shape is refused. (A size that
        // keeps the shape hashes to the same value: the checkpoint, which
        // signs size and root together, is what binds the size.)
        let (index, _, path) = Self.vectors[0]
        let leaf = MerkleInclusion.leafHash(Self.leaves[Int(index)])
        #expect(throws: TransparencyError.inclusionProofWrongLength(expected: 4, found: 3)) {
            try MerkleInclusion.verify(index: index, treeSize: 9, leafHash: leaf, proof: path.map(Self.hex), rootHash: Self.roots[7])
        }
        let (index5, _, path5) = Self.vectors[1]
        let leaf5 = MerkleInclusion.leafHash(Self.leaves[Int(index5)])
        #expect(throws: TransparencyError.inclusionProofWrongLength(expected: 2, found: 3)) {
            try MerkleInclusion.verify(index: index5, treeSize: 6, leafHash: leaf5, proof: path5.map(Self.hex), rootHash: Self.roots[7])
        }
        // Leaf 4 of a 6-leaf tree: its path [h(5), root(0..3)] checked as if the
        // tree had 5 leaves (one hash) or 7 leaves (three) is refused.
        let six = Self.leaves.prefix(6).map(MerkleInclusion.leafHash)
        let proof = Reference.path(4, six)
        #expect(throws: TransparencyError.inclusionProofWrongLength(expected: 1, found: 2)) {
            try MerkleInclusion.verify(index: 4, treeSize: 5, leafHash: six[4], proof: proof, rootHash: Self.roots[5])
        }
        #expect(throws: TransparencyError.inclusionProofWrongLength(expected: 3, found: 2)) {
            try MerkleInclusion.verify(index: 4, treeSize: 7, leafHash: six[4], proof: proof, rootHash: Self.roots[5])
        }
    }

    @Test func indexAtOrBeyondTreeSizeIsRefused() {
        let leaf = MerkleInclusion.leafHash([])
        #expect(throws: TransparencyError.inclusionIndexOutOfRange(index: 8, treeSize: 8)) {
            try MerkleInclusion.verify(index: 8, treeSize: 8, leafHash: leaf, proof: [], rootHash: Self.roots[7])
        }
        #expect(throws: TransparencyError.inclusionIndexOutOfRange(index: 0, treeSize: 0)) {
            try MerkleInclusion.verify(index: 0, treeSize: 0, leafHash: leaf, proof: [], rootHash: Self.roots[0])
        }
        #expect(throws: TransparencyError.inclusionIndexOutOfRange(index: .max, treeSize: 8)) {
            try MerkleInclusion.verify(index: .max, treeSize: 8, leafHash: leaf, proof: [], rootHash: Self.roots[7])
        }
    }

    @Test func shortAndLongProofsAreRefused() {
        let (index, size, path) = Self.vectors[0]
        let proof = path.map(Self.hex)
        let leaf = MerkleInclusion.leafHash(Self.leaves[Int(index)])
        // A proof cut short whose "root" is the interior node it reaches must not verify.
        let interior = MerkleInclusion.nodeHash(MerkleInclusion.nodeHash(leaf, proof[0]), proof[1])
        #expect(throws: TransparencyError.inclusionProofWrongLength(expected: 3, found: 2)) {
            try MerkleInclusion.verify(index: index, treeSize: size, leafHash: leaf, proof: Array(proof.prefix(2)), rootHash: interior)
        }
        #expect(throws: TransparencyError.inclusionProofWrongLength(expected: 3, found: 4)) {
            try MerkleInclusion.verify(index: index, treeSize: size, leafHash: leaf, proof: proof + [proof[0]], rootHash: Self.roots[7])
        }
        #expect(throws: TransparencyError.inclusionProofWrongLength(expected: 3, found: 0)) {
            try MerkleInclusion.verify(index: index, treeSize: size, leafHash: leaf, proof: [], rootHash: leaf)
        }
    }

    @Test func wrongSizedHashesAreRefused() {
        let (index, size, path) = Self.vectors[0]
        var proof = path.map(Self.hex)
        proof[1].removeLast()
        let leaf = MerkleInclusion.leafHash(Self.leaves[Int(index)])
        #expect(throws: TransparencyError.inclusionHashWrongSize(what: "proof hash 1", found: 31)) {
            try MerkleInclusion.verify(index: index, treeSize: size, leafHash: leaf, proof: proof, rootHash: Self.roots[7])
        }
        #expect(throws: TransparencyError.inclusionHashWrongSize(what: "root hash", found: 0)) {
            try MerkleInclusion.verify(index: index, treeSize: size, leafHash: leaf, proof: path.map(Self.hex), rootHash: [])
        }
        #expect(throws: TransparencyError.inclusionHashWrongSize(what: "leaf hash", found: 33)) {
            try MerkleInclusion.verify(index: index, treeSize: size, leafHash: leaf + [0], proof: path.map(Self.hex), rootHash: Self.roots[7])
        }
    }

    @Test func flippedProofBitIsRefused() {
        let (index, size, path) = Self.vectors[1]
        let leaf = MerkleInclusion.leafHash(Self.leaves[Int(index)])
        for position in 0..<path.count {
            var proof = path.map(Self.hex)
            proof[position][7] ^= 0x01
            #expect(throws: TransparencyError.inclusionRootMismatch) {
                try MerkleInclusion.verify(index: index, treeSize: size, leafHash: leaf, proof: proof, rootHash: Self.roots[7])
            }
        }
    }
}

/// RFC 6962 §2.1 MTH and PATH, written from the recursive definitions
/// (split at the largest power of two below n), independent of the verifier.
enum Reference {
    static func node(_ l: [UInt8], _ r: [UInt8]) -> [UInt8] { Hasher.digest([0x01] + l + r, .sha256).bytes }

    static func split(_ n: Int) -> Int {
        var k = 1
        while k * 2 < n { k *= 2 }
        return k
    }

    static func root(_ leaves: [[UInt8]]) -> [UInt8] {
        if leaves.count == 1 { return leaves[0] }
        let k = split(leaves.count)
        return node(root(Array(leaves[..<k])), root(Array(leaves[k...])))
    }

    static func path(_ m: Int, _ leaves: [[UInt8]]) -> [[UInt8]] {
        if leaves.count == 1 { return [] }
        let k = split(leaves.count)
        if m < k { return path(m, Array(leaves[..<k])) + [root(Array(leaves[k...]))] }
        return path(m - k, Array(leaves[k...])) + [root(Array(leaves[..<k]))]
    }
}
