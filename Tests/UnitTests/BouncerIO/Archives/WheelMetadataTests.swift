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
}
