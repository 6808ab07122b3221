import Crypto
import Foundation
import Testing
import Vapor
import VigilApp
import VigilCore
import VigilFormats
import VigilStore
import VigilTestSupport
import VigilWeb

@Suite("Federation, the receiving hotline: a referral becomes a report in a case, and the case's progress goes back")
struct FederationReceivingTests {
    func service(_ app: Application, _ clock: ManualClock) throws -> FederationService {
        FederationService(
            store: FederationStore(db: app.db, clock: clock, secrets: try app.secretSealer),
            hotline: try app.hotlineStoreForTests, notices: NoticeStore(db: app.db, clock: clock),
            fetcher: OutboundFetcher(try app.vigil.configuration), signingKey: Curve25519.Signing.PrivateKey(),
            installation: "Hotline XB")
    }

    /// Receives a referral from hotline-xa for `url` as the inbox would (verified), and returns its id.
    func receive(_ store: FederationStore, url: String, theirCase: String) async throws -> String {
        let m = FederationMessage(
            id: UUID().uuidString, from: "Hotline XA", case: theirCase,
            referral: .init(
                items: [.init(kind: "url", value: url)],
                assessment: .init(contentType: "image", illegality: "baseline", ageGroup: "prepubescent"),
                hosting: .init(country: "XB", provider: "AS64500 Example"), reportedAt: "2026-12-01T10:00:00Z",
                assessedAt: "2026-12-01T11:00:00Z"))
        let sealed = try FederationSigning.seal(m, with: Curve25519.Signing.PrivateKey(), at: store.clock.now())
        let opened = try FederationSigning.open(sealed.envelope)
        _ = try await store.receive(
            messageID: m.id, partner: "hotline-xa", type: "referral", caseRef: theirCase,
            canonical: String(decoding: opened.canonical, as: UTF8.self), actor: .system)
        return m.id.lowercased()
    }

    @Test("referral → case (source hotline) linked and answered 'received'; assessed and removed go back as statuses")
    func referralToStatuses() async throws {
        try await withVigilApp { app, clock in
            // given
            let federation = try service(app, clock)
            let store = federation.store
            try await store.addPartner(
                FederationPartner(
                    name: "hotline-xa", label: "Hotline XA", countries: ["XA"], baseURL: "https://xa.test"),
                publicKey: Curve25519.Signing.PrivateKey().publicKey.rawRepresentation.base64EncodedString(),
                apiKey: "token", actor: .system)
            let referral = try await receive(store, url: "http://files.host.test/a.jpg", theirCase: "case-7")
            // when
            #expect(try await federation.process() == 1)
            #expect(try await federation.process() == 0, "each message is acted on once")
            // then: a case with the partner's report, linked, and 'received' queued back
            let link = try #require(try await store.links().first)
            #expect(link.referral == referral && link.theirCase == "case-7" && link.reported == ["received"])
            let hotline = try app.hotlineStoreForTests
            let (summary, reports) = try #require(try await hotline.caseDetail(link.caseID))
            #expect(reports.map(\.payload.source) == ["hotline"])
            #expect(reports[0].payload.details?.contains("Referred by Hotline XA, their case case-7") == true)
            #expect(summary.key == "files.host.test/a.jpg" || summary.key?.contains("files.host.test") == true)
            var queued = try await store.pending().map(\.message)
            #expect(queued.count == 1 && queued[0].contains("\"state\":\"received\""))
            // the analyst assesses; the notice is sent; the page goes: each step goes back once, in order
            try await hotline.apply(.claim(by: "ana"), to: link.caseID, actor: .user("ana"))
            try await hotline.apply(
                .assess(CaseAssessment(outcome: .internationallyIllegal), by: "ana"), to: link.caseID,
                actor: .user("ana"))
            #expect(try await federation.reportProgress() == 1)
            #expect(try await federation.reportProgress() == 0)
            let notices = NoticeStore(db: app.db, clock: clock)
            try await notices.setHosting(
                caseID: link.caseID, country: "XB", network: nil, abuseContact: "abuse@host.test", source: "analyst",
                by: .user("ana"))
            let notice = try #require(try await notices.prepare(caseID: link.caseID))
            try await notices.markSent(notice)
            clock.advance(by: 3600)
            _ = try await notices.recordRecheck(noticeID: notice, caseID: link.caseID, gone: true, detail: "404")
            #expect(try await federation.reportProgress() == 2)
            queued = try await store.pending().map(\.message)
            #expect(queued.count == 4)
            #expect(queued[1].contains("\"state\":\"assessed\"") && queued[1].contains("\"outcome\":\"baseline\""))
            #expect(queued[2].contains("\"state\":\"notice-sent\""))
            #expect(queued[3].contains("\"state\":\"removed\""))
            #expect(try await federation.reportProgress() == 0, "nothing more once removed")
            // the case page says who referred it and what went back
            let (analyst, _) = try await Staff.signedIn(app, clock: clock, username: "ana2", role: .analyst)
            let page = try await analyst.get("/cases/\(link.caseID)")
            #expect(page.status == .ok)
            #expect(page.body.contains("referred this to us (their case case-7)"))
            #expect(page.body.contains("status sent (removed): waiting to be sent"))
            // a second referral of the same address, already assessed here, is answered 'known' at once
            _ = try await receive(store, url: "http://files.host.test/a.jpg", theirCase: "case-9")
            #expect(try await federation.process() == 1)
            let known = try await store.pending().map(\.message).last
            #expect(
                known?.contains("\"type\":\"known\"") == true && known?.contains("\"outcome\":\"baseline\"") == true)
        }
    }
}

