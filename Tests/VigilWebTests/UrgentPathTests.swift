import Foundation
import SQLKit
import Testing
import Vapor
import VigilCore
import VigilTestSupport

@testable import VigilApp
@testable import VigilStore
@testable import VigilWeb

/// The messages an alert sent, in order.
actor Outbox {
    var messages: [(to: String, text: String)] = []
    /// Addresses the relay refuses for now.
    var refusing: Set<String> = []
    func add(_ to: String, _ text: String) throws {
        if refusing.contains(to) { throw StoreError.unreachable("relay down for \(to)") }
        messages.append((to, text))
    }
    func refuse(_ addresses: Set<String>) { refusing = addresses }
}

@Suite("The urgent path: a child in immediate danger alerts the rota at once, and escalates until someone takes it")
struct UrgentPathTests {
    func service(_ app: Application, _ clock: ManualClock, _ outbox: Outbox) throws -> UrgentAlertService {
        UrgentAlertService(
            db: app.db, clock: clock, configuration: try app.vigil.configuration,
            fetcher: OutboundFetcher(try app.vigil.configuration),
            send: { _, to, text in try await outbox.add(to, text) })
    }

    /// Runs the queued `urgent-alert` jobs, as `vigil serve`'s worker does within seconds.
    func runQueued(_ app: Application, _ clock: ManualClock, _ service: UrgentAlertService) async throws {
        let queue = JobQueue(db: app.db, clock: clock, owner: "test")
        for job in try await queue.claim(UrgentStore.alertJob, limit: 10, evenIfDelayed: true) {
            do {
                try await service.run(job)
                _ = try await queue.complete(job)
            } catch {
                try await queue.fail(job, error: String(describing: error))
            }
        }
    }

    func token(_ text: String) throws -> String {
        try #require(TestBrowser.capture(#"/urgent/([A-Za-z0-9_-]+)"#, in: text))
    }

    func auditActions(_ app: Application) async throws -> [String] {
        try await AuditLog.list(on: app.db, filter: .init(), page: 1, per: 200).events.reversed().map(\.action)
            .filter { $0.hasPrefix("urgent.") }
    }

