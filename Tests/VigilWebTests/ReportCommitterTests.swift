import Foundation
import SQLKit
import Testing
import Vapor
import VigilCore
import VigilStore
import VigilTestSupport

@testable import VigilWeb

/// Group commit without a background task: concurrent reporters share transactions, each gets its own reference
/// only after its report is stored, and a failing batch fails only its own callers.
@Suite("Report group commit")
struct ReportCommitterTests {
    @Test(
        "300 concurrent submissions: 300 distinct references, 300 stored reports, nothing left waiting",
        // A hang guard: alone it takes 2–6 s, but beside the whole PostgreSQL suite on 2 cores it reached 60 s.
        .timeLimit(.minutes(3)))
    func concurrent() async throws {
        try await withVigilApp { app, clock in
            let committer = ReportCommitter(
                store: HotlineStore(
                    db: app.db, clock: clock, tokens: SystemTokenSource(), sealer: nil, triage: try TriagePolicy()))
            let references = try await withThrowingTaskGroup(of: String.self) { group in
                for i in 0..<300 {
                    group.addTask {
                        let report = try ReportSubmission(kind: .url, url: "http://many-\(i).test/").validated()
                        return try await committer.submit(
                            .init(report: report, language: "en", actor: .publicVisitor, apiKey: nil)
                        ).reference.description
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(Set(references).count == 300)
            let stored = try await (app.db as! any SQLDatabase).select().column(
                SQLFunction("count", args: SQLLiteral.all), as: "n"
            )
            .from("reports").first()?.decode(column: "n", as: Int.self)
            #expect(stored == 300)
            // The committer is idle again: one more goes through on its own.
            let one = try ReportSubmission(kind: .url, url: "http://last.test/").validated()
            _ = try await committer.submit(.init(report: one, language: "en", actor: .publicVisitor, apiKey: nil))
        }
    }
}
