import Foundation
import Vapor
import VigilCore
import VigilStore

extension VigilServer {
    /// Demonstration reports and cases over the last six months, so that the transparency page and the checklist's
    /// live evidence have figures to show. Addresses are under `example.test` (a reserved name: no real site).
    /// Assessments are made by `demo-analyst`; cases are closed or actioned as a hotline would.
    static func addHotlineDemoData(_ app: Application) async throws {
        let s = try app.vigil
        let now = s.clock.now()
        let clock = ManualClock(now)
        let store = HotlineStore(
            db: app.db, clock: clock, tokens: s.tokens, sealer: nil, triage: try TriagePolicy(), fourEyes: .none)
        let partners = ["DE", "NL", "US", "DE", "NL", "DE", "US", "FR"]
        var start = Month(containing: now)
        for _ in 0..<5 { start = start.previous }
        var serial = 0
        for (m, month) in ReportingPeriod(first: start, last: Month(containing: now)).months.enumerated() {
            let count = 4 + m * 2
            for i in 0..<count {
                serial += 1
                // Spread the reports over the month's first days (never in the future).
                clock.set(min(now - 60, month.start + Double(i) * 86_400 * 1.3 + 3600))
                let kind: ReportKind = [.url, .url, .url, .p2p, .profile, .behaviour, .newsgroup][serial % 7]
                var submission = ReportSubmission(
                    kind: kind, details: "Demonstration report \(serial) (generated, not real).")
                switch kind {
                case .url: submission.url = "https://example.test/demo/\(serial)/page.html"
                case .p2p:
                    submission.p2p = "magnet:?xt=urn:btih:" + String(sha256Hex("vigil-demo-p2p-\(serial)").prefix(40))
                case .profile:
                    submission.serviceKind = .gaming
                    submission.service = "example.test games"
                    submission.profile = "demo-player-\(serial)"
                case .behaviour: submission.concerns = [.bullying]
                case .newsgroup: submission.newsgroup = "alt.demo.example\(serial)"
                }
                guard let report = try? submission.validated() else { continue }
                let done = try await store.submit(
                    report, language: ["en", "fr", "es", "ar"][serial % 4], actor: .publicVisitor)
                // Most reports are assessed within a day or two; the newest ones wait in the queue.
                guard m < 5 || i < count / 2 else { continue }
                clock.advance(by: 86_400 * Double(1 + serial % 2))
                _ = try await store.apply(.claim(by: "demo-analyst"), to: done.caseID, actor: .user("demo-analyst"))
                let illegal = serial % 3 != 0 && kind != .behaviour
                let assessment = CaseAssessment(
                    outcome: illegal ? .internationallyIllegal : .notIllegal, category: illegal ? "DEMO" : nil,
                    mediaType: illegal ? .image : nil, notes: "Demonstration assessment.")
                _ = try await store.apply(
                    .assess(assessment, by: "demo-analyst"), to: done.caseID, actor: .user("demo-analyst"))
                if illegal {
                    if serial % 2 == 0 {
                        _ = try await store.apply(
                            .referToPartner(country: partners[serial % partners.count], by: "demo-analyst"),
                            to: done.caseID, actor: .user("demo-analyst"))
                    } else {
                        _ = try await store.apply(
                            .requestNotice(by: "demo-analyst"), to: done.caseID, actor: .user("demo-analyst"))
                    }
                }
                _ = try await store.apply(.close(by: "demo-analyst"), to: done.caseID, actor: .user("demo-analyst"))
            }
        }
    }
}
