import Fluent
import Foundation
import VigilCore
import VigilMedia
import VigilStore

/// The jobs `vigil serve` runs on a schedule, by name, so that operators can also run any of them once
/// (`vigil jobs run NAME --limit N`). Each returns how many things it did.
public struct ScheduledJobs: Sendable {
    public struct Job: Sendable {
        public let name: String
        /// Minutes between runs inside `vigil serve`.
        public let everyMinutes: Int
        public let summary: String
        public let run: @Sendable (_ limit: Int) async throws -> Int
    }

    public let jobs: [Job]

    init(db: any Database, clock: any VigilClock, tokens: any TokenSource, configuration config: VigilConfiguration,
         blockList: BlockListService, triage: TriagePolicy, knownImages: (@Sendable ([FileOutcome]) async -> Int)? = nil) {
        let hotline = HotlineStore(db: db, clock: clock, tokens: tokens, sealer: nil, triage: triage)
        let list = blockList.store(db, clock: clock)
        jobs = [
            Job(name: "list-expiry", everyMinutes: 1, summary: "mark block-list entries whose verification ran out as expired") { _ in
                try await list.expireDue()
            },
            Job(name: "list-publish", everyMinutes: 1, summary: "publish a new block-list version when the publishable set changed") { _ in
                try await blockList.publish(db, clock: clock).map { _ in 1 } ?? 0
            },
            Job(name: "list-check", everyMinutes: 5, summary: "fetch listed addresses due for their automated check (every list_check_hours)") { limit in
                try await LinkChecker.run(store: list, interval: TimeInterval(config.listCheckHours) * 3600, proxy: config.listCheckProxy,
                                          dropGone: config.listDropGone, limit: limit, knownImages: knownImages)
            },
            Job(name: "hold-expiry", everyMinutes: 5, summary: "end law-enforcement holds whose expiry has passed") { _ in
                try await hotline.expireHolds()
            },
            Job(name: "contact-retention", everyMinutes: 5, summary: "delete reporters' contact details past their retention period") { _ in
                try await hotline.purgeExpiredContacts()
            },
        ]
    }

    public func job(named name: String) -> Job? { jobs.first { $0.name == name } }
}

extension VigilApp {
    /// The scheduled jobs on a ready database, for the command line.
    public static func scheduledJobs(_ ctx: StoreContext) throws -> ScheduledJobs {
        let config = ctx.configuration
        let service = BlockListService(configuration: config)
        let key = try SigningKey.loadOrCreate(at: (config.dataDirectory as NSString).appendingPathComponent("signing-key.pem")).0.privateKey
        service.setKey(key)
        return ScheduledJobs(db: ctx.database, clock: SystemClock(), tokens: SystemTokenSource(), configuration: config,
                             blockList: service, triage: try TriagePolicy(standardDays: config.standardAssessmentDays))
    }
}
