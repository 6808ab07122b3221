import Foundation
import Testing
import Vapor
import VigilApp
import VigilCore
import VigilStore
import VigilTestSupport
import VigilWeb

/// The hash set's banks and review, through the store and the matcher every face uses.
@Suite("Hash set banks and review")
struct HashBankTests {
    static let base = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"

    /// `base` with its first `bits` hex digits' low bit flipped (one bit per digit).
    static func near(_ bits: Int, of hex: String = base) -> String {
        var chars = Array(hex)
        for i in 0..<bits {
            let v = Int(String(chars[i]), radix: 16)!
            chars[i] = Character(String(v ^ 1, radix: 16))
        }
        return String(chars)
    }

    static func record(_ hex: String, category: String = "1") throws -> HashSetRecord {
        HashSetRecord(
            digests: [try HashDigest(.pdq, hex)], categories: [HashCategory(scheme: .projectVIC, code: category)])
    }

    static func importOne(_ store: HashSetStore, _ r: HashSetRecord, _ intake: HashSetStore.Intake, actor: String)
        async throws -> Int64
    {
        var s = HashSetStore.ImportSummary()
        try await store.importBatch([r], source: "t", actor: .user(actor), intake: intake, into: &s)
        return try #require(try await store.items(forExact: r.digests).values.first).id
    }

