import FluentKit
import Foundation
import SQLKit
import VigilCore

/// The urgent path's records: the on-call rota, alerts about reports saying a child is in immediate danger, and
/// their one-time acknowledgement links. The escalation itself is `UrgentAlert` (VigilCore); the alerts are sent by
/// `UrgentAlertService` (VigilApp) from the `urgent-alert` job this store queues.
public struct UrgentStore: Sendable {
    public let db: any Database
    public let clock: any VigilClock

    /// The queued job that plans an alert (who is on duty) and sends what its current step has not yet been sent.
    public static let alertJob = "urgent-alert"
    /// The scheduled job that moves unacknowledged alerts to their next step.
    public static let escalateJob = "urgent-escalate"

    public init(db: any Database, clock: any VigilClock) {
        self.db = db
        self.clock = clock
    }

    var sql: any SQLDatabase { db.sql }

    // MARK: rota

    /// A rota shift as stored, with its id for removal.
    public struct Shift: Sendable, Equatable {
        public let id: Int64
        public let shift: RotaShift
    }

    public func shifts() async throws -> [Shift] {
        try await sql.select().columns(RotaShifts.allColumns).from(RotaShifts.tableName)
            .orderBy(RotaShifts.position).orderBy(RotaShifts.id).all().map { r in
                Shift(
                    id: try r.decode(RotaShifts.id, as: Int64.self),
                    shift: RotaShift(
                        username: try r.decode(RotaShifts.username, as: String.self),
                        email: try r.decode(RotaShifts.email, as: String.self),
                        days: Set(
                            try r.decode(RotaShifts.days, as: String.self).split(separator: ",").compactMap { Int($0) }),
                        start: try r.decode(RotaShifts.startMin, as: Int.self),
                        end: try r.decode(RotaShifts.endMin, as: Int.self)))
            }
    }

    /// Adds a shift at the end of the rota (alerted after those before it), audited.
    /// - Throws: ``StoreError/invalid(_:)`` with the sentence for a shift that does not make sense.
    @discardableResult
    public func addShift(_ s: RotaShift, actor: AuditActor) async throws -> Int64 {
        if let problem = RotaShift.problem(
            username: s.username, email: s.email, days: s.days, start: s.start, end: s.end)
        {
            throw StoreError.invalid(problem)
        }
        let now = clock.now()
        return try await AuditLog.transaction(db) { tx in
            let last =
                try await tx.sql.select().column(
                    SQLFunction(
                        "coalesce", args: SQLFunction("max", args: RotaShifts.position), SQLLiteral.numeric("0")),
                    as: "m"
                ).from(RotaShifts.tableName).first()?.decode(column: "m", as: Int.self) ?? 0
            let id =
                try await tx.sql.insert(into: RotaShifts.tableName)
                .columns(
                    RotaShifts.position, RotaShifts.username, RotaShifts.email, RotaShifts.days, RotaShifts.startMin,
                    RotaShifts.endMin, RotaShifts.createdMS
                )
                .values(
                    SQLBind(last + 1), SQLBind(s.username), SQLBind(s.email),
                    SQLBind(s.days.sorted().map(String.init).joined(separator: ",")), SQLBind(s.start), SQLBind(s.end),
                    SQLBind(AuditChain.milliseconds(now))
                ).returning(RotaShifts.id).first()?.decode(RotaShifts.id, as: Int64.self) ?? 0
            try await AuditLog.append(
                on: tx, at: now, actor: actor, action: "rota.shift-added", subject: "rota:\(id)",
                details: [
                    "username": s.username, "days": s.days.sorted().map(String.init).joined(separator: ","),
                    "from": RotaShift.clock(s.start), "to": RotaShift.clock(s.end),
                ])
            return id
        }
    }

    public func removeShift(_ id: Int64, actor: AuditActor) async throws {
        let now = clock.now()
        try await AuditLog.transaction(db) { tx in
            guard
                let row = try await tx.sql.select().column(RotaShifts.username).from(RotaShifts.tableName)
                    .where(RotaShifts.id, .equal, id).first()
            else { throw StoreError.notFound("no rota shift \(id)") }
            try await tx.sql.delete(from: RotaShifts.tableName).where(RotaShifts.id, .equal, id).run()
            try await AuditLog.append(
                on: tx, at: now, actor: actor, action: "rota.shift-removed", subject: "rota:\(id)",
                details: ["username": try row.decode(RotaShifts.username, as: String.self)])
        }
    }

    // MARK: alerts

