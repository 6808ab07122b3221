import Foundation
import SQLKit
import Testing
import Vapor
import VigilCore
import VigilStore
import VigilTestSupport
import VigilWeb

@Suite("Public hotline and analyst desk")
struct HotlineTests {
    func report(_ b: TestBrowser, url: String, lang: String = "en") async throws -> TestBrowser.Page {
        try await b.get("/report?lang=\(lang)")
        return try await b.post("/report", form: [("kind", "url"), ("url", url), ("details", "seen in a forum")])
    }

    @Test("a report gets a reference only after it is stored; the same URL in another form joins the same case")
    func reportAndJoin() async throws {
        try await withVigilApp { app, clock in
            let a = TestBrowser(app)
            let first = try await report(a, url: "http://Example.TEST/a/b.html")
            #expect(first.status == .ok)
            let ref = try #require(TestBrowser.capture(#"id="reference">(R-[0-9A-Z]{4}-[0-9A-Z]{4})<"#, in: first.body))
            let b = TestBrowser(app)
            let second = try await report(b, url: "http://example.test/a/./b.html#frag")
            let ref2 = try #require(
                TestBrowser.capture(#"id="reference">(R-[0-9A-Z]{4}-[0-9A-Z]{4})<"#, in: second.body))
            #expect(ref != ref2)
            let store = HotlineStore(
                db: app.db, clock: clock, tokens: SystemTokenSource(), sealer: nil, triage: try TriagePolicy())
            let (cases, total) = try await store.queue()
            #expect(total == 1)
            #expect(cases.first?.reportCount == 2)
            #expect(try await store.keysSeenElsewhere(cases).isEmpty, "one case: nothing seen elsewhere yet")
            let status = try await a.get(
                "/status?reference=\(ref.lowercased().replacingOccurrences(of: "-", with: ""))")
            #expect(status.status == .ok)
            #expect(status.body.contains(#"id="status">Received"#))
            #expect(try await a.get("/status?reference=R-0000-0000").status == .notFound)
        }
    }

    @Test("a bad report names the field in the reporter's language and stores nothing")
    func validation() async throws {
        try await withVigilApp { app, clock in
            let b = TestBrowser(app)
            try await b.get("/report?lang=fr")
            let res = try await b.post("/report", form: [("kind", "url"), ("url", "javascript:alert(1)")])
            #expect(res.status == .badRequest)
            #expect(res.body.contains(#"lang="fr""#))
            #expect(res.body.contains("adresse"))
            let store = HotlineStore(
                db: app.db, clock: clock, tokens: SystemTokenSource(), sealer: nil, triage: try TriagePolicy())
            #expect(try await store.queue().total == 0)
            let bot = try await b.post(
                "/report", form: [("kind", "url"), ("url", "http://example.test/"), ("website", "spam")])
            #expect(bot.status == .badRequest)
            #expect(try await store.queue().total == 0)
        }
    }

    @Test("Arabic pages are right to left, chosen from Accept-Language")
    func arabic() async throws {
        try await withVigilApp { app, _ in
            let page = try await TestBrowser(app).get("/", headers: ["Accept-Language": "ar;q=0.9, en;q=0.5"])
            #expect(page.body.contains(#"<html lang="ar" dir="rtl">"#))
            for lang in ["en", "fr", "es", "ar"] {
                let p = try await TestBrowser(app).get("/report?lang=\(lang)")
                #expect(p.status == .ok)
                #expect(p.body.contains(#"lang="\#(lang)""#))
            }
        }
    }

    @Test("the public per-address limit applies, in memory")
    func rateLimit() async throws {
        try await withVigilApp(configure: { $0.publicReportsPerHour = 2 }) { app, _ in
            let b = TestBrowser(app)
            var statuses: [HTTPResponseStatus] = []
            for host in ["one", "two", "three"] {
                statuses.append(try await report(b, url: "http://\(host).test/").status)
            }
            #expect(statuses == [.ok, .ok, .tooManyRequests])
        }
    }

    @Test("the reports API takes one anonymous report, or a partner's batch item by item")
    func reportsAPI() async throws {
        try await withVigilApp { app, clock in
            let anon = try await TestBrowser(app).send(
                .POST, "/api/v1/reports", headers: ["Content-Type": "application/json"],
                body: #"{"kind":"url","url":"https://example.test/x"}"#)
            #expect(anon.status == .created)
            let ref = try #require(TestBrowser.capture(#""reference":"(R-[0-9A-Z-]+)""#, in: anon.body))
            let st = try await TestBrowser(app).get("/api/v1/reports/\(ref)")
            #expect(st.body.contains(#""status":"received""#))
            let key = try await APIKeys(db: app.db, clock: clock, tokens: SystemTokenSource()).create(
                partner: "Platform", scopes: [.reportsWrite], actor: .system
            ).secret
            let batch =
                #"{"reports":[{"kind":"url","url":"https://example.test/y","incident_time":"2026-01-31T12:00:00Z","reported_users":["user123"],"file_hashes":[{"algorithm":"md5","value":"11111111111111111111111111111111"}]},{"kind":"url","url":"javascript:alert(1)"},{"kind":"telepathy"}]}"#
            let res = try await TestBrowser(app).send(
                .POST, "/api/v1/reports",
                headers: ["Content-Type": "application/json", "Authorization": "Bearer \(key)"], body: batch)
            #expect(res.status == .ok)
            #expect(res.body.contains(#""accepted":1"#))
            #expect(res.body.contains(#""rejected":2"#))
            let stored = try await (app.db as! any SQLDatabase).raw(
                "SELECT payload FROM reports WHERE payload LIKE '%user123%'"
            ).first()?.decode(column: "payload", as: String.self)
            #expect(
                stored?.contains("md5:11111111111111111111111111111111") == true,
                "platform fields are kept with the report")
            let badHash = try await TestBrowser(app).send(
                .POST, "/api/v1/reports",
                headers: ["Content-Type": "application/json", "Authorization": "Bearer \(key)"],
                body:
                    #"{"reports":[{"kind":"url","url":"https://example.test/z","file_hashes":[{"algorithm":"md5","value":"xyz"}]},{"kind":"url","url":"https://example.test/w"}]}"#
            )
            #expect(badHash.body.contains("file_hashes"))
            let anonBatch = try await TestBrowser(app).send(
                .POST, "/api/v1/reports", headers: ["Content-Type": "application/json"], body: batch)
            #expect(anonBatch.status == .badRequest)
        }
    }

    @Test(
        "analyst claims and assesses, a list proposal needs a second analyst, law enforcement holds and downloads the referral"
    )
    func desk() async throws {
        try await withVigilApp { app, clock in
            _ = try await report(TestBrowser(app), url: "http://listed.test/page")
            let (ana, _) = try await Staff.signedIn(app, clock: clock, username: "ana", role: .analyst)
            let (bob, _) = try await Staff.signedIn(app, clock: clock, username: "bob", role: .analyst)
            let (leo, _) = try await Staff.signedIn(app, clock: clock, username: "leo", role: .leLiaison)
            let queue = try await ana.get("/cases")
            #expect(queue.body.contains("hxxp://listed[.]test/page"))
            #expect(
                !(try await ana.get("/cases?kind=newsgroup").body.contains("listed[.]test")), "filters narrow the queue"
            )
            #expect(try await ana.get("/cases?kind=url&danger=0").body.contains("listed[.]test"))
            #expect(try await ana.post("/cases/1/act", form: [("action", "claim")]).status == .seeOther)
            #expect(try await bob.post("/cases/1/act", form: [("action", "claim")]).status == .conflict)
            #expect(
                try await ana.post(
                    "/cases/1/act",
                    form: [("action", "assess"), ("outcome", "national"), ("legal_provision", "Penal Code 1")]
                ).status == .seeOther)
            #expect(try await ana.post("/cases/1/act", form: [("action", "propose-list-entry")]).status == .seeOther)
            let (sue, _) = try await Staff.signedIn(app, clock: clock, username: "sue", role: .supervisor)
            let welfare = try await sue.get("/dashboard")
            #expect(
                welfare.body.contains("<tr><td>ana</td><td>1</td>"), "supervisors see each analyst's assessments today")
            #expect(!(try await ana.get("/dashboard").body.contains(#"id="welfare""#)))
            #expect(
                try await ana.post("/cases/1/act", form: [("action", "confirm")]).status == .conflict,
                "four eyes: not the proposer")
            #expect(try await bob.post("/cases/1/act", form: [("action", "confirm")]).status == .seeOther)
            #expect(
                try await ana.post("/cases/1/act", form: [("action", "hold"), ("reason", "x")]).status == .forbidden)
            #expect(
                try await leo.post("/cases/1/act", form: [("action", "hold"), ("reason", "x")]).status == .notFound,
                "need-to-know: a case not referred to law enforcement does not exist for the liaison")
            #expect(try await ana.post("/cases/1/act", form: [("action", "refer-law-enforcement")]).status == .seeOther)
            #expect(
                try await leo.post(
                    "/cases/1/act", form: [("action", "hold"), ("reason", "Operation Tern"), ("days", "10")]
                ).status == .seeOther)
            let anaView = try await ana.get("/cases/1")
            #expect(anaView.body.contains(#"id="hold""#))
            #expect(
                !anaView.body.contains("Notices may leave from") && !anaView.body.contains("may leave (since"),
                "a hold without a notify-after date keeps notices back")
            #expect(!anaView.body.contains("Operation Tern"), "analysts see that a hold exists, not its reason")
            #expect(try await leo.get("/cases/1").body.contains("Operation Tern"))
            let pkg = try await leo.get("/cases/1/referral?format=json")
            #expect(pkg.status == .ok)
            #expect(pkg.body.contains("listed.test"))
            #expect(try await ana.get("/cases/1/referral").status == .forbidden)
            let timeline = try await ana.get("/cases/1")
            for action in ["report.received", "case.claim", "case.assess", "case.confirm", "case.place-hold"] {
                #expect(timeline.body.contains(action), "timeline shows \(action)")
            }
            #expect(
                try await AuditLog.list(on: app.db, filter: .init(action: "case.referral-downloaded"), page: 1, per: 5)
                    .total == 1)
            // the hold ends by itself when it expires, and that is audited then
            let store = HotlineStore(
                db: app.db, clock: clock, tokens: SystemTokenSource(), sealer: nil, triage: try TriagePolicy())
            #expect(try await store.expireHolds() == 0)
            clock.advance(by: 11 * 86400)
            #expect(try await store.expireHolds() == 1)
            #expect(
                try await AuditLog.list(on: app.db, filter: .init(action: "case.hold-expired"), page: 1, per: 5).total
                    == 1)
            #expect(!(try await ana.get("/cases/1").body.contains(#"id="hold""#)))
            #expect(try await AuditLog.verify(on: app.db) > 10)
        }
    }
}

