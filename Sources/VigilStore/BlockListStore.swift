import FluentKit
import Foundation
import SQLKit
import VigilCore

/// The block list in the database: entries and their lifecycle, immutable versions, feed downloads, appeals.
/// Every change is audited in its own transaction; publication makes a new version only when the published set
/// changes, and records the change rows that make the version (so any version's content can be rebuilt).
public struct BlockListStore: Sendable {
    public let db: any Database
    public let clock: any VigilClock
    public let policy: ListPolicy
    /// The published criteria an entry must name one of (empty: any non-empty text).
    public let criteria: [String]

    public init(db: any Database, clock: any VigilClock, policy: ListPolicy = ListPolicy(), criteria: [String] = []) {
        self.db = db
        self.clock = clock
        self.policy = policy
        self.criteria = criteria
    }

    var sql: any SQLDatabase { db.sql }

    /// The queued job that publishes a new list version when the publishable set changed.
    public static let publishJob = "list-publish"

    /// Queues a publication in the caller's transaction, now or at `time` (an entry's expiry), unless one is
    /// already waiting for that moment. The server's worker runs it within seconds of its time; every publication
    /// (`BlockListService.publish`) satisfies the requests that are due.
    static func requestPublication(jobs: JobQueue, at time: Date? = nil, on tx: any Database) async throws {
        var waiting = tx.sql.select().column(Jobs.id).from(Jobs.tableName)
            .where(Jobs.name, .equal, publishJob).where(Jobs.state, .equal, JobQueue.State.queued.rawValue)
        if let time {
            waiting = waiting.where(Jobs.runAtMS, .equal, ms(time))
        } else {
            waiting = waiting.where(Jobs.runAtMS, .lessThanOrEqual, ms(jobs.clock.now()))
        }
        if try await waiting.first() == nil { try await jobs.enqueue(publishJob, runAt: time, on: tx) }
    }

    /// Marks every due publication request done (a publication that just ran satisfied them); returns how many.
    @discardableResult
    public func satisfyPublicationRequests() async throws -> Int {
        let now = clock.now()
        return try await WriteGate.transaction(db) { tx in
            let due = try await tx.sql.select().column(Jobs.id).from(Jobs.tableName).where(
                Jobs.name, .equal, Self.publishJob
            )
            .where(Jobs.state, .equal, JobQueue.State.queued.rawValue)
            .where(Jobs.runAtMS, .lessThanOrEqual, Self.ms(now)).all().map {
                try $0.decode(Jobs.id, as: Int64.self)
            }
            guard !due.isEmpty else { return 0 }
            try await tx.sql.update(Jobs.tableName).set(Jobs.state, to: JobQueue.State.done.rawValue)
                .set(Jobs.updatedMS, to: Self.ms(now)).where(Jobs.id, .in, due).run()
            return due.count
        }
    }

    // MARK: entries

    static func ms(_ d: Date) -> Int64 { AuditChain.milliseconds(d) }
    static func date(_ ms: Int64?) -> Date? { ms.map { Date(timeIntervalSince1970: Double($0) / 1000) } }

    static func entry(_ r: any SQLRow) throws -> ListEntry {
        var entry = ListEntry(
            id: try r.decode(ListEntries.id, as: Int64.self),
            target: ListTarget(
                kind: ListEntryKind(rawValue: try r.decode(ListEntries.kind, as: String.self)) ?? .url,
                value: try r.decode(ListEntries.value, as: String.self)),
            criterion: try r.decode(ListEntries.criterion, as: String.self),
            caseID: try r.decode(ListEntries.caseID, as: Int64?.self),
            dedicatedReason: try r.decode(ListEntries.dedicatedReason, as: String?.self),
            state: ListEntryState(rawValue: try r.decode(ListEntries.state, as: String.self)) ?? .removed,
            proposedBy: try r.decode(ListEntries.proposedBy, as: String.self),
            proposedAt: date(try r.decode(ListEntries.proposedMS, as: Int64.self))!,
            verifiedBy: try r.decode(ListEntries.verifiedBy, as: String?.self),
            verifiedAt: date(try r.decode(ListEntries.verifiedMS, as: Int64?.self)),
            expiresAt: date(try r.decode(ListEntries.expiresMS, as: Int64?.self)),
            lastCheckAt: date(try r.decode(ListEntries.checkMS, as: Int64?.self)),
            lastCheck: (try r.decode(ListEntries.checkResult, as: String?.self)).flatMap(
                ListCheckOutcome.init(rawValue:)),
            goneCount: try r.decode(ListEntries.goneCount, as: Int.self),
            canary: try r.decode(ListEntries.canary, as: Bool.self),
            removalReason: try r.decode(ListEntries.removalReason, as: String?.self))
        entry.origin = try r.decode(ListEntries.fetchOrigin, as: String?.self)
        return entry
    }

