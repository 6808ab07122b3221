import Crypto
import Foundation
import Testing
import Vapor
import VigilCore
import VigilStore
import VigilTestSupport

@testable import VigilApp
@testable import VigilWeb

/// Notice and takedown without the network: the decision queues the notice, URLs for one abuse contact share a
/// notice, holds keep notices back, rechecks find removal, reminders and escalation follow, and the figures add up.
@Suite("Notice and takedown")
struct TakedownTests {
    func assessedCase(_ hotline: HotlineStore, _ url: String) async throws -> Int64 {
        let id = try await hotline.submit(
            try ReportSubmission(kind: .url, url: url).validated(), language: "en", actor: .publicVisitor
        ).caseID
        try await hotline.apply(.claim(by: "ana"), to: id, actor: .user("ana"))
        try await hotline.apply(
            .assess(CaseAssessment(outcome: .internationallyIllegal), by: "ana"), to: id, actor: .user("ana"))
        return id
    }

    /// The subjects of the audit events with this action, newest first.
    func auditSubjects(_ app: Application, _ action: String) async throws -> [String] {
        try await AuditLog.list(on: app.db, filter: .init(action: action), page: 1, per: 20).0.map(\.subject)
    }

    /// An illegal case at `url` whose notice to `contact` has been sent: (case, notice).
    func noticedCase(_ hotline: HotlineStore, _ notices: NoticeStore, _ url: String, contact: String) async throws -> (
        Int64, Int64
    ) {
        let id = try await assessedCase(hotline, url)
        try await notices.setHosting(
            caseID: id, country: nil, network: nil, abuseContact: contact, source: "analyst", by: .user("ana"))
        let noticeID = try #require(try await notices.prepare(caseID: id))
        try await notices.markSent(noticeID)
        return (id, noticeID)
    }

