import Testing
import BouncerIO

/// Requirements by URL in core metadata, read as pip's email parser reads the
/// header section: any case of the field name, folded lines, extras.
@Suite struct WheelMetadataTests {
    @Test func requirementsByURLAreFoundInEverySpelling() {
        let text = """
            Metadata-Version: 2.1
            Name: remdep
            Requires-Dist: requests (>=2.0)
            Requires-Dist: plain @ https://host/plain-1.0.tar.gz
            requires-dist: tight@https://host/tight.whl ; python_version >= "3"
            Requires-Dist: extras[a,b] @ git+https://host/r.git
            Requires-Dist: folded
             @ http://host/folded.tar.gz
            Requires-Dist: email-at >= 1.0 ; extra == "x@y"

            Requires-Dist: body @ http://host/not-a-header
            """
        #expect(WheelMetadata.directReferences(Array(text.utf8)) == [
            "plain @ https://host/plain-1.0.tar.gz", #"tight@https://host/tight.whl ; python_version >= "3""#,
            "extras[a,b] @ git+https://host/r.git", "folded @ http://host/folded.tar.gz", "@ http://host/folded.tar.gz",
        ])
        #expect(WheelMetadata.requirements(Array(text.utf8)).count == 8)
        #expect(WheelMetadata.directReferences([]) == [])
        #expect(WheelMetadata.directReferences([0xFF, 0x0A, 0x40]) == [])
    }

    /// pip's pkg_resources reader (pip on Python 3.10 and older) splits a
    /// value at every line break `str.splitlines` knows, a fold's included:
    /// `victimdep` folded over ` evil @ URL`, or the two on one line split by
    /// a form feed or U+2028, were the requirement `evil @ URL` to it, which pip
    /// fetched and built past the proxy (red team, round 7).
    @Test func aRequirementSplitWhereOnePipReaderSplitsIsFound() {
        for separator in ["\n ", "\u{0C}", "\u{0B}", "\u{1C}", "\u{85}", "\u{2028}", "\u{2029}"] {
            let text = "Metadata-Version: 2.1\nName: hid\nRequires-Dist: victimdep\(separator)evil @ http://host/evil-1.0.tar.gz\n"
            #expect(WheelMetadata.directReferences(Array(text.utf8)).contains("evil @ http://host/evil-1.0.tar.gz"), "\(separator.unicodeScalars.map(\.value))")
        }
        // str.strip() takes U+001F (and the other separators) from either end, as pkg_resources does.
        for leading in ["\u{1F}", "\u{1C}\u{A0}", "\u{3000}"] {
            let text = "Metadata-Version: 2.1\nName: hid\nRequires-Dist: \(leading)evil @ http://host/evil-1.0.tar.gz\n"
            #expect(WheelMetadata.directReferences(Array(text.utf8)).contains("evil @ http://host/evil-1.0.tar.gz"), "\(leading.unicodeScalars.map(\.value))")
        }
        let plain = "Metadata-Version: 2.1\nName: ok\nRequires-Dist: victimdep\n  (>=1.0)\n"
        #expect(WheelMetadata.directReferences(Array(plain.utf8)) == [])
    }

    /// Python's email parser ends a line at a lone CR too: `Summary: hi\rRequires-Dist: …`
    /// is two fields to pip (red team: it was one Summary to Bouncer).
    @Test func aLoneCarriageReturnEndsAField() {
        let bytes = Array("Metadata-Version: 2.1\nName: x\nSummary: hi\rRequires-Dist: evilsd @ http://h/e.tar.gz\r\nVersion: 1\n".utf8)
        #expect(WheelMetadata.directReferences(bytes) == ["evilsd @ http://h/e.tar.gz"])
        #expect(WheelMetadata.eggRequirements(Array("ok>=1\r[extra]\r# c\revilsd @ http://h/e\n".utf8)) == ["ok>=1", "evilsd @ http://h/e"])
    }
}
