import Testing
@testable import BouncerIO

/// A base image's ONBUILD triggers, read from its config as the builders'
/// Go decoder reads it: the member names with case ignored, null or absent
/// for none; anything that could still hold triggers Bouncer does not see
/// is refused.
@Suite struct ImageConfigTests {
    func triggers(_ json: String) throws(OCIError) -> [String] {
        try ImageConfig.onBuildTriggers(Array(json.utf8), what: "config")
    }

    @Test func triggersAreReadWhereverTheDecoderFindsThem() throws {
        #expect(try triggers(#"{"architecture":"amd64"}"#) == [])
        #expect(try triggers(#"{"config":null}"#) == [])
        #expect(try triggers(#"{"config":{"Env":["A=1"]}}"#) == [])
        #expect(try triggers(#"{"config":{"OnBuild":null}}"#) == [])
        #expect(try triggers(#"{"config":{"OnBuild":["COPY . /app","RUN make"]}}"#) == ["COPY . /app", "RUN make"])
        // Go's encoding/json matches a field's name with case ignored.
        #expect(try triggers(#"{"Config":{"onbuild":["COPY --from=evil / /"]}}"#) == ["COPY --from=evil / /"])
        #expect(try triggers(#"{"CONFIG":{"ONBUILD":["ADD x /x"]}}"#) == ["ADD x /x"])
        // buildah takes container_config for the config when config is absent or null.
        #expect(try triggers(#"{"container_config":{"OnBuild":["COPY --from=evil / /"]}}"#) == ["COPY --from=evil / /"])
        #expect(try triggers(#"{"config":null,"Container_Config":{"OnBuild":["FROM evil"]}}"#) == ["FROM evil"])
        #expect(try triggers(#"{"config":{},"container_config":{"OnBuild":["FROM evil"]}}"#) == [])
    }

    @Test func whatCouldHideTriggersIsRefused() {
        let refused: [(String, String)] = [
            (#"{"config":{"OnBuild":"COPY --from=evil / /"}}"#, "$.config.OnBuild is not an array"),
            (#"{"config":{"OnBuild":[1]}}"#, "$.config.OnBuild[0] is not a string"),
            (#"{"config":["OnBuild"]}"#, "$.config is not an object"),
            (#"{"config":null,"container_config":{"OnBuild":[true]}}"#, "$.container_config.OnBuild[0] is not a string"),
            (#"{"config":{"OnBuild":[],"onBuild":["COPY --from=evil / /"]}}"#, "spells OnBuild 2 ways"),
            (#"{"config":{},"Config":{"OnBuild":["FROM evil"]}}"#, "spells config 2 ways"),
            (#"["config"]"#, "not a JSON object"),
            ("{\"config\":", "not a JSON image config"),
        ]
        for (json, message) in refused {
            do {
                let found = try triggers(json)
                Issue.record("\(json): read as \(found)")
            } catch {
                #expect(error.code == "oci-malformed", "\(json): \(error)")
                #expect(error.description.contains(message) && error.description.hasPrefix("config: "), "\(json): \(error)")
            }
        }
    }
}
