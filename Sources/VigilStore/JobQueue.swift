import FluentKit
import Foundation
import SQLKit
import VigilCore

/// A durable job queue that several server processes share without running a job twice: a job is claimed with a
/// lease (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so concurrent claimers never block on or take the same row;
/// SQLite: one writer at a time); a process that dies mid-job loses its lease when it expires and another process
/// takes the job up. Failures are retried with exponential back-off and, after `maxAttempts`, kept as `failed`:
/// visible and re-runnable, never dropped.
public struct JobQueue: Sendable {
    public let db: any Database
    public let clock: any VigilClock
    /// Who claims: a process identity, recorded on the jobs it holds.
    public let owner: String

    public init(db: any Database, clock: any VigilClock, owner: String) {
        self.db = db
        self.clock = clock
        self.owner = owner
    }

    var sql: any SQLDatabase { db.sql }
    var isPostgres: Bool { sql.dialect.name == "postgresql" }

    public enum State: String, Sendable, CaseIterable {
        case queued, running, done, failed
    }

    public struct Job: Sendable, Equatable {
        public let id: Int64
        public let name: String
        public let payload: String
        public let state: State
        public let attempts: Int
        public let runAt: Date
        public let lastError: String?
        public let lockedBy: String?
    }

    static func job(_ r: any SQLRow) throws -> Job {
        Job(
            id: try r.decode(Jobs.id, as: Int64.self), name: try r.decode(Jobs.name, as: String.self),
            payload: try r.decode(Jobs.payload, as: String.self),
            state: State(rawValue: try r.decode(Jobs.state, as: String.self)) ?? .failed,
            attempts: try r.decode(Jobs.attempts, as: Int.self),
            runAt: Date(timeIntervalSince1970: Double(try r.decode(Jobs.runAtMS, as: Int64.self)) / 1000),
            lastError: try r.decode(Jobs.lastError, as: String?.self),
            lockedBy: try r.decode(Jobs.lockedBy, as: String?.self))
    }

    static func ms(_ d: Date) -> Int64 { AuditChain.milliseconds(d) }

    /// Adds a job, inside the caller's transaction when `on` is given (so the job commits with the change that
    /// caused it).
    @discardableResult
    public func enqueue(
        _ name: String, payload: String = "{}", runAt: Date? = nil, maxAttempts: Int = 12,
        on database: (any Database)? = nil
    ) async throws -> Int64 {
        let now = clock.now()
        @Sendable func insert(_ target: any SQLDatabase) async throws -> Int64 {
            let row = try await target.insert(into: Jobs.tableName)
                .columns(
                    Jobs.name, Jobs.payload, Jobs.state, Jobs.runAtMS, Jobs.attempts, Jobs.maxAttempts, Jobs.createdMS,
                    Jobs.updatedMS
                )
                .values(
                    SQLBind(name), SQLBind(payload), SQLBind(State.queued.rawValue), SQLBind(Self.ms(runAt ?? now)),
                    SQLBind(0),
                    SQLBind(maxAttempts), SQLBind(Self.ms(now)), SQLBind(Self.ms(now))
                )
                .returning(Jobs.id).first()
            return try row!.decode(Jobs.id, as: Int64.self)
        }
        if let database { return try await insert(database.sql) }
        return try await WriteGate.transaction(db) { try await insert($0.sql) }
    }

    /// Claims up to `limit` due jobs (of one name, or any), each leased to this owner for `lease`. A running job
    /// whose lease ran out (its process died) is due again.
    /// `evenIfDelayed` also takes jobs waiting out a back-off or a batching window (an operator's "run it now").
    public func claim(_ name: String? = nil, limit: Int, lease: TimeInterval = 300, evenIfDelayed: Bool = false)
        async throws -> [Job]
    {
        let now = Self.ms(clock.now())
        let dueBy = evenIfDelayed ? Int64.max : now
        let until = now + Int64(lease * 1000)
        var due = SQLQueryString(
            "SELECT \(Jobs.id) FROM \(Jobs.tableName) WHERE ((\(Jobs.state) = 'queued' AND \(Jobs.runAtMS) <= \(bind: dueBy)) OR (\(Jobs.state) = 'running' AND \(Jobs.leaseUntilMS) < \(bind: now)))"
        )
        if let name { due += " AND \(Jobs.name) = \(bind: name)" }
        due += " ORDER BY \(Jobs.runAtMS), \(Jobs.id) LIMIT \(literal: max(1, limit))"
        if isPostgres { due += " FOR UPDATE SKIP LOCKED" }
        let query = SQLQueryString(
            "UPDATE \(Jobs.tableName) SET \(Jobs.state) = 'running', \(Jobs.attempts) = \(Jobs.attempts) + 1, \(Jobs.leaseUntilMS) = \(bind: until), \(Jobs.lockedBy) = \(bind: owner), \(Jobs.updatedMS) = \(bind: now) WHERE \(Jobs.id) IN (\(due)) RETURNING *"
        )
        return try await WriteGate.transaction(db) { tx in
            try await tx.sql.raw(query).all().map(Self.job).sorted { $0.id < $1.id }
        }
    }