    /// One entry with its last check's detail and whether it is in the current version.
    public struct EntryDetail: Sendable {
        public let entry: ListEntry
        public let checkDetail: String?
        public let published: Bool
    }

    public func entry(_ id: Int64) async throws -> EntryDetail? {
        guard
            let r = try await sql.select().column("*").from(ListEntries.tableName).where(ListEntries.id, .equal, id)
                .first()
        else {
            return nil
        }
        return EntryDetail(
            entry: try Self.entry(r), checkDetail: try r.decode(ListEntries.checkDetail, as: String?.self),
            published: try r.decode(ListEntries.published, as: Bool.self))
    }

    /// Entries, newest first, optionally of one state or kind.
    public func entries(state: ListEntryState? = nil, kind: ListEntryKind? = nil, page: Int = 1, per: Int = 100)
        async throws -> (entries: [ListEntry], total: Int)
    {
        func filtered(_ q: SQLSelectBuilder) -> SQLSelectBuilder {
            var q = q
            if let state { q = q.where(ListEntries.state, .equal, state.rawValue) }
            if let kind { q = q.where(ListEntries.kind, .equal, kind.rawValue) }
            return q
        }
        let total =
            try await filtered(
                sql.select().column(SQLFunction("count", args: SQLLiteral.all), as: "n").from(ListEntries.tableName)
            )
            .first()?.decode(column: "n", as: Int.self) ?? 0
        let rows = try await filtered(sql.select().column("*").from(ListEntries.tableName)).orderBy(
            ListEntries.id, .descending
        )
        .limit(per).offset((max(1, page) - 1) * per).all()
        return (try rows.map(Self.entry), total)
    }

    /// Proposes an entry (first pair of eyes). A second proposal of a target that is already proposed or active
    /// is refused, naming the existing entry.
    public func propose(
        target: ListTarget, criterion: String, caseID: Int64?, dedicatedReason: String?,
        canary: Bool = false, origin: String? = nil, by user: String
    ) async throws -> ListEntry {
        try policy.validateProposal(
            target: target, criterion: criterion, criteria: criteria, caseID: caseID,
            dedicatedReason: dedicatedReason, canary: canary)
        let now = clock.now()
        return try await AuditLog.transaction(db) { tx in
            return try await Self.insertProposal(
                target: target, criterion: criterion, caseID: caseID, dedicatedReason: dedicatedReason, canary: canary,
                origin: origin, actor: .user(user), by: user, at: now, on: tx)
        }
    }

