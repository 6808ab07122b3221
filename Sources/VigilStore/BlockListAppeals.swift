import FluentKit
import Foundation
import SQLKit
import VigilCore

/// What a supervisor decides on an appeal.
public enum AppealDecision: String, Sendable, CaseIterable {
    /// Take the entry out of the next version at once while the appeal is looked at.
    case suspend
    /// The appellant is right: the entry is removed for good.
    case uphold
    /// The entry stays (a suspended entry is reinstated).
    case reject
}

/// What the appellant sees of their appeal.
public enum AppealState: String, Sendable {
    case received
    case suspended
    case upheld
    case rejected

    public var isOpen: Bool { self == .received || self == .suspended }
}

extension BlockListStore {
    /// One appeal, as a supervisor sees it (the contact stays sealed).
    public struct Appeal: Sendable {
        public let reference: String
        public let target: String
        public let entryID: Int64?
        public let grounds: String
        public let hasContact: Bool
        public let language: String
        public let state: AppealState
        public let outcome: String?
        public let decidedBy: String?
        public let createdAt: Date
    }

    static func appeal(_ r: any SQLRow) throws -> Appeal {
        Appeal(
            reference: try r.decode(Appeals.reference, as: String.self),
            target: try r.decode(Appeals.target, as: String.self),
            entryID: try r.decode(Appeals.entryID, as: Int64?.self),
            grounds: try r.decode(Appeals.grounds, as: String.self),
            hasContact: try r.decode(Appeals.contactSealed, as: String?.self) != nil,
            language: try r.decode(Appeals.language, as: String.self),
            state: AppealState(rawValue: try r.decode(Appeals.state, as: String.self)) ?? .received,
            outcome: try r.decode(Appeals.outcome, as: String?.self),
            decidedBy: try r.decode(Appeals.decidedBy, as: String?.self),
            createdAt: date(try r.decode(Appeals.createdMS, as: Int64.self))!)
    }

    public static let appealOutcomeJob = "appeal-outcome"

    /// The appellant's contact, opened for telling them the outcome.
    public func sealedContact(_ reference: String) async throws -> Data? {
        guard
            let r = try await sql.select().column(Appeals.contactSealed).from(Appeals.tableName).where(
                Appeals.reference, .equal, reference
            ).first(),
            let text = try r.decode(Appeals.contactSealed, as: String?.self)
        else { return nil }
        return Data(base64Encoded: text)
    }

    /// Deletes the appellant's contact once it has served (audited): nothing personal is kept longer than needed.
    public func forgetContact(_ reference: String, why: String) async throws {
        let now = clock.now()
        try await AuditLog.transaction(db) { tx in
            try await tx.sql.update(Appeals.tableName).set(Appeals.contactSealed, to: SQLLiteral.null).where(
                Appeals.reference, .equal, reference
            ).run()
            try await AuditLog.append(
                on: tx, at: now, actor: .job(Self.appealOutcomeJob), action: "appeal.contact-deleted",
                subject: "appeal:\(reference)",
                details: ["why": why])
        }
    }

    /// The listed entry an appellant's URL, domain or newsgroup refers to, if any (active, suspended or expired).
    public func entryMatching(_ text: String) async throws -> ListEntry? {
        var candidates: [String] = []
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if let group = try? Newsgroup.normalize(trimmed), !trimmed.contains("/") { candidates.append(group) }
        if let expressions = try? CanonicalURL.lookupExpressions(trimmed) {
            candidates += expressions
            if let canonical = try? CanonicalURL.canonicalize(trimmed), let host = CanonicalURL.host(of: canonical) {
                var parts = host.split(separator: ".")
                while parts.count >= 2 {
                    candidates.append(parts.joined(separator: "."))
                    parts.removeFirst()
                }
            }
        }
        guard !candidates.isEmpty else { return nil }
        let rows = try await sql.select().column("*").from(ListEntries.tableName).where(
            ListEntries.value, .in, Array(Set(candidates))
        )
        .where(
            ListEntries.state, .in,
            [ListEntryState.active.rawValue, ListEntryState.suspended.rawValue, ListEntryState.expired.rawValue]
        )
        .orderBy(ListEntries.id, .descending).all()
        return try rows.map(Self.entry).first
    }