@Suite("Partner hotlines for administrators, and their links in /metrics")
struct PartnersPageTests {
    @Test("an administrator adds a partner on /admin/partners (a bad key refused with the reason) and switches it off")
    func adminPage() async throws {
        try await withVigilApp { app, clock in
            let (admin, _) = try await Staff.signedIn(app, clock: clock, username: "root2", role: .admin)
            let key = Curve25519.Signing.PrivateKey().publicKey.rawRepresentation.base64EncodedString()
            // a bad key: refused, with the reason, nothing added
            let bad = try await admin.post(
                "/admin/partners",
                form: [
                    ("name", "hotline-xb"), ("countries", "xb"), ("url", "https://xb.test"), ("publicKey", "c2hvcnQ="),
                ])
            #expect(bad.status == .unprocessableEntity && bad.body.contains("32 bytes of base64"))
            let added = try await admin.post(
                "/admin/partners",
                form: [
                    ("name", "hotline-xb"), ("label", "Hotline XB"), ("countries", "xb, xc"),
                    ("url", "https://xb.test"),
                    ("publicKey", key), ("apiKey", "their-token"),
                ])
            #expect(added.status == .ok && added.body.contains("Partner hotline-xb added"))
            let store = FederationStore(db: app.db, clock: clock, secrets: try app.secretSealer)
            let partner = try await store.partner(named: "hotline-xb")
            #expect(partner.countries == ["XB", "XC"] && partner.hasAPIKey)
            #expect(!added.body.contains("their-token"), "the API key is never shown again")
            let off = try await admin.post("/admin/partners/hotline-xb", form: [("enabled", "false")])
            #expect(off.body.contains("switched off"))
            #expect(try await store.partner(named: "hotline-xb").enabled == false)
            // an analyst may not
            let (analyst, _) = try await Staff.signedIn(app, clock: clock, username: "ana3", role: .analyst)
            #expect(try await analyst.get("/admin/partners").status == .forbidden)
            // /metrics: the link's backlog, and the page's
            try await AuditLog.transaction(app.db) { tx in
                try await store.enqueue(
                    .init(id: UUID().uuidString, type: "status", caseRef: "case-1", json: "{}"), partner: "hotline-xb",
                    on: tx)
            }
            let metrics = try await TestBrowser(app).get("/metrics", scopes: [.metricsRead]).body
            #expect(
                metrics.contains("vigil_federation_outbox_pending_messages{partner=\"hotline-xb\"} 1"),
                "\(metrics.suffix(600))")
            let page = try await admin.get("/admin/partners")
            #expect(page.body.contains("<td>1</td>") && page.body.contains("missing") == false)
        }
    }
}