    /// Raises an alert for the case inside the caller's transaction (a report saying a child is in immediate danger,
    /// or an analyst flagging the case), unless one is already waiting for an acknowledgement; queues the job that
    /// sends it. Returns the alert's id, or nil when one was already open.
    @discardableResult
    static func raise(
        caseID: Int64, at now: Date, clock: any VigilClock, actor: AuditActor, on tx: any Database
    ) async throws -> Int64? {
        let open = try await tx.sql.select().column(UrgentAlertsColumns.id).from(UrgentAlertsColumns.tableName)
            .where(UrgentAlertsColumns.caseID, .equal, caseID)
            .where(UrgentAlertsColumns.state, .in, ["pending", "open", "unanswered"]).first()
        guard open == nil else { return nil }
        let id =
            try await tx.sql.insert(into: UrgentAlertsColumns.tableName)
            .columns(
                UrgentAlertsColumns.caseID, UrgentAlertsColumns.state, UrgentAlertsColumns.notifiedStep,
                UrgentAlertsColumns.raisedMS
            )
            .values(SQLBind(caseID), SQLBind("pending"), SQLBind(-1), SQLBind(AuditChain.milliseconds(now)))
            .returning(UrgentAlertsColumns.id).first()?.decode(UrgentAlertsColumns.id, as: Int64.self) ?? 0
        _ = try await JobQueue(db: tx, clock: clock, owner: "urgent").enqueue(
            alertJob, payload: "{\"alert\":\(id)}", maxAttempts: 40, on: tx)
        try await AuditLog.append(
            on: tx, at: now, actor: actor, action: "urgent.raised", subject: "case:\(caseID)",
            details: ["alert": String(id)])
        return id
    }

    /// An analyst says a child is in immediate danger in a case already on the desk: the case goes to the top of
    /// the queue and the on-call rota is alerted (unless an alert is already waiting). Returns the alert, if new.
    @discardableResult
    public func flagDanger(caseID: Int64, actor: AuditActor) async throws -> Int64? {
        let now = clock.now()
        return try await AuditLog.transaction(db) { tx in
            guard
                try await tx.sql.select().column(Cases.id).from(Cases.tableName).where(Cases.id, .equal, caseID)
                    .first() != nil
            else { throw StoreError.notFound("no case \(caseID)") }
            try await tx.sql.update(Cases.tableName).set(Cases.danger, to: true)
                .set(Cases.deadlineMS, to: AuditChain.milliseconds(now)).set(
                    Cases.updatedMS, to: AuditChain.milliseconds(now)
                )
                .where(Cases.id, .equal, caseID).run()
            try await AuditLog.append(
                on: tx, at: now, actor: actor, action: "case.danger-flagged", subject: "case:\(caseID)", details: [:])
            return try await Self.raise(caseID: caseID, at: now, clock: clock, actor: actor, on: tx)
        }
    }

    /// One alert as stored.
    public struct Alert: Sendable, Equatable {
        public let id: Int64
        public let caseID: Int64
        /// `pending` (not planned yet), `open`, `acknowledged` or `unanswered`.
        public let state: String
        /// The escalation, once planned.
        public let alert: UrgentAlert?
        /// The last step whose recipients were sent the alert (-1 before the first).
        public let notifiedStep: Int
        public let raisedAt: Date
        public let acknowledgedAt: Date?
        public let acknowledgedBy: String?
    }

    static func alert(_ r: any SQLRow) throws -> Alert {
        Alert(
            id: try r.decode(UrgentAlertsColumns.id, as: Int64.self),
            caseID: try r.decode(UrgentAlertsColumns.caseID, as: Int64.self),
            state: try r.decode(UrgentAlertsColumns.state, as: String.self),
            alert: try r.decode(UrgentAlertsColumns.alert, as: String?.self).map {
                try JSONDecoder().decode(UrgentAlert.self, from: Data($0.utf8))
            },
            notifiedStep: try r.decode(UrgentAlertsColumns.notifiedStep, as: Int.self),
            raisedAt: Self.date(try r.decode(UrgentAlertsColumns.raisedMS, as: Int64.self)),
            acknowledgedAt: try r.decode(UrgentAlertsColumns.ackMS, as: Int64?.self).map(Self.date),
            acknowledgedBy: try r.decode(UrgentAlertsColumns.ackBy, as: String?.self))
    }

    static func date(_ ms: Int64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }

    public func alert(_ id: Int64) async throws -> Alert? {
        try await sql.select().columns(UrgentAlertsColumns.allColumns).from(UrgentAlertsColumns.tableName)
            .where(UrgentAlertsColumns.id, .equal, id).first().map(Self.alert)
    }

    /// The latest alerts, newest first, for the rota page.
    public func recentAlerts(limit: Int) async throws -> [Alert] {
        try await sql.select().columns(UrgentAlertsColumns.allColumns).from(UrgentAlertsColumns.tableName)
            .orderBy(UrgentAlertsColumns.id, .descending).limit(limit).all().map(Self.alert)
    }

    /// The case's alerts, newest first.
    public func alerts(caseID: Int64) async throws -> [Alert] {
        try await sql.select().columns(UrgentAlertsColumns.allColumns).from(UrgentAlertsColumns.tableName)
            .where(UrgentAlertsColumns.caseID, .equal, caseID).orderBy(UrgentAlertsColumns.id, .descending).all()
            .map(Self.alert)
    }

    /// Applies an event to an alert in one transaction and audits what the escalation returns; `plan` gives the
    /// escalation of a pending alert (who is on duty now), asked only then. Returns the actions for the caller to
    /// perform (the steps to notify).
    @discardableResult
    public func apply(
        _ event: UrgentAlert.Event, to id: Int64, actor: AuditActor, plan: (() async throws -> UrgentAlert)? = nil
    ) async throws -> [UrgentAlert.Action] {
        let now = clock.now()
        let planned = try await plan?()
        return try await AuditLog.transaction(db) { tx in
            guard
                let row = try await tx.sql.select().columns(UrgentAlertsColumns.allColumns)
                    .from(UrgentAlertsColumns.tableName).where(UrgentAlertsColumns.id, .equal, id).first()
            else { throw StoreError.notFound("no urgent alert \(id)") }
            let stored = try Self.alert(row)
            if stored.alert == nil && stored.state == "acknowledged" {
                // Taken before it was sent: nothing goes out, and nobody takes it twice.
                if case .acknowledge = event {
                    throw StoreError.conflict(
                        "the alert was already acknowledged by \(stored.acknowledgedBy ?? "someone")")
                }
                return []
            }
            guard var value = stored.alert ?? planned else { return [] }
            let actions: [UrgentAlert.Action]
            do {
                actions = try value.handle(event, at: now)
            } catch let refusal as UrgentAlert.Refusal {
                throw StoreError.conflict(refusal.description)
            }
            let state = value.state.rawValue
            try await tx.sql.update(UrgentAlertsColumns.tableName)
                .set(UrgentAlertsColumns.alert, to: String(decoding: try JSONEncoder().encode(value), as: UTF8.self))
                .set(UrgentAlertsColumns.state, to: state)
                .set(UrgentAlertsColumns.stepStartedMS, to: value.stepStarted.map(AuditChain.milliseconds))
                .set(UrgentAlertsColumns.ackMS, to: value.acknowledgedAt.map(AuditChain.milliseconds))
                .set(UrgentAlertsColumns.ackBy, to: value.acknowledgedBy)
                .where(UrgentAlertsColumns.id, .equal, id).run()
            var entries: [AuditLog.Entry] = []
            for case .audit(let name, var details) in actions {
                details["alert"] = String(id)
                entries.append(
                    AuditLog.Entry(
                        time: now, actor: actor, action: name, subject: "case:\(stored.caseID)", details: details))
            }
            try await AuditLog.append(on: tx, entries)
            // An escalated step is sent by the `urgent-alert` job (retried by the queue when the relay is down).
            if case .deadlinePassed = event, actions.contains(where: { if case .notify = $0 { true } else { false } }) {
                _ = try await JobQueue(db: tx, clock: clock, owner: "urgent").enqueue(
                    Self.alertJob, payload: "{\"alert\":\(id)}", maxAttempts: 40, on: tx)
            }
            return actions
        }
    }

    /// Records that the recipients of `step` were sent the alert.
    public func markNotified(_ id: Int64, step: Int) async throws {
        try await sql.update(UrgentAlertsColumns.tableName).set(UrgentAlertsColumns.notifiedStep, to: step)
            .where(UrgentAlertsColumns.id, .equal, id).where(UrgentAlertsColumns.notifiedStep, .lessThan, step).run()
    }

