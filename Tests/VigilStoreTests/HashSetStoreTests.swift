import Foundation
import Testing
import Vapor
import VigilCore
import VigilStore
import VigilTestSupport

@Suite("National hash set in the database")
struct HashSetStoreTests {
    func md5(_ i: Int) -> HashDigest { try! HashDigest(.md5, String(format: "%032x", i + 1)) }

    @Test("importing the same records twice adds nothing; a second source's category is kept beside the first")
    func idempotentAndMerging() async throws {
        try await withVigilApp { app, clock in
            let store = HashSetStore(db: app.db, clock: clock)
            let records = (0..<250).map { i in
                HashSetRecord(
                    digests: [md5(i)], categories: [HashCategory(scheme: .projectVIC, code: "1", source: "vics-a")])
            }
            var first = HashSetStore.ImportSummary()
            try await store.importBatch(records, source: "a", actor: .system, into: &first)
            #expect(first.added == 250)
            var again = HashSetStore.ImportSummary()
            try await store.importBatch(records, source: "a", actor: .system, into: &again)
            #expect(again.added == 0 && again.updated == 0 && again.unchanged == 250)
            // a second source says something else about item 7, and adds a SHA-1 to it
            var other = HashSetRecord(
                digests: [md5(7), try HashDigest(.sha1, String(repeating: "ab", count: 20))],
                categories: [HashCategory(scheme: .legacy, code: "2", source: "icse-b")])
            other.seriesName = "Series X"
            var third = HashSetStore.ImportSummary()
            try await store.importBatch([other], source: "b", actor: .system, into: &third)
            #expect(third.updated == 1)
            let found = try await store.items(forExact: [try HashDigest(.sha1, String(repeating: "AB", count: 20))])
            let merged = try #require(found.values.first).record
            #expect(Set(merged.categories.map(\.source)) == ["vics-a", "icse-b"])
            #expect(merged.seriesName == "Series X")
            #expect(try await store.counts().items == 250)
            #expect(try await AuditLog.verify(on: app.db) > 0)
        }
    }

    @Test("two files that share a PDQ stay two items, each with its own file digests; a PDQ alone merges by PDQ")
    func pdqNeverJoinsFiles() async throws {
        try await withVigilApp { app, clock in
            let store = HashSetStore(db: app.db, clock: clock)
            let pdq = try HashDigest(.pdq, String(repeating: "00", count: 32))
            var s = HashSetStore.ImportSummary()
            try await store.importBatch(
                [HashSetRecord(digests: [md5(1), pdq])], source: "a", actor: .system, into: &s)
            try await store.importBatch(
                [HashSetRecord(digests: [md5(2), pdq])], source: "b", actor: .system, into: &s)
            #expect(s.added == 2)
            let found = try await store.items(forExact: [md5(1), md5(2)])
            #expect(found[md5(1)] != nil && found[md5(2)] != nil && found[md5(1)]?.id != found[md5(2)]?.id)
            var pdqOnly = HashSetRecord(digests: [pdq])
            pdqOnly.seriesName = "S"
            var t = HashSetStore.ImportSummary()
            try await store.importBatch([pdqOnly], source: "c", actor: .system, into: &t)
            #expect(t.added == 0 && t.updated == 1, "a PDQ-only record is the item that holds its PDQ")
        }
    }

    @Test("every record comes back out exactly as it went in")
    func exportKeepsEveryField() async throws {
        try await withVigilApp { app, clock in
            let store = HashSetStore(db: app.db, clock: clock)
            var r = HashSetRecord(digests: [md5(1), try HashDigest(.pdq, String(repeating: "f0", count: 32))])
            r.categories = [HashCategory(scheme: .projectVIC, code: "1", nationalCategory: "A", source: "x")]
            r.provenance = HashProvenance(
                contributor: "Police Unit 3", foundWhere: "seized laptop",
                foundAt: Date(timeIntervalSince1970: 1_700_000_000), caseID: "CASE-9", mediaID: "m-1")
            r.victimIdentified = true
            r.baseline = true
            r.fileName = "a b.jpg"
            r.fileSize = 1234
            // every optional field, and text that needs escaping in JSON
            var full = HashSetRecord(digests: [
                try HashDigest(.sha256, String(repeating: "9a", count: 32)),
                try HashDigest(.photodna, "opaque/\"value\""),
            ])
            full.categories = [
                HashCategory(scheme: .legacy, code: "5", source: nil),
                HashCategory(scheme: .national, code: "C\\D", nationalCategory: "C", source: "s/1"),
            ]
            full.provenance = HashProvenance(
                contributor: "Ünit \"7\"\n", foundWhere: "tab\there\u{1}",
                foundAt: Date(timeIntervalSince1970: 1_700_000_000.25), caseID: "é", mediaID: "😀")
            full.seriesName = "a\r\u{8}\u{c}b"
            full.victimIdentified = false
            full.offenderIdentified = true
            full.distributed = true
            full.baseline = false
            full.knownBenign = true
            full.fileAvailable = true
            full.fileName = "x/y.png"
            full.fileSize = 9_000_000_000
            full.mediaType = "image/png"
            full.submissionCount = 3
            var s = HashSetStore.ImportSummary()
            try await store.importBatch([r, full], source: "t", actor: .system, into: &s)
            var out: [HashSetRecord] = []
            try await store.forEachItem { _, rec in out.append(rec) }
            #expect(out == [r, full])
            // a merge rewrites the stored record: what comes back is the merged record, field for field
            var extra = HashSetRecord(
                digests: [md5(1)], categories: [HashCategory(scheme: .legacy, code: "2", source: "y")])
            extra.mediaType = "image/jpeg"
            var merged = r
            merged.merge(extra)
            try await store.importBatch([extra], source: "y", actor: .system, into: &s)
            out = []
            try await store.forEachItem { _, rec in out.append(rec) }
            #expect(out == [merged, full])
        }
    }
}
