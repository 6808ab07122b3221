import Fluent
import Foundation
import SQLKit
import Testing
import Vapor
import VigilCore
import VigilTestSupport

@testable import VigilStore

/// `vigil audit verify` must catch any change made directly in the database.
@Suite("Audit log in the database")
struct AuditLogStoreTests {
    func appendSome(_ db: any Database, count: Int, clock: ManualClock) async throws {
        for i in 0..<count {
            clock.advance(by: 1)
            try await db.transaction { tx in
                try await AuditLog.append(
                    on: tx, at: clock.now(), actor: .user("alice"), action: "test.event", subject: "thing:\(i)",
                    details: ["i": String(i)])
            }
        }
    }

    func sql(_ app: Application) -> any SQLDatabase { app.db as! any SQLDatabase }

    @Test("an untouched log verifies, counting every event")
    func intact() async throws {
        try await withVigilApp { app, clock in
            let before = try await AuditLog.verify(on: app.db)
            try await appendSome(app.db, count: 12, clock: clock)
            #expect(try await AuditLog.verify(on: app.db) == before + 12)
        }
    }

    @Test("an event modified in the database is named")
    func modified() async throws {
        try await withVigilApp { app, clock in
            try await appendSome(app.db, count: 8, clock: clock)
            let target = try await AuditEventModel.query(on: app.db).filter(\.$subject == "thing:3").first()!.id!
            try await sql(app).raw("UPDATE audit_events SET subject = 'thing:forged' WHERE seq = \(bind: target)").run()
            await #expect(throws: AuditChain.Failure.modified(sequence: target)) {
                try await AuditLog.verify(on: app.db)
            }
        }
    }

    @Test("an event deleted from the middle is found")
    func deletedMiddle() async throws {
        try await withVigilApp { app, clock in
            try await appendSome(app.db, count: 8, clock: clock)
            let target = try await AuditEventModel.query(on: app.db).filter(\.$subject == "thing:4").first()!.id!
            try await sql(app).raw("DELETE FROM audit_events WHERE seq = \(bind: target)").run()
            await #expect(throws: AuditChain.Failure.gap(expected: target, found: target + 1)) {
                try await AuditLog.verify(on: app.db)
            }
        }
    }

    @Test("the newest event deleted is found through the head")
    func deletedTail() async throws {
        try await withVigilApp { app, clock in
            try await appendSome(app.db, count: 5, clock: clock)
            try await sql(app).raw("DELETE FROM audit_events WHERE seq = (SELECT MAX(seq) FROM audit_events)").run()
            await #expect(throws: AuditChain.Failure.self) { try await AuditLog.verify(on: app.db) }
        }
    }

    @Test("two events swapped in the database are found")
    func reordered() async throws {
        try await withVigilApp { app, clock in
            try await appendSome(app.db, count: 8, clock: clock)
            let a = try await AuditEventModel.query(on: app.db).filter(\.$subject == "thing:2").first()!.id!
            let b = a + 1
            let db = sql(app)
            try await db.raw("UPDATE audit_events SET seq = -1 WHERE seq = \(bind: a)").run()
            try await db.raw("UPDATE audit_events SET seq = \(bind: a) WHERE seq = \(bind: b)").run()
            try await db.raw("UPDATE audit_events SET seq = \(bind: b) WHERE seq = -1").run()
            await #expect(throws: AuditChain.Failure.modified(sequence: a)) { try await AuditLog.verify(on: app.db) }
        }
    }

    @Test("concurrent appends keep one unbroken chain")
    func concurrentAppends() async throws {
        try await withVigilApp { app, clock in
            let before = try await AuditLog.verify(on: app.db)
            let db = app.db
            let now = clock.now()
            @Sendable func one(_ i: Int) async throws {
                try await db.transaction { tx in
                    _ = try await AuditLog.append(
                        on: tx, at: now, actor: .job("test"), action: "test.concurrent", subject: "n:\(i)")
                }
            }
            async let a: Void = { for i in 0..<10 { try await one(i) } }()
            async let b: Void = { for i in 10..<20 { try await one(i) } }()
            async let c: Void = { for i in 20..<30 { try await one(i) } }()
            _ = try await (a, b, c)
            #expect(try await AuditLog.verify(on: app.db) == before + 30)
        }
    }
}

@Suite("Migrations")
struct MigrationTests {
    @Test("cases referred to law enforcement before the referral column existed are found by its migration")
    func referralBackfill() async throws {
        try await withVigilApp { app, clock in
            let hotline = HotlineStore(
                db: app.db, clock: clock, tokens: SystemTokenSource(), sealer: nil, triage: try TriagePolicy())
            let id = try await hotline.submit(
                try ReportSubmission(kind: .url, url: "http://referred.test/a").validated(), language: "en",
                actor: .publicVisitor
            ).caseID
            try await hotline.apply(.claim(by: "ana"), to: id, actor: .user("ana"))
            try await hotline.apply(
                .assess(CaseAssessment(outcome: .internationallyIllegal), by: "ana"), to: id, actor: .user("ana"))
            try await hotline.apply(.referToLawEnforcement(by: "ana"), to: id, actor: .user("ana"))
            // as the database was before migration 0014
            // (on one connection: another in the pool may still read the schema it saw before)
            try await app.db.transaction { tx in
                try await IndexReferrals().revert(on: tx)
                try await IndexReferrals().prepare(on: tx)
            }
            #expect(try await hotline.referredToLawEnforcement().cases.map(\.id) == [id])
        }
    }

    @Test("cases held before the hold columns existed are found by their migration, and their holds still expire")
    func holdBackfill() async throws {
        try await withVigilApp { app, clock in
            let hotline = HotlineStore(
                db: app.db, clock: clock, tokens: SystemTokenSource(), sealer: nil, triage: try TriagePolicy())
            let id = try await hotline.submit(
                try ReportSubmission(kind: .url, url: "http://held.test/a").validated(), language: "en",
                actor: .publicVisitor
            ).caseID
            try await hotline.apply(
                .placeHold(CaseHold(reason: "Op", expiresAt: clock.now() + 86_400, placedBy: "leo")), to: id,
                actor: .user("leo"))
            // as the database was before migration 0018
            try await app.db.transaction { tx in
                try await HoldColumns().revert(on: tx)
                try await HoldColumns().prepare(on: tx)
            }
            let list = BlockListStore(db: app.db, clock: clock)
            #expect(try await list.heldCases(on: app.db as! any SQLDatabase, at: clock.now()) == [id])
            clock.advance(by: 86_401)
            #expect(try await list.heldCases(on: app.db as! any SQLDatabase, at: clock.now()).isEmpty)
            #expect(try await hotline.expireHolds() == 1)
            #expect(try await hotline.caseSummary(id)?.workflow.hold == nil)
            #expect(try await hotline.expireHolds() == 0, "an ended hold is not picked up again")
        }
    }

    @Test("migrate, revert everything, migrate again")
    func roundTrip() async throws {
        try await withVigilApp { app, _ in
            try await app.autoRevert()
            try await app.autoMigrate()
            #expect(try await AuditLog.verify(on: app.db) == 0)
        }
    }
}