    @Test(
        "a notice decision queues the notice; two URLs for one contact go out in one notice; rechecks find removal; figures follow"
    )
    func flow() async throws {
        try await withVigilApp { app, clock in
            let hotline = try app.hotlineStoreForTests
            let notices = NoticeStore(db: app.db, clock: clock)
            let queue = JobQueue(db: app.db, clock: clock, owner: "t")
            let a = try await assessedCase(hotline, "http://host.test/a.jpg")
            let b = try await assessedCase(hotline, "http://host.test/b.jpg")
            for id in [a, b] {
                try await notices.setHosting(
                    caseID: id, country: "fr", network: "AS64500 Example Hosting", abuseContact: "abuse@host.test",
                    source: "analyst", by: .user("ana"))
            }
            await #expect(throws: StoreError.self) {
                try await notices.setHosting(
                    caseID: a, country: "France", network: nil, abuseContact: nil, source: "analyst", by: .user("ana"))
            }
            clock.advance(by: 3600)
            for id in [a, b] { try await hotline.apply(.requestNotice(by: "ana"), to: id, actor: .user("ana")) }
            // the decision queued a prepare job per case, in the same transaction
            let prepared = try await queue.claim(NoticeStore.prepareJob, limit: 10)
            #expect(prepared.count == 2)
            for job in prepared {
                try await NoticeService(db: app.db, clock: clock, configuration: app.vigil.configuration).prepare(job)
                try await queue.complete(job)
            }
            let open = try await notices.notices(state: .queued)
            #expect(open.count == 1 && open[0].items.map(\.caseID) == [a, b] && open[0].contact == "abuse@host.test")
            // the send job waits for the batching window
            #expect(try await queue.claim(NoticeStore.sendJob, limit: 10).isEmpty)
            clock.advance(by: 61)
            let send = try #require(try await queue.claim(NoticeStore.sendJob, limit: 10).first)
            #expect(send.payload == "{\"notice\":\(open[0].id)}")
            try await notices.markSent(open[0].id)
            try await queue.complete(send)
            // a day later the first URL is gone, the second is not
            clock.advance(by: 86_400)
            try await notices.recordRecheck(noticeID: open[0].id, caseID: a, gone: true, detail: "HTTP 404")
            #expect(try await notices.notice(open[0].id)?.state == .sent)
            // still online after the reminder interval: re-notified, then escalated after the last send
            let (renotified, _) = try await notices.followUp(interval: 86_400, maxSends: 2)
            #expect(renotified == 1)
            let again = try #require(try await queue.claim(NoticeStore.sendJob, limit: 10).first)
            try await notices.markSent(open[0].id)
            try await queue.complete(again)
            clock.advance(by: 86_401)
            #expect(try await notices.followUp(interval: 86_400, maxSends: 2) == (0, 1))
            #expect(try await notices.notice(open[0].id)?.state == .escalated)
            clock.advance(by: 3600)
            #expect(try await notices.recordRecheck(noticeID: open[0].id, caseID: b, gone: true, detail: "HTTP 410"))
            let timelines = try await notices.timelines()
            #expect(
                timelines.count == 2
                    && timelines.allSatisfy { $0.removedAt != nil && $0.assessedAt != nil && $0.noticeAt != nil })
            let days = timelines.map { ($0.reportToRemoval ?? 0) / 86_400 }
            #expect(days[0] > 1 && days[0] < 1.1 && days[1] > 2 && days[1] < 2.2)
            // the supervisors' page and the public figures
            let (sup, _) = try await Staff.signedIn(app, clock: clock, username: "sam", role: .supervisor)
            let page = try await sup.get("/takedown")
            #expect(
                page.status == .ok && page.body.contains("2 noticed cases, 2 removed") && page.body.contains("<svg"))
            let csv = try await sup.get("/takedown.csv")
            #expect(csv.body.split(separator: "\r\n").count == 3 && csv.body.contains("abuse@host.test"))
            let month = Month(containing: clock.now()).description
            let share = try await TestBrowser(app).get("/transparency/removed-within.csv?from=\(month)&to=\(month)")
                .body
            #expect(share.contains("1 day,0.0\r\n") && share.contains("3 days,100.0\r\n"), "\(share)")
        }
    }

    @Test("a new attribution that differs from the last is flagged on the case page; an analyst's values stay")
    func hostingChanged() async throws {
        try await withVigilApp { app, clock in
            let id = try await assessedCase(app.hotlineStoreForTests, "http://moving.test/x")
            let notices = NoticeStore(db: app.db, clock: clock)
            #expect(
                try await notices.recordAttribution(
                    caseID: id, country: "FR", network: "AS1 A", abuseContact: "abuse@a.test",
                    details: #"{"addresses":["192.0.2.1"]}"#) == false)
            try await notices.setHosting(
                caseID: id, country: "FR", network: "AS1 A", abuseContact: "desk@a.test", source: "analyst",
                by: .user("ana"))
            #expect(
                try await notices.recordAttribution(
                    caseID: id, country: "DE", network: "AS2 B", abuseContact: "abuse@b.test",
                    details: #"{"addresses":["198.51.100.7"]}"#))
            let hosting = try #require(try await notices.hosting(caseID: id))
            #expect(
                hosting.abuseContact == "desk@a.test" && hosting.details?.contains("198.51.100.7") == true,
                "the analyst's override stays")
            let (analyst, _) = try await Staff.signedIn(app, clock: clock, username: "ana2", role: .analyst)
            #expect(try await analyst.get("/cases/\(id)").body.contains("id=\"hosting-changed\""))
        }
    }

    @Test("content that comes back after removal reopens the case and resumes reminders")
    func reappearance() async throws {
        try await withVigilApp { app, clock in
            let hotline = try app.hotlineStoreForTests
            let notices = NoticeStore(db: app.db, clock: clock)
            let (id, noticeID) = try await noticedCase(
                hotline, notices, "http://back.test/x", contact: "abuse@back.test")
            try await notices.recordRecheck(noticeID: noticeID, caseID: id, gone: true, detail: "HTTP 404")
            try await hotline.apply(.close(by: "ana"), to: id, actor: .user("ana"))
            clock.advance(by: 86_400)
            let service = NoticeService(db: app.db, clock: clock, configuration: try app.vigil.configuration)
            #expect(try await service.recheck(limit: 10) { _ in .init(outcome: .live, detail: "HTTP 200") } == 1)
            #expect(try await notices.notice(noticeID)?.state == .sent)
            #expect(try await hotline.caseDetail(id)?.0.state == .received, "reopened")
            let queue = JobQueue(db: app.db, clock: clock, owner: "t")
            for job in try await queue.claim(NoticeStore.sendJob, limit: 5, evenIfDelayed: true) {
                try await queue.complete(job)
            }
            #expect(try await notices.followUp(interval: 0, maxSends: 3).renotified == 1)
        }
    }

    @Test("a case under a law-enforcement hold sends nothing: the notice decision waits for the hold to end")
    func hold() async throws {
        try await withVigilApp { app, clock in
            let hotline = try app.hotlineStoreForTests
            let id = try await assessedCase(hotline, "http://held.test/x.jpg")
            try await hotline.apply(
                .placeHold(CaseHold(reason: "operation", expiresAt: clock.now() + 86_400, placedBy: "leo")), to: id,
                actor: .user("leo"))
            try await hotline.apply(.requestNotice(by: "ana"), to: id, actor: .user("ana"))
            let queue = JobQueue(db: app.db, clock: clock, owner: "t")
            #expect(try await queue.claim(NoticeStore.prepareJob, limit: 10).isEmpty)
            try await hotline.apply(.liftHold(by: "leo"), to: id, actor: .user("leo"))
            #expect(try await queue.claim(NoticeStore.prepareJob, limit: 10).count == 1)
        }
    }

    @Test("a hold that says 'notify after' keeps the notice back until that date, then the scheduled job releases it")
    func holdNotifyAfter() async throws {
        try await withVigilApp { app, clock in
            let hotline = try app.hotlineStoreForTests
            let id = try await assessedCase(hotline, "http://held.test/later.jpg")
            // need-to-know: the liaison acts on cases referred to law enforcement
            try await hotline.apply(.referToLawEnforcement(by: "ana"), to: id, actor: .user("ana"))
            let (leo, _) = try await Staff.signedIn(app, clock: clock, username: "leo", role: .leLiaison)
            // a date that is not a date is refused, naming the field
            let bad = try await leo.post(
                "/cases/\(id)/act",
                form: [("action", "hold"), ("reason", "Operation Tern"), ("days", "10"), ("notify_after", "soon")])
            #expect(bad.status == .badRequest && bad.body.contains("notify_after"))
            // the liaison places a ten-day hold whose notices may leave after two days
            let notifyAt = Format.dateTime(clock.now() + 2 * 86_400)
            let date = notifyAt.replacingOccurrences(of: " UTC", with: "").replacingOccurrences(of: " ", with: "T")
            let placed = try await leo.post(
                "/cases/\(id)/act",
                form: [("action", "hold"), ("reason", "Operation Tern"), ("days", "10"), ("notify_after", date)])
            #expect(placed.status == .seeOther)
            try await hotline.apply(.requestNotice(by: "ana"), to: id, actor: .user("ana"))
            let queue = JobQueue(db: app.db, clock: clock, owner: "t")
            #expect(try await queue.claim(NoticeStore.prepareJob, limit: 10).isEmpty)
            let (ana, _) = try await Staff.signedIn(app, clock: clock, username: "ana", role: .analyst)
            #expect(try await ana.get("/cases/\(id)").body.contains("Notices may leave from \(notifyAt)"))
            // one day on, the job finds nothing due
            clock.advance(by: 86_400)
            #expect(try await hotline.expireHolds() == 0)
            // two days on, the job releases the notice; the hold still stands for the block list
            clock.advance(by: 86_400 + 3600)
            #expect(try await hotline.expireHolds() == 1)
            #expect(try await queue.claim(NoticeStore.prepareJob, limit: 10).count == 1)
            let detail = try #require(try await hotline.caseDetail(id)).0
            #expect(detail.workflow.isHeld(at: clock.now()) && !detail.workflow.holdsNotices(at: clock.now()))
            // the first session has timed out
            let (ana2, _) = try await Staff.signedIn(app, clock: clock, username: "ana2", role: .analyst)
            #expect(try await ana2.get("/cases/\(id)").body.contains("notices to the host may leave"))
            #expect(try await auditSubjects(app, "case.hold-notify-after-reached") == ["case:\(id)"])
        }
    }

    @Test(
        "a bounce handed back by the mail system puts the notice in the supervisors' queue and shows on the case; other mail changes nothing"
    )
    func bounce() async throws {
        try await withVigilApp { app, clock in
            let hotline = try app.hotlineStoreForTests
            let notices = NoticeStore(db: app.db, clock: clock)
            let (id, noticeID) = try await noticedCase(
                hotline, notices, "http://gone-mailbox.test/a.jpg", contact: "abuse@gone-mailbox.test")
            let token = try #require(
                try await notices.newConfirmation(noticeID, token: "c1", bounceToken: "Tok3nTok3nTok3n"))
            #expect(token == "tok3ntok3ntok3n")
            #expect(
                try await notices.newConfirmation(noticeID, token: "c2", bounceToken: "another") == token,
                "a notice keeps its bounce token")
            let keys = APIKeys(db: app.db, clock: clock, tokens: SystemTokenSource())
            let mailKey = try await keys.create(partner: "Bounce mailbox", scopes: [.bouncesWrite], actor: .system)
                .secret
            let feedKey = try await keys.create(partner: "ISP", scopes: [.feedsRead], actor: .system).secret
            let dsn = """
                To: bounces+\(token)@hotline.test
                Subject: Undelivered Mail Returned to Sender
                Content-Type: multipart/report; report-type=delivery-status; boundary="B"

                --B
                Content-Type: message/delivery-status

                Final-Recipient: rfc822; abuse@gone-mailbox.test
                Action: failed
                Status: 5.1.1
                Diagnostic-Code: smtp; 550 5.1.1 <abuse@gone-mailbox.test>: User unknown in local recipient table
                --B--
                """
            func post(_ body: String, key: String) async throws -> TestBrowser.Page {
                try await TestBrowser(app).send(
                    .POST, "/api/v1/bounces",
                    headers: ["Content-Type": "message/rfc822", "Authorization": "Bearer \(key)"], body: body)
            }
            // a key without the scope is refused, and an empty body is a clear 400
            #expect(try await post(dsn, key: feedKey).status == .forbidden)
            #expect(try await post("", key: mailKey).status == .badRequest)
            // an auto-reply names no notice: answered 200 (a mail pipe must not retry), nothing changes
            let reply = try await post("From: abuse@gone-mailbox.test\nSubject: Re: notice\n\nThanks\n", key: mailKey)
            #expect(reply.status == .ok && reply.body.contains(#""matched":false"#))
            #expect(try await notices.notice(noticeID)?.state == .sent)
            // an auto-reply sent to the bounce address is no bounce, and a report about another recipient is not believed
            let autoReply = try await post(
                "To: bounces+\(token)@hotline.test\nSubject: Automatic reply\nAuto-Submitted: auto-replied\n\nOut of office\n",
                key: mailKey)
            #expect(autoReply.body.contains(#""matched":false"#))
            let other = try await post(
                dsn.replacingOccurrences(
                    of: "Final-Recipient: rfc822; abuse@gone-mailbox.test",
                    with: "Final-Recipient: rfc822; someone@else.test"), key: mailKey)
            #expect(other.body.contains(#""matched":false"#))
            #expect(try await notices.notice(noticeID)?.state == .sent)
            // a delay is recorded only
            let delay = try await post(
                dsn.replacingOccurrences(of: "Action: failed", with: "Action: delayed").replacingOccurrences(
                    of: "Status: 5.1.1", with: "Status: 4.4.1"), key: mailKey)
            #expect(delay.body.contains(#""matched":true"#) && delay.body.contains(#""permanent":false"#))
            #expect(try await notices.notice(noticeID)?.state == .sent)
            // the permanent failure puts the notice in the supervisors' queue, with the reason, on the case too
            let failed = try await post(dsn, key: mailKey)
            #expect(
                failed.status == .ok && failed.body.contains(#""notice":\#(noticeID)"#)
                    && failed.body.contains(#""permanent":true"#))
            let bounced = try #require(try await notices.notice(noticeID))
            #expect(bounced.state == .bounced && bounced.lastError?.contains("User unknown") == true)
            #expect(try await notices.bounces(noticeID: noticeID).map(\.action) == ["failed", "delayed"])
            #expect(
                try await notices.followUp(interval: 0, maxSends: 3) == (0, 0),
                "a bounced notice is not re-sent to the same address")
            // a send already queued skips it, and a send that was under way does not undo the bounce
            let service = NoticeService(db: app.db, clock: clock, configuration: try app.vigil.configuration)
            let jobs = JobQueue(db: app.db, clock: clock, owner: "t")
            try await jobs.enqueue(NoticeStore.sendJob, payload: "{\"notice\":\(noticeID)}")
            for job in try await jobs.claim(NoticeStore.sendJob, limit: 5, evenIfDelayed: true) {
                try await service.send(job)
            }
            try await notices.markSent(noticeID)
            #expect(try await notices.notice(noticeID)?.state == .bounced)
            // removal is still measured: the recheck keeps looking at it
            #expect(try await notices.openItems().contains { $0.noticeID == noticeID })
            let (sup, _) = try await Staff.signedIn(app, clock: clock, username: "sue", role: .supervisor)
            let queue = try await sup.get("/takedown").body
            #expect(queue.contains("bounced") && queue.contains("5.1.1") && queue.contains("abuse@gone-mailbox.test"))
            #expect(try await sup.get("/cases/\(id)").body.contains("User unknown in local recipient table"))
            #expect(try await auditSubjects(app, "case.notice-bounced") == ["case:\(id)"])
            // a new contact recorded on the case gets a fresh notice: the bounced one does not hold the URL back
            try await notices.setHosting(
                caseID: id, country: "FR", network: nil, abuseContact: "noc@gone-mailbox.test", source: "analyst",
                by: .user("ana"))
            let again = try #require(try await notices.prepare(caseID: id))
            #expect(again != noticeID)
        }
    }

    @Test("with registrar notices on, the registrar gets its own notice; the figures count the case once")
    func registrar() async throws {
        try await withVigilApp { app, clock in
            let hotline = try app.hotlineStoreForTests
            let notices = NoticeStore(db: app.db, clock: clock)
            let id = try await assessedCase(hotline, "http://registered.test/a.jpg")
            _ = try await notices.recordAttribution(
                caseID: id, country: "FR", network: "AS64500", abuseContact: "abuse@hoster.test",
                registrarContact: "abuse@registrar.test", details: "{}")
            #expect(try await notices.hosting(caseID: id)?.registrarContact == "abuse@registrar.test")
            let first = try #require(try await notices.prepare(caseID: id, registrar: true))
            let all = try await notices.notices(forCase: id)
            #expect(all.map(\.contact).sorted() == ["abuse@hoster.test", "abuse@registrar.test"])
            #expect(all.first { $0.id == first }?.route == "provider" && all.contains { $0.route == "registrar" })
            #expect(try await notices.prepare(caseID: id, registrar: true) == first, "preparing again adds nothing")
            for n in all { try await notices.markSent(n.id) }
            #expect(try await notices.timelines().map(\.caseID) == [id])
            // an analyst's override keeps the registrar found by attribution
            try await notices.setHosting(
                caseID: id, country: "FR", network: nil, abuseContact: "noc@hoster.test", source: "analyst",
                by: .user("ana"))
            #expect(try await notices.hosting(caseID: id)?.registrarContact == "abuse@registrar.test")
        }
    }

    @Test(
        "a notice to a partner hotline waits for the hold to end even after its notify-after date, and is queued again for then"
    )
    func partnerWaitsForHold() async throws {
        try await withVigilApp(configure: { $0.country = "GB" }) { app, clock in
            let hotline = try app.hotlineStoreForTests
            let notices = NoticeStore(db: app.db, clock: clock)
            try await notices.setChannel(
                .init(
                    key: "fr", kind: .partner, name: "Point de Contact", language: "fr", delivery: .email,
                    address: "signalement@partner.test", secret: nil), by: .user("admin"))
            let id = try await assessedCase(hotline, "http://abroad.test/a")
            try await notices.setHosting(
                caseID: id, country: "FR", network: nil, abuseContact: "abuse@abroad.test", source: "analyst",
                by: .user("ana"))
            let hold = CaseHold(
                reason: "operation", expiresAt: clock.now() + 7 * 86_400, placedBy: "leo",
                notifyAfter: clock.now() + 86_400)
            try await hotline.apply(.placeHold(hold), to: id, actor: .user("leo"))
            try await hotline.apply(.requestNotice(by: "ana"), to: id, actor: .user("ana"))
            clock.advance(by: 86_400 + 60)
            #expect(try await hotline.expireHolds() == 1)
            let queue = JobQueue(db: app.db, clock: clock, owner: "t")
            let service = NoticeService(db: app.db, clock: clock, configuration: try app.vigil.configuration)
            for job in try await queue.claim(NoticeStore.prepareJob, limit: 5) {
                try await service.prepare(job); try await queue.complete(job)
            }
            clock.advance(by: 61)
            let send = try #require(try await queue.claim(NoticeStore.sendJob, limit: 5).first)
            try await service.send(send)  // no relay is configured: a send attempt would throw
            try await queue.complete(send)
            let notice = try #require(try await notices.notices(forCase: id).first)
            #expect(notice.route == "partner:FR" && notice.state == .queued && notice.sends == 0)
            let again = try await queue.jobs(state: .queued).filter { $0.name == NoticeStore.sendJob }
            #expect(again.count == 1 && again[0].runAt > hold.expiresAt)
        }
    }

    @Test("the liaison's list holds every referred case, the oldest too, a page at a time")
    func referredList() async throws {
        try await withVigilApp { app, clock in
            let hotline = try app.hotlineStoreForTests
            let old = try await assessedCase(hotline, "http://first.test/old")
            try await hotline.apply(.referToLawEnforcement(by: "ana"), to: old, actor: .user("ana"))
            // 520 newer cases, more than the list used to look at
            let newer = try (1...520).map { i in
                HotlineStore.Submission(
                    report: try ReportSubmission(kind: .url, url: "http://later\(i).test/x").validated(),
                    language: "en", actor: .publicVisitor)
            }
            _ = try await hotline.submitBatch(newer)
            let (leo, _) = try await Staff.signedIn(app, clock: clock, username: "leo", role: .leLiaison)
            let page = try await leo.get("/le/referred").body
            #expect(page.contains("/cases/\(old)\""))
            #expect(try await hotline.referredToLawEnforcement().total == 1)
            // a reopened case stays on the list
            try await hotline.apply(.close(by: "ana"), to: old, actor: .user("ana"))
            try await hotline.apply(.reopen(by: "ana"), to: old, actor: .user("ana"))
            #expect(try await hotline.referredToLawEnforcement().cases.map(\.id) == [old])
        }
    }

    @Test(
        "an attribution that finds nothing (the resolver down) keeps the hosting found before, and says so on the timeline"
    )
    func attributionFailureKeepsHosting() async throws {
        try await withVigilApp { app, clock in
            let hotline = try app.hotlineStoreForTests
            let notices = NoticeStore(db: app.db, clock: clock)
            let id = try await assessedCase(hotline, "http://www.flaky.test/a.jpg")
            _ = try await notices.recordAttribution(
                caseID: id, country: "FR", network: "AS64500", abuseContact: "abuse@flaky.test", details: "{}")
            var service = NoticeService(db: app.db, clock: clock, configuration: try app.vigil.configuration)
            // its resolver, 127.0.0.1:9, refuses
            service.attribution = NoticeService.attribution(try app.vigil.configuration)
            try await service.attribute(caseID: id)
            let hosting = try #require(try await notices.hosting(caseID: id))
            #expect(hosting.abuseContact == "abuse@flaky.test" && hosting.country == "FR")
            #expect(try await auditSubjects(app, "case.attribution-failed") == ["case:\(id)"])
        }
    }

    @Test(
        "a notice that leaves while one of its cases is held leaves that URL out, audits it as unsent, and sends it once the hold ends"
    )
    func partlyHeld() async throws {
        try await withVigilApp { app, clock in
            let hotline = try app.hotlineStoreForTests
            let notices = NoticeStore(db: app.db, clock: clock)
            let queue = JobQueue(db: app.db, clock: clock, owner: "t")
            let free = try await assessedCase(hotline, "http://shared.test/free.jpg")
            let held = try await assessedCase(hotline, "http://shared.test/held.jpg")
            for id in [free, held] {
                try await notices.setHosting(
                    caseID: id, country: nil, network: nil, abuseContact: "abuse@shared.test", source: "analyst",
                    by: .user("ana"))
            }
            let noticeID = try #require(try await notices.prepare(caseID: free))
            #expect(try await notices.prepare(caseID: held) == noticeID)
            // the hold comes after both URLs were grouped into one notice
            let hold = CaseHold(reason: "operation", expiresAt: clock.now() + 86_400, placedBy: "leo")
            try await hotline.apply(.placeHold(hold), to: held, actor: .user("leo"))
            // the relay accepts only what Vigil hands it; the store is told which cases went out
            let notice = try #require(try await notices.notice(noticeID))
            let sent = notice.items.filter { $0.caseID != held }
            try await notices.markSent(noticeID, caseIDs: sent.map(\.caseID))
            let after = try #require(try await notices.notice(noticeID))
            #expect(after.items.first { $0.caseID == free }?.sentAt != nil)
            #expect(after.items.first { $0.caseID == held }?.sentAt == nil)
            #expect(
                try await auditSubjects(app, "notice.sent") == ["case:\(free)"], "the held case is not audited as sent")
            // only the sent URL counts in the figures
            #expect(try await notices.timelines().filter { $0.noticeAt != nil }.map(\.caseID) == [free])
            // when the hold is lifted, a send of the notice is queued now, not at the next reminder
            for job in try await queue.claim(NoticeStore.sendJob, limit: 10, evenIfDelayed: true) {
                try await queue.complete(job)
            }
            try await hotline.apply(.liftHold(by: "leo"), to: held, actor: .user("leo"))
            #expect(try await queue.claim(NoticeStore.sendJob, limit: 10).count == 1)
            // and that message is not called a reminder: one of its URLs is new to the provider
            let letter = NoticeService.compose(
                notice: after, items: after.items, configuration: try app.vigil.configuration, at: clock.now())
            #expect(!letter.contains("REMINDER"))
        }
    }

    @Test("without an SMTP relay the notice waits, says why on the case, and is retried")
    func noRelay() async throws {
        try await withVigilApp { app, clock in
            let hotline = try app.hotlineStoreForTests
            let id = try await assessedCase(hotline, "http://host.test/c.jpg")
            let notices = NoticeStore(db: app.db, clock: clock)
            try await notices.setHosting(
                caseID: id, country: "FR", network: nil, abuseContact: "abuse@host.test", source: "analyst",
                by: .user("ana"))
            try await hotline.apply(.requestNotice(by: "ana"), to: id, actor: .user("ana"))
            let scheduled = ScheduledJobs(
                db: app.db, clock: clock, tokens: SystemTokenSource(), configuration: try app.vigil.configuration,
                blockList: try app.blockList, triage: try TriagePolicy())
            #expect(try await scheduled.worker.drain(limit: 10) == 2, "attribution and the notice's preparation")
            clock.advance(by: 61)
            #expect(try await scheduled.worker.drain(limit: 10) == 1)
            let failed = try await JobQueue(db: app.db, clock: clock, owner: "t").jobs(state: .queued)
            #expect(failed.count == 1 && failed[0].lastError?.contains("no SMTP relay") == true)
            let (analyst, _) = try await Staff.signedIn(app, clock: clock, username: "ana2", role: .analyst)
            #expect(try await analyst.get("/cases/\(id)").body.contains("no SMTP relay is configured"))
        }
    }
}

