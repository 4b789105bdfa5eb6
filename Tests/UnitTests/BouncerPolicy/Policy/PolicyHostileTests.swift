import Foundation
import Testing
import BouncerTestSupport
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools

/// The policy parser never traps: deep nesting, mutated bytes, odd values.
@Suite struct PolicyHostileTests {
    @Test func deepNestingIsRefusedNotACrash() {
        for depth in [600, 100_000] {
            let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            #expect(throws: PolicyError.self) { try PolicyParser.parse(Array(text.utf8), file: "p.json") }
            let objects = "{\"version\": 1, \"rules\": [], \"keys\": " + String(repeating: "{\"a\":", count: depth) + "1" + String(repeating: "}", count: depth) + "}"
            #expect(throws: PolicyError.self) { try PolicyParser.parse(Array(objects.utf8), file: "p.json") }
        }
    }

    @Test func mutatedPoliciesNeverTrap() throws {
        let dir = try PolicyParserTests.fixtureDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let base = Array(PolicyParserTests.designExample.utf8)
        var generator = TestRandom.generator()
        var accepted = 0
        for _ in 0..<3000 {
            var bytes = base
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[index] = UInt8.random(in: 0...255, using: &generator)
                case 1: bytes.remove(at: index)
                default: bytes.insert(Array("{}[]\":,1\\".utf8).randomElement(using: &generator) ?? 0x20, at: index)
                }
            }
            if (try? PolicyParser.parse(bytes, file: dir + "/policy.json")) != nil { accepted += 1 }
        }
        // Most mutations break something; the point is that none trapped.
        #expect(accepted < 3000)
    }

    @Test func oddValuesAreRefusedByPath() throws {
        let cases: [(String, String)] = [
            (#"{"version": 1.5, "rules": []}"#, "$.version"),
            (#"{"version": 1, "rules": [{"match": {"host": "h"}, "require": [{"digest": {}}], "maxSize": 1e300}]}"#, "$.rules[0].maxSize"),
            (#"{"version": 1, "rules": [{"match": {"host": "h"}, "require": [{"digest": {}}], "maxSize": "12Q"}]}"#, "$.rules[0].maxSize"),
            (#"{"version": 1, "rules": [{"match": {"host": ""}, "require": [{"digest": {}}]}]}"#, "$.rules[0].match.host"),
            (#"{"version": 1, "rules": [{"match": {"host": "h"}, "require": [{"digest": {"sha256": "abc"}}]}]}"#, "$.rules[0].require[0].digest.sha256"),
            (#"{"version": 1, "rules": [{"match": {"host": "h"}, "require": ["digest"]}]}"#, "$.rules[0].require[0]"),
            (#"{"version": 1, "rules": [null]}"#, "$.rules[0]"),
            (#"{"version": 1, "keys": {"a b": {"type": 5}}, "rules": []}"#, "$.keys[\"a b\"].type"),
        ]
        for (text, path) in cases {
            do {
                _ = try PolicyParser.parse(Array(text.utf8), file: "p.json")
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.path == path, "\(text): \(error)")
            }
        }
    }
}
