import Foundation
import Testing
import Vapor
import VigilCore
import VigilTestSupport

@testable import VigilStore
@testable import VigilWeb

@Suite("The case desk offers exactly what the workflow allows, for every state and role")
struct CaseDeskActionsTests {
    /// Each button the desk may show, with the event it sends for `user`.
    static func events(_ user: String) -> [(String, CaseEvent)] {
        [
            ("claim", .claim(by: user)), ("unclaim", .unclaim(by: user)),
            ("propose-list-entry", .proposeListEntry(by: user)), ("request-notice", .requestNotice(by: user)),
            ("refer-law-enforcement", .referToLawEnforcement(by: user)), ("confirm", .confirm(by: user)),
            ("decline", .decline(by: user)), ("close", .close(by: user)), ("reopen", .reopen(by: user)),
        ]
    }

    /// The desk's buttons on a page: value → disabled.
    static func buttons(_ html: String) -> [String: Bool] {
        var out: [String: Bool] = [:]
        for m in html.matches(of: /<button name="action" value="([a-z-]+)"( disabled)?/) {
            out[String(m.1)] = m.2 != nil
        }
        return out
    }

    @Test("every state × role: enabled buttons are the events the workflow accepts; disabled ones say why")
    func everyStateAndRole() async throws {
        try await withVigilApp { app, clock in
            let hotline = HotlineStore(
                db: app.db, clock: clock, tokens: SystemTokenSource(), sealer: nil, triage: try app.hotline.triage,
                fourEyes: try app.hotline.fourEyes)
            func report(_ n: Int) async throws -> Int64 {
                try await hotline.submit(
                    try ReportSubmission(kind: .url, url: "http://site-\(n).test/x").validated(), language: "en",
                    actor: .publicVisitor
                ).caseID
            }
            func act(_ id: Int64, _ events: [CaseEvent]) async throws {
                for e in events { try await hotline.apply(e, to: id, actor: .system) }
            }
            let assess = CaseEvent.assess(CaseAssessment(outcome: .internationallyIllegal), by: "ana")
            var cases: [String: Int64] = [:]
            cases["received"] = try await report(1)
            cases["claimed"] = try await report(2)
            try await act(cases["claimed"]!, [.claim(by: "ana")])
            cases["assessed"] = try await report(3)
            try await act(cases["assessed"]!, [.claim(by: "ana"), assess])
            cases["assessed, not illegal"] = try await report(4)
            try await act(
                cases["assessed, not illegal"]!,
                [.claim(by: "ana"), .assess(CaseAssessment(outcome: .notIllegal), by: "ana")])
            cases["awaiting confirmation"] = try await report(5)
            try await act(cases["awaiting confirmation"]!, [.claim(by: "ana"), assess, .proposeListEntry(by: "ana")])
            cases["actioned"] = try await report(6)
            try await act(cases["actioned"]!, [.claim(by: "ana"), assess, .requestNotice(by: "ana")])
            cases["held"] = try await report(7)
            try await act(
                cases["held"]!,
                [
                    .claim(by: "ana"), assess,
                    .placeHold(CaseHold(reason: "operation", expiresAt: clock.now() + 86_400, placedBy: "leo")),
                    .proposeListEntry(by: "ana"), .confirm(by: "bob"),
                ])
            cases["closed"] = try await report(8)
            try await act(cases["closed"]!, [.claim(by: "ana"), assess, .close(by: "ana")])

            var seen: Set<String> = []
            for (name, role) in [
                ("ana", Role.analyst), ("bob", .analyst), ("sue", .supervisor), ("adam", .admin),
                ("leo", .leLiaison), ("aud", .auditor),
            ] {
                let (browser, _) = try await Staff.signedIn(app, clock: clock, username: name, role: role)
                for (state, id) in cases.sorted(by: { $0.key < $1.key }) {
                    let page = try await browser.get("/cases/\(id)")
                    if role == .auditor {
                        #expect(page.status == .forbidden, "auditors read the audit log, not cases")
                        continue
                    }
                    if role == .leLiaison {
                        // The liaison sees referred cases only, and never the analysts' buttons.
                        #expect(Self.buttons(page.body).isEmpty, "\(state)")
                        continue
                    }
                    #expect(page.status == .ok)
                    let wf = try #require(try await hotline.caseSummary(id)).workflow
                    let shown = Self.buttons(page.body)
                    let allowed = Set(
                        Self.events(name).filter { wf.refusal(of: $0.1, at: clock.now()) == nil }.map(\.0))
                    #expect(Set(shown.filter { !$0.value }.keys) == allowed, "\(state) for \(name)")
                    for (value, disabled) in shown where disabled {
                        let refusal = try #require(
                            Self.events(name).first { $0.0 == value }.flatMap { wf.refusal(of: $0.1, at: clock.now()) })
                        // a disabled button is a refusal for a reason other than the state, and the page says it
                        if case .notAllowed = refusal { Issue.record("\(value) shown in \(state), impossible there") }
                        #expect(page.body.contains("id=\"why-\(value)\""), "\(state): \(value)")
                        seen.insert("\(state): \(value)")
                    }
                    if shown.isEmpty { #expect(page.body.contains("id=\"no-actions\""), "\(state) for \(name)") }
                }
            }
            // the walk met the refusals a desk shows: another's claim, and four eyes (one may not confirm one's own)
            #expect(seen.contains("claimed: claim") && seen.contains("awaiting confirmation: confirm"), "\(seen)")
        }
    }
}