@Suite("Partners, webhooks and confirmations")
struct ChannelTests {
    @Test(
        "content hosted abroad goes to that country's partner hotline; with none the case is flagged for law enforcement"
    )
    func routing() async throws {
        try await withVigilApp(configure: { $0.country = "GB" }) { app, clock in
            let hotline = try app.hotlineStoreForTests
            let notices = NoticeStore(db: app.db, clock: clock)
            try await notices.setChannel(
                .init(
                    key: "fr", kind: .partner, name: "Point de Contact", language: "fr", delivery: .email,
                    address: "signalement@partner.test", secret: nil), by: .user("admin"))
            let fr = try await TakedownTests().assessedCase(hotline, "http://fr-host.test/a")
            let de = try await TakedownTests().assessedCase(hotline, "http://de-host.test/a")
            try await notices.setHosting(
                caseID: fr, country: "FR", network: nil, abuseContact: "abuse@fr-host.test", source: "analyst",
                by: .user("ana"))
            try await notices.setHosting(
                caseID: de, country: "DE", network: nil, abuseContact: "abuse@de-host.test", source: "analyst",
                by: .user("ana"))
            let id = try #require(try await notices.prepare(caseID: fr, ownCountry: "GB"))
            let notice = try #require(try await notices.notice(id))
            #expect(notice.contact == "FR")
            #expect(try await notices.prepare(caseID: de, ownCountry: "GB") == nil)
            #expect(try await TakedownTests().auditSubjects(app, "case.route-law-enforcement") == ["case:\(de)"])
            // the partner's channel says where the e-mail goes and in which language
            let message = NoticeService.compose(
                notice: notice, items: notice.items, configuration: try app.vigil.configuration, at: clock.now(),
                to: (try await notices.channel("FR"))?.address, confirmURL: "http://x/confirm")
            #expect(message.contains("To: <signalement@partner.test>") && message.contains("http://x/confirm"))
        }
    }

