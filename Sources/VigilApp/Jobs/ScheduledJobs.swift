import FluentKit
import Foundation
import VigilApp
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
    /// Runs the shared queue's jobs (notices); `vigil serve` drains it every few seconds.
    public let worker: QueueWorker

    public init(
        db: any Database, clock: any VigilClock, tokens: any TokenSource, configuration config: VigilConfiguration,
        blockList: BlockListService, triage: TriagePolicy, knownImages: (@Sendable ([FileOutcome]) async -> Int)? = nil,
        runDelayedJobs: Bool = false, sealer: ContactSealer? = nil, catalog: Catalog? = nil,
        sendMail: ReporterUpdates.Send? = nil
    ) {
        let hotline = HotlineStore(db: db, clock: clock, tokens: tokens, sealer: nil, triage: triage)
        let updates = sealer.flatMap { sealer in
            catalog.map {
                ReporterUpdates(
                    hotline: hotline, sealer: sealer, catalog: $0, configuration: config,
                    send: sendMail ?? ReporterUpdates.smtp(config))
            }
        }
        let list = blockList.store(db, clock: clock)
        let notices = NoticeService(
            db: db, clock: clock, configuration: config, attribution: NoticeService.attribution(config))
        // Rechecks of noticed URLs fetch the page only; images are looked at by the list check when turned on.
        let fetcher = OutboundFetcher(config, proxy: config.listCheckProxy)
        let checker = LinkChecker(fetcher: fetcher, timeout: .seconds(30))
        let owner = "\(ProcessInfo.processInfo.hostName)/\(ProcessInfo.processInfo.processIdentifier)"
        let federation = FederationService(
            store: FederationStore(db: db, clock: clock, secrets: sealer), hotline: hotline, notices: notices.store,
            fetcher: OutboundFetcher(config), signingKey: blockList.signingKey, installation: config.siteName)
        let urgent = UrgentAlertService(
            db: db, clock: clock, configuration: config, fetcher: OutboundFetcher(config),
            send: sendMail ?? UrgentAlertService.smtp(config))
        let worker = QueueWorker(
            queue: JobQueue(db: db, clock: clock, owner: owner),
            handlers: [
                UrgentStore.alertJob: { try await urgent.run($0) },
                NoticeStore.attributeJob: { try await notices.attribute($0) },
                NoticeStore.prepareJob: { try await notices.prepare($0) },
                NoticeStore.sendJob: { try await notices.send($0) },
                BlockListStore.appealOutcomeJob: { try await notices.appealOutcome($0, sealer: sealer) },
                NoticeService.confirmedJob: { job in
                    try await notices.confirmed(job) { await checker.check($0) }
                },
                NoticeStore.partnerReferralJob: { job in
                    struct P: Codable { let `case`: Int64, country: String }
                    let p = try JSONDecoder().decode(P.self, from: Data(job.payload.utf8))
                    // A partner on the federation protocol gets a signed referral and answers with its progress;
                    // otherwise the partner channel (e-mail or webhook) gets a notice, as before.
                    if let partner = try await federation.store.partner(covering: p.country) {
                        try await federation.refer(caseID: p.case, country: p.country, to: partner)
                    } else {
                        try await notices.store.referToPartner(caseID: p.case, country: p.country)
                    }
                },
                FederationStore.deliverJob: { _ in _ = try await federation.deliver() },
                FederationStore.processJob: { _ in _ = try await federation.process() },
                BlockListStore.publishJob: { _ in _ = try await blockList.publish(db, clock: clock) },
                HotlineStore.reporterUpdateJob: { job in
                    guard let updates else {
                        throw StoreError.unreachable("reporter updates need the contact key and the translations")
                    }
                    try await updates.run(job)
                },
            ], evenIfDelayed: runDelayedJobs, lease: TimeInterval(config.jobLeaseSeconds))
        self.worker = worker
        /// A queued job, drained by name (`vigil jobs run NAME` runs its waiting jobs now).
        func queued(_ name: String, _ summary: String) -> Job {
            Job(name: name, everyMinutes: 1, summary: summary + " (queued jobs)") { limit in
                try await worker.drain(name, limit: limit)
            }
        }
        jobs = [
            queued(
                UrgentStore.alertJob,
                "alert the on-call rota about a report saying a child is in immediate danger (e-mail and webhook)"),
            Job(
                name: UrgentStore.escalateJob, everyMinutes: 1,
                summary: "alert the next person, then law enforcement's 24/7 contact, when no one acknowledged in time"
            ) { _ in
                let moved = try await urgent.escalate()
                _ = try await worker.drain(UrgentStore.alertJob, limit: 100)
                return moved
            },
            queued(
                HotlineStore.reporterUpdateJob,
                "e-mail reporters who left an address the new public status of their report"),
            queued(
                NoticeStore.partnerReferralJob,
                "refer cases to the partner hotline an analyst chose, in a notice to it"),
            queued(
                NoticeStore.attributeJob,
                "trace where assessed content is hosted: DNS, country and network, RDAP abuse contact"),
            queued(
                BlockListStore.appealOutcomeJob,
                "tell appellants who left an e-mail address the outcome, then delete it"),
            queued(NoticeStore.prepareJob, "add assessed cases' URLs to a notice for their host's abuse contact"),
            queued(NoticeStore.sendJob, "send or re-send notices through the SMTP relay"),
            Job(
                name: FederationStore.deliverJob, everyMinutes: 1,
                summary: "deliver signed messages to partner hotlines, in order, retrying with back-off"
            ) { limit in
                _ = try await worker.drain(FederationStore.deliverJob, limit: limit)
                return try await federation.deliver(limit: limit, ignoringBackoff: runDelayedJobs)
            },
            Job(
                name: FederationStore.processJob, everyMinutes: 1,
                summary: "act on partners' messages (referrals become reports) and send them our cases' progress"
            ) { limit in
                _ = try await worker.drain(FederationStore.processJob, limit: limit)
                return try await federation.process(limit: limit) + federation.reportProgress()
            },
            Job(
                name: "notice-recheck", everyMinutes: config.noticeRecheckMinutes,
                summary: "recheck noticed URLs; gone ones count as removed"
            ) { limit in
                try await notices.recheck(limit: limit) { await checker.check($0) }
            },
            Job(
                name: "notice-follow-up", everyMinutes: 5,
                summary: "re-notify hosts while content stays online; escalate after notice_max_sends"
            ) { _ in
                let (renotified, escalated) = try await notices.store.followUp(
                    interval: TimeInterval(config.noticeRenotifyHours) * 3600, maxSends: config.noticeMaxSends)
                return renotified + escalated
            },
            Job(
                name: "list-expiry", everyMinutes: 1,
                summary: "mark block-list entries whose verification ran out as expired"
            ) { _ in
                try await list.expireDue()
            },
            Job(
                name: "list-publish", everyMinutes: 1,
                summary: "publish a new block-list version when the publishable set changed"
            ) { _ in
                // The safety net: requests (the case workflow's, expiries') are run by the queue worker within
                // seconds, and this publication satisfies any that are due.
                try await blockList.publish(db, clock: clock).map { _ in 1 } ?? 0
            },
            Job(
                name: "list-check", everyMinutes: 5,
                summary: "fetch listed addresses due for their automated check (every list_check_hours)"
            ) { limit in
                try await LinkChecker.run(
                    store: list, interval: TimeInterval(config.listCheckHours) * 3600, fetcher: fetcher,
                    dropGone: config.listDropGone, limit: limit, knownImages: knownImages)
            },
            Job(name: "hold-expiry", everyMinutes: 5, summary: "end law-enforcement holds whose expiry has passed") {
                _ in
                try await hotline.expireHolds()
            },
            Job(
                name: "contact-retention", everyMinutes: 5,
                summary: "delete reporters' contact details past their retention period"
            ) { _ in
                try await hotline.purgeExpiredContacts(retention: config.contactRetention)
            },
        ]
    }

    public func job(named name: String) -> Job? { jobs.first { $0.name == name } }
}

extension ScheduledJobs {
    /// The scheduled jobs on a ready database, for the command line (`vigil jobs`): queued jobs run now, even
    /// those waiting out a back-off.
    public static func forCommandLine(_ env: VigilEnvironment) throws -> ScheduledJobs {
        let config = env.configuration
        let service = try BlockListService.withSigningKey(config)
        return ScheduledJobs(
            db: env.database, clock: env.clock, tokens: env.tokens, configuration: config,
            blockList: service, triage: try TriagePolicy(standardDays: config.standardAssessmentDays),
            runDelayedJobs: true, sealer: env.secrets, catalog: try AppResources.catalog(config))
    }
}