    @Test("a new record is pending: no match until three others agree, unless asked for pending; then known")
    func reviewBeforeMatching() async throws {
        try await withVigilApp { app, clock in
            let store = HashSetStore(db: app.db, clock: clock)
            let id = try await Self.importOne(
                store, try Self.record(Self.base), .pending(reviewsRequired: 3), actor: "ana")
            let matcher = try await HashSetMatcher(store: store)
            matcher.bankCacheLifetime = .zero  // bank changes read at every query here
            let q = [try HashDigest(.pdq, Self.near(4))]
            #expect(try await matcher.match(q)[0].isEmpty)
            let pending = try await matcher.match(q, includePending: true)[0]
            #expect(pending.map(\.review) == [.pending] && pending.map(\.bank) == ["national"])
            #expect(try await store.reviewQueue().map(\.id) == [id])
            await #expect(throws: HashReviewError.ownSubmission) {
                try await store.review(
                    item: id, .vote(reviewer: AuditActor.user("ana").display, category: "1"), actor: .user("ana"))
            }
            for reviewer in ["bo", "cy"] {
                try await store.review(
                    item: id, .vote(reviewer: AuditActor.user(reviewer).display, category: "1"), actor: .user(reviewer))
            }
            #expect(try await matcher.match(q)[0].isEmpty, "two of three")
            let (item, effects) = try await store.review(
                item: id, .vote(reviewer: AuditActor.user("di").display, category: "1"), actor: .user("di"))
            #expect(effects == [.startsMatching] && item.version == 4)
            let hit = try #require(try await matcher.match(q)[0].first)
            #expect(hit.review == .confirmed && hit.category == "1" && hit.distance == 4 && hit.version == 4)
            #expect(hit.matched.value == Self.base, "the answer carries the matched hash")
            #expect(try await store.reviewQueue().isEmpty)
            let audit = try await AuditLog.verify(on: app.db)
            #expect(audit > 0)
        }
    }

    @Test("a disabled bank answers nothing; its own radius bounds its matches; changes apply at the next query")
    func banksSwitchAndRadius() async throws {
        try await withVigilApp { app, clock in
            let store = HashSetStore(db: app.db, clock: clock)
            try await store.addBank(
                HashBank(name: "partner:fr", label: "Partner FR", pdqRadius: 10, reviewed: true), actor: .system)
            await #expect(throws: StoreError.self) {
                try await store.addBank(HashBank(name: "partner:fr", label: "again"), actor: .system)
            }
            await #expect(throws: StoreError.self) { try await store.bank(named: "nowhere") }
            _ = try await Self.importOne(store, try Self.record(Self.base), .confirmed(bank: "partner:fr"), actor: "x")
            let matcher = try await HashSetMatcher(store: store)
            matcher.bankCacheLifetime = .zero  // bank changes read at every query here
            #expect(try await matcher.match([try HashDigest(.pdq, Self.near(8))])[0].map(\.bank) == ["partner:fr"])
            #expect(try await matcher.match([try HashDigest(.pdq, Self.near(12))])[0].isEmpty, "beyond the bank's 10")
            _ = try await store.updateBank("partner:fr", actor: .system) { $0.enabled = false }
            #expect(try await matcher.match([try HashDigest(.pdq, Self.base)])[0].isEmpty, "switched off")
            _ = try await store.updateBank("partner:fr", actor: .system) { $0.enabled = true }
            #expect(try await matcher.match([try HashDigest(.pdq, Self.base)])[0].count == 1)
            await #expect(throws: StoreError.self) {
                try await store.updateBank("partner:fr", actor: .system) { $0.pdqRadius = 70 }
            }
        }
    }

    @Test("a false positive's hash in the negative bank suppresses near matches, with the reason for staff")
    func negativeBank() async throws {
        try await withVigilApp { app, clock in
            let store = HashSetStore(db: app.db, clock: clock)
            let known = try await Self.importOne(
                store, try Self.record(Self.base), .confirmed(bank: "national"), actor: "x")
            // a benign picture that happens to sit near the known one
            let benign = Self.near(20)
            let fp = try await Self.importOne(
                store, try Self.record(benign, category: "5"), .confirmed(bank: "national"), actor: "x")
            let matcher = try await HashSetMatcher(store: store)
            matcher.bankCacheLifetime = .zero  // bank changes read at every query here
            // this installation keeps false positives tight: 10 bits
            _ = try await store.updateBank("false-positive", actor: .system) { $0.pdqRadius = 10 }
            let query = try HashDigest(.pdq, Self.near(22))
            #expect(try await matcher.match([query])[0].map(\.item).sorted() == [known, fp])
            let (item, effects) = try await store.review(item: fp, .markFalsePositive(by: "sup"), actor: .user("sup"))
            #expect(item.bank == "false-positive" && item.review.state == .rejected && effects == [.stopsMatching])
            let answer = try await matcher.answer([query, try HashDigest(.pdq, Self.base)])
            #expect(answer.hits[0].isEmpty, "suppressed: within the negative bank's radius of the false positive")
            #expect(answer.suppressed[0] == .init(bank: "false-positive", item: fp, distance: 2))
            #expect(answer.hits[1].map(\.item) == [known], "a query far from the false positive still matches")
            // a query equal to the known record is never hidden by a false positive near it (wider radius now)
            _ = try await store.updateBank("false-positive", actor: .system) { $0.pdqRadius = 31 }
            let exact = try await matcher.answer([try HashDigest(.pdq, Self.base)])
            #expect(exact.hits[0].map(\.item) == [known] && exact.suppressed.isEmpty)
            _ = try await store.updateBank("false-positive", actor: .system) { $0.enabled = false }
            #expect(try await matcher.match([query])[0].map(\.item) == [known])
        }
    }

    @Test("a sampled bank answers a stable share of queries")
    func sampling() async throws {
        try await withVigilApp { app, clock in
            let store = HashSetStore(db: app.db, clock: clock)
            try await store.addBank(
                HashBank(name: "platform:trial", label: "Trial", pdqRadius: 63, sampling: 0.25, reviewed: true),
                actor: .system)
            _ = try await Self.importOne(
                store, try Self.record(Self.base), .confirmed(bank: "platform:trial"), actor: "x")
            let matcher = try await HashSetMatcher(store: store)
            matcher.bankCacheLifetime = .zero  // bank changes read at every query here
            let queries =
                try (1...24).map { try HashDigest(.pdq, Self.near($0)) }
                + (1...24).map { try HashDigest(.pdq, Self.near($0, of: String(Self.base.reversed()))) }
            let first = try await matcher.match(queries).map { !$0.isEmpty }
            let answered = first.filter { $0 }.count
            #expect(answered > 0 && answered < queries.count, "\(answered) of \(queries.count)")
            #expect(try await matcher.match(queries).map { !$0.isEmpty } == first, "the same queries, the same answers")
        }
    }

    @Test(
        "the review desk: three reviewers confirm in turn; the submitter and a second vote are refused; a supervisor settles a disagreement"
    )
    func reviewDesk() async throws {
        try await withVigilApp { app, clock in
            let store = HashSetStore(db: app.db, clock: clock)
            let id = try await Self.importOne(
                store, try Self.record(Self.base), .pending(reviewsRequired: 3), actor: "ana")
            let other = try await Self.importOne(
                store, try Self.record(Self.near(40)), .pending(reviewsRequired: 3), actor: "ana")
            let (ana, _) = try await Staff.signedIn(app, clock: clock, username: "ana", role: .analyst)
            let submitterPage = try await ana.get("/hashset/review")
            #expect(submitterPage.status == .ok && submitterPage.body.contains("Nothing for you to review"))
            let own = try await ana.post("/hashset/review/\(id)", form: [("category", "1")])
            #expect(own.status == .conflict && own.body.contains("someone else must review it"))
            var reviewers: [TestBrowser] = []
            for name in ["bo", "cy", "di"] {
                reviewers.append(try await Staff.signedIn(app, clock: clock, username: name, role: .analyst).0)
            }
            for (n, browser) in reviewers.enumerated() {
                let page = try await browser.get("/hashset/review")
                #expect(page.body.contains("item-\(id)") && page.body.contains("\(n) of 3 confirmations"))
                #expect(!page.body.contains("user:bo: category"), "the others' verdicts are not shown")
                #expect(page.body.contains(#"data-key="5""#) && page.body.contains("/static/review.js"))
                let voted = try await browser.post("/hashset/review/\(id)", form: [("category", "1")])
                #expect(voted.status == .seeOther || voted.status == .found, "\(voted.status)")
            }
            let twice = try await reviewers[0].post("/hashset/review/\(id)", form: [("category", "1")])
            #expect(twice.status == .conflict)
            let matcher = try await HashSetMatcher(store: store)
            matcher.bankCacheLifetime = .zero  // bank changes read at every query here
            #expect(try await matcher.match([try HashDigest(.pdq, Self.base)])[0].map(\.review) == [.confirmed])
            // the second record: two reviewers disagree, a supervisor who did not vote settles it
            _ = try await reviewers[0].post("/hashset/review/\(other)", form: [("category", "1")])
            _ = try await reviewers[1].post("/hashset/review/\(other)", form: [("category", "2")])
            let (sup, _) = try await Staff.signedIn(app, clock: clock, username: "sue", role: .supervisor)
            let desk = try await sup.get("/hashset/review")
            #expect(desk.body.contains("Reviewers disagreed") && desk.body.contains("user:cy: category 2"))
            #expect(
                try await reviewers[2].post("/hashset/review/\(other)/decide", form: [("decision", "1")]).status
                    == .forbidden, "analysts do not settle")
            let settled = try await sup.post("/hashset/review/\(other)/decide", form: [("decision", "2")])
            #expect(settled.status == .seeOther || settled.status == .found)
            #expect(try await store.items(ids: [other])[other]?.review.category == "2")
            #expect(try await ana.post("/hashset/review/\(id)", form: [("category", "9")]).status == .badRequest)
            #expect(
                try await AuditLog.list(on: app.db, filter: .init(action: "hashset.review.vote"), page: 1, per: 20)
                    .total == 5)
        }
    }

    @Test("only confirmed records are exported unless pending ones are asked for; rejected records never leave")
    func exportFollowsReview() async throws {
        try await withVigilApp { app, clock in
            let store = HashSetStore(db: app.db, clock: clock)
            let known = try await Self.importOne(
                store, try Self.record(Self.base), .confirmed(bank: "national"), actor: "x")
            let pending = try await Self.importOne(
                store, try Self.record(Self.near(30)), .pending(reviewsRequired: 3), actor: "x")
            let wrong = try await Self.importOne(
                store, try Self.record(Self.near(50)), .confirmed(bank: "national"), actor: "x")
            try await store.review(item: wrong, .markFalsePositive(by: "sup"), actor: .user("sup"))
            func exported(_ states: Set<HashReviewState>?) async throws -> [Int64] {
                var ids: [Int64] = []
                try await store.forEachItem(states: states) { id, _ in ids.append(id) }
                return ids
            }
            #expect(try await exported([.confirmed]) == [known])
            #expect(try await exported([.confirmed, .pending, .escalated]) == [known, pending])
            #expect(try await exported(nil) == [known, pending, wrong])
            // CAT 4 (comparison images, internal use only) is known but never leaves in an export
            let comparison = try await Self.importOne(
                store, try Self.record(Self.near(9, of: String(Self.base.reversed()))), .pending(reviewsRequired: 1),
                actor: "x")
            try await store.review(item: comparison, .vote(reviewer: "user:bo", category: "4"), actor: .user("bo"))
            var kept: [Int64] = []
            try await store.forEachItem(states: [.confirmed], withoutCategories: HashReview.internalOnly) { id, _ in
                kept.append(id)
            }
            #expect(kept == [known])
            #expect(try await exported([.confirmed]) == [known, comparison])
            // records of negative banks never wait on the review desk
            var s = HashSetStore.ImportSummary()
            try await store.importBatch(
                [try Self.record(Self.near(5, of: String(Self.base.reversed())))], source: "t", actor: .user("x"),
                intake: .pending(bank: "false-positive", reviewsRequired: 3), into: &s)
            #expect(try await store.reviewQueue().map(\.id) == [pending])
            let benign = try await store.bank(named: HashBank.knownBenignName)
            #expect(benign.kind == .match && benign.reviewed, "NSRL hits come back flagged, confirmed on import")
        }
    }

    @Test("an addition reaches a running matcher as a delta, without reading the index again")
    func deltas() async throws {
        try await withVigilApp { app, clock in
            let store = HashSetStore(db: app.db, clock: clock)
            _ = try await Self.importOne(store, try Self.record(Self.base), .confirmed(bank: "national"), actor: "x")
            let matcher = try await HashSetMatcher(store: store)
            matcher.bankCacheLifetime = .zero  // bank changes read at every query here
            #expect(try await matcher.refresh() == .current)
            let added = try await Self.importOne(
                store, try Self.record(Self.near(60)), .confirmed(bank: "national"), actor: "x")
            #expect(try await matcher.match([try HashDigest(.pdq, Self.near(60))])[0].isEmpty, "not yet")
            #expect(try await matcher.refresh() == .delta(added: 1))
            #expect(try await matcher.match([try HashDigest(.pdq, Self.near(60))])[0].map(\.item) == [added])
            #expect(try await matcher.refresh(verify: true) == .current)
            #expect(matcher.indexSource == .database && matcher.indexedPDQCount == 2)
        }
    }

    @Test("transparency: confirmations, disputes, overturns and the median review time, per month")
    func qualityFigures() async throws {
        try await withVigilApp { app, clock in
            let store = HashSetStore(db: app.db, clock: clock)
            let id = try await Self.importOne(
                store, try Self.record(Self.base), .pending(reviewsRequired: 2), actor: "ana")
            try await store.review(item: id, .vote(reviewer: "user:bo", category: "1"), actor: .user("bo"))
            clock.advance(by: 2 * 86_400)
            try await store.review(item: id, .vote(reviewer: "user:cy", category: "1"), actor: .user("cy"))
            for p in ["p1", "p2"] {
                try await store.review(item: id, .dispute(partner: p, threshold: 2), actor: .apiKey(p))
            }
            let month = Month(containing: clock.now())
            let period = ReportingPeriod(first: month, last: month)
            let source = HashSetTransparency(db: app.db)
            let review = try await source.figure(.hashSetReview, in: period)
            #expect(review.columns == ["confirmed", "disputed", "overturned"])
            #expect(review.rows.last?.values == [1, 1, 1])
            let time = try await source.figure(.hashSetReviewTime, in: period)
            #expect(time.unit == .days && time.rows.last?.values == [2])
            let page = try await TestBrowser(app).get("/transparency?lang=en")
            #expect(page.body.contains("National hash set: review and feedback"))
        }
    }

    @Test("administrators add and change banks on /admin/banks; bad values are refused with the reason; others may not")
    func bankPage() async throws {
        try await withVigilApp { app, clock in
            let (admin, _) = try await Staff.signedIn(app, clock: clock, username: "root", role: .admin)
            let (analyst, _) = try await Staff.signedIn(app, clock: clock, username: "ana", role: .analyst)
            #expect(try await analyst.get("/admin/banks").status == .forbidden)
            let page = try await admin.get("/admin/banks")
            #expect(page.status == .ok && page.body.contains("false-positive") && page.body.contains("known-benign"))
            let added = try await admin.post(
                "/admin/banks",
                form: [("name", "partner:fr"), ("label", "French hotline"), ("kind", "match"), ("radius", "20")])
            #expect(added.status == .ok && added.body.contains("Bank partner:fr added."))
            let off = try await admin.post(
                "/admin/banks/partner:fr", form: [("radius", "16"), ("sampling", "50"), ("enabled", "false")])
            #expect(off.status == .ok)
            let bank = try await HashSetStore(db: app.db, clock: clock).bank(named: "partner:fr")
            #expect(!bank.enabled && bank.pdqRadius == 16 && bank.sampling == 0.5 && !bank.reviewed)
            let bad = try await admin.post("/admin/banks/partner:fr", form: [("radius", "99")])
            #expect(bad.status == .unprocessableEntity && bad.body.contains("between 0 and 63"))
            let twice = try await admin.post("/admin/banks", form: [("name", "partner:fr"), ("kind", "match")])
            #expect(twice.status == .conflict)
            let audited = try await AuditLog.list(
                on: app.db, filter: .init(action: "hashset.bank-set"), page: 1, per: 10)
            #expect(audited.total == 1)
        }
    }
}