    /// Writes a validated proposal and its audit event in the caller's transaction (which holds the chain lock).
    /// - Throws: `StoreError.conflict` when the target is already proposed, listed or suspended.
    static func insertProposal(
        target: ListTarget, criterion: String, caseID: Int64?, dedicatedReason: String?, canary: Bool,
        origin: String?, actor: AuditActor, by user: String, at now: Date, on tx: any Database
    ) async throws -> ListEntry {
        let sql = tx.sql
        if let caseID,
            try await sql.select().column(Cases.id).from(Cases.tableName).where(Cases.id, .equal, caseID).first() == nil
        {
            throw StoreError.invalid("there is no case \(caseID)")
        }
        if let existing = try await sql.select().column(ListEntries.id).from(ListEntries.tableName).where(
            ListEntries.kind, .equal, target.kind.rawValue
        )
        .where(ListEntries.value, .equal, target.value).where(
            ListEntries.state, .in,
            [ListEntryState.proposed.rawValue, ListEntryState.active.rawValue, ListEntryState.suspended.rawValue]
        )
        .first() {
            throw StoreError.conflict(
                "this target is already on the list as entry \(try existing.decode(ListEntries.id, as: Int64.self))")
        }
        let row = try await sql.insert(into: ListEntries.tableName)
            .columns(
                ListEntries.kind, ListEntries.value, ListEntries.criterion, ListEntries.caseID,
                ListEntries.dedicatedReason, ListEntries.state, ListEntries.proposedBy, ListEntries.proposedMS,
                ListEntries.goneCount, ListEntries.canary, ListEntries.published, ListEntries.updatedMS,
                ListEntries.fetchOrigin
            )
            .values(
                SQLBind(target.kind.rawValue), SQLBind(target.value), SQLBind(criterion), SQLBind(caseID),
                SQLBind(dedicatedReason), SQLBind(ListEntryState.proposed.rawValue), SQLBind(user),
                SQLBind(ms(now)),
                SQLBind(0), SQLBind(canary), SQLBind(false), SQLBind(ms(now)),
                SQLBind(target.kind == .newsgroup ? nil : origin)
            )
            .returning(ListEntries.id).first()
        let id = try row!.decode(ListEntries.id, as: Int64.self)
        var details = ["kind": target.kind.rawValue, "criterion": criterion]
        if let caseID { details["case"] = String(caseID) }
        if canary { details["canary"] = "true" }
        try await AuditLog.append(
            on: tx, at: now, actor: actor, action: "list.propose", subject: "list-entry:\(id)", details: details)
        return ListEntry(
            id: id, target: target, criterion: criterion, caseID: caseID, dedicatedReason: dedicatedReason,
            state: .proposed, proposedBy: user, proposedAt: now, canary: canary)
    }

    /// Changes one entry through the policy and audits it, in one transaction.
    @discardableResult
    func change(
        _ id: Int64, actor: AuditActor, action: String, details: [String: String] = [:],
        _ body: @escaping @Sendable (inout ListEntry, Date) throws -> Void
    ) async throws -> ListEntry {
        let now = clock.now()
        return try await AuditLog.transaction(db) { tx in
            let sql = tx.sql
            guard
                let r = try await sql.select().column("*").from(ListEntries.tableName).where(ListEntries.id, .equal, id)
                    .first()
            else {
                throw StoreError.notFound("no list entry \(id)")
            }
            var entry = try Self.entry(r)
            try body(&entry, now)
            try await Self.save(entry, detail: nil, on: sql, at: now)
            // The publishable set may have changed now, and changes again when this verification runs out.
            let jobs = JobQueue(db: tx, clock: clock, owner: "list")
            try await Self.requestPublication(jobs: jobs, on: tx)
            if entry.state == .active, !entry.canary, let expires = entry.expiresAt {
                try await Self.requestPublication(jobs: jobs, at: expires, on: tx)
            }
            var d = details
            d["state"] = entry.state.rawValue
            try await AuditLog.append(
                on: tx, at: now, actor: actor, action: action, subject: "list-entry:\(id)", details: d)
            return entry
        }
    }

    static func save(_ e: ListEntry, detail: String?, on sql: any SQLDatabase, at now: Date) async throws {
        var q = sql.update(ListEntries.tableName).set(ListEntries.state, to: e.state.rawValue).set(
            ListEntries.verifiedBy, to: e.verifiedBy
        )
        .set(ListEntries.verifiedMS, to: e.verifiedAt.map(ms)).set(ListEntries.expiresMS, to: e.expiresAt.map(ms))
        .set(ListEntries.checkMS, to: e.lastCheckAt.map(ms)).set(ListEntries.checkResult, to: e.lastCheck?.rawValue)
        .set(ListEntries.goneCount, to: e.goneCount).set(ListEntries.removalReason, to: e.removalReason).set(
            ListEntries.updatedMS, to: ms(now))
        if let detail { q = q.set(ListEntries.checkDetail, to: detail) }
        try await q.where(ListEntries.id, .equal, e.id).run()
    }

