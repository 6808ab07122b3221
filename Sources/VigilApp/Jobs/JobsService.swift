import Logging
import ServiceLifecycle

/// The scheduled jobs and the shared queue's worker, as one service of `vigil serve`'s service group: both loops
/// are child tasks of `run()`, and a graceful shutdown (SIGTERM) cancels them, so the process never exits with a job
/// left running in a detached task. A job that is cancelled mid-way keeps its lease and is taken up again.
public struct JobsService: Service {
    public let scheduled: ScheduledJobs
    let logger: Logger
    /// Called after each scheduled run with the job's name and whether it succeeded (the server counts these).
    let record: @Sendable (_ job: String, _ succeeded: Bool) -> Void

    public init(
        _ scheduled: ScheduledJobs, logger: Logger, record: @escaping @Sendable (String, Bool) -> Void = { _, _ in }
    ) {
        self.scheduled = scheduled
        self.logger = logger
        self.record = record
    }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await drainQueue() }
                group.addTask { await runSchedule() }
            }
        }
    }

    /// The shared queue (notices, updates, referrals) is drained every few seconds; several processes share it.
    func drainQueue() async {
        while !Task.isCancelled {
            // Small batches: a claimed job waits for this process, so claim only what is about to run.
            let ran = (try? await scheduled.worker.drain(limit: 5)) ?? 0
            if ran == 0 { try? await Task.sleep(for: .seconds(5)) }
        }
    }

    /// Each scheduled job on its own period (in minutes); a failed run is logged and retried at its next turn.
    func runSchedule() async {
        var minute = 0
        while !Task.isCancelled {
            for job in scheduled.jobs where minute % job.everyMinutes == 0 {
                if Task.isCancelled { return }
                do {
                    let n = try await job.run(500)
                    record(job.name, true)
                    if n > 0 { logger.info("job \(job.name): \(job.summary)", metadata: ["count": "\(n)"]) }
                } catch {
                    record(job.name, false)
                    logger.error("job \(job.name) failed", metadata: ["error": "\(error)"])
                }
            }
            minute += 1
            try? await Task.sleep(for: .seconds(60))
        }
    }
}