    /// Open alerts whose current step has waited `ackAfter` without an acknowledgement.
    public func due(ackAfter: TimeInterval) async throws -> [Int64] {
        let limit = AuditChain.milliseconds(clock.now() - ackAfter)
        return try await sql.select().column(UrgentAlertsColumns.id).from(UrgentAlertsColumns.tableName)
            .where(UrgentAlertsColumns.state, .equal, "open")
            .where(UrgentAlertsColumns.stepStartedMS, .lessThanOrEqual, limit)
            .orderBy(UrgentAlertsColumns.id).all().map { try $0.decode(UrgentAlertsColumns.id, as: Int64.self) }
    }

    /// Claims the delivery of one step to one recipient (an address, or `webhook`) and returns the token of its
    /// acknowledgement link (only its hash is kept); nil when it was sent already, or another process is sending it
    /// now. A claim left by a process that died (over 5 minutes without being sent) is taken over.
    public func claimDelivery(alert id: Int64, step: Int, address: String) async throws -> String? {
        let now = clock.now()
        if let row = try await sql.select().columns(UrgentTokens.sentMS, UrgentTokens.createdMS)
            .from(UrgentTokens.tableName).where(UrgentTokens.alertID, .equal, id)
            .where(UrgentTokens.step, .equal, step).where(UrgentTokens.address, .equal, address).first()
        {
            if try row.decode(UrgentTokens.sentMS, as: Int64?.self) != nil { return nil }
            let claimed = Self.date(try row.decode(UrgentTokens.createdMS, as: Int64.self))
            guard now.timeIntervalSince(claimed) > 300 else { return nil }
            try await releaseDelivery(alert: id, step: step, address: address)
        }
        let token = SystemTokenSource().urlSafeToken(bytes: 24)
        do {
            try await sql.insert(into: UrgentTokens.tableName)
                .columns(
                    UrgentTokens.tokenHash, UrgentTokens.alertID, UrgentTokens.step, UrgentTokens.address,
                    UrgentTokens.createdMS
                )
                .values(
                    SQLBind(sha256Hex(token)), SQLBind(id), SQLBind(step), SQLBind(address),
                    SQLBind(AuditChain.milliseconds(now))
                ).run()
        } catch {
            // The unique index: another process claimed it between the look and the insert.
            if try await sql.select().column(UrgentTokens.tokenHash).from(UrgentTokens.tableName)
                .where(UrgentTokens.alertID, .equal, id).where(UrgentTokens.step, .equal, step)
                .where(UrgentTokens.address, .equal, address).first() != nil
            {
                return nil
            }
            throw error
        }
        return token
    }

    /// The claimed delivery went out.
    public func deliverySent(alert id: Int64, step: Int, address: String) async throws {
        try await sql.update(UrgentTokens.tableName).set(UrgentTokens.sentMS, to: AuditChain.milliseconds(clock.now()))
            .where(UrgentTokens.alertID, .equal, id).where(UrgentTokens.step, .equal, step)
            .where(UrgentTokens.address, .equal, address).run()
    }

    /// The claimed delivery failed: the next attempt claims it afresh (with a new link).
    public func releaseDelivery(alert id: Int64, step: Int, address: String) async throws {
        try await sql.delete(from: UrgentTokens.tableName).where(UrgentTokens.alertID, .equal, id)
            .where(UrgentTokens.step, .equal, step).where(UrgentTokens.address, .equal, address)
            .where(UrgentTokens.sentMS, .is, SQLLiteral.null).run()
    }

    /// Alerts raised over `olderThan` seconds ago and still not planned (their job failed or never ran).
    public func stalePending(olderThan: TimeInterval) async throws -> [Int64] {
        try await sql.select().column(UrgentAlertsColumns.id).from(UrgentAlertsColumns.tableName)
            .where(UrgentAlertsColumns.state, .equal, "pending")
            .where(UrgentAlertsColumns.raisedMS, .lessThanOrEqual, AuditChain.milliseconds(clock.now() - olderThan))
            .orderBy(UrgentAlertsColumns.id).all().map { try $0.decode(UrgentAlertsColumns.id, as: Int64.self) }
    }

    /// The alert a one-time link belongs to, and to whom it was sent; nil for an unknown token.
    public func link(_ token: String) async throws -> (alert: Alert, address: String, used: Bool)? {
        guard
            let t = try await sql.select().columns(UrgentTokens.allColumns).from(UrgentTokens.tableName)
                .where(UrgentTokens.tokenHash, .equal, sha256Hex(token)).first(),
            let alert = try await alert(try t.decode(UrgentTokens.alertID, as: Int64.self))
        else { return nil }
        return (
            alert, try t.decode(UrgentTokens.address, as: String.self),
            try t.decode(UrgentTokens.usedMS, as: Int64?.self) != nil
        )
    }

