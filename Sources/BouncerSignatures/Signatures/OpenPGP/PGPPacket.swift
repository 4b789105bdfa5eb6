import BouncerBase
import BouncerIO
/// One OpenPGP packet (RFC 9580 §4): its tag, its body and where it started.
struct PGPPacket: Sendable {
    let tag: Int
    let body: [UInt8]
    /// Offset of the packet header in the decoded input.
    let offset: Int

    enum Tag {
        static let signature = 2
        static let onePassSignature = 4
        static let secretKey = 5
        static let publicKey = 6
        static let secretSubkey = 7
        static let compressed = 8
        static let marker = 10
        static let literal = 11
        static let trust = 12
        static let userID = 13
        static let publicSubkey = 14
        static let userAttribute = 17
        static let padding = 21
    }

    /// Splits `data` into packets. Partial body lengths are accepted only for
    /// the data packets that may carry them (literal, compressed, encrypted),
    /// and the old format's indeterminate length never: detached signatures
    /// and keyrings must be self-delimiting.
    static func parse(_ data: [UInt8], what: String) throws(OpenPGPError) -> [PGPPacket] {
        var reader = PGPReader(data, context: what)
        var packets: [PGPPacket] = []
        while !reader.isAtEnd {
            let start = reader.offset
            let first = try reader.u8("packet header")
            guard first & 0x80 != 0 else {
                throw .malformed("\(what): byte 0x\(hexByte(first)) at offset \(start) is not a packet header (bit 7 clear)")
            }
            let tag: Int
            var body: [UInt8] = []
            if first & 0x40 == 0 {
                // Old format: tag in bits 5-2, length type in bits 1-0.
                tag = Int(first >> 2) & 0x0F
                let length: Int
                switch first & 0x03 {
                case 0: length = Int(try reader.u8("packet length"))
                case 1: length = try reader.u16("packet length")
                case 2: length = Int(try reader.u32("packet length"))
                default:
                    throw .malformed("\(what): packet at offset \(start) (tag \(tag)) has an indeterminate length, which is not allowed here")
                }
                body = try reader.take(length, "body of packet tag \(tag) at offset \(start)")
            } else {
                tag = Int(first & 0x3F)
                var firstChunk = true
                while true {
                    let o1 = Int(try reader.u8("packet length"))
                    if o1 < 192 {
                        body += try reader.take(o1, "body of packet tag \(tag) at offset \(start)")
                        break
                    } else if o1 < 224 {
                        let o2 = Int(try reader.u8("packet length"))
                        body += try reader.take(((o1 - 192) << 8) + o2 + 192, "body of packet tag \(tag) at offset \(start)")
                        break
                    } else if o1 == 255 {
                        body += try reader.take(Int(try reader.u32("packet length")), "body of packet tag \(tag) at offset \(start)")
                        break
                    } else {
                        // Partial body length (RFC 9580 §4.2.1.4).
                        guard [8, 9, 11, 18, 20].contains(tag) else {
                            throw .malformed("\(what): packet tag \(tag) at offset \(start) uses a partial body length, allowed only for data packets")
                        }
                        let chunk = 1 << (o1 & 0x1F)
                        if firstChunk && chunk < 512 {
                            throw .malformed("\(what): first partial body chunk of packet at offset \(start) is \(chunk) bytes (at least 512 required)")
                        }
                        firstChunk = false
                        body += try reader.take(chunk, "partial body chunk of packet at offset \(start)")
                    }
                }
            }
            packets.append(PGPPacket(tag: tag, body: body, offset: start))
        }
        return packets
    }
}

func hexByte(_ byte: UInt8) -> String {
    Hex.encode([byte])
}