    @Test("reported in danger: the first on duty is alerted, then the next, then law enforcement, which acknowledges")
    func escalation() async throws {
        try await withVigilApp(configure: {
            $0.urgentLEContact = "247@police.test"
            $0.urgentAlertTo = ["desk@hotline.test"]
        }) { app, clock in
            let outbox = Outbox()
            let urgent = try service(app, clock, outbox)
            let (sue, _) = try await Staff.signedIn(app, clock: clock, username: "sue", role: .supervisor)
            let (ana, _) = try await Staff.signedIn(app, clock: clock, username: "ana", role: .analyst)
            // the supervisor puts two people on call around the clock; an analyst cannot change the rota
            for who in ["ana", "bob"] {
                _ = try await sue.get("/rota")
                let added = try await sue.post(
                    "/rota",
                    form: [("username", who), ("email", "\(who)@hotline.test"), ("start", "00:00"), ("end", "00:00")]
                        + (1...7).map { ("days[]", String($0)) })
                #expect(added.status == .ok && added.body.contains("Shift added for \(who)"))
            }
            #expect(try await ana.post("/rota", form: [("username", "x")]).status == .forbidden)
            let refused = try await sue.post(
                "/rota", form: [("username", "cy"), ("email", "not an address"), ("start", "09:00"), ("end", "17:00")])
            #expect(refused.status == .unprocessableEntity && refused.body.contains("e-mail address"))
            #expect(try await ana.get("/rota").body.contains("<strong id=\"on-duty\">ana, bob</strong>"))

            // a member of the public reports, saying a child is in immediate danger
            let visitor = TestBrowser(app)
            try await visitor.get("/report")
            let thanks = try await visitor.post(
                "/report", form: [("kind", "url"), ("url", "http://secret-content.test/x"), ("danger", "on")])
            #expect(thanks.body.contains("112"), "the confirmation repeats the emergency number")
            let prometheus = TestBrowser(app)
            #expect(
                try await prometheus.get("/metrics", scopes: [.metricsRead]).body.contains(
                    "vigil_urgent_alerts_unacknowledged_alerts 1"))
            try await runQueued(app, clock, urgent)
            var sent = await outbox.messages
            #expect(sent.map(\.to) == ["ana@hotline.test"])
            #expect(sent[0].text.contains("Subject: URGENT") && sent[0].text.contains("/cases/1"))
            #expect(!sent[0].text.contains("secret-content"), "an alert never carries the reported content")

            // nobody acknowledges: after urgent_ack_minutes, bob; then law enforcement; then it stays unanswered
            clock.advance(by: 14 * 60)
            #expect(try await urgent.escalate() == 0)
            clock.advance(by: 61)
            #expect(try await urgent.escalate() == 1)
            try await runQueued(app, clock, urgent)
            clock.advance(by: 15 * 60)
            #expect(try await urgent.escalate() == 1)
            try await runQueued(app, clock, urgent)
            sent = await outbox.messages
            #expect(sent.map(\.to) == ["ana@hotline.test", "bob@hotline.test", "247@police.test"])
            #expect(sent[2].text.contains("law-enforcement 24/7 contact"))
            clock.advance(by: 15 * 60)
            #expect(try await urgent.escalate() == 1)
            try await runQueued(app, clock, urgent)
            #expect(await outbox.messages.count == 3, "nobody further to alert")

            // the liaison follows the link: one click acknowledges; the link says who took it afterwards
            let link = "/urgent/\(try token(sent[2].text))"
            let liaison = TestBrowser(app)
            let page = try await liaison.get(link)
            #expect(page.status == .ok && page.body.contains("I am handling it"))
            #expect(!page.body.contains("secret-content"))
            let done = try await liaison.post(link, form: [])
            #expect(done.body.contains("Acknowledged by <strong>247@police.test</strong>"))
            let late = TestBrowser(app)
            _ = try await late.get("/urgent/\(try token(sent[0].text))")
            #expect(
                try await late.post("/urgent/\(try token(sent[0].text))", form: []).body.contains(
                    "Acknowledged by <strong>247@police.test</strong>"))
            #expect(try await TestBrowser(app).get("/urgent/not-a-token").status == .notFound)
            #expect(
                try await auditActions(app) == [
                    "urgent.raised", "urgent.alerted", "urgent.escalated", "urgent.escalated", "urgent.unanswered",
                    "urgent.acknowledged",
                ])
            #expect(
                try await prometheus.get("/metrics", scopes: [.metricsRead]).body.contains(
                    "vigil_urgent_alerts_unacknowledged_alerts 0"))
            // the figure: one alert this month, acknowledged after 45 minutes (a supervisor signed in now)
            let (head, _) = try await Staff.signedIn(app, clock: clock, username: "head", role: .supervisor)
            let takedown = try await head.get("/takedown")
            #expect(takedown.body.contains("id=\"urgent-ack\""))
            #expect(takedown.body.contains("<td>1</td><td>1</td><td>45.0</td>"), "\(takedown.body)")
        }
    }

    @Test(
        "opening the case acknowledges; nobody on duty alerts the fallback addresses; an analyst can flag danger later")
    func caseDeskAndFallback() async throws {
        try await withVigilApp(configure: { $0.urgentAlertTo = ["desk@hotline.test", "head@hotline.test"] }) {
            app, clock in
            let outbox = Outbox()
            let urgent = try service(app, clock, outbox)
            let (ana, _) = try await Staff.signedIn(app, clock: clock, username: "ana", role: .analyst)
            let visitor = TestBrowser(app)
            try await visitor.get("/report")
            _ = try await visitor.post(
                "/report", form: [("kind", "url"), ("url", "http://a.test/1"), ("danger", "on")])
            try await runQueued(app, clock, urgent)
            #expect(await outbox.messages.map(\.to) == ["desk@hotline.test", "head@hotline.test"])
            // the analyst opens the case: acknowledged by her, and said so on the page
            let page = try await ana.get("/cases/1")
            #expect(page.body.contains("acknowledged by ana"))
            let store = UrgentStore(db: app.db, clock: clock)
            #expect(try await store.alerts(caseID: 1).first?.state == "acknowledged")
            clock.advance(by: 20 * 60)
            #expect(try await urgent.escalate() == 0, "an acknowledged alert is not escalated")

            // a report without the flag: the analyst reads it and flags it; the rota is alerted
            _ = try await visitor.post("/report", form: [("kind", "url"), ("url", "http://b.test/2")])
            #expect(try await store.alerts(caseID: 2).isEmpty)
            let flagged = try await ana.post("/cases/2/act", form: [("action", "flag-danger")])
            #expect(flagged.status == .seeOther)
            #expect(try await store.alerts(caseID: 2).first?.state == "pending")
            #expect(try await ana.post("/cases/2/act", form: [("action", "flag-danger")]).status == .seeOther)
            #expect(try await store.alerts(caseID: 2).count == 1, "one alert waiting at a time")
            try await runQueued(app, clock, urgent)
            #expect(await outbox.messages.count == 4)
            let queue = try await ana.get("/cases")
            #expect(queue.status == .ok)
        }
    }

    @Test("a refused recipient is retried alone, later steps still go, two escalations at once move one step")
    func failuresAndRaces() async throws {
        try await withVigilApp(configure: {
            $0.urgentAlertTo = ["desk@hotline.test", "head@hotline.test"]
            $0.urgentLEContact = "247@police.test"
            $0.urgentAlertWebhook = "http://127.0.0.1:9/page"  // set without a secret: refused, never sent unsigned
        }) { app, clock in
            let outbox = Outbox()
            let urgent = try service(app, clock, outbox)
            await outbox.refuse(["head@hotline.test"])
            let visitor = TestBrowser(app)
            try await visitor.get("/report")
            _ = try await visitor.post(
                "/report", form: [("kind", "url"), ("url", "http://a.test/1"), ("danger", "on")])
            try await runQueued(app, clock, urgent)
            #expect(await outbox.messages.map(\.to) == ["desk@hotline.test"], "the other fallback address still got it")
            let store = UrgentStore(db: app.db, clock: clock)
            let alert = try #require(try await store.alerts(caseID: 1).first)
            #expect(alert.notifiedStep == -1, "the step is not complete while one recipient waits")
            let failed = try await JobQueue(db: app.db, clock: clock, owner: "t").jobs().first {
                $0.name == UrgentStore.alertJob
            }
            #expect(failed?.lastError?.contains("urgent_webhook_secret is not set") == true)
            #expect(failed?.lastError?.contains("head@hotline.test") == true)
            // the wait passes: two processes escalate at the same moment; the alert moves one step, to law enforcement
            clock.advance(by: 15 * 60)
            async let first = urgent.escalate()
            async let second = urgent.escalate()
            #expect(try await first + second == 1)
            #expect(try #require(try await store.alert(alert.id)).alert?.step == 1)
            // the relay takes head@ again: the retry sends head@ and law enforcement, and desk@ not a second time
            await outbox.refuse([])
            clock.advance(by: 60)
            try await runQueued(app, clock, urgent)
            try await runQueued(app, clock, urgent)
            #expect(
                await outbox.messages.map(\.to).sorted() == [
                    "247@police.test", "desk@hotline.test", "head@hotline.test",
                ])
            // step 0's unsigned webhook still waits: no step counts as sent, so its retry is not lost behind step 1
            #expect(try await store.alert(alert.id)?.notifiedStep == -1)
        }
    }

    @Test("an alert whose job never ran is sent by the escalation; the liaison reading the case does not acknowledge")
    func strandedAndLiaison() async throws {
        try await withVigilApp(configure: { $0.urgentAlertTo = ["desk@hotline.test"] }) { app, clock in
            let outbox = Outbox()
            let urgent = try service(app, clock, outbox)
            let hotline = try app.hotlineStoreForTests
            let id = try await hotline.submit(
                try ReportSubmission(kind: .url, url: "http://a.test/1", childInImmediateDanger: true).validated(),
                language: "en", actor: .publicVisitor
            ).caseID
            // its job is lost (taken and never finished); a minute on, the escalation sends it itself
            _ = try await JobQueue(db: app.db, clock: clock, owner: "lost").claim(UrgentStore.alertJob, limit: 1)
            #expect(try await urgent.escalate() == 0)
            #expect(await outbox.messages.isEmpty)
            clock.advance(by: 61)
            _ = try await urgent.escalate()
            #expect(await outbox.messages.map(\.to) == ["desk@hotline.test"])
            // the liaison opens the case (referred to law enforcement): the alert stays open for the desk
            try await hotline.apply(.claim(by: "ana"), to: id, actor: .user("ana"))
            try await hotline.apply(
                .assess(CaseAssessment(outcome: .internationallyIllegal), by: "ana"), to: id, actor: .user("ana"))
            try await hotline.apply(.referToLawEnforcement(by: "ana"), to: id, actor: .user("ana"))
            let (leo, _) = try await Staff.signedIn(app, clock: clock, username: "leo", role: .leLiaison)
            #expect(try await leo.get("/cases/\(id)").status == .ok)
            let store = UrgentStore(db: app.db, clock: clock)
            #expect(try await store.alerts(caseID: id).first?.state == "open")
            // a second danger report, taken on the desk before its job runs: nobody is disturbed
            let second = try await hotline.submit(
                try ReportSubmission(kind: .url, url: "http://b.test/2", childInImmediateDanger: true).validated(),
                language: "en", actor: .publicVisitor
            ).caseID
            let (ana, _) = try await Staff.signedIn(app, clock: clock, username: "ana", role: .analyst)
            #expect(try await ana.get("/cases/\(second)").body.contains("acknowledged by ana"))
            try await runQueued(app, clock, urgent)
            #expect(await outbox.messages.count == 1, "the taken alert was not sent")
            // a closed case cannot be flagged without reopening it
            try await hotline.apply(.close(by: "ana"), to: id, actor: .user("ana"))
            #expect(try await ana.post("/cases/\(id)/act", form: [("action", "flag-danger")]).status == .conflict)
        }
    }

    @Test("the paging webhook's body names the case and the step, never the content; it is signed with the secret")
    func webhook() throws {
        let body = try UrgentAlertService.webhookBody(
            alert: 7, caseID: 12, caseURL: "https://hotline.test/cases/12", ackURL: "https://hotline.test/urgent/T",
            step: 1, target: .init(kind: .lawEnforcement, name: "law enforcement 24/7", addresses: ["247@police.test"]),
            at: Date(timeIntervalSince1970: 1_800_000_000))
        let json = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        #expect(json["case"] as? Int == 12 && json["step"] as? Int == 1 && json["escalated"] as? Bool == true)
        #expect(json["kind"] as? String == "law-enforcement")
        #expect(
            Set(json.keys) == [
                "event", "alert", "case", "case_url", "acknowledge_url", "step", "escalated", "to", "kind", "at",
            ])
        // HMAC-SHA-256("k", "{}"), as Python's hmac module gives it
        #expect(
            SignedWebhook.signature(Data("{}".utf8), secret: "k")
                == "sha256=add853b103fbcc936a194f9eb15e29c4ff08af6e47d5d1bca4f20218e31e4fff")
    }
}
