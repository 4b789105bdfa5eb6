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
            "extras[a,b] @ git+https://host/r.git", "folded @ http://host/folded.tar.gz",
        ])
        #expect(WheelMetadata.requirements(Array(text.utf8)).count == 6)
        #expect(WheelMetadata.directReferences([]) == [])
        #expect(WheelMetadata.directReferences([0xFF, 0x0A, 0x40]) == [])
    }

    /// Python's email parser ends a line at a lone CR too: `Summary: hi\rRequires-Dist: …`
    /// is two fields to pip (red team: it was one Summary to Bouncer).
    @Test func aLoneCarriageReturnEndsAField() {
        let bytes = Array("Metadata-Version: 2.1\nName: x\nSummary: hi\rRequires-Dist: evilsd @ http://h/e.tar.gz\r\nVersion: 1\n".utf8)
        #expect(WheelMetadata.directReferences(bytes) == ["evilsd @ http://h/e.tar.gz"])
        #expect(WheelMetadata.eggRequirements(Array("ok>=1\r[extra]\r# c\revilsd @ http://h/e\n".utf8)) == ["ok>=1", "evilsd @ http://h/e"])
    }
}