    /// The second pair of eyes: verifies a proposal, or re-verifies an active or expired entry.
    @discardableResult
    public func verify(_ id: Int64, by user: String) async throws -> ListEntry {
        let policy = policy
        let before = try await entry(id)?.entry.state
        return try await change(id, actor: .user(user), action: before == .proposed ? "list.verify" : "list.reverify") {
            e, now in
            try policy.verify(&e, by: user, at: now)
        }
    }

    @discardableResult
    public func reject(_ id: Int64, by user: String, reason: String) async throws -> ListEntry {
        let policy = policy
        return try await change(id, actor: .user(user), action: "list.reject", details: ["reason": reason]) { e, _ in
            try policy.reject(&e, by: user, reason: reason)
        }
    }

    @discardableResult
    public func remove(_ id: Int64, actor: AuditActor, reason: String) async throws -> ListEntry {
        let policy = policy
        return try await change(id, actor: actor, action: "list.remove", details: ["reason": reason]) { e, _ in
            try policy.remove(&e, reason: reason)
        }
    }

    /// Marks active entries whose verification ran out as expired (each audited). Publication leaves them out
    /// whether or not this has run; this makes the state visible to analysts.
    @discardableResult
    public func expireDue() async throws -> Int {
        let now = clock.now()
        let rows = try await sql.select().column(ListEntries.id).from(ListEntries.tableName).where(
            ListEntries.state, .equal, ListEntryState.active.rawValue
        )
        .where(ListEntries.canary, .equal, false).where(ListEntries.expiresMS, .lessThanOrEqual, Self.ms(now)).all()
        let policy = policy
        for r in rows {
            try await change(
                try r.decode(ListEntries.id, as: Int64.self), actor: .job("list-expiry"), action: "list.expire"
            ) { e, now in
                _ = policy.expireIfDue(&e, at: now)
            }
        }
        return rows.count
    }

    /// Records an automated check. Entries gone often enough are marked for removal, and removed at once when
    /// `dropGone` is set (audited). Returns the entry after the check.
    @discardableResult
    public func recordCheck(_ id: Int64, outcome: ListCheckOutcome, detail: String, dropGone: Bool) async throws
        -> ListEntry
    {
        let now = clock.now()
        let policy = policy
        return try await AuditLog.transaction(db) { tx in
            let sql = tx.sql
            guard
                let r = try await sql.select().column("*").from(ListEntries.tableName).where(ListEntries.id, .equal, id)
                    .first()
            else {
                throw StoreError.notFound("no list entry \(id)")
            }
            var e = try Self.entry(r)
            let wasMarked = e.goneCount >= policy.goneChecksForRemoval
            let marked = policy.recordCheck(&e, outcome: outcome, at: now)
            var action: String?
            if marked, dropGone, e.state == .active || e.state == .expired {
                try? policy.remove(&e, reason: "content gone (automated check)")
                action = "list.remove"
            } else if marked, !wasMarked {
                action = "list.marked-gone"
            }
            try await Self.save(e, detail: String(detail.prefix(500)), on: sql, at: now)
            if let action {
                try await AuditLog.append(
                    on: tx, at: now, actor: .job("list-check"), action: action, subject: "list-entry:\(id)",
                    details: ["check": outcome.rawValue, "detail": String(detail.prefix(200))])
            }
            return e
        }
    }

    /// Active URL-like entries due for an automated check (never checked, or last checked before `cutoff`).
    public func dueForCheck(before cutoff: Date, limit: Int) async throws -> [ListEntry] {
        let rows = try await sql.select().column("*").from(ListEntries.tableName).where(
            ListEntries.state, .equal, ListEntryState.active.rawValue
        )
        .where(ListEntries.canary, .equal, false).where(
            ListEntries.kind, .in,
            [ListEntryKind.url.rawValue, ListEntryKind.prefix.rawValue, ListEntryKind.domain.rawValue]
        )
        .where {
            $0.where(ListEntries.checkMS, .is, SQLLiteral.null).orWhere(ListEntries.checkMS, .lessThan, Self.ms(cutoff))
        }
        .orderBy(ListEntries.checkMS).limit(limit).all()
        return try rows.map(Self.entry)
    }

