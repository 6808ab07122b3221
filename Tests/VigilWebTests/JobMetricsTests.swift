import Foundation
import Testing
import Vapor
import VigilCore
import VigilStore
import VigilTestSupport
import VigilWeb

@Suite("Job queue in /metrics")
struct JobMetricsTests {
    @Test("queue depth and the oldest due job's age are exported per job and state")
    func depthAndAge() async throws {
        try await withVigilApp { app, clock in
            let q = JobQueue(db: app.db, clock: clock, owner: "t")
            try await q.enqueue("notice-delivery")
            try await q.enqueue("notice-delivery")
            clock.advance(by: 90)
            let text = try await TestBrowser(app).get("/metrics", scopes: [.metricsRead]).body
            #expect(text.contains(#"vigil_job_queue_depth_jobs{job="notice-delivery",state="queued"} 2"#))
            #expect(text.contains(#"vigil_job_queue_oldest_age_seconds{job="notice-delivery",state="queued"} 90"#))
        }
    }
}