    /// Records an appeal from the public; returns its reference (`A-XXXX-XXXX`).
    public func submitAppeal(
        target: String, grounds: String, contact: String?, language: String,
        sealer: ContactSealer?, tokens: any TokenSource
    ) async throws -> String {
        let target = String(target.trimmingCharacters(in: .whitespacesAndNewlines).prefix(2000))
        let grounds = String(grounds.trimmingCharacters(in: .whitespacesAndNewlines).prefix(5000))
        guard !target.isEmpty else { throw StoreError.invalid("say which address or newsgroup the appeal is about") }
        guard !grounds.isEmpty else { throw StoreError.invalid("say why the entry is wrong") }
        let reference = "A-" + String(ReportReference(randomFrom: tokens).description.dropFirst(2))
        var sealedContact: String?
        if let contact = contact?.trimmingCharacters(in: .whitespacesAndNewlines), !contact.isEmpty, let sealer {
            sealedContact = try sealer.seal(contact, reportID: reference).base64EncodedString()
        }
        let sealed = sealedContact
        let entry = try await entryMatching(target)
        let now = clock.now()
        try await AuditLog.transaction(db) { tx in
            let sql = tx.sql
            try await sql.insert(into: Appeals.tableName)
                .columns(
                    Appeals.reference, Appeals.target, Appeals.entryID, Appeals.grounds, Appeals.contactSealed,
                    Appeals.language, Appeals.state, Appeals.createdMS
                )
                .values(
                    SQLBind(reference), SQLBind(target), SQLBind(entry?.id), SQLBind(grounds), SQLBind(sealed),
                    SQLBind(language),
                    SQLBind(AppealState.received.rawValue), SQLBind(Self.ms(now))
                ).run()
            var details: [String: String] = [:]
            if let entry { details["entry"] = String(entry.id) }
            try await AuditLog.append(
                on: tx, at: now, actor: .publicVisitor, action: "appeal.submit", subject: "appeal:\(reference)",
                details: details)
        }
        return reference
    }

    public func appeal(_ reference: String) async throws -> Appeal? {
        let ref = reference.trimmingCharacters(in: .whitespaces).uppercased()
        return try await sql.select().column("*").from(Appeals.tableName).where(Appeals.reference, .equal, ref).first()
            .map(
                Self.appeal)
    }

    public func appeals(openOnly: Bool) async throws -> [Appeal] {
        var q = sql.select().column("*").from(Appeals.tableName)
        if openOnly {
            q = q.where(Appeals.state, .in, [AppealState.received.rawValue, AppealState.suspended.rawValue])
        }
        return try await q.orderBy(Appeals.createdMS).limit(500).all().map(Self.appeal)
    }

    /// A supervisor decides: suspend now, uphold (the entry is removed), or reject (the entry stays). The decider
    /// may be neither the entry's proposer nor its verifier.
    public func decideAppeal(_ reference: String, decision: AppealDecision, outcome: String, by user: String)
        async throws -> Appeal
    {
        guard let appeal = try await appeal(reference) else { throw StoreError.notFound("no appeal \(reference)") }
        guard appeal.state.isOpen else { throw StoreError.conflict("this appeal was already decided") }
        let note = outcome.trimmingCharacters(in: .whitespacesAndNewlines)
        if decision != .suspend, note.isEmpty {
            throw StoreError.invalid("record the reasons for the decision: the appellant reads them")
        }
        if let id = appeal.entryID, let e = try await entry(id)?.entry, e.proposedBy == user || e.verifiedBy == user {
            throw ListEntryError.appealDeciderInvolved
        }
        let now = clock.now()
        let policy = policy
        try await AuditLog.transaction(db) { tx in
            let sql = tx.sql
            if let id = appeal.entryID,
                let r = try await sql.select().column("*").from(ListEntries.tableName).where(ListEntries.id, .equal, id)
                    .first()
            {
                var e = try Self.entry(r)
                let before = e.state
                switch decision {
                case .suspend: if e.state != .suspended { try? policy.suspend(&e) }
                case .uphold: try? policy.remove(&e, reason: "appeal \(appeal.reference) upheld")
                case .reject: if e.state == .suspended { try? policy.reinstate(&e, at: now) }
                }
                if e.state != before {
                    try await Self.save(e, detail: nil, on: sql, at: now)
                    try await AuditLog.append(
                        on: tx, at: now, actor: .user(user), action: "list.\(decision.rawValue)",
                        subject: "list-entry:\(id)",
                        details: ["appeal": appeal.reference, "state": e.state.rawValue])
                }
            }
            let state: AppealState =
                switch decision {
                case .suspend: .suspended
                case .uphold: .upheld
                case .reject: .rejected
                }
            var q = sql.update(Appeals.tableName).set(Appeals.state, to: state.rawValue)
            if decision != .suspend {
                q = q.set(Appeals.outcome, to: note).set(Appeals.decidedBy, to: user).set(
                    Appeals.decidedMS, to: Self.ms(now))
            }
            try await q.where(Appeals.reference, .equal, appeal.reference).run()
            // The appellant who left a contact is told the outcome by a job that commits with the decision.
            if decision != .suspend, appeal.hasContact {
                try await JobQueue(db: tx, clock: clock, owner: "appeals").enqueue(
                    Self.appealOutcomeJob, payload: "{\"appeal\":\"\(appeal.reference)\"}", on: tx)
            }
            try await AuditLog.append(
                on: tx, at: now, actor: .user(user), action: "appeal.\(decision.rawValue)",
                subject: "appeal:\(appeal.reference)",
                details: note.isEmpty ? [:] : ["outcome": String(note.prefix(200))])
        }
        return try await self.appeal(appeal.reference)!
    }