    // MARK: publication

    /// Cases under a law-enforcement hold now.
    func heldCases(on sql: any SQLDatabase, at now: Date) async throws -> Set<Int64> {
        let rows = try await sql.select().column(Cases.id).from(Cases.tableName)
            .where(Cases.holdExpiresMS, .greaterThan, AuditChain.milliseconds(now)).all()
        return Set(try rows.map { try $0.decode(Cases.id, as: Int64.self) })
    }

    /// A published version's number, time and size.
    public struct VersionInfo: Sendable, Equatable {
        public let version: Int64
        public let createdAt: Date
        public let entryCount: Int
        public let added: Int
        public let removed: Int
    }

    /// Makes a new version when the set of publishable entries differs from the current version (or when there
    /// is no version yet: version 1 may be empty); returns it, or `nil` when nothing changed.
    @discardableResult
    public func publish(actor: AuditActor = .job("list-publish")) async throws -> VersionInfo? {
        let now = clock.now()
        return try await AuditLog.transaction(db) { tx in
            let sql = tx.sql
            let held = try await heldCases(on: sql, at: now)
            let rows = try await sql.select().columns(
                ListEntries.id, ListEntries.kind, ListEntries.value, ListEntries.state, ListEntries.caseID,
                ListEntries.expiresMS, ListEntries.canary, ListEntries.published
            )
            .from(ListEntries.tableName).where {
                $0.where(ListEntries.published, .equal, true).orWhere(
                    ListEntries.state, .equal, ListEntryState.active.rawValue)
            }.all()
            var adds: [(Int64, String, String, String)] = []
            var removes: [(Int64, String, String, String)] = []
            var count = 0
            for r in rows {
                let id = try r.decode(ListEntries.id, as: Int64.self)
                let state = try r.decode(ListEntries.state, as: String.self)
                let caseID = try r.decode(ListEntries.caseID, as: Int64?.self)
                let canary = try r.decode(ListEntries.canary, as: Bool.self)
                let expires = try r.decode(ListEntries.expiresMS, as: Int64?.self)
                let isHeld = caseID.map(held.contains) ?? false
                let wanted = ListEntry.isPublishable(
                    state: ListEntryState(rawValue: state) ?? .removed, canary: canary, expiresAt: Self.date(expires),
                    at: now, caseHeld: isHeld)
                let published = try r.decode(ListEntries.published, as: Bool.self)
                let kind = try r.decode(ListEntries.kind, as: String.self),
                    value = try r.decode(ListEntries.value, as: String.self)
                if wanted { count += 1 }
                if wanted, !published { adds.append((id, kind, value, isHeld ? "hold lifted" : "verified")) }
                if !wanted, published {
                    let reason = isHeld ? "case held" : state == ListEntryState.active.rawValue ? "expired" : state
                    removes.append((id, kind, value, reason))
                }
            }
            let last =
                try await sql.select().column(SQLFunction("max", args: ListVersions.version), as: "v").from(
                    ListVersions.tableName
                )
                .first()?.decode(column: "v", as: Int64?.self) ?? 0
            // A new installation publishes version 1 even when it is empty, so that ISPs can configure their
            // resolvers and proxies (and `vigil feed export` works) before the first entry.
            guard !adds.isEmpty || !removes.isEmpty || last == 0 else { return nil }
            let version = last + 1
            try await sql.insert(into: ListVersions.tableName).columns(
                ListVersions.version, ListVersions.createdMS, ListVersions.entryCount, ListVersions.added,
                ListVersions.removed
            )
            .values(
                SQLBind(version), SQLBind(Self.ms(now)), SQLBind(count), SQLBind(adds.count), SQLBind(removes.count)
            ).run()
            for (changes, kind) in [(adds, "add"), (removes, "remove")] {
                for chunk in stride(from: 0, to: changes.count, by: 500) {
                    var insert = sql.insert(into: ListChanges.tableName).columns(
                        ListChanges.version, ListChanges.entryID, ListChanges.kind, ListChanges.value,
                        ListChanges.change, ListChanges.reason)
                    for c in changes[chunk..<min(chunk + 500, changes.count)] {
                        insert = insert.values(
                            SQLBind(version), SQLBind(c.0), SQLBind(c.1), SQLBind(c.2), SQLBind(kind), SQLBind(c.3))
                    }
                    try await insert.run()
                    try await sql.update(ListEntries.tableName).set(ListEntries.published, to: kind == "add")
                        .where(ListEntries.id, .in, changes[chunk..<min(chunk + 500, changes.count)].map(\.0)).run()
                }
            }
            try await AuditLog.append(
                on: tx, at: now, actor: actor, action: "list.publish", subject: "list-version:\(version)",
                details: ["entries": String(count), "added": String(adds.count), "removed": String(removes.count)])
            return VersionInfo(
                version: version, createdAt: now, entryCount: count, added: adds.count, removed: removes.count)
        }
    }

