import Testing
@testable import BouncerServe

/// `Range` headers applied to a verified file (RFC 9110, section 14): one
/// range is served, anything the proxy does not serve gets the whole file.
@Suite struct ByteRangeTests {
    @Test(arguments: [
        // Spans, open ends and suffixes, clamped to the file.
        ("bytes=0-9", ByteRange.part(first: 0, last: 9)),
        ("bytes=10-", .part(first: 10, last: 99)),
        ("bytes=-30", .part(first: 70, last: 99)),
        ("bytes=-500", .part(first: 0, last: 99)),
        ("bytes=90-500", .part(first: 90, last: 99)),
        ("bytes=99-99", .part(first: 99, last: 99)),
        ("BYTES=5-6", .part(first: 5, last: 6)),
        // Past the end: 416.
        ("bytes=100-", .unsatisfiable),
        ("bytes=100-200", .unsatisfiable),
        ("bytes=-0", .unsatisfiable),
        // Not served as a range: the whole file.
        ("bytes=0-1,5-6", .whole),
        ("bytes=9-0", .whole),
        ("items=0-9", .whole),
        ("bytes=", .whole),
        ("bytes=-", .whole),
        ("bytes=a-9", .whole),
        ("bytes=+1-9", .whole),
        ("bytes=0-99999999999999999999", .whole),
        ("bytes 0-9", .whole),
    ])
    func rangesOfAHundredByteFile(header: String, expected: ByteRange) {
        #expect(ByteRange(header: header, ifRange: nil, size: 100) == expected)
    }

    @Test func noHeaderAnIfRangeOrAnEmptyFile() {
        #expect(ByteRange(header: nil, ifRange: nil, size: 100) == .whole)
        // No validators are given, so none can match: the whole file.
        #expect(ByteRange(header: "bytes=0-9", ifRange: "\"etag\"", size: 100) == .whole)
        #expect(ByteRange(header: "bytes=0-", ifRange: nil, size: 0) == .unsatisfiable)
        #expect(ByteRange(header: "bytes=-5", ifRange: nil, size: 0) == .unsatisfiable)
    }
}