    // MARK: public statistics (never addresses)

    public struct Statistics: Sendable {
        public var currentVersion: Int64?
        public var publishedByKind: [ListEntryKind: Int] = [:]
        /// Published entries by days since first proposed: "under 7 days", "7–30 days", "30–90 days", "over 90 days".
        public var ageBuckets: [(label: String, count: Int)] = []
        /// Additions and removals over every version, by reason.
        public var changes: [(change: String, reason: String, count: Int)] = []
        public var appeals: [AppealState: Int] = [:]
        public var versions: Int = 0
    }

    public func statistics() async throws -> Statistics {
        let now = clock.now()
        var s = Statistics()
        let versions = try await self.versions(limit: 1)
        s.currentVersion = versions.first?.version
        s.versions =
            try await sql.select().column(SQLFunction("count", args: SQLLiteral.all), as: "n").from(
                ListVersions.tableName
            )
            .first()?.decode(column: "n", as: Int.self) ?? 0
        let rows = try await sql.select().columns(ListEntries.kind, ListEntries.proposedMS).from(ListEntries.tableName)
            .where(ListEntries.published, .equal, true)
            .where(ListEntries.canary, .equal, false).all()
        var buckets = [0, 0, 0, 0]
        for r in rows {
            if let kind = ListEntryKind(rawValue: try r.decode(ListEntries.kind, as: String.self)) {
                s.publishedByKind[kind, default: 0] += 1
            }
            let days =
                (now.timeIntervalSince1970 * 1000 - Double(try r.decode(ListEntries.proposedMS, as: Int64.self)))
                / 86_400_000
            buckets[days < 7 ? 0 : days < 30 ? 1 : days < 90 ? 2 : 3] += 1
        }
        s.ageBuckets = zip(["under 7 days", "7–30 days", "30–90 days", "over 90 days"], buckets).map { ($0, $1) }
        let changes = try await sql.raw(
            """
            SELECT \(ListChanges.change), \(ListChanges.reason), COUNT(*) AS n FROM \(ListChanges.tableName)
            GROUP BY \(ListChanges.change), \(ListChanges.reason) ORDER BY \(ListChanges.change), \(ListChanges.reason)
            """
        ).all()
        s.changes = try changes.map {
            (
                try $0.decode(ListChanges.change, as: String.self), try $0.decode(ListChanges.reason, as: String.self),
                try $0.decode(column: "n", as: Int.self)
            )
        }
        for r in try await sql.raw(
            "SELECT \(Appeals.state), COUNT(*) AS n FROM \(Appeals.tableName) GROUP BY \(Appeals.state)"
        ).all() {
            if let st = AppealState(rawValue: try r.decode(Appeals.state, as: String.self)) {
                s.appeals[st] = try r.decode(column: "n", as: Int.self)
            }
        }
        return s
    }
}