    @Test(
        "a provider's webhook gets the notice signed with HMAC-SHA-256; its 'removed' reply and the one-time link trigger a recheck"
    )
    func webhook() async throws {
        let received = Received()
        let site = try await Application.make(.testing)
        site.logger.logLevel = .error
        site.post("hook") { req async throws -> Response in
            let body = Data(buffer: req.body.data ?? ByteBuffer())
            await received.add(body, signature: req.headers.first(name: "X-Vigil-Signature") ?? "")
            return Response(
                status: .ok, headers: ["Content-Type": "application/json"], body: .init(string: #"{"removed": true}"#))
        }
        try await site.server.start(address: .hostname("127.0.0.1", port: 0))
        let port = site.http.server.shared.localAddress!.port!
        do {
            try await run(port: port, received: received)
        } catch {
            await site.server.shutdown()
            try? await site.asyncShutdown()
            throw error
        }
        await site.server.shutdown()
        try await site.asyncShutdown()
    }

    func run(port: Int, received: Received) async throws {
        // The lab allows its loopback range; by default the webhook on loopback is refused (checked below).
        try await withVigilApp(configure: {
            $0.fetchPolicy = OutboundAddressPolicy(allowed: [IPRange(cidr: "127.0.0.0/8")!])
        }) { app, clock in
            let hotline = try app.hotlineStoreForTests
            let notices = NoticeStore(db: app.db, clock: clock)
            let secret = "a shared secret of some length"
            try await notices.setChannel(
                .init(
                    key: "abuse@api-host.test", kind: .provider, name: "API Host", language: "en", delivery: .webhook,
                    address: "http://127.0.0.1:\(port)/hook", secret: secret), by: .user("admin"))
            let id = try await TakedownTests().assessedCase(hotline, "http://api-host.test/x")
            try await notices.setHosting(
                caseID: id, country: nil, network: nil, abuseContact: "abuse@api-host.test", source: "analyst",
                by: .user("ana"))
            let noticeID = try #require(try await notices.prepare(caseID: id))
            let service = NoticeService(db: app.db, clock: clock, configuration: try app.vigil.configuration)
            let queue = JobQueue(db: app.db, clock: clock, owner: "t")
            var strict = try app.vigil.configuration
            strict.fetchPolicy = OutboundAddressPolicy()
            let refused = try #require(try await queue.claim(NoticeStore.sendJob, limit: 1, evenIfDelayed: true).first)
            await #expect(throws: (any Error).self) {
                try await NoticeService(db: app.db, clock: clock, configuration: strict).send(refused)
            }
            #expect(await received.first == nil, "the default policy never contacts a webhook on loopback")
            try await queue.fail(refused, error: "refused")
            let job = try #require(try await queue.claim(NoticeStore.sendJob, limit: 1, evenIfDelayed: true).first)
            try await service.send(job)
            let (body, signature) = try #require(await received.first)
            let expected = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8))).map
            { String(format: "%02x", $0) }.joined()
            #expect(signature == "sha256=" + expected)
            let json = try JSONSerialization.jsonObject(with: body) as! [String: Any]
            #expect(json["urls"] as? [String] == ["http://api-host.test/x"] && json["notice"] as? Int == Int(noticeID))
            #expect(try await notices.notice(noticeID)?.state == .sent)
            #expect(
                try await queue.claim(NoticeService.confirmedJob, limit: 5).count == 1, "the reply asked for a recheck")
            // the one-time link works once
            let link = try #require(json["confirm_url"] as? String)
            let path = String(link.drop { $0 != "/" }.dropFirst(2).drop { $0 != "/" })
            #expect(try await TestBrowser(app).get(path).status == .ok)
            #expect(try await TestBrowser(app).get(path).status == .notFound)
            #expect(try await queue.claim(NoticeService.confirmedJob, limit: 5).count == 1)
        }
    }
}