    /// Acknowledges through a one-time link: the alert is taken by the link's recipient; the link is spent.
    /// - Throws: ``StoreError/notFound(_:)`` for an unknown link, ``StoreError/conflict(_:)`` when the alert was
    ///   already acknowledged (the sentence says by whom).
    public func acknowledge(token: String) async throws -> Alert {
        guard let (alert, address, _) = try await link(token) else {
            throw StoreError.notFound("this acknowledgement link is not known")
        }
        try await apply(.acknowledge(by: address, via: "link"), to: alert.id, actor: .publicVisitor)
        try await sql.update(UrgentTokens.tableName).set(UrgentTokens.usedMS, to: AuditChain.milliseconds(clock.now()))
            .where(UrgentTokens.tokenHash, .equal, sha256Hex(token)).run()
        return try await self.alert(alert.id) ?? alert
    }

    /// A staff member of the desk opened the case: its waiting alerts count as acknowledged by them, also one not
    /// sent yet (then nobody is disturbed).
    public func acknowledgeOnOpen(caseID: Int64, by user: String) async throws {
        for a in try await alerts(caseID: caseID) where a.state != "acknowledged" {
            if a.state == "pending" {
                try await acknowledgePending(a, by: user)
                continue
            }
            do {
                try await apply(.acknowledge(by: user, via: "case-page"), to: a.id, actor: .user(user))
            } catch StoreError.conflict {
                continue  // acknowledged meanwhile
            }
        }
    }

    /// An alert acknowledged before its job planned it: recorded, so the job sends nothing.
    func acknowledgePending(_ a: Alert, by user: String) async throws {
        let now = clock.now()
        try await AuditLog.transaction(db) { tx in
            guard
                let row = try await tx.sql.select().column(UrgentAlertsColumns.state).from(
                    UrgentAlertsColumns.tableName
                )
                .where(UrgentAlertsColumns.id, .equal, a.id).first(),
                try row.decode(UrgentAlertsColumns.state, as: String.self) == "pending"
            else { return }
            try await tx.sql.update(UrgentAlertsColumns.tableName).set(UrgentAlertsColumns.state, to: "acknowledged")
                .set(UrgentAlertsColumns.ackMS, to: AuditChain.milliseconds(now)).set(
                    UrgentAlertsColumns.ackBy, to: user
                )
                .where(UrgentAlertsColumns.id, .equal, a.id).run()
            try await AuditLog.append(
                on: tx, at: now, actor: .user(user), action: "urgent.acknowledged", subject: "case:\(a.caseID)",
                details: ["by": user, "via": "case-page", "step": "-1", "alert": String(a.id)])
        }
    }

    /// Alerts nobody has acknowledged yet (pending, open or unanswered), for `/metrics`.
    public func unacknowledgedCount() async throws -> Int {
        try await sql.select().column(SQLFunction("count", args: SQLLiteral.all), as: "n")
            .from(UrgentAlertsColumns.tableName).where(
                UrgentAlertsColumns.state, .in, ["pending", "open", "unanswered"]
            )
            .first()?.decode(column: "n", as: Int.self) ?? 0
    }

    /// Time to acknowledge per month the alert was raised: (month, acknowledged, p50, p90 seconds, unacknowledged).
    public struct AckFigures: Sendable, Equatable {
        public let month: Month
        public let raised: Int
        public let acknowledged: Int
        public let median: TimeInterval?
        public let p90: TimeInterval?
    }

    public func ackFigures() async throws -> [AckFigures] {
        var byMonth: [Month: (raised: Int, times: [TimeInterval])] = [:]
        for r in try await sql.select().columns(UrgentAlertsColumns.raisedMS, UrgentAlertsColumns.ackMS)
            .from(UrgentAlertsColumns.tableName).all()
        {
            let raised = Self.date(try r.decode(UrgentAlertsColumns.raisedMS, as: Int64.self))
            let m = Month(containing: raised)
            var entry = byMonth[m] ?? (0, [])
            entry.raised += 1
            if let ack = try r.decode(UrgentAlertsColumns.ackMS, as: Int64?.self) {
                entry.times.append(max(0, Self.date(ack).timeIntervalSince(raised)))
            }
            byMonth[m] = entry
        }
        return byMonth.sorted { $0.key > $1.key }.map { m, e in
            let s = DurationSummary(e.times)
            return AckFigures(month: m, raised: e.raised, acknowledged: e.times.count, median: s.median, p90: s.p90)
        }
    }
}
