import Vapor
import VigilCore
import VigilStore

extension VigilServer {
    /// Demonstration block-list entries for `make run`, on reserved `.test` names that cannot exist on the internet,
    /// proposed and verified by two named demo analysts. Added once, to an empty list.
    static func addDemoBlockList(_ app: Application) async throws {
        let s = try app.vigil
        let list = try app.blockList.store(app.db, clock: s.clock)
        guard try await list.entries(page: 1, per: 1).total == 0 else { return }
        let hotline = HotlineStore(
            db: app.db, clock: s.clock, tokens: s.tokens, sealer: nil, triage: try app.hotline.triage)
        let demo: [(ListEntryKind, String, String, String?)] = [
            (
                .domain, "demo-dedicated.example.test", "B",
                "DEMO: a whole host made of such material (generated example, not real)"
            ),
            (.url, "http://demo-host.example.test/gallery/image-1.jpg", "A", nil),
            (.newsgroup, "alt.demo.example.pictures", "N", nil),
        ]
        for (kind, target, criterion, reason) in demo {
            let report =
                kind == .newsgroup
                ? try ReportSubmission(kind: .newsgroup, newsgroup: target).validated()
                : try ReportSubmission(kind: .url, url: kind == .domain ? "http://\(target)/" : target).validated()
            let caseID = try await hotline.submit(report, language: "en", actor: .system).caseID
            let entry = try await list.propose(
                target: try ListTarget(kind: kind, parsing: target), criterion: criterion, caseID: caseID,
                dedicatedReason: reason, by: "demo-analyst-1")
            try await list.verify(entry.id, by: "demo-analyst-2")
        }
        try await app.blockList.publish(app.db, clock: s.clock)
    }
}