    /// Marks a job this owner holds as done. Returns false when the lease was lost (another process took the job).
    @discardableResult
    public func complete(_ job: Job) async throws -> Bool {
        let now = Self.ms(clock.now())
        return try await WriteGate.transaction(db) { tx in
            let rows = try await tx.sql.raw(
                """
                UPDATE \(Jobs.tableName) SET \(Jobs.state) = 'done', \(Jobs.leaseUntilMS) = NULL, \(Jobs.lastError) = NULL,
                \(Jobs.updatedMS) = \(bind: now)
                WHERE \(Jobs.id) = \(bind: job.id) AND \(Jobs.lockedBy) = \(bind: owner) AND \(Jobs.state) = 'running'
                RETURNING \(Jobs.id)
                """
            ).all()
            return !rows.isEmpty
        }
    }

    /// Records a failure: the job runs again after an exponential back-off (30 s, 1 min, 2 min … capped at 1 h),
    /// or stays `failed` once it has used its attempts.
    public func fail(_ job: Job, error: String) async throws {
        let now = clock.now()
        let delay = min(3600, 30 * pow(2, Double(max(0, job.attempts - 1))))
        try await WriteGate.transaction(db) { tx in
            try await tx.sql.raw(
                """
                UPDATE \(Jobs.tableName)
                SET \(Jobs.state) = CASE WHEN \(Jobs.attempts) >= \(Jobs.maxAttempts) THEN 'failed' ELSE 'queued' END,
                \(Jobs.runAtMS) = \(bind: Self.ms(now + delay)), \(Jobs.leaseUntilMS) = NULL,
                \(Jobs.lastError) = \(bind: String(error.prefix(500))), \(Jobs.updatedMS) = \(bind: Self.ms(now))
                WHERE \(Jobs.id) = \(bind: job.id) AND \(Jobs.lockedBy) = \(bind: owner) AND \(Jobs.state) = 'running'
                """
            ).run()
        }
    }

    /// Puts failed jobs (of one name, or all) back in the queue, due now.
    @discardableResult
    public func retryFailed(_ name: String? = nil) async throws -> Int {
        let now = Self.ms(clock.now())
        return try await WriteGate.transaction(db) { tx in
            var q = SQLQueryString(
                "UPDATE \(Jobs.tableName) SET \(Jobs.state) = 'queued', \(Jobs.attempts) = 0, \(Jobs.runAtMS) = \(bind: now), \(Jobs.updatedMS) = \(bind: now) WHERE \(Jobs.state) = 'failed'"
            )
            if let name { q += " AND \(Jobs.name) = \(bind: name)" }
            q += " RETURNING \(Jobs.id)"
            return try await tx.sql.raw(q).all().count
        }
    }

    /// Queue depth and age per job name and state, for `vigil jobs list` and `/metrics`.
    public struct Depth: Sendable, Equatable {
        public let name: String
        public let state: State
        public let count: Int
        /// Seconds since the oldest job in this group became due (0 when none is due yet).
        public let oldestAge: Double
    }

    public func depths() async throws -> [Depth] {
        let now = Self.ms(clock.now())
        let rows = try await sql.raw(
            """
            SELECT \(Jobs.name), \(Jobs.state), COUNT(*) AS n, MIN(\(Jobs.runAtMS)) AS oldest FROM \(Jobs.tableName)
            WHERE \(Jobs.state) <> 'done' GROUP BY \(Jobs.name), \(Jobs.state) ORDER BY \(Jobs.name), \(Jobs.state)
            """
        ).all()
        return try rows.map {
            let oldest = try $0.decode(column: "oldest", as: Int64?.self) ?? now
            return Depth(
                name: try $0.decode(Jobs.name, as: String.self),
                state: State(rawValue: try $0.decode(Jobs.state, as: String.self)) ?? .failed,
                count: try $0.decode(column: "n", as: Int.self), oldestAge: max(0, Double(now - oldest) / 1000))
        }
    }

    public func jobs(state: State? = nil, limit: Int = 100) async throws -> [Job] {
        var q = sql.select().column("*").from(Jobs.tableName)
        if let state { q = q.where(Jobs.state, .equal, state.rawValue) }
        return try await q.orderBy(Jobs.id, .descending).limit(limit).all().map(Self.job)
    }
}
