import FluentKit
import Foundation
import SQLKit
import VigilCore

/// Appends to and reads the hash-chained audit log.
public enum AuditLog {
    /// The store's audited write: behind the write gate (SQLite), in one transaction that starts by taking the
    /// chain's lock, so the change and the audit events that record it commit together, in chain order, and no
    /// other writer decides on reads this one has not seen. Every write that appends to the audit log after
    /// reading goes through here.
    public static func transaction<T: Sendable>(
        _ db: any Database, _ body: @escaping @Sendable (any Database) async throws -> T
    ) async throws -> T {
        try await WriteGate.transaction(db) { tx in
            try await lockChain(on: tx)
            return try await body(tx)
        }
    }

    /// Takes the chain's lock at the start of a transaction that reads before it writes (so that two writers
    /// cannot both decide on stale reads): a row lock on PostgreSQL, the write lock on SQLite.
    public static func lockChain(on tx: any Database) async throws {
        try await tx.sql.raw(
            "UPDATE \(AuditHead.tableName) SET \(AuditHead.lastSeq) = \(AuditHead.lastSeq) WHERE \(AuditHead.id) = 1"
        ).run()
    }

    /// Appends an event inside the caller's transaction: the event commits with the change it records.
    /// The head row is updated first, which serialises appends across connections and processes.
    @discardableResult
    public static func append(
        on tx: any Database, at time: Date, actor: AuditActor, action: String, subject: String,
        details: [String: String] = [:]
    ) async throws -> AuditEvent {
        try await append(on: tx, [Entry(time: time, actor: actor, action: action, subject: subject, details: details)])[
            0]
    }

    /// One event to append.
    public struct Entry: Sendable {
        public let time: Date
        public let actor: AuditActor
        public let action: String
        public let subject: String
        public let details: [String: String]

        public init(time: Date, actor: AuditActor, action: String, subject: String, details: [String: String] = [:]) {
            self.time = time
            self.actor = actor
            self.action = action
            self.subject = subject
            self.details = details
        }
    }

    /// Appends events in order inside the caller's transaction, reading and moving the chain's head once for all of
    /// them (a batch of reports writes one head update, not one per report).
    @discardableResult
    public static func append(on tx: any Database, _ entries: [Entry]) async throws -> [AuditEvent] {
        guard !entries.isEmpty else { return [] }
        let sql = tx.sql
        // Take the row lock (PostgreSQL) / write lock (SQLite) before reading the head. Plain SQL: this runs in
        // every write transaction, and the ORM's reflection showed in profiles.
        try await lockChain(on: tx)
        guard
            let head = try await sql.select().columns(AuditHead.lastSeq, AuditHead.lastHash).from(AuditHead.tableName)
                .where(AuditHead.id, .equal, 1)
                .first()
        else {
            throw StoreError.corrupt("the audit log's head row is missing")
        }
        let lastSeq = try head.decode(AuditHead.lastSeq, as: Int64.self)
        let lastHash = try head.decode(AuditHead.lastHash, as: String.self)
        var previous: (sequence: Int64, hash: String)? = lastSeq == 0 ? nil : (lastSeq, lastHash)
        var events: [AuditEvent] = []
        events.reserveCapacity(entries.count)
        for e in entries {
            let event = AuditChain.next(
                after: previous, time: e.time, actor: e.actor, action: e.action, subject: e.subject, details: e.details)
            events.append(event)
            previous = (event.sequence, event.hash)
        }
        // Many rows per statement, within SQLite's and PostgreSQL's limits on bound parameters.
        for chunk in stride(from: 0, to: events.count, by: 100).map({ events[$0..<min($0 + 100, events.count)] }) {
            var insert = sql.insert(into: AuditEvents.tableName)
                .columns(
                    AuditEvents.seq, AuditEvents.timeMS, AuditEvents.actorKind, AuditEvents.actorID, AuditEvents.action,
                    AuditEvents.subject, AuditEvents.details, AuditEvents.prevHash, AuditEvents.hash)
            for event in chunk {
                insert = insert.values(
                    SQLBind(event.sequence), SQLBind(AuditChain.milliseconds(event.time)), SQLBind(event.actor.kind),
                    SQLBind(event.actor.identifier), SQLBind(event.action), SQLBind(event.subject),
                    SQLBind(event.detailsJSON),
                    SQLBind(event.previousHash), SQLBind(event.hash))
            }
            try await insert.run()
        }
        let last = events[events.count - 1]
        try await sql.update(AuditHead.tableName).set(AuditHead.lastSeq, to: last.sequence).set(
            AuditHead.lastHash, to: last.hash
        )
        .where(AuditHead.id, .equal, 1).run()
        return events
    }