    public func versions(limit: Int = 50) async throws -> [VersionInfo] {
        try await sql.select().column("*").from(ListVersions.tableName).orderBy(ListVersions.version, .descending)
            .limit(limit).all().map { r in
                VersionInfo(
                    version: try r.decode(ListVersions.version, as: Int64.self),
                    createdAt: Self.date(try r.decode(ListVersions.createdMS, as: Int64.self))!,
                    entryCount: try r.decode(ListVersions.entryCount, as: Int.self),
                    added: try r.decode(ListVersions.added, as: Int.self),
                    removed: try r.decode(ListVersions.removed, as: Int.self))
            }
    }

    /// The targets of a version, rebuilt from the changes that made it (the current version when `nil`).
    /// - Returns: the version's info and targets, or `nil` when no version exists (yet, or with that number).
    public func targets(at version: Int64? = nil) async throws -> (VersionInfo, [ListTarget])? {
        let info: VersionInfo?
        if let version {
            info = try await versions(limit: Int.max).first { $0.version == version }
        } else {
            info = try await versions(limit: 1).first
        }
        guard let info else { return nil }
        if version == nil {
            // The current version is exactly the entries marked published.
            let rows = try await sql.select().columns(ListEntries.kind, ListEntries.value).from(ListEntries.tableName)
                .where(ListEntries.published, .equal, true).all()
            return (
                info,
                try rows.map {
                    ListTarget(
                        kind: ListEntryKind(rawValue: try $0.decode(ListEntries.kind, as: String.self)) ?? .url,
                        value: try $0.decode(ListEntries.value, as: String.self))
                }
            )
        }
        var ids: [Int64: ListTarget] = [:]
        let rows = try await sql.select().columns(
            ListChanges.entryID, ListChanges.kind, ListChanges.value, ListChanges.change
        ).from(ListChanges.tableName)
            .where(ListChanges.version, .lessThanOrEqual, info.version).orderBy(ListChanges.version).all()
        for r in rows {
            let id = try r.decode(ListChanges.entryID, as: Int64.self)
            if try r.decode(ListChanges.change, as: String.self) == "add" {
                ids[id] = ListTarget(
                    kind: ListEntryKind(rawValue: try r.decode(ListChanges.kind, as: String.self)) ?? .url,
                    value: try r.decode(ListChanges.value, as: String.self))
            } else {
                ids[id] = nil
            }
        }
        return (info, Array(ids.values))
    }

    // MARK: feed downloads

