import Fluent
import Foundation
import SQLKit
import Testing
import Vapor
import VigilCore
import VigilStore
import VigilTestSupport

/// The block list as the database keeps it: four eyes, versions only on change, expiry and holds, appeals.
@Suite("Block list in the database")
struct BlockListStoreTests {
    func stores(_ app: Application, _ clock: ManualClock) throws -> (BlockListStore, HotlineStore) {
        (
            BlockListStore(db: app.db, clock: clock, criteria: ["c1"]),
            HotlineStore(db: app.db, clock: clock, tokens: SystemTokenSource(), sealer: nil, triage: try TriagePolicy())
        )
    }

    func newCase(_ hotline: HotlineStore, _ url: String) async throws -> Int64 {
        try await hotline.submit(
            try ReportSubmission(kind: .url, url: url).validated(), language: "en", actor: .publicVisitor
        ).caseID
    }

    @Test("a proposal is not published; a second person's verification publishes it as a new version")
    func fourEyesAndVersions() async throws {
        try await withVigilApp { app, clock in
            let (list, hotline) = try stores(app, clock)
            let caseID = try await newCase(hotline, "http://bad.test/a.jpg")
            let e = try await list.propose(
                target: ListTarget(kind: .url, value: "bad.test/a.jpg"), criterion: "c1", caseID: caseID,
                dedicatedReason: nil, by: "ana")
            // The application's start published version 1, empty, as a new installation does.
            #expect(try await list.versions(limit: 1).first?.entryCount == 0)
            #expect(try await list.publish() == nil, "a proposal alone changes nothing")
            await #expect(throws: ListEntryError.sameAsProposer) { try await list.verify(e.id, by: "ana") }
            await #expect(throws: StoreError.self) {
                try await list.propose(
                    target: e.target, criterion: "c1", caseID: caseID, dedicatedReason: nil, by: "cy")
            }
            try await list.verify(e.id, by: "bo")
            let v1 = try #require(try await list.publish())
            #expect(v1.version == 2 && v1.entryCount == 1 && v1.added == 1)
            #expect(try await list.publish() == nil, "no change, no new version")
            #expect(try await list.targets()?.1 == [e.target])
            let actions = try await AuditLog.list(
                on: app.db, filter: .init(subject: "list-entry:\(e.id)"), page: 1, per: 10
            ).0.map(\.action)
            #expect(Set(actions) == ["list.propose", "list.verify"])
        }
    }

    @Test(
        "an entry not re-verified leaves the next version when the clock passes expires-at; old versions stay as they were"
    )
    func expiry() async throws {
        try await withVigilApp { app, clock in
            let (list, hotline) = try stores(app, clock)
            let caseID = try await newCase(hotline, "http://bad.test/")
            let e = try await list.propose(
                target: ListTarget(kind: .domain, value: "bad.test"), criterion: "c1", caseID: caseID,
                dedicatedReason: "the whole site is a gallery of such material", by: "ana")
            try await list.verify(e.id, by: "bo")
            try await list.publish()
            clock.advance(by: 7 * 86_400 + 1)
            let v2 = try #require(try await list.publish())
            #expect(v2.entryCount == 0 && v2.removed == 1)
            #expect(try await list.targets(at: v2.version - 1)?.1 == [e.target], "the version before is immutable")
            #expect(try await list.expireDue() == 1)
            #expect(try await list.entry(e.id)?.entry.state == .expired)
            try await list.verify(e.id, by: "cy")
            #expect(try await list.publish()?.added == 1, "re-verification brings it back")
        }
    }

    @Test("an entry from a held case is published only after the hold is lifted")
    func holds() async throws {
        try await withVigilApp { app, clock in
            let (list, hotline) = try stores(app, clock)
            let caseID = try await newCase(hotline, "http://held.test/x")
            try await hotline.apply(
                .placeHold(CaseHold(reason: "operation", expiresAt: clock.now() + 30 * 86_400, placedBy: "le")),
                to: caseID, actor: .user("le"))
            let e = try await list.propose(
                target: ListTarget(kind: .url, value: "held.test/x"), criterion: "c1", caseID: caseID,
                dedicatedReason: nil, by: "ana")
            try await list.verify(e.id, by: "bo")
            #expect(try await list.publish() == nil)
            try await hotline.apply(.liftHold(by: "le"), to: caseID, actor: .user("le"))
            #expect(try await list.publish()?.added == 1)
        }
    }

    @Test("appeals: the decider must be uninvolved; suspend now takes the entry out; upheld removes it for good")
    func appeals() async throws {
        try await withVigilApp { app, clock in
            let (list, hotline) = try stores(app, clock)
            let caseID = try await newCase(hotline, "http://dentist.test/")
            let e = try await list.propose(
                target: ListTarget(kind: .domain, value: "dentist.test"), criterion: "c1", caseID: caseID,
                dedicatedReason: "dedicated", by: "ana")
            try await list.verify(e.id, by: "bo")
            try await list.publish()
            let ref = try await list.submitAppeal(
                target: "https://www.dentist.test/contact", grounds: "this is my dental practice",
                contact: nil, language: "en", sealer: nil, tokens: SystemTokenSource())
            #expect(ref.hasPrefix("A-"))
            #expect(
                try await list.appeal(ref)?.entryID == e.id, "the appeal finds the entry from any URL under the domain")
            await #expect(throws: ListEntryError.appealDeciderInvolved) {
                try await list.decideAppeal(ref, decision: .suspend, outcome: "", by: "bo")
            }
            _ = try await list.decideAppeal(ref, decision: .suspend, outcome: "", by: "sup")
            #expect(try await list.publish()?.removed == 1, "suspend now: out of the next version")
            await #expect(throws: StoreError.self) {
                try await list.decideAppeal(ref, decision: .uphold, outcome: "", by: "sup")
            }
            let decided = try await list.decideAppeal(
                ref, decision: .uphold, outcome: "A legitimate business; listed in error.", by: "sup")
            #expect(decided.state == .upheld && decided.outcome == "A legitimate business; listed in error.")
            #expect(try await list.entry(e.id)?.entry.state == .removed)
            let stats = try await list.statistics()
            #expect(
                stats.appeals[.upheld] == 1
                    && stats.changes.contains { $0.change == "remove" && $0.reason == "suspended" })
        }
    }

    @Test("automated checks: gone twice marks an entry; with auto-drop it is removed and audited")
    func checks() async throws {
        try await withVigilApp { app, clock in
            let (list, hotline) = try stores(app, clock)
            let caseID = try await newCase(hotline, "http://gone.test/a")
            let e = try await list.propose(
                target: ListTarget(kind: .url, value: "gone.test/a"), criterion: "c1", caseID: caseID,
                dedicatedReason: nil, by: "ana")
            try await list.verify(e.id, by: "bo")
            #expect(try await list.dueForCheck(before: clock.now(), limit: 10).map(\.id) == [e.id])
            try await list.recordCheck(e.id, outcome: .gone, detail: "HTTP 404", dropGone: true)
            #expect(try await list.entry(e.id)?.entry.state == .active)
            #expect(try await list.dueForCheck(before: clock.now(), limit: 10).isEmpty)
            let after = try await list.recordCheck(e.id, outcome: .gone, detail: "HTTP 404", dropGone: true)
            #expect(after.state == .removed && after.removalReason == "content gone (automated check)")
            #expect(try await list.entry(e.id)?.checkDetail == "HTTP 404")
        }
    }
}
