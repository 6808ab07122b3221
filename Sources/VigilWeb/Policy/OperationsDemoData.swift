import Foundation
import Vapor
import VigilCore
import VigilStore

extension VigilServer {
    /// Demonstration data for the operations pages (#18): notices sent and the content removed, with realistic stage
    /// times; a notice escalated after going unanswered; an appeal decided and one open; a law-enforcement hold that
    /// lets notices leave after a date; a list entry whose verification ran out, so the list's versions show an
    /// addition and an expiry; an on-call rota and an urgent report whose alert was acknowledged. Only reserved
    /// `.test` names, and nothing leaves the machine: notices are recorded as
    /// the send job would record them, never sent. Added once, with the rest of the demo data.
    static func addOperationsDemoData(_ app: Application) async throws {
        let s = try app.vigil
        let now = s.clock.now()
        let clock = ManualClock(now - 21 * 86_400)
        let hotline = HotlineStore(
            db: app.db, clock: clock, tokens: s.tokens, sealer: nil, triage: try TriagePolicy(), fourEyes: .none)
        let notices = NoticeStore(db: app.db, clock: clock)
        let analyst = "demo-analyst"
        let actor = AuditActor.user(analyst)
        // The demo records sends as the send job would, and takes the jobs off the queue: nothing is mailed.
        let queue = JobQueue(db: app.db, clock: clock, owner: "demo-data")
        func recordSends() async throws {
            for job in try await queue.claim(NoticeStore.sendJob, limit: 100, evenIfDelayed: true) {
                let digits = job.payload.filter(\.isNumber)
                if let id = Int64(digits) { try await notices.markSent(id) }
                _ = try await queue.complete(job)
            }
        }

        /// A URL report, claimed and assessed illegal, with its host's abuse desk recorded.
        func assessedCase(_ n: Int, host: String) async throws -> Int64 {
            let report = try ReportSubmission(
                kind: .url, url: "http://\(host)/demo/\(n)/gallery.html",
                details: "Demonstration report (generated, not real).", contact: nil
            ).validated()
            let id = try await hotline.submit(report, language: "en", actor: .publicVisitor).caseID
            clock.advance(by: 3 * 3600)
            _ = try await hotline.apply(.claim(by: analyst), to: id, actor: actor)
            clock.advance(by: 40 * 60)
            let assessment = CaseAssessment(
                outcome: .internationallyIllegal, category: "DEMO", mediaType: .image,
                notes: "Demonstration assessment.")
            _ = try await hotline.apply(.assess(assessment, by: analyst), to: id, actor: actor)
            try await notices.setHosting(
                caseID: id, country: s.configuration.country,
                network: "DEMO-NET (reserved, not real)", abuseContact: "abuse@\(host)", source: "demo data", by: actor)
            return id
        }

        // Three notices answered: the content goes within hours to two days.
        for (n, hours) in [(1, 5.0), (2, 26.0), (3, 47.0)] {
            let id = try await assessedCase(n, host: "host-\(n).example.test")
            clock.advance(by: 20 * 60)
            guard let notice = try await notices.prepare(caseID: id, batchWindow: 0) else { continue }
            try await recordSends()
            clock.advance(by: hours * 3600)
            _ = try await notices.recordRecheck(
                noticeID: notice, caseID: id, gone: true, detail: "DEMO: 404 at the recheck (simulated)")
            _ = try await hotline.apply(.close(by: analyst), to: id, actor: actor)
            clock.advance(by: 86_400)
        }
        // One left unanswered: reminded, then escalated to the supervisors.
        let ignored = try await assessedCase(4, host: "silent-host.example.test")
        if try await notices.prepare(caseID: ignored, batchWindow: 0) != nil {
            try await recordSends()
            clock.advance(by: 2 * 86_400)
            _ = try await notices.followUp(interval: 86_400, maxSends: 1)
            try await recordSends()
        }
        // A case law enforcement holds: listing and referrals wait; notices may leave after a date.
        let held = try await assessedCase(5, host: "held-host.example.test")
        _ = try await hotline.apply(.referToLawEnforcement(by: analyst), to: held, actor: actor)
        let hold = CaseHold(
            reason: "DEMO: an investigation is under way (generated example)", expiresAt: now + 30 * 86_400,
            placedBy: "demo-liaison", notifyAfter: now + 5 * 86_400)
        _ = try await hotline.apply(.placeHold(hold), to: held, actor: .user("demo-liaison"))

        // The block list: an entry verified long enough ago that its verification has run out.
        let list = try app.blockList.store(app.db, clock: clock)
        clock.set(now - 12 * 86_400)
        let lapsedCase = try await assessedCase(6, host: "lapsed.example.test")
        let lapsed = try await list.propose(
            target: try ListTarget(kind: .url, parsing: "http://lapsed.example.test/demo/6/gallery.html"),
            criterion: "A", caseID: lapsedCase, dedicatedReason: nil, by: "demo-analyst-1")
        _ = try await list.verify(lapsed.id, by: "demo-analyst-2")
        try await app.blockList.publish(app.db, clock: clock)
        clock.set(now - 60)
        try await app.blockList.publish(app.db, clock: clock)

        // Appeals: one decided (rejected, with reasons the appellant reads), one waiting.
        let decided = try await list.submitAppeal(
            target: "demo-dedicated.example.test", grounds: "DEMO: this is my holiday photo site (generated example).",
            contact: nil, language: "en", sealer: nil, tokens: s.tokens)
        _ = try await list.decideAppeal(
            decided, decision: .reject,
            outcome: "DEMO: the entry was checked again by a second supervisor and stays (generated example).",
            by: "demo-supervisor")
        _ = try await list.submitAppeal(
            target: "http://demo-host.example.test/gallery/image-1.jpg",
            grounds: "DEMO: the picture was removed last week (generated example).", contact: nil, language: "fr",
            sealer: nil, tokens: s.tokens)

        // The urgent path: an on-call rota (days, and nights past midnight), and a report saying a child is in
        // immediate danger whose alert the analyst on duty acknowledged six minutes later. The alert job is taken off
        // the queue and marked sent: nothing is mailed.
        let urgent = UrgentStore(db: app.db, clock: clock)
        try await urgent.addShift(
            RotaShift(
                username: analyst, email: "on-call@hotline.example.test", days: [1, 2, 3, 4, 5], start: 8 * 60,
                end: 20 * 60), actor: .system)
        try await urgent.addShift(
            RotaShift(
                username: "demo-supervisor", email: "nights@hotline.example.test", days: Set(1...7), start: 20 * 60,
                end: 8 * 60), actor: .system)
        clock.set(now - 2 * 86_400)
        let danger = try ReportSubmission(
            kind: .url, url: "http://urgent.example.test/demo/7/live.html",
            details: "Demonstration report (generated, not real).", childInImmediateDanger: true, contact: nil
        ).validated()
        let urgentCase = try await hotline.submit(danger, language: "en", actor: .publicVisitor).caseID
        for job in try await queue.claim(UrgentStore.alertJob, limit: 10, evenIfDelayed: true) {
            if let alert = try await urgent.alerts(caseID: urgentCase).first {
                try await urgent.apply(
                    .raise, to: alert.id, actor: .job(UrgentStore.alertJob),
                    plan: {
                        UrgentAlert(
                            onDuty: OnCallRota(shifts: try await urgent.shifts().map(\.shift), timeZone: .gmt).onDuty(
                                at: clock.now()), fallback: [], lawEnforcement: "demo-247@police.example.test")
                    })
                try await urgent.markNotified(alert.id, step: 0)
            }
            _ = try await queue.complete(job)
        }
        clock.advance(by: 6 * 60)
        try await urgent.acknowledgeOnOpen(caseID: urgentCase, by: analyst)
    }
}