    public func recordDownload(apiKey: String, partner: String, format: String, version: Int64) async throws {
        let now = clock.now()
        try await WriteGate.transaction(db) { tx in
            let sql = tx.sql
            try await sql.insert(into: FeedDownloads.tableName).columns(
                FeedDownloads.apiKey, FeedDownloads.partner, FeedDownloads.format, FeedDownloads.version,
                FeedDownloads.timeMS
            )
            .values(SQLBind(apiKey), SQLBind(partner), SQLBind(format), SQLBind(version), SQLBind(Self.ms(now)))
            .run()
            try await AuditLog.append(
                on: tx, at: now, actor: .apiKey(apiKey), action: "feed.download", subject: "list-version:\(version)",
                details: ["partner": partner, "format": format])
        }
    }

    /// Each partner's last download: which format, which version, when.
    public struct PartnerDownload: Sendable {
        public let partner: String
        public let apiKey: String
        public let format: String
        public let version: Int64
        public let at: Date
    }

    public func partnerCompliance() async throws -> [PartnerDownload] {
        let rows = try await sql.raw(
            """
            SELECT d.partner, d.api_key, d.format, d.version, d.time_ms FROM feed_downloads d
            JOIN (SELECT api_key, MAX(id) AS last FROM feed_downloads GROUP BY api_key) l ON d.id = l.last
            ORDER BY d.partner
            """
        ).all()
        return try rows.map {
            PartnerDownload(
                partner: try $0.decode(FeedDownloads.partner, as: String.self),
                apiKey: try $0.decode(FeedDownloads.apiKey, as: String.self),
                format: try $0.decode(FeedDownloads.format, as: String.self),
                version: try $0.decode(FeedDownloads.version, as: Int64.self),
                at: Self.date(try $0.decode(FeedDownloads.timeMS, as: Int64.self))!)
        }
    }
}

extension BlockListStore {
    /// Keeps exactly one active canary entry for the configured canary domain (none when `nil`): a harmless test
    /// entry, served by Vigil itself, that partners use to check that they apply the current list.
    public func ensureCanary(_ domain: String?) async throws {
        let now = clock.now()
        try await AuditLog.transaction(db) { tx in
            let sql = tx.sql
            let rows = try await sql.select().columns(ListEntries.id, ListEntries.value).from(ListEntries.tableName)
                .where(ListEntries.canary, .equal, true)
                .where(ListEntries.state, .equal, ListEntryState.active.rawValue).all()
            var present = false
            for r in rows {
                let id = try r.decode(ListEntries.id, as: Int64.self)
                if try r.decode(ListEntries.value, as: String.self) == domain { present = true; continue }
                try await sql.update(ListEntries.tableName).set(ListEntries.state, to: ListEntryState.removed.rawValue)
                    .set(ListEntries.removalReason, to: "canary no longer configured").set(
                        ListEntries.updatedMS, to: Self.ms(now)
                    ).where(ListEntries.id, .equal, id).run()
                try await AuditLog.append(
                    on: tx, at: now, actor: .system, action: "list.remove", subject: "list-entry:\(id)",
                    details: ["canary": "true"])
            }
            guard let domain, !present else { return }
            let row = try await sql.insert(into: ListEntries.tableName)
                .columns(
                    ListEntries.kind, ListEntries.value, ListEntries.criterion, ListEntries.state,
                    ListEntries.proposedBy, ListEntries.proposedMS, ListEntries.verifiedBy, ListEntries.verifiedMS,
                    ListEntries.goneCount, ListEntries.canary, ListEntries.published, ListEntries.updatedMS
                )
                .values(
                    SQLBind(ListEntryKind.domain.rawValue), SQLBind(domain), SQLBind("canary"),
                    SQLBind(ListEntryState.active.rawValue),
                    SQLBind("system"), SQLBind(Self.ms(now)), SQLBind("system"), SQLBind(Self.ms(now)), SQLBind(0),
                    SQLBind(true),
                    SQLBind(false), SQLBind(Self.ms(now))
                )
                .returning(ListEntries.id).first()
            try await AuditLog.append(
                on: tx, at: now, actor: .system, action: "list.canary",
                subject: "list-entry:\(try row!.decode(ListEntries.id, as: Int64.self))",
                details: ["domain": domain])
        }
    }
}
