import Fluent
import Foundation
import Testing
import Vapor
import VigilCore
import VigilStore
import VigilTestSupport

/// The shared job queue: exactly once across processes, leases that outlive a dead process, back-off, nothing dropped.
@Suite("Job queue")
struct JobQueueTests {
    @Test("two workers draining 1,000 jobs concurrently process each exactly once")
    func exactlyOnce() async throws {
        try await withVigilApp { app, clock in
            let a = JobQueue(db: app.db, clock: clock, owner: "a")
            let b = JobQueue(db: app.db, clock: clock, owner: "b")
            for i in 0..<1000 { try await a.enqueue("notice", payload: "{\"n\":\(i)}") }
            let seen = Seen()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (q, name) in [(a, "a"), (b, "b"), (a, "a2"), (b, "b2")] {
                    group.addTask {
                        while true {
                            let batch = try await q.claim("notice", limit: 25)
                            if batch.isEmpty { return }
                            for job in batch {
                                await seen.add(job.payload, by: name)
                                #expect(try await q.complete(job))
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(await seen.count == 1000)
            let duplicates = await seen.duplicates
            #expect(duplicates.isEmpty, "\(duplicates.prefix(5))")
            #expect(try await a.depths().isEmpty)
        }
    }

    @Test(
        "a job whose process died is taken up by another once the lease runs out; the dead process cannot complete it")
    func leases() async throws {
        try await withVigilApp { app, clock in
            let dead = JobQueue(db: app.db, clock: clock, owner: "dead")
            let alive = JobQueue(db: app.db, clock: clock, owner: "alive")
            try await dead.enqueue("recheck")
            let held = try #require(try await dead.claim(limit: 1, lease: 60).first)
            #expect(try await alive.claim(limit: 1).isEmpty, "leased: not due")
            clock.advance(by: 61)
            let taken = try #require(try await alive.claim(limit: 1).first)
            #expect(taken.id == held.id && taken.attempts == 2 && taken.lockedBy == "alive")
            #expect(try await dead.complete(held) == false)
            #expect(try await alive.complete(taken))
        }
    }

    @Test("failures back off exponentially and end as failed, visible and re-runnable")
    func backOff() async throws {
        try await withVigilApp { app, clock in
            let q = JobQueue(db: app.db, clock: clock, owner: "p")
            try await q.enqueue("smtp", maxAttempts: 3)
            var job = try #require(try await q.claim(limit: 1).first)
            try await q.fail(job, error: "connection refused")
            #expect(try await q.claim(limit: 1).isEmpty, "not before the back-off")
            clock.advance(by: 30)
            job = try #require(try await q.claim(limit: 1).first)
            try await q.fail(job, error: "connection refused")
            clock.advance(by: 59)
            #expect(try await q.claim(limit: 1).isEmpty)
            clock.advance(by: 1)
            job = try #require(try await q.claim(limit: 1).first)
            try await q.fail(job, error: "connection refused")
            clock.advance(by: 86_400)
            #expect(try await q.claim(limit: 1).isEmpty)
            let failed = try await q.jobs(state: .failed)
            #expect(failed.count == 1 && failed[0].lastError == "connection refused")
            let depths = try await q.depths()
            #expect(depths.map(\.name) == ["smtp"] && depths.map(\.state) == [.failed] && depths.map(\.count) == [1])
            #expect(try await q.retryFailed() == 1)
            #expect(try await q.claim(limit: 1).count == 1)
        }
    }
}

actor Seen {
    var payloads: [String: String] = [:]
    var duplicates: [String] = []
    func add(_ p: String, by worker: String) {
        if payloads[p] != nil { duplicates.append(p) }
        payloads[p] = worker
    }
    var count: Int { payloads.count }
}
