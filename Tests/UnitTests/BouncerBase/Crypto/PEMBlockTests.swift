import Testing
import BouncerBase

@Suite struct PEMBlockTests {
    let der: [UInt8] = (0..<100).map { UInt8(truncatingIfNeeded: $0 &* 7) }

    @Test func readsBlocksWithCRLFBlanksAndOtherLabelsAround() {
        let body = Base64.encode(der)
        let split = [String(body.prefix(64)), String(body.dropFirst(64))]
        let text = "junk before\r\n  -----BEGIN CERTIFICATE-----  \r\n\t\(split[0])\r\n\(split[1]) \r\n-----END CERTIFICATE-----\r\n"
            + "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
            + "-----BEGIN CERTIFICATE-----\n\(body)\n-----END CERTIFICATE-----"
        #expect(PEM.blocks(text, label: "CERTIFICATE") == [.der(der), .der(der)])
        #expect(PEM.decode(text, label: "PUBLIC KEY") == [[0, 0, 0]])
        #expect(PEM.decode(PEM.encode(der, label: "X"), label: "X") == [der])
    }

    @Test func malformedBlocksSayWhichLineAndWhy() {
        let text = "a\n-----BEGIN CERTIFICATE-----\nZm9=\n-----END CERTIFICATE-----\n\n-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"
            + "-----BEGIN CERTIFICATE-----\nAAAA\n-----BEGIN CERTIFICATE-----\nAAAA\n"
        let blocks = PEM.blocks(text, label: "CERTIFICATE")
        #expect(blocks.count == 4)
        guard blocks.count == 4 else { return }
        #expect(blocks[0] == .invalid(line: 2, why: "the base64 inside is invalid: the last character '9' carries non-zero unused bits (a non-canonical encoding)"))
        #expect(blocks[1] == .invalid(line: 6, why: "the block is empty"))
        #expect(blocks[2] == .invalid(line: 8, why: "no END line before the next BEGIN line"))
        #expect(blocks[3] == .invalid(line: 10, why: "no '-----END CERTIFICATE-----' line"))
        // A CR alone does not end a line, so the marker is not on a line of its own.
        #expect(PEM.blocks("-----BEGIN CERTIFICATE-----\rAAAA\r-----END CERTIFICATE-----", label: "CERTIFICATE").isEmpty)
    }
}
