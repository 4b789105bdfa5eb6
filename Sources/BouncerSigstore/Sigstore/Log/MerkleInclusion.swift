import BouncerBase
import BouncerIO
/// RFC 6962 / RFC 9162 Merkle inclusion proofs with SHA-256 (formats.md §5.5).
public enum MerkleInclusion {
    /// SHA-256(0x00 || leaf): the domain-separated hash of a leaf.
    public static func leafHash(_ leaf: [UInt8]) -> [UInt8] {
        Hasher.digest([0x00] + leaf, .sha256).bytes
    }

    /// SHA-256(0x01 || left || right): an interior node.
    static func nodeHash(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        let hasher = Hasher(.sha256)
        hasher.update([0x01])
        hasher.update(left)
        hasher.update(right)
        return hasher.finalize().bytes
    }

    /// Checks that `leafHash` is leaf `index` of the tree of `treeSize` leaves
    /// whose root is `rootHash`, given the audit path `proof` (leaf to root).
    /// RFC 9162 §2.1.3.2; the proof length must be exactly what the path needs,
    /// so a short proof cannot stop at an interior node.
    public static func verify(index: UInt64, treeSize: UInt64, leafHash: [UInt8], proof: [[UInt8]], rootHash: [UInt8]) throws(TransparencyError) {
        guard index < treeSize else { throw .inclusionIndexOutOfRange(index: index, treeSize: treeSize) }
        guard leafHash.count == 32 else { throw .inclusionHashWrongSize(what: "leaf hash", found: leafHash.count) }
        guard rootHash.count == 32 else { throw .inclusionHashWrongSize(what: "root hash", found: rootHash.count) }
        for (position, hash) in proof.enumerated() where hash.count != 32 {
            throw .inclusionHashWrongSize(what: "proof hash \(position)", found: hash.count)
        }
        let expected = pathLength(index: index, treeSize: treeSize)
        guard proof.count == expected else { throw .inclusionProofWrongLength(expected: expected, found: proof.count) }

        var fn = index
        var sn = treeSize - 1
        var r = leafHash
        for p in proof {
            // Unreachable with the length check above; kept as the spec's guard.
            guard sn != 0 else { throw .inclusionProofWrongLength(expected: expected, found: proof.count) }
            if fn & 1 == 1 || fn == sn {
                r = nodeHash(p, r)
                if fn & 1 == 0 {
                    // A right-edge node with no sibling at these levels: climb until it has one.
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else { throw .inclusionProofWrongLength(expected: expected, found: proof.count) }
        guard constantTimeEqual(r, rootHash) else { throw .inclusionRootMismatch }
    }

    /// The number of hashes on the audit path of leaf `index` in a tree of
    /// `treeSize` leaves: the inner part (levels where the index and the last
    /// index differ) plus one per set bit of the index above that part.
    static func pathLength(index: UInt64, treeSize: UInt64) -> Int {
        let last = treeSize - 1
        let inner = 64 - (index ^ last).leadingZeroBitCount
        let border = (index >> UInt64(inner)).nonzeroBitCount
        return inner + border
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}
