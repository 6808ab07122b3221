import Crypto
import Foundation
import SQLKit
import Testing
import Vapor
import VigilCore
import VigilTestSupport

@testable import VigilApp
@testable import VigilStore
@testable import VigilWeb

@Suite("Partner routing on the desk: assessed content hosted abroad goes to the partner hotline there by itself")
struct PartnerRoutingWebTests {
    func partner(_ app: Application, _ clock: ManualClock, country: String = "XB") async throws {
        try await FederationStore(db: app.db, clock: clock, secrets: try app.secretSealer).addPartner(
            FederationPartner(
                name: "hotline-\(country.lowercased())", label: country, countries: [country],
                baseURL: "https://\(country.lowercased()).test"),
            publicKey: Curve25519.Signing.PrivateKey().publicKey.rawRepresentation.base64EncodedString(),
            apiKey: nil, actor: .system)
    }

    func referralJobs(_ app: Application) async throws -> [String] {
        try await app.db.sql.select().column("payload").from("jobs").where(
            "name", .equal, NoticeStore.partnerReferralJob
        )
        .all().map { try $0.decode(column: "payload", as: String.self) }
    }

    @Test("four eyes: the hosting recorded proposes the referral in the assessor's name; a second analyst confirms it")
    func fourEyes() async throws {
        try await withVigilApp(configure: {
            $0.fourEyes = ["partner-referral"]; $0.country = "XA"
        }) { app, clock in
            try await partner(app, clock)
            let hotline = HotlineStore(
                db: app.db, clock: clock, tokens: SystemTokenSource(), sealer: nil, triage: try app.hotline.triage,
                fourEyes: try app.hotline.fourEyes)  // as the desk creates cases: four eyes from the settings
            let id = try await TakedownTests().assessedCase(hotline, "http://files.host.test/a")
            let (ana, _) = try await Staff.signedIn(app, clock: clock, username: "ana", role: .analyst)
            let (amy, _) = try await Staff.signedIn(app, clock: clock, username: "amy", role: .analyst)
            // when: the analyst records that it is hosted in XB
            let saved = try await ana.post(
                "/cases/\(id)/hosting", form: [("country", "xb"), ("abuse_contact", "abuse@host.test")])
            #expect(saved.status == .seeOther)
            // then: the referral waits for a second analyst, proposed by ana, audited as the routing job's
            let wf = try #require(try await app.hotlineStoreForTests.caseSummary(id)).workflow
            #expect(wf.state == .awaitingConfirmation)
            #expect(wf.pending.map(\.decision) == [.partnerReferral(country: "XB")])
            #expect(wf.pending.first?.proposedBy == "ana")
            let proposed = try await AuditLog.list(
                on: app.db, filter: .init(action: "case.decision-proposed"), page: 1, per: 5
            ).events
            #expect(proposed.first?.actor == .job(PartnerRouting.proposer))
            #expect(try await referralJobs(app).isEmpty, "nothing leaves before the second analyst")
            #expect(try await ana.post("/cases/\(id)/act", form: [("action", "confirm")]).status == .conflict)
            // the second analyst confirms on the desk: the referral is queued for the partner
            #expect(try await amy.post("/cases/\(id)/act", form: [("action", "confirm")]).status == .seeOther)
            #expect(try await referralJobs(app) == ["{\"case\":\(id),\"country\":\"XB\"}"])
            // saving the hosting again refers nothing twice
            _ = try await ana.post("/cases/\(id)/hosting", form: [("country", "XB")])
            #expect(try await referralJobs(app).count == 1)
        }
    }

    @Test(
        "the attribution job that follows an assessment routes it when the hosting is known; none for home or no partner"
    )
    func afterAttribution() async throws {
        try await withVigilApp(configure: {
            $0.fourEyes = []; $0.country = "XA"
        }) { app, clock in
            try await partner(app, clock)
            let hotline = try app.hotlineStoreForTests
            let notices = NoticeStore(db: app.db, clock: clock)
            var routed: [Int64] = []
            for (url, country) in [("http://b.test/1", "XB"), ("http://a.test/2", "XA"), ("http://c.test/3", "XC")] {
                let id = try await hotline.submit(
                    try ReportSubmission(kind: .url, url: url).validated(), language: "en", actor: .publicVisitor
                ).caseID
                try await notices.setHosting(
                    caseID: id, country: country, network: nil, abuseContact: nil, source: "analyst", by: .user("ana"))
                try await hotline.apply(.claim(by: "ana"), to: id, actor: .user("ana"))
                try await hotline.apply(
                    .assess(CaseAssessment(outcome: .internationallyIllegal), by: "ana"), to: id, actor: .user("ana"))
                if country == "XB" { routed.append(id) }
            }
            // the assessment queued a `case-attribute` job per case; running them (no automated attribution here)
            let service = NoticeService(db: app.db, clock: clock, configuration: try app.vigil.configuration)
            for job in try await JobQueue(db: app.db, clock: clock, owner: "test").claim(
                NoticeStore.attributeJob, limit: 10)
            {
                try await service.attribute(job)
            }
            #expect(try await referralJobs(app) == routed.map { "{\"case\":\($0),\"country\":\"XB\"}" })
            let wf = try #require(try await hotline.caseSummary(routed[0])).workflow
            #expect(wf.state == .actioned && wf.decided == [.partnerReferral(country: "XB")])
        }
    }
}
