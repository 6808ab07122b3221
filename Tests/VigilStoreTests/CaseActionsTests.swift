import Crypto
import Fluent
import Foundation
import SQLKit
import Testing
import Vapor
import VigilCore
import VigilStore
import VigilTestSupport

/// Every action the case workflow returns is carried out in the transaction that saves it: queued jobs (the outbox),
/// columns, list proposals. Runs on SQLite, and on PostgreSQL under `scripts/with-postgres.sh`.
@Suite("Case actions are performed")
struct CaseActionsTests {
    struct Fixture {
        let hotline: HotlineStore
        let sql: any SQLDatabase
        let caseID: Int64
        let reference: String

        func jobs(_ name: String) async throws -> [String] {
            try await sql.select().column("payload").from("jobs").where("name", .equal, name).orderBy("id").all()
                .map { try $0.decode(column: "payload", as: String.self) }
        }

        func act(_ event: CaseEvent, by user: String) async throws {
            try await hotline.apply(event, to: caseID, actor: .user(user))
        }
    }

    func fixture(
        _ app: Application, _ clock: ManualClock, contact: String? = "parent@mail.test",
        url: String = "http://listed.test/page.html"
    ) async throws -> Fixture {
        var hotline = HotlineStore(
            db: app.db, clock: clock, tokens: SystemTokenSource(),
            sealer: try ContactSealer(key: SymmetricKey(size: .bits256)), triage: try TriagePolicy())
        hotline.listCriterion = "A"
        let submitted = try await hotline.submit(
            try ReportSubmission(kind: .url, url: url, contact: contact).validated(),
            language: "fr", actor: .publicVisitor)
        return Fixture(
            hotline: hotline, sql: app.db as! any SQLDatabase, caseID: submitted.caseID,
            reference: submitted.reference.description)
    }

    @Test("a reporter with a contact gets one queued update per status change; an anonymous one none")
    func reporterUpdates() async throws {
        try await withVigilApp { app, clock in
            let f = try await fixture(app, clock)
            try await f.act(.claim(by: "ana"), by: "ana")
            try await f.act(.assess(CaseAssessment(outcome: .internationallyIllegal), by: "ana"), by: "ana")
            try await f.act(.requestNotice(by: "ana"), by: "ana")
            let updates = try await f.jobs(HotlineStore.reporterUpdateJob).map {
                try JSONDecoder().decode(HotlineStore.ReporterUpdate.self, from: Data($0.utf8))
            }
            #expect(
                updates == [
                    .init(case: f.caseID, reference: f.reference, status: .beingAssessed),
                    .init(case: f.caseID, reference: f.reference, status: .actionTaken),
                ], "claiming changes the public status, assessing does not, the notice decision does")
            #expect(try await f.jobs(NoticeStore.prepareJob).count == 1)

            let anonymous = try await fixture(app, clock, contact: nil, url: "http://other.test/")
            try await anonymous.act(.claim(by: "ana"), by: "ana")
            #expect(
                try await f.jobs(HotlineStore.reporterUpdateJob).count == 2, "nothing queued for an anonymous report")
        }
    }

    @Test("law enforcement, partner, list proposal, withdrawal and publication are each performed and audited")
    func decisions() async throws {
        try await withVigilApp { app, clock in
            let f = try await fixture(app, clock, contact: nil)
            try await f.act(.claim(by: "ana"), by: "ana")
            try await f.act(.assess(CaseAssessment(outcome: .internationallyIllegal), by: "ana"), by: "ana")

            try await f.act(.referToLawEnforcement(by: "ana"), by: "ana")
            let referred = try await f.sql.select().column("le_referred_ms").from("cases").where("id", .equal, f.caseID)
                .first()?.decode(column: "le_referred_ms", as: Int64?.self)
            #expect(referred == AuditChain.milliseconds(clock.now()))

            try await f.act(.referToPartner(country: "de", by: "ana"), by: "ana")
            #expect(try await f.jobs(NoticeStore.partnerReferralJob) == ["{\"case\":\(f.caseID),\"country\":\"DE\"}"])

            // Listing needs a second analyst: the proposal is on the list desk at once, and withdrawn when declined.
            try await f.act(.proposeListEntry(by: "ana"), by: "ana")
            let list = BlockListStore(db: app.db, clock: clock, criteria: ["A"])
            let proposed = try await list.entries(state: .proposed).0
            #expect(proposed.count == 1 && proposed.first?.caseID == f.caseID && proposed.first?.proposedBy == "ana")
            #expect(proposed.first?.target == ListTarget(kind: .url, value: "listed.test/page.html"))
            try await f.act(.decline(by: "bob"), by: "bob")
            #expect(try await list.entries(state: .proposed).0.isEmpty)
            #expect(try await list.entries(state: .rejected).0.count == 1)
            #expect(try await f.jobs(BlockListStore.publishJob).isEmpty)

            // Proposed again and confirmed: a new proposal, and one publication request (not one per action).
            clock.advance(by: 60)
            try await f.act(.proposeListEntry(by: "ana"), by: "ana")
            try await f.act(.confirm(by: "bob"), by: "bob")
            #expect(try await list.entries(state: .proposed).0.count == 1)
            #expect(try await f.jobs(BlockListStore.publishJob).count == 1)

            let performed = try await f.sql.select().column("details").from("audit_events")
                .where("action", .equal, "case.action").all()
                .map { try $0.decode(column: "details", as: String.self) }
            for name in [
                "refer-to-law-enforcement", "refer-to-partner:DE", "propose-list-entry", "withdraw-list-entry",
                "publish-list-entry",
            ] {
                #expect(performed.contains { $0.contains("\"\(name)\"") }, "\(name) audited")
            }
        }
    }

    @Test("a partner referral goes into a notice to that partner; with none registered it waits with a clear error")
    func partnerReferral() async throws {
        try await withVigilApp { app, clock in
            let f = try await fixture(app, clock, contact: nil)
            let notices = NoticeStore(db: app.db, clock: clock)
            await #expect(throws: StoreError.self) { try await notices.referToPartner(caseID: f.caseID, country: "DE") }
            try await notices.setChannel(
                NoticeStore.Channel(
                    key: "DE", kind: .partner, name: "Partner DE", language: "de", delivery: .email,
                    address: "hotline@partner.test", secret: nil), by: .user("admin"))
            let id = try await notices.referToPartner(caseID: f.caseID, country: "de")
            #expect(try await notices.notice(id)?.route == "partner:DE")
        }
    }
}