@Suite("Reporter contact retention")
struct ContactRetentionTests {
    @Test("contact details are sealed at rest and deleted 90 days after the case closes, with an audit event")
    func retention() async throws {
        try await withVigilApp { app, clock in
            let b = TestBrowser(app)
            try await b.get("/report")
            let res = try await b.post(
                "/report", form: [("kind", "url"), ("url", "http://kept.test/x"), ("contact", "reporter@example.test")])
            #expect(res.status == .ok)
            let raw = try await (app.db as! any SQLDatabase).raw("SELECT contact_sealed FROM reports").first()?.decode(
                column: "contact_sealed", as: String?.self)
            let sealed = try #require(raw ?? nil)
            #expect(!sealed.contains("reporter"), "stored encrypted")
            let (ana, _) = try await Staff.signedIn(app, clock: clock, username: "ana", role: .analyst)
            #expect(try await ana.post("/cases/1/act", form: [("action", "claim")]).status == .seeOther)
            #expect(
                try await ana.post("/cases/1/act", form: [("action", "assess"), ("outcome", "not-illegal")]).status
                    == .seeOther)
            #expect(try await ana.post("/cases/1/act", form: [("action", "close")]).status == .seeOther)
            // the same page reported again after its case closed opens a new case, marked as already known
            _ = try await b.post("/report", form: [("kind", "url"), ("url", "http://KEPT.test/x")])
            #expect(try await ana.get("/cases").body.contains("already known"))
            let store = HotlineStore(
                db: app.db, clock: clock, tokens: SystemTokenSource(), sealer: nil, triage: try TriagePolicy())
            clock.advance(by: 89 * 86400)
            #expect(try await store.purgeExpiredContacts() == 0)
            clock.advance(by: 2 * 86400)
            #expect(try await store.purgeExpiredContacts() == 1)
            let after = try await (app.db as! any SQLDatabase).raw("SELECT contact_sealed FROM reports").first()?
                .decode(column: "contact_sealed", as: String?.self)
            #expect(after == .some(nil))
            #expect(
                try await AuditLog.list(on: app.db, filter: .init(action: "report.contact-deleted"), page: 1, per: 5)
                    .total == 1)
        }
    }
}