    /// Filters for the auditor's page.
    public struct Filter: Sendable, Equatable {
        public var actor: String?
        public var action: String?
        public var subject: String?
        public var from: Date?
        public var to: Date?
        public init(
            actor: String? = nil, action: String? = nil, subject: String? = nil, from: Date? = nil, to: Date? = nil
        ) {
            self.actor = actor
            self.action = action
            self.subject = subject
            self.from = from
            self.to = to
        }
    }

    /// Newest first, `per` events from `page` (1-based); also the total that match.
    public static func list(on db: any Database, filter: Filter, page: Int, per: Int) async throws
        -> (events: [AuditEvent], total: Int)
    {
        var q = AuditEventModel.query(on: db)
        if let a = filter.actor, !a.isEmpty {
            if let colon = a.firstIndex(of: ":") {
                q = q.filter(\.$actorKind == String(a[..<colon])).filter(
                    \.$actorID == String(a[a.index(after: colon)...]))
            } else {
                q = q.group(.or) { $0.filter(\.$actorID == a).filter(\.$actorKind == a) }
            }
        }
        if let a = filter.action, !a.isEmpty { q = q.filter(\.$action == a) }
        if let s = filter.subject, !s.isEmpty { q = q.filter(\.$subject == s) }
        if let f = filter.from { q = q.filter(\.$timeMS >= AuditChain.milliseconds(f)) }
        if let t = filter.to { q = q.filter(\.$timeMS < AuditChain.milliseconds(t)) }
        let total = try await q.copy().count()
        let rows = try await q.sort(\.$id, .descending).range(((page - 1) * per)..<(page * per)).all()
        return (rows.map(event(from:)), total)
    }

    /// The distinct actions recorded, for the filter's menu.
    public static func actions(on db: any Database) async throws -> [String] {
        try await AuditEventModel.query(on: db).unique().all(\.$action).sorted()
    }

    /// Walks the whole chain in order and checks every link and the head.
    /// - Returns: the number of events verified.
    /// - Throws: `AuditChain.Failure` naming the first event that does not verify.
    public static func verify(on db: any Database, batch: Int = 5000) async throws -> Int64 {
        var verifier = AuditChain.Verifier()
        var after: Int64 = 0
        while true {
            let rows = try await AuditEventModel.query(on: db).filter(\.$id > after).sort(\.$id, .ascending)
                .limit(batch).all()
            for r in rows { try verifier.check(event(from: r)) }
            guard let last = rows.last?.id else { break }
            after = last
        }
        guard let head = try await AuditHeadModel.find(1, on: db) else {
            throw StoreError.corrupt("the audit log's head row is missing")
        }
        try verifier.checkHead(sequence: head.lastSequence, hash: head.lastHash)
        return verifier.verified
    }

    static func event(from r: AuditEventModel) -> AuditEvent {
        AuditEvent(
            sequence: r.id ?? 0, time: Date(timeIntervalSince1970: Double(r.timeMS) / 1000),
            actor: AuditActor(kind: r.actorKind, identifier: r.actorID), action: r.action, subject: r.subject,
            detailsJSON: r.details, previousHash: r.previousHash, hash: r.hash)
    }
}

/// Errors from the store that a person can act on.
public enum StoreError: VigilFailure, Equatable {
    public var kind: FailureKind {
        switch self {
        case .corrupt: .internalFailure
        case .notFound: .notFound
        case .conflict: .conflict
        case .invalid: .invalid
        case .unreachable: .unavailable
        }
    }

    public var code: String {
        switch self {
        case .corrupt: "store.corrupt"
        case .notFound: "store.not-found"
        case .conflict: "store.conflict"
        case .invalid: "store.invalid"
        case .unreachable: "store.unreachable"
        }
    }

    case corrupt(String)
    case notFound(String)
    case conflict(String)
    case invalid(String)
    case unreachable(String)

    public var description: String {
        switch self {
        case .corrupt(let s): "database is inconsistent: \(s)"
        case .notFound(let s): s
        case .conflict(let s): s
        case .invalid(let s): s
        case .unreachable(let s): s
        }
    }
}