actor Received {
    var all: [(Data, String)] = []
    func add(_ d: Data, signature: String) { all.append((d, signature)) }
    var first: (Data, String)? { all.first }
}

@Suite("Attribution")
struct AttributionTests {
    @Test("reserved names (demo data, tests) are never looked up through a resolver off this machine")
    func reservedNames() async {
        let attribution = Attribution(
            dns: DNSClient(server: "192.0.2.53", port: 53), country: nil, asn: nil, rdapBase: nil, cache: RDAPCache(),
            fetcher: OutboundFetcher(VigilConfiguration()))
        for url in ["http://gallery.example.test/x", "http://www.example.com/", "http://a.invalid/"] {
            let r = await attribution.attribute(url: url)
            #expect(
                r.addresses.isEmpty && r.sources.isEmpty && r.problems.first?.hasPrefix("reserved name") == true,
                "\(url)")
        }
        #expect(
            !Attribution.isReserved("protest.org") && !Attribution.isReserved("example.co.uk")
                && Attribution.isReserved("test"))
    }
}

@Suite("Queue worker")
struct QueueWorkerTests {
    struct Boom: Error {}

    @Test("run-now stops at the first failure instead of retrying it at once; the server's worker respects back-off")
    func runNowStops() async throws {
        try await withVigilApp { app, clock in
            let queue = JobQueue(db: app.db, clock: clock, owner: "t")
            try await queue.enqueue("x")
            try await queue.enqueue("x")
            let failing: @Sendable (JobQueue.Job) async throws -> Void = { _ in throw Boom() }
            let now = QueueWorker(queue: queue, handlers: ["x": failing], evenIfDelayed: true)
            #expect(try await now.drain(limit: 100) == 1)
            let server = QueueWorker(queue: queue, handlers: ["x": failing])
            #expect(try await server.drain(limit: 100) == 1, "the second job; the first waits out its back-off")
            #expect(try await queue.jobs().map(\.attempts).sorted() == [1, 1])
        }
    }
}

extension Application {
    var hotlineStoreForTests: HotlineStore {
        get throws {
            try HotlineStore(
                db: db, clock: vigil.clock, tokens: SystemTokenSource(), sealer: nil, triage: hotline.triage)
        }
    }
}
