import Foundation
import Testing
import Vapor
import VigilApp
import VigilCore
import VigilStore
import VigilTestSupport
import VigilWeb

@Suite("Match API for platforms")
struct MatchAPITests {
    let knownPDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"

    func seed(_ app: Application, _ clock: ManualClock) async throws -> String {
        let store = HashSetStore(db: app.db, clock: clock)
        var r = HashSetRecord(digests: [
            try HashDigest(.pdq, knownPDQ), try HashDigest(.md5, String(repeating: "1", count: 32)),
        ])
        r.categories = [HashCategory(scheme: .projectVIC, code: "1", source: "test")]
        r.baseline = true
        var s = HashSetStore.ImportSummary()
        try await store.importBatch([r], source: "test", actor: .system, intake: .confirmed(bank: "national"), into: &s)
        return try await APIKeys(db: app.db, clock: clock, tokens: SystemTokenSource()).create(
            partner: "Platform", scopes: [.matchRead], actor: .system
        ).secret
    }

    /// The known hash with `bits` leading bits flipped.
    func near(_ bits: Int) -> String {
        var chars = Array(knownPDQ)
        for i in 0..<(bits / 4) { chars[i] = Character(String(Int(String(chars[i]), radix: 16)! ^ 0xF, radix: 16)) }
        return String(chars)
    }

    func post(_ app: Application, key: String?, _ json: String) async throws -> TestBrowser.Page {
        var h: HTTPHeaders = ["Content-Type": "application/json", "Accept": "application/json"]
        if let key { h.add(name: .authorization, value: "Bearer \(key)") }
        return try await TestBrowser(app).send(.POST, "/api/v1/match", headers: h, body: json)
    }

