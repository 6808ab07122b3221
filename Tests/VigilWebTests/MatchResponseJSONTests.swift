import Foundation
import Testing
import Vapor

@testable import VigilWeb

@Suite("The match answer written byte by byte")
struct MatchResponseJSONTests {
    typealias M = MatchController

    func match(category: String?, contributor: String?, series: String?, national: String?) -> M.MatchDTO {
        M.MatchDTO(
            item: "item-7", distance: 3, matched: .init(algorithm: "pdq", value: String(repeating: "a", count: 64)),
            bank: "national", category: category, review: "confirmed", version: 4,
            provenance: .init(contributor: contributor, firstSeen: "2026-01-02T03:04:05Z", case: nil),
            categories: [.init(scheme: "projectvic", code: "1", national: national, source: "import \"x\"")],
            baseline: true, knownBenign: false, series: series)
    }

    @Test("the same JSON value as the Codable encoding: nil fields left out, every string escaped")
    func sameAsCodable() throws {
        // given: every optional both ways, and strings that need escaping (quote, backslash, line break, control, é)
        let tricky = "a\"b\\c\nd\te\u{1}f/é"
        let response = M.Response(
            radius: 31,
            results: [
                .init(
                    algorithm: "pdq", value: "q1", matched: true,
                    matches: [
                        match(category: "1", contributor: tricky, series: "s", national: "N1"),
                        match(category: nil, contributor: nil, series: nil, national: nil),
                    ], error: nil),
                .init(algorithm: "md5", value: "bad", matched: false, matches: [], error: tricky),
            ])
        // when
        let written = Data(buffer: M.json(response))
        let encoded = try JSONEncoder().encode(response)
        // then
        let a = try JSONSerialization.jsonObject(with: written) as? NSDictionary
        let b = try JSONSerialization.jsonObject(with: encoded) as? NSDictionary
        #expect(a != nil)
        #expect(a == b)
        #expect(!String(decoding: written, as: UTF8.self).contains("\"category\":null"))
        #expect(
            try JSONDecoder().decode(M.Response.self, from: written).results[0].matches[0].provenance.contributor
                == tricky)
    }
}