@Suite("Operator settings for the desk")
struct DeskSettingsTests {
    @Test("with four-eyes off a list proposal is decided at once; provisions come from the operator's list")
    func settings() async throws {
        try await withVigilApp(configure: {
            $0.fourEyes = []
            $0.legalProvisions = ["Penal Code s. 1", "Penal Code s. 2"]
        }) { app, clock in
            let b = TestBrowser(app)
            try await b.get("/report")
            _ = try await b.post("/report", form: [("kind", "url"), ("url", "http://solo.test/")])
            let (ana, _) = try await Staff.signedIn(app, clock: clock, username: "ana", role: .analyst)
            _ = try await ana.post("/cases/1/act", form: [("action", "claim")])
            let page = try await ana.get("/cases/1")
            #expect(page.body.contains(#"<option value="Penal Code s. 2">"#))
            _ = try await ana.post(
                "/cases/1/act",
                form: [("action", "assess"), ("outcome", "national"), ("legal_provision", "Penal Code s. 2")])
            _ = try await ana.post("/cases/1/act", form: [("action", "propose-list-entry")])
            let after = try await ana.get("/cases/1")
            #expect(after.body.contains("Decided:"))
            #expect(!after.body.contains("Awaiting a second analyst"))
        }
    }

    @Test("the case desk offers only what the workflow allows, and says why a button is disabled")
    func deskOffersWhatTheWorkflowAllows() async throws {
        try await withVigilApp { app, clock in
            let visitor = TestBrowser(app)
            try await visitor.get("/report")
            _ = try await visitor.post("/report", form: [("kind", "url"), ("url", "http://desk.test/page")])
            let (ana, _) = try await Staff.signedIn(app, clock: clock, username: "ana", role: .analyst)
            let (bob, _) = try await Staff.signedIn(app, clock: clock, username: "bob", role: .analyst)
            func buttons(_ page: TestBrowser.Page) -> [String] {
                page.body.components(separatedBy: #"<button name="action" value=""#).dropFirst().map {
                    String($0.prefix { $0 != "\"" })
                }
            }
            let received = try await ana.get("/cases/1")
            #expect(buttons(received).contains("claim"))
            for never in ["confirm", "decline", "reopen", "unclaim"] {
                #expect(!buttons(received).contains(never), "a received case offers no \(never)")
            }
            _ = try await ana.post("/cases/1/act", form: [("action", "claim")])
            let other = try await bob.get("/cases/1")
            #expect(other.body.contains(#"value="claim" disabled"#), "claimed by someone else: shown, disabled")
            #expect(other.body.contains("Claim: The case is already claimed by ana."))
            let mine = try await ana.get("/cases/1")
            #expect(buttons(mine).contains("unclaim") && !buttons(mine).contains("claim"))
        }
    }
}