    @Test("near duplicates within the radius match with their distance, the matched hash, bank, review and version")
    func batchMatch() async throws {
        try await withVigilApp { app, clock in
            let key = try await seed(app, clock)
            let body =
                #"{"radius": 31, "hashes": [{"algorithm":"pdq","value":"\#(near(8))"},{"algorithm":"pdq","value":"\#(near(40))"},{"algorithm":"md5","value":"11111111111111111111111111111111"},{"algorithm":"md5","value":"nothex"}]}"#
            let res = try await post(app, key: key, body)
            #expect(res.status == .ok)
            struct R: Decodable {
                struct Result: Decodable {
                    struct M: Decodable {
                        struct H: Decodable { let algorithm: String; let value: String }
                        struct P: Decodable { let contributor: String?; let `case`: String? }
                        let distance: Int; let baseline: Bool; let item: String; let matched: H; let bank: String
                        let review: String; let version: Int64; let provenance: P
                    }
                    let matched: Bool
                    let matches: [M]
                    let error: String?
                }
                let results: [Result]
            }
            let r = try JSONDecoder().decode(R.self, from: Data(res.body.utf8))
            #expect(r.results.map(\.matched) == [true, false, true, false])
            #expect(r.results[0].matches.first?.distance == 8)
            #expect(r.results[0].matches.first?.baseline == true)
            #expect(r.results[3].error != nil)
            let first = try #require(r.results[0].matches.first)
            #expect(first.matched.algorithm == "pdq" && first.matched.value == knownPDQ)
            #expect(first.bank == "national" && first.review == "confirmed" && first.version == 1)
            #expect(first.provenance.case == nil, "a partner's key never sees the contributor's case")
            #expect(
                try await AuditLog.list(on: app.db, filter: .init(action: "match.query"), page: 1, per: 10).total == 1)
        }
    }

    @Test("the body is read by hand only in its documented layout: every other body gets Vapor's answer or error")
    func bodyReading() async throws {
        try await withVigilApp { app, clock in
            let key = try await seed(app, clock)
            let documented =
                #"{"hashes":[{"algorithm":"pdq","value":"\#(near(8))"},{"algorithm":"md5","value":"nothex"}],"radius":31}"#
            let expected = try await post(app, key: key, documented)
            #expect(expected.status == .ok)
            #expect(expected.body.contains(#""matched":true"#))
            // The same request written otherwise: white space, escapes, another member order, an unknown member
            // (the fallback), nulls.
            for variant in [
                #" { "radius" : 31 , "hashes" : [ { "value" : "\#(near(8))" , "algorithm" : "\u0070dq" } , {"algorithm":"md5","value":"nothex"} ] } "#,
                #"{"hashes":[{"algorithm":"pdq","value":"\#(near(8))"},{"algorithm":"md5","value":"nothex"}],"radius":31,"note":{"x":[1]}}"#,
                #"{"hashes":[{"algorithm":"pdq","value":"\#(near(8))"},{"algorithm":"md5","value":"nothex"}],"radius":31,"include":null}"#,
            ] {
                let page = try await post(app, key: key, variant)
                #expect(page.status == .ok, "\(variant)")
                #expect(page.body == expected.body, "\(variant)")
            }
            // Malformed bodies: a 400 that says what is wrong, never a crash or a silent empty answer.
            for bad in [
                #"{"hashes":"pdq"}"#, #"{"hashes":[{"algorithm":"pdq"}]}"#, #"{"hashes":[],"radius":"31"}"#,
                #"{"hashes":[{"algorithm":"pdq","value":"\#(knownPDQ)"}] trailing"#, #"{"radius":31}"#, "",
                // A failed value, then the key again: never taken by the hand reader.
                #"{"hashes":[{"algorithm":"md5","value":,"value":"11111111111111111111111111111111"}]}"#,
                #"{"hashes":[{"algorithm":"md5","value":"\q","value":"11111111111111111111111111111111"}]}"#,
            ] {
                let page = try await post(app, key: key, bad)
                #expect(page.status == .badRequest, "\(bad)")
                #expect(page.body.contains("field") || page.body.contains("body"), "\(page.body)")
            }
        }
    }

    @Test("without a key, or with a key lacking match:read, the API refuses")
    func refused() async throws {
        try await withVigilApp { app, clock in
            _ = try await seed(app, clock)
            #expect(try await post(app, key: nil, #"{"hashes":[]}"#).status == .unauthorized)
            let feeds = try await APIKeys(db: app.db, clock: clock, tokens: SystemTokenSource()).create(
                partner: "ISP", scopes: [.feedsRead], actor: .system
            ).secret
            #expect(try await post(app, key: feeds, #"{"hashes":[]}"#).status == .forbidden)
        }
    }

    @Test("more than 1,000 hashes in one request is a clear 400")
    func tooMany() async throws {
        try await withVigilApp { app, clock in
            let key = try await seed(app, clock)
            let many = (0..<1001).map { _ in #"{"algorithm":"md5","value":"11111111111111111111111111111111"}"# }
                .joined(separator: ",")
            let res = try await post(app, key: key, #"{"hashes":[\#(many)]}"#)
            #expect(res.status == .badRequest)
            #expect(res.body.contains("at most 1000"))
        }
    }

    @Test("a single lookup answers 200 with details when known and 404 when not")
    func singleLookup() async throws {
        try await withVigilApp { app, clock in
            let key = try await seed(app, clock)
            let h: HTTPHeaders = ["Authorization": "Bearer \(key)", "Accept": "application/json"]
            let known = try await TestBrowser(app).send(
                .GET, "/api/v1/match/md5/11111111111111111111111111111111", headers: h, body: nil)
            #expect(known.status == .ok)
            #expect(known.body.contains(#""baseline":true"#))
            #expect(
                try await TestBrowser(app).send(
                    .GET, "/api/v1/match/md5/22222222222222222222222222222222", headers: h, body: nil
                ).status == .notFound)
            #expect(
                try await TestBrowser(app).send(.GET, "/api/v1/match/pdq/\(near(4))", headers: h, body: nil).status
                    == .ok)
            #expect(
                try await TestBrowser(app).send(.GET, "/api/v1/match/crc32/1234", headers: h, body: nil).status
                    == .badRequest)
        }
    }

    @Test("each key is rate-limited")
    func rateLimited() async throws {
        try await withVigilApp(configure: { $0.apiRequestsPerMinute = 3 }) { app, clock in
            let key = try await seed(app, clock)
            let h: HTTPHeaders = ["Authorization": "Bearer \(key)", "Accept": "application/json"]
            var statuses: [UInt] = []
            for _ in 0..<4 {
                statuses.append(
                    try await TestBrowser(app).send(
                        .GET, "/api/v1/match/md5/11111111111111111111111111111111", headers: h, body: nil
                    ).status.code)
            }
            #expect(statuses == [200, 200, 200, 429])
        }
    }

    @Test("the index comes from the snapshot while it is current, and from the database once the set has changed")
    func snapshotOnlyWhenCurrent() async throws {
        try await withVigilApp { app, clock in
            // given: a set with one PDQ hash and no snapshot yet
            _ = try await seed(app, clock)
            let store = HashSetStore(db: app.db, clock: clock)
            let path = (try app.vigil.configuration.dataDirectory as NSString).appendingPathComponent(
                "match-index.snapshot")
            let query = try HashDigest(.pdq, near(8))

            // when: the first start reads the database; then: it writes the snapshot
            let first = try await HashSetMatcher(store: store, snapshotPath: path)
            #expect(first.indexSource == .database)
            #expect(FileManager.default.fileExists(atPath: path))

            // when: the next start finds the set unchanged; then: it loads the snapshot and matches the same
            let second = try await HashSetMatcher(store: store, snapshotPath: path)
            #expect(second.indexSource == .snapshot)
            #expect(try await second.match([query])[0].map(\.distance) == [8])

            // when: a PDQ hash is added; then: the snapshot is stale, the database is read and the new hash found
            let otherPDQ = String(repeating: "0f", count: 32)
            var added = HashSetStore.ImportSummary()
            try await store.importBatch(
                [HashSetRecord(digests: [try HashDigest(.pdq, otherPDQ)])], source: "t", actor: .system,
                intake: .confirmed(bank: "national"),
                into: &added)
            let third = try await HashSetMatcher(store: store, snapshotPath: path)
            #expect(third.indexSource == .database)
            #expect(third.indexedPDQCount == 2)
            #expect(try await third.match([try HashDigest(.pdq, otherPDQ)])[0].map(\.distance) == [0])
            #expect(try await HashSetMatcher(store: store, snapshotPath: path).indexSource == .snapshot)

            // when: an item changes later without a new PDQ hash; then: the snapshot is not trusted either
            clock.advance(by: 60)
            var merged = HashSetStore.ImportSummary()
            try await store.importBatch(
                [
                    HashSetRecord(
                        digests: [try HashDigest(.pdq, knownPDQ)],
                        categories: [HashCategory(scheme: .legacy, code: "1", source: "other")])
                ],
                source: "other", actor: .system, into: &merged)
            #expect(merged.updated == 1)
            #expect(try await HashSetMatcher(store: store, snapshotPath: path).indexSource == .database)

            // when: the snapshot's index is damaged; then: it is ignored and the database read
            try Data("not an index".utf8).write(to: URL(fileURLWithPath: path))
            let fifth = try await HashSetMatcher(store: store, snapshotPath: path)
            #expect(fifth.indexSource == .database)
            #expect(try await fifth.match([query])[0].map(\.distance) == [8])
        }
    }

    @Test("feedback: partners confirm or dispute; at the threshold the record leaves matching; refusals are clear")
    func feedback() async throws {
        try await withVigilApp { app, clock in
            let key = try await seed(app, clock)
            let other = try await APIKeys(db: app.db, clock: clock, tokens: SystemTokenSource()).create(
                partner: "Other platform", scopes: [.matchRead], actor: .system
            ).secret
            let feeds = try await APIKeys(db: app.db, clock: clock, tokens: SystemTokenSource()).create(
                partner: "ISP", scopes: [.feedsRead], actor: .system
            ).secret
            func send(_ key: String, _ body: String) async throws -> TestBrowser.Page {
                try await TestBrowser(app).send(
                    .POST, "/api/v1/match/feedback",
                    headers: [
                        "Content-Type": "application/json", "Accept": "application/json",
                        "Authorization": "Bearer \(key)",
                    ], body: body)
            }
            let query = #"{"hashes": [{"algorithm":"pdq","value":"\#(knownPDQ)"}]}"#
            #expect(try await post(app, key: key, query).body.contains(#""matched":true"#))
            #expect(try await send(feeds, #"{"item":"item-1","verdict":"dispute"}"#).status == .forbidden)
            #expect(try await send(key, #"{"item":"item-999","verdict":"dispute"}"#).status == .notFound)
            #expect(try await send(key, #"{"item":"item-1","verdict":"maybe"}"#).status == .badRequest)
            #expect(try await send(key, #"{"item":"nonsense","verdict":"confirm"}"#).status == .badRequest)
            let agreed = try await send(key, #"{"item":"item-1","verdict":"confirm"}"#)
            #expect(agreed.status == .ok && agreed.body.contains(#""review":"confirmed""#))
            #expect(try await send(key, #"{"item":"item-1","verdict":"dispute"}"#).status == .ok)
            let again = try await send(key, #"{"item":"item-1","verdict":"dispute"}"#)
            #expect(again.status == .conflict && again.body.contains("hash.review.already-voted"))
            // the second partner's dispute reaches the threshold (2): back to review, no longer known
            let second = try await send(other, #"{"item":"item-1","verdict":"dispute"}"#)
            #expect(second.status == .ok && second.body.contains(#""review":"pending""#))
            #expect(try await post(app, key: key, query).body.contains(#""matched":false"#))
            let pending = try await TestBrowser(app).send(
                .POST, "/api/v1/match?include=pending",
                headers: [
                    "Content-Type": "application/json", "Accept": "application/json", "Authorization": "Bearer \(key)",
                ], body: query)
            #expect(pending.body.contains(#""review":"pending""#))
            // a dispute of a record in review makes no sense: 409
            #expect(try await send(key, #"{"item":"item-1","verdict":"dispute"}"#).status == .conflict)
            let votes = try await AuditLog.list(
                on: app.db, filter: .init(action: "hashset.review.dispute"), page: 1, per: 10)
            #expect(votes.total == 2)
            #expect(try await AuditLog.verify(on: app.db) > 0)
        }
    }
}
