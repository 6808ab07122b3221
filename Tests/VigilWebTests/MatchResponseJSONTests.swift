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
            ],
            videos: [
                .init(
                    label: tricky, frames: 15, matched: true,
                    matches: [
                        .init(
                            item: "item-9", bank: "national", category: "1", review: "confirmed", version: 2,
                            provenance: .init(contributor: tricky, firstSeen: nil, case: nil), categories: [],
                            baseline: false, knownBenign: false, series: nil, queryShare: 100, videoShare: 37.5,
                            queryFrames: 15, matchedQueryFrames: 15, videoFrames: 40, matchedVideoFrames: 15,
                            ranges: [.init(queryStart: 0, queryEnd: 14, videoStart: 12, videoEnd: 26.5, frames: 15)])
                    ], error: nil),
                .init(label: nil, frames: 2, matched: false, matches: [], error: "vpdq line 2: not a vPDQ line"),
            ])
        // when
        let written = Data(buffer: try M.json(response))
        let encoded = try JSONEncoder().encode(response)
        // then
        let a = try JSONSerialization.jsonObject(with: written) as? NSDictionary
        let b = try JSONSerialization.jsonObject(with: encoded) as? NSDictionary
        #expect(a != nil)
        #expect(a == b)
        #expect(!String(decoding: written, as: UTF8.self).contains("\"category\":null"))
        // Without videos asked about, the answer has no "videos" member at all.
        let imagesOnly = M.Response(radius: 31, results: response.results, videos: nil)
        #expect(!String(buffer: try M.json(imagesOnly)).contains("videos"))
        #expect(
            try JSONDecoder().decode(M.Response.self, from: written).results[0].matches[0].provenance.contributor
                == tricky)
    }
}
