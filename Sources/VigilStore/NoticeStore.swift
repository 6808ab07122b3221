import FluentKit
import Foundation
import SQLKit
import VigilCore

/// Notice and takedown in the database: where each case's content is hosted (as the analyst or attribution found
/// it), notices grouped per abuse contact (a provider gets one notice for many URLs), sends and re-sends, removal
/// as rechecks find it, and the time-to-removal figures.
public struct NoticeStore: Sendable {
    public static let prepareJob = "notice-prepare"
    public static let sendJob = "notice-send"

    public let db: any Database
    public let clock: any VigilClock

    public init(db: any Database, clock: any VigilClock) {
        self.db = db
        self.clock = clock
    }

    var sql: any SQLDatabase { db.sql }
    static func ms(_ d: Date) -> Int64 { AuditChain.milliseconds(d) }
    static func date(_ ms: Int64?) -> Date? { ms.map { Date(timeIntervalSince1970: Double($0) / 1000) } }

    // MARK: hosting

    public static let attributeJob = "case-attribute"
    /// The queued job that refers a case to the partner hotline of a country an analyst chose.
    public static let partnerReferralJob = "case-refer-partner"

    public struct Hosting: Sendable, Equatable {
        public var country: String?
        public var network: String?
        public var abuseContact: String?
        public var source: String
        /// The domain registrar's abuse contact (RDAP), notified too when the operator turns that on.
        public var registrarContact: String? = nil
        /// What automated attribution found (JSON: addresses, CNAME chain, ASN, CDN, sources), if it ran.
        public var details: String?
        public var updatedBy: String
        public var updatedAt: Date
    }

    /// Records where a case's content is hosted (an analyst's finding or an override of attribution), audited.
    /// `registrarContact` nil keeps the registrar's contact that attribution found; empty clears it.
    public func setHosting(
        caseID: Int64, country: String?, network: String?, abuseContact: String?, registrarContact: String? = nil,
        source: String, by actor: AuditActor
    ) async throws {
        let country = country?.trimmingCharacters(in: .whitespaces).uppercased()
        if let country, !country.isEmpty, country.count != 2 || !country.allSatisfy(\.isLetter) {
            throw StoreError.invalid("the country is a two-letter code such as FR")
        }
        let contact = abuseContact?.trimmingCharacters(in: .whitespaces)
        if let contact, !contact.isEmpty, !EmailAddress.isPlausible(contact) {
            throw StoreError.invalid("the abuse contact is an e-mail address")
        }
        let newRegistrar = registrarContact?.trimmingCharacters(in: .whitespaces)
        if let newRegistrar, !newRegistrar.isEmpty, !EmailAddress.isPlausible(newRegistrar) {
            throw StoreError.invalid("the registrar's abuse contact is an e-mail address")
        }
        let now = clock.now()
        try await AuditLog.transaction(db) { tx in
            let sql = tx.sql
            guard
                try await sql.select().column(Cases.id).from(Cases.tableName).where(Cases.id, .equal, caseID).first()
                    != nil
            else {
                throw StoreError.notFound("no case \(caseID)")
            }
            // What attribution found stays beside the analyst's values.
            let kept = try await sql.select().columns(HostingColumns.details, HostingColumns.registrarContact).from(
                HostingColumns.tableName
            ).where(HostingColumns.caseID, .equal, caseID).first()
            let details = try kept?.decode(HostingColumns.details, as: String?.self)
            let registrar =
                try newRegistrar.map { $0.isEmpty ? nil : $0 }
                ?? (kept?.decode(HostingColumns.registrarContact, as: String?.self))
            try await sql.delete(from: HostingColumns.tableName).where(HostingColumns.caseID, .equal, caseID).run()
            try await sql.insert(into: HostingColumns.tableName)
                .columns(
                    HostingColumns.caseID, HostingColumns.country, HostingColumns.network, HostingColumns.abuseContact,
                    HostingColumns.registrarContact, HostingColumns.source, HostingColumns.details,
                    HostingColumns.updatedBy, HostingColumns.updatedMS
                )
                .values(
                    SQLBind(caseID), SQLBind(country.flatMap { $0.isEmpty ? nil : $0 }),
                    SQLBind(network.flatMap { $0.isEmpty ? nil : $0 }),
                    SQLBind(contact.flatMap { $0.isEmpty ? nil : $0 }), SQLBind(registrar), SQLBind(source),
                    SQLBind(details),
                    SQLBind(actor.identifier), SQLBind(Self.ms(now))
                )
                .run()
            try await AuditLog.append(
                on: tx, at: now, actor: actor, action: "case.hosting", subject: "case:\(caseID)",
                details: [
                    "country": country ?? "", "network": network ?? "", "contact": contact ?? "", "source": source,
                ])
        }
    }

    /// Records what automated attribution found. An analyst's values, when there are any, are kept (the analyst
    /// overrode attribution); the findings are stored beside them. Returns whether the hosting changed since the
    /// previous attribution (a new address, country or contact).
    @discardableResult
    public func recordAttribution(
        caseID: Int64, country: String?, network: String?, abuseContact: String?, registrarContact: String? = nil,
        details: String
    ) async throws -> Bool {
        let now = clock.now()
        let previous = try await hosting(caseID: caseID)
        return try await AuditLog.transaction(db) { tx in
            let sql = tx.sql
            let changed = previous.map { $0.details != nil && $0.details != details } ?? false
            if let previous, previous.source == "analyst" {
                try await sql.update(HostingColumns.tableName).set(HostingColumns.details, to: details)
                    .set(HostingColumns.registrarContact, to: registrarContact ?? previous.registrarContact).where(
                        HostingColumns.caseID, .equal, caseID
                    ).run()
            } else {
                try await sql.delete(from: HostingColumns.tableName).where(HostingColumns.caseID, .equal, caseID).run()
                try await sql.insert(into: HostingColumns.tableName)
                    .columns(
                        HostingColumns.caseID, HostingColumns.country, HostingColumns.network,
                        HostingColumns.abuseContact, HostingColumns.registrarContact, HostingColumns.source,
                        HostingColumns.details, HostingColumns.updatedBy, HostingColumns.updatedMS
                    )
                    .values(
                        SQLBind(caseID), SQLBind(country), SQLBind(network), SQLBind(abuseContact),
                        SQLBind(registrarContact), SQLBind("attribution"),
                        SQLBind(details), SQLBind(Self.attributeJob), SQLBind(Self.ms(now))
                    ).run()
            }
            try await AuditLog.append(
                on: tx, at: now, actor: .job(Self.attributeJob), action: "case.attributed", subject: "case:\(caseID)",
                details: [
                    "country": country ?? "", "contact": abuseContact ?? "", "changed": changed ? "true" : "false",
                ])
            return changed
        }
    }

    /// Records, on the case's timeline, that attribution found nothing this time; the hosting found before stays.
    public func recordAttributionProblem(caseID: Int64, problems: [String]) async throws {
        let now = clock.now()
        try await AuditLog.transaction(db) { tx in
            try await AuditLog.append(
                on: tx, at: now, actor: .job(Self.attributeJob), action: "case.attribution-failed",
                subject: "case:\(caseID)",
                details: [
                    "problems": String(problems.joined(separator: "; ").prefix(300)), "kept": "the earlier hosting",
                ])
        }
    }

    /// The address first reported for a web case (with its port), else its canonical URL; nil for other cases.
    public func fetchableURL(caseID: Int64) async throws -> String? {
        try await Self.fetchableURL(caseID: caseID, on: sql)
    }

    static func fetchableURL(caseID: Int64, on sql: any SQLDatabase) async throws -> String? {
        guard
            let c = try await sql.select().column(Cases.caseKey).from(Cases.tableName).where(Cases.id, .equal, caseID)
                .first(),
            let key = try c.decode(Cases.caseKey, as: String?.self), key.hasPrefix("http")
        else { return nil }
        if let first = try await sql.select().column(Reports.payload).from(Reports.tableName).where(
            Reports.caseID, .equal, caseID
        )
        .orderBy(Reports.createdMS).first(),
            let payload = try? JSONDecoder().decode(
                HotlineStore.Payload.self, from: Data(try first.decode(Reports.payload, as: String.self).utf8)),
            let given = payload.url, given.lowercased().hasPrefix("http")
        {
            return given
        }
        return key
    }

    public func hosting(caseID: Int64) async throws -> Hosting? {
        guard
            let r = try await sql.select().column("*").from(HostingColumns.tableName).where(
                HostingColumns.caseID, .equal, caseID
            ).first()
        else {
            return nil
        }
        return Hosting(
            country: try r.decode(HostingColumns.country, as: String?.self),
            network: try r.decode(HostingColumns.network, as: String?.self),
            abuseContact: try r.decode(HostingColumns.abuseContact, as: String?.self),
            source: try r.decode(HostingColumns.source, as: String.self),
            registrarContact: try r.decode(HostingColumns.registrarContact, as: String?.self),
            details: try r.decode(HostingColumns.details, as: String?.self),
            updatedBy: try r.decode(HostingColumns.updatedBy, as: String.self),
            updatedAt: Self.date(try r.decode(HostingColumns.updatedMS, as: Int64.self))!)
    }

    // MARK: notices

    /// A notice's state; its transitions are `NoticeLifecycle`'s (VigilCore).
    public typealias State = NoticeState

    /// Applies a lifecycle event to a notice's stored state; returns the new state and the effects to perform.
    /// - Throws: `NoticeLifecycleError` when the event makes no sense in the notice's state.
    static func transition(_ stored: String, _ event: NoticeEvent) throws -> (State, [NoticeEffect]) {
        var lifecycle = NoticeLifecycle(state: State(rawValue: stored) ?? .queued)
        let effects = try lifecycle.handle(event)
        return (lifecycle.state, effects)
    }

    public struct Item: Sendable, Equatable {
        public let caseID: Int64
        public let url: String
        public let removedAt: Date?
        /// When the URL first went out in this notice (nil while a hold kept it back).
        public var sentAt: Date? = nil
    }

    public struct Notice: Sendable, Equatable {
        public let id: Int64
        public let contact: String
        public let state: State
        public let createdAt: Date
        public let firstSentAt: Date?
        public let lastSentAt: Date?
        public let sends: Int
        public let removedAt: Date?
        public let lastError: String?
        public let items: [Item]
        /// `provider`, `registrar` or `partner:CC`.
        public var route: String = "provider"
    }

    func notice(_ r: any SQLRow, on sql: any SQLDatabase) async throws -> Notice {
        let id = try r.decode(Notices.id, as: Int64.self)
        let items = try await sql.select().columns(
            NoticeItems.caseID, NoticeItems.url, NoticeItems.removedMS, NoticeItems.sentMS
        ).from(NoticeItems.tableName)
            .where(NoticeItems.noticeID, .equal, id)
            .orderBy(NoticeItems.caseID).all().map {
                Item(
                    caseID: try $0.decode(NoticeItems.caseID, as: Int64.self),
                    url: try $0.decode(NoticeItems.url, as: String.self),
                    removedAt: Self.date(try $0.decode(NoticeItems.removedMS, as: Int64?.self)),
                    sentAt: Self.date(try $0.decode(NoticeItems.sentMS, as: Int64?.self)))
            }
        return Notice(
            id: id, contact: try r.decode(Notices.contact, as: String.self),
            state: State(rawValue: try r.decode(Notices.state, as: String.self)) ?? .queued,
            createdAt: Self.date(try r.decode(Notices.createdMS, as: Int64.self))!,
            firstSentAt: Self.date(try r.decode(Notices.firstSentMS, as: Int64?.self)),
            lastSentAt: Self.date(try r.decode(Notices.lastSentMS, as: Int64?.self)),
            sends: try r.decode(Notices.sends, as: Int.self),
            removedAt: Self.date(try r.decode(Notices.removedMS, as: Int64?.self)),
            lastError: try r.decode(Notices.lastError, as: String?.self), items: items,
            route: try r.decode(Notices.route, as: String?.self) ?? "provider")
    }

    public func notice(_ id: Int64) async throws -> Notice? {
        guard let r = try await sql.select().column("*").from(Notices.tableName).where(Notices.id, .equal, id).first()
        else {
            return nil
        }
        return try await notice(r, on: sql)
    }

    public func notices(forCase caseID: Int64) async throws -> [Notice] {
        let ids = try await sql.select().column(NoticeItems.noticeID).from(NoticeItems.tableName).where(
            NoticeItems.caseID, .equal, caseID
        ).all()
            .map { try $0.decode(NoticeItems.noticeID, as: Int64.self) }
        var out: [Notice] = []
        for id in Set(ids).sorted() { if let n = try await notice(id) { out.append(n) } }
        return out
    }

    public func notices(state: State? = nil, limit: Int = 200) async throws -> [Notice] {
        var q = sql.select().column("*").from(Notices.tableName)
        if let state { q = q.where(Notices.state, .equal, state.rawValue) }
        var out: [Notice] = []
        for r in try await q.orderBy(Notices.id, .descending).limit(limit).all() {
            out.append(try await notice(r, on: sql))
        }
        return out
    }

    /// Adds a case's URL to the open (unsent) notice for its host's abuse contact, or starts one whose sending is
    /// queued `batchWindow` from now, so that URLs assessed together reach a provider in one notice.
    /// - Throws: `StoreError.invalid` when the case has no abuse contact yet (the job retries with back-off, and the
    ///   case page says what is missing).
    /// Content hosted abroad goes to the partner hotline of that country when there is one (`ownCountry` is the
    /// operator's); with none, the case is flagged for law enforcement's international channels and no notice is
    /// made (returns nil). With `registrar`, content hosted at home also goes to the domain registrar's abuse contact,
    /// in that registrar's own notice (it sees only its domains' URLs); the first notice's id is returned.
    @discardableResult
    public func prepare(
        caseID: Int64, batchWindow: TimeInterval = 60, ownCountry: String? = nil, registrar: Bool = false
    ) async throws -> Int64? {
        let now = clock.now()
        guard let hosting = try await hosting(caseID: caseID) else {
            throw StoreError.invalid(
                "case \(caseID) has no abuse contact for its host yet: record the hosting on the case page")
        }
        var contact = hosting.abuseContact
        var route = "provider"
        if let own = ownCountry?.uppercased(), let there = hosting.country, there != own {
            if let partner = try await channel(there), partner.kind == .partner {
                contact = partner.key
                route = "partner:\(there)"
            } else {
                try await AuditLog.transaction(db) { tx in
                    try await AuditLog.append(
                        on: tx, at: now, actor: .job(Self.prepareJob), action: "case.route-law-enforcement",
                        subject: "case:\(caseID)",
                        details: ["country": there, "why": "hosted abroad, no partner hotline for \(there)"])
                }
                return nil
            }
        }
        guard let contact else {
            throw StoreError.invalid(
                "case \(caseID) has no abuse contact for its host yet: record the hosting on the case page")
        }
        var targets = [(contact: contact, route: route)]
        if registrar, route == "provider", let r = hosting.registrarContact, r.lowercased() != contact.lowercased() {
            targets.append((r, "registrar"))
        }
        let all = targets
        return try await AuditLog.transaction(db) { tx in
            let sql = tx.sql
            guard let url = try await Self.fetchableURL(caseID: caseID, on: sql) else {
                throw StoreError.invalid("case \(caseID) is not about a web address")
            }
            var first: Int64?
            for target in all {
                let id = try await add(
                    caseID: caseID, url: url, contact: target.contact, route: target.route, batchWindow: batchWindow,
                    at: now, on: tx)
                first = first ?? id
            }
            return first
        }
    }

    /// Refers a case to the partner hotline registered for `country` (an analyst's decision): its URL joins the open
    /// notice to that partner, sent as notices are. Returns the notice's id.
    /// - Throws: `StoreError.invalid` when no partner hotline is registered for the country (the job retries with
    ///   back-off, so the referral goes once an administrator adds the partner on the channels page).
    @discardableResult
    public func referToPartner(caseID: Int64, country: String, batchWindow: TimeInterval = 60) async throws -> Int64 {
        let cc = country.uppercased()
        guard let partner = try await channel(cc), partner.kind == .partner else {
            throw StoreError.invalid(
                "no partner hotline is registered for \(cc): add it on the channels page, and the referral goes then")
        }
        let now = clock.now()
        return try await AuditLog.transaction(db) { tx in
            guard let url = try await Self.fetchableURL(caseID: caseID, on: tx.sql) else {
                throw StoreError.invalid("case \(caseID) is not about a web address")
            }
            return try await add(
                caseID: caseID, url: url, contact: partner.key, route: "partner:\(cc)", batchWindow: batchWindow,
                at: now, on: tx)
        }
    }

    /// Puts the case's URL into the open notice for `contact` (unless an unremoved notice for it has the URL already).
    private func add(
        caseID: Int64, url: String, contact: String, route: String, batchWindow: TimeInterval, at now: Date,
        on tx: any Database
    ) async throws -> Int64 {
        let sql = tx.sql
        if let existing = try await sql.raw(
            """
            SELECT i.notice_id, i.sent_ms, n.state FROM notice_items i JOIN notices n ON n.id = i.notice_id
            WHERE i.case_id = \(bind: caseID) AND n.contact = \(bind: contact) AND i.removed_ms IS NULL AND n.state <> 'bounced'
            """
        ).first() {
            // Already in a notice that is still open. If that notice went out while a hold kept this URL back, it is
            // sent again now that the URL may go, rather than at the next reminder.
            try await Self.sendUnsentItems(caseID: caseID, clock: clock, on: tx)
            return try existing.decode(NoticeItems.noticeID, as: Int64.self)
        }
        let noticeID: Int64
        if let open = try await sql.select().column(Notices.id).from(Notices.tableName).where(
            Notices.contact, .equal, contact
        )
        .where(Notices.state, .equal, State.queued.rawValue).first() {
            noticeID = try open.decode(Notices.id, as: Int64.self)
        } else {
            let row = try await sql.insert(into: Notices.tableName).columns(
                Notices.contact, Notices.state, Notices.createdMS, Notices.sends, Notices.route
            )
            .values(
                SQLBind(contact), SQLBind(State.queued.rawValue), SQLBind(Self.ms(now)), SQLBind(0), SQLBind(route)
            ).returning(Notices.id).first()
            noticeID = try row!.decode(Notices.id, as: Int64.self)
            try await JobQueue(db: tx, clock: clock, owner: "notices").enqueue(
                Self.sendJob, payload: Self.noticePayload(noticeID),
                runAt: now + batchWindow, on: tx)
        }
        try await sql.insert(into: NoticeItems.tableName).columns(
            NoticeItems.noticeID, NoticeItems.caseID, NoticeItems.url, NoticeItems.addedMS
        )
        .values(SQLBind(noticeID), SQLBind(caseID), SQLBind(url), SQLBind(Self.ms(now))).run()
        try await AuditLog.append(
            on: tx, at: now, actor: .job(Self.prepareJob), action: "notice.prepared", subject: "case:\(caseID)",
            details: ["notice": String(noticeID), "contact": contact, "route": route])
        return noticeID
    }

    /// Queues a send of every notice that already went out without this case's URL (a hold kept it back), unless
    /// one is already queued.
    static func sendUnsentItems(caseID: Int64, clock: any VigilClock, on tx: any Database) async throws {
        let sql = tx.sql
        let rows = try await sql.raw(
            """
            SELECT DISTINCT i.notice_id FROM notice_items i JOIN notices n ON n.id = i.notice_id
            WHERE i.case_id = \(bind: caseID) AND i.sent_ms IS NULL AND i.removed_ms IS NULL AND n.state IN ('sent', 'escalated')
            """
        ).all()
        for row in rows {
            let id = try row.decode(NoticeItems.noticeID, as: Int64.self)
            if try await !sendPending(id, on: sql) {
                try await JobQueue(db: tx, clock: clock, owner: "notices").enqueue(
                    Self.sendJob, payload: noticePayload(id), on: tx)
            }
        }
    }

    /// Performs a lifecycle event's effects on the notice, in the caller's transaction.
    static func perform(
        _ effects: [NoticeEffect], noticeID: Int64, actor: AuditActor, at now: Date, clock: any VigilClock,
        details: [String: String] = [:], on tx: any Database
    ) async throws {
        for effect in effects {
            switch effect {
            case .queueSend:
                if try await !sendPending(noticeID, on: tx.sql) {
                    try await JobQueue(db: tx, clock: clock, owner: "notices").enqueue(
                        sendJob, payload: noticePayload(noticeID), on: tx)
                }
            case .audit(let action):
                try await AuditLog.append(
                    on: tx, at: now, actor: actor, action: action, subject: "notice:\(noticeID)", details: details)
            }
        }
    }

    /// The payload of a job about one notice (send, confirmed).
    public static func noticePayload(_ noticeID: Int64) -> String { "{\"notice\":\(noticeID)}" }

    /// Whether a send of the notice is already queued or running.
    static func sendPending(_ noticeID: Int64, on sql: any SQLDatabase) async throws -> Bool {
        try await sql.select().column(Jobs.id).from(Jobs.tableName).where(Jobs.name, .equal, sendJob)
            .where(Jobs.payload, .equal, noticePayload(noticeID)).where(Jobs.state, .in, ["queued", "running"]).first()
            != nil
    }

    /// Records a successful send (first or re-notification), audited on every case in it.
    /// - Parameter caseIDs: the cases whose URLs were in the message (nil: all of the notice's); only those count as
    ///   sent and are audited as such, so a held case's URL is not.
    public func markSent(_ id: Int64, caseIDs: [Int64]? = nil) async throws {
        let now = clock.now()
        try await AuditLog.transaction(db) { tx in
            let sql = tx.sql
            guard
                let r = try await sql.select().column("*").from(Notices.tableName).where(Notices.id, .equal, id).first()
            else {
                throw StoreError.notFound("no notice \(id)")
            }
            let sends = try r.decode(Notices.sends, as: Int.self) + 1
            let first = try r.decode(Notices.firstSentMS, as: Int64?.self) ?? Self.ms(now)
            // A bounce or a removal recorded while this send was under way stands.
            let (state, _) = try Self.transition(try r.decode(Notices.state, as: String.self), .sent)
            var update = sql.update(Notices.tableName).set(Notices.sends, to: sends).set(Notices.firstSentMS, to: first)
                .set(
                    Notices.lastSentMS, to: Self.ms(now)
                )
                .set(Notices.state, to: state.rawValue)
            if state != .bounced { update = update.set(Notices.lastError, to: SQLLiteral.null) }
            try await update.where(Notices.id, .equal, id).run()
            let rows = try await sql.select().columns(NoticeItems.caseID, NoticeItems.sentMS).from(
                NoticeItems.tableName
            ).where(NoticeItems.noticeID, .equal, id).all()
            for item in rows {
                let caseID = try item.decode(NoticeItems.caseID, as: Int64.self)
                if let caseIDs, !caseIDs.contains(caseID) { continue }
                let firstTime = try item.decode(NoticeItems.sentMS, as: Int64?.self) == nil
                if firstTime {
                    try await sql.update(NoticeItems.tableName).set(NoticeItems.sentMS, to: Self.ms(now)).where(
                        NoticeItems.noticeID, .equal, id
                    )
                    .where(NoticeItems.caseID, .equal, caseID).run()
                }
                try await AuditLog.append(
                    on: tx, at: now, actor: .job(Self.sendJob), action: firstTime ? "notice.sent" : "notice.resent",
                    subject: "case:\(caseID)", details: ["notice": String(id)])
            }
        }
    }

    public func recordError(_ id: Int64, _ error: String) async throws {
        try await WriteGate.transaction(db) { tx in
            try await tx.sql.update(Notices.tableName).set(Notices.lastError, to: String(error.prefix(300))).where(
                Notices.id, .equal, id
            ).run()
        }
    }

    /// URLs of sent notices that are not yet found removed, for the recheck job.
    public func openItems(limit: Int = 500) async throws -> [(noticeID: Int64, item: Item)] {
        let rows = try await sql.raw(
            """
            SELECT i.notice_id, i.case_id, i.url FROM notice_items i JOIN notices n ON n.id = i.notice_id
            WHERE i.removed_ms IS NULL AND n.state IN \(SQLGroupExpression(NoticeLifecycle.rechecked.map { SQLBind($0.rawValue) })) ORDER BY i.notice_id, i.case_id LIMIT \(literal: limit)
            """
        ).all()
        return try rows.map {
            (
                try $0.decode(NoticeItems.noticeID, as: Int64.self),
                Item(
                    caseID: try $0.decode(NoticeItems.caseID, as: Int64.self),
                    url: try $0.decode(NoticeItems.url, as: String.self), removedAt: nil)
            )
        }
    }

    /// Records a recheck of one URL; when it is gone, the URL counts as removed now, and the notice once every URL
    /// in it is gone. Returns whether the notice is now removed.
    @discardableResult
    public func recordRecheck(noticeID: Int64, caseID: Int64, gone: Bool, detail: String) async throws -> Bool {
        let now = clock.now()
        return try await AuditLog.transaction(db) { tx in
            let sql = tx.sql
            var update = sql.update(NoticeItems.tableName).set(NoticeItems.checkDetail, to: String(detail.prefix(300)))
            if gone { update = update.set(NoticeItems.removedMS, to: Self.ms(now)) }
            try await update.where(NoticeItems.noticeID, .equal, noticeID).where(NoticeItems.caseID, .equal, caseID)
                .where(NoticeItems.removedMS, .is, SQLLiteral.null).run()
            guard gone else { return false }
            try await AuditLog.append(
                on: tx, at: now, actor: .job("notice-recheck"), action: "notice.url-removed", subject: "case:\(caseID)",
                details: ["notice": String(noticeID), "check": String(detail.prefix(120))])
            let open = try await sql.select().column(NoticeItems.caseID).from(NoticeItems.tableName).where(
                NoticeItems.noticeID, .equal, noticeID
            )
            .where(NoticeItems.removedMS, .is, SQLLiteral.null).first()
            guard open == nil,
                let row = try await sql.select().column(Notices.state).from(Notices.tableName).where(
                    Notices.id, .equal, noticeID
                ).first()
            else { return false }
            let (state, effects) = try Self.transition(try row.decode(Notices.state, as: String.self), .allRemoved)
            guard !effects.isEmpty else { return false }
            try await sql.update(Notices.tableName).set(Notices.state, to: state.rawValue).set(
                Notices.removedMS, to: Self.ms(now)
            )
            .where(Notices.id, .equal, noticeID).run()
            try await Self.perform(
                effects, noticeID: noticeID, actor: .job("notice-recheck"), at: now, clock: clock, on: tx)
            return true
        }
    }

    /// URLs found removed within `window` (content that comes back is watched for a while).
    public func recentlyRemovedItems(window: TimeInterval, limit: Int = 500) async throws -> [(
        noticeID: Int64, item: Item
    )] {
        let since = Self.ms(clock.now() - window)
        let rows = try await sql.select().columns(
            NoticeItems.noticeID, NoticeItems.caseID, NoticeItems.url, NoticeItems.removedMS
        ).from(NoticeItems.tableName)
            .where(NoticeItems.removedMS, .greaterThanOrEqual, since).orderBy(NoticeItems.removedMS).limit(limit).all()
        return try rows.map {
            (
                try $0.decode(NoticeItems.noticeID, as: Int64.self),
                Item(
                    caseID: try $0.decode(NoticeItems.caseID, as: Int64.self),
                    url: try $0.decode(NoticeItems.url, as: String.self),
                    removedAt: Self.date(try $0.decode(NoticeItems.removedMS, as: Int64.self)))
            )
        }
    }

    /// A removed URL is online again: it counts as not removed, its notice goes back to `sent` (so reminders
    /// resume), and the event is audited on the case. The caller reopens the case if it was closed.
    public func recordReappearance(noticeID: Int64, caseID: Int64, detail: String) async throws {
        let now = clock.now()
        try await AuditLog.transaction(db) { tx in
            let sql = tx.sql
            try await sql.update(NoticeItems.tableName).set(NoticeItems.removedMS, to: SQLLiteral.null).set(
                NoticeItems.checkDetail, to: String(detail.prefix(300))
            )
            .where(NoticeItems.noticeID, .equal, noticeID).where(NoticeItems.caseID, .equal, caseID).run()
            // Reminders resume, unless the notice had bounced: it still needs another contact.
            let bounced = try await Self.hasPermanentBounce(noticeID, on: sql)
            let stored = try await sql.select().column(Notices.state).from(Notices.tableName).where(
                Notices.id, .equal, noticeID
            ).first()
            let (state, _) = try Self.transition(
                try stored?.decode(Notices.state, as: String.self) ?? State.sent.rawValue,
                .reappeared(bouncedBefore: bounced))
            try await sql.update(Notices.tableName).set(Notices.state, to: state.rawValue).set(
                Notices.removedMS, to: SQLLiteral.null
            )
            .set(Notices.lastSentMS, to: Self.ms(now) - 1).where(Notices.id, .equal, noticeID).run()
            try await AuditLog.append(
                on: tx, at: now, actor: .job("notice-recheck"), action: "notice.reappeared", subject: "case:\(caseID)",
                details: ["notice": String(noticeID), "check": String(detail.prefix(120))])
        }
    }

    /// Notices still online `interval` after their last send: re-notified (a send job queued) until they have been
    /// sent `maxSends` times, then escalated to the supervisors' queue once. Returns (re-notified, escalated).
    @discardableResult
    public func followUp(interval: TimeInterval, maxSends: Int) async throws -> (renotified: Int, escalated: Int) {
        let now = clock.now()
        let cutoff = Self.ms(now - interval)
        return try await AuditLog.transaction(db) { tx in
            let sql = tx.sql
            let rows = try await sql.select().columns(Notices.id, Notices.sends, Notices.state).from(Notices.tableName)
                .where(
                    Notices.state, .in, NoticeLifecycle.followedUp.map(\.rawValue)
                )
                .where(Notices.lastSentMS, .lessThanOrEqual, cutoff).all()
            var renotified = 0, escalated = 0
            for r in rows {
                let id = try r.decode(Notices.id, as: Int64.self)
                let sends = try r.decode(Notices.sends, as: Int.self)
                guard try await !Self.sendPending(id, on: sql) else { continue }
                let before = try r.decode(Notices.state, as: String.self)
                let (state, effects) = try Self.transition(before, .stillOnline(sends: sends, maxSends: maxSends))
                if state.rawValue != before {
                    try await sql.update(Notices.tableName).set(Notices.state, to: state.rawValue).where(
                        Notices.id, .equal, id
                    ).run()
                }
                try await Self.perform(
                    effects, noticeID: id, actor: .job("notice-follow-up"), at: now, clock: clock,
                    details: ["sends": String(sends)], on: tx)
                if effects.contains(.queueSend) { renotified += 1 }
                if state == .escalated, before != state.rawValue { escalated += 1 }
            }
            return (renotified, escalated)
        }
    }

    // MARK: figures

    /// One case's takedown timeline.
    public struct Timeline: Sendable, Equatable {
        public let caseID: Int64
        public let country: String?
        public let contact: String
        public let reportedAt: Date
        public let assessedAt: Date?
        public let noticeAt: Date?
        public let removedAt: Date?

        /// INHOPE's notice-and-takedown time: first report to removal.
        public var reportToRemoval: TimeInterval? { removedAt.map { $0.timeIntervalSince(reportedAt) } }
        public var assessmentTime: TimeInterval? { assessedAt.map { $0.timeIntervalSince(reportedAt) } }
        public var assessmentToNotice: TimeInterval? {
            assessedAt.flatMap { a in noticeAt.map { $0.timeIntervalSince(a) } }
        }
        public var noticeToRemoval: TimeInterval? {
            noticeAt.flatMap { n in removedAt.map { $0.timeIntervalSince(n) } }
        }
    }

    /// Every case that went into a notice, with its times (reported, assessed, first notice, removed).
    public func timelines(from: Date? = nil, to: Date? = nil) async throws -> [Timeline] {
        let rows = try await sql.raw(
            """
            SELECT i.case_id, n.contact, h.country, c.created_ms, MIN(i.sent_ms) AS notice_ms,
                   MAX(i.removed_ms) AS removed_ms, SUM(CASE WHEN i.removed_ms IS NULL THEN 1 ELSE 0 END) AS open_items
            FROM notice_items i JOIN notices n ON n.id = i.notice_id JOIN cases c ON c.id = i.case_id
            LEFT JOIN hosting h ON h.case_id = i.case_id
            WHERE COALESCE(n.route, 'provider') <> 'registrar'
            GROUP BY i.case_id, n.contact, h.country, c.created_ms ORDER BY i.case_id
            """
        ).all()
        var out: [Timeline] = []
        for r in rows {
            let caseID = try r.decode(NoticeItems.caseID, as: Int64.self)
            let reported = Self.date(try r.decode(Cases.createdMS, as: Int64.self))!
            if let from, reported < from { continue }
            if let to, reported >= to { continue }
            let assessed = try await sql.select().column(SQLFunction("min", args: AuditEvents.timeMS), as: "t").from(
                AuditEvents.tableName
            )
            .where(AuditEvents.subject, .equal, "case:\(caseID)").where(AuditEvents.action, .equal, "case.assess")
            .first()?.decode(
                column: "t", as: Int64?.self)
            let open = try r.decode(column: "open_items", as: Int.self)
            out.append(
                Timeline(
                    caseID: caseID, country: try r.decode(HostingColumns.country, as: String?.self),
                    contact: try r.decode(Notices.contact, as: String.self), reportedAt: reported,
                    assessedAt: Self.date(assessed),
                    noticeAt: Self.date(try r.decode(column: "notice_ms", as: Int64?.self)),
                    removedAt: open == 0 ? Self.date(try r.decode(column: "removed_ms", as: Int64?.self)) : nil))
        }
        return out
    }
}

/// Medians, 90th percentiles and shares of a set of durations.
public struct DurationSummary: Sendable, Equatable {
    public let count: Int
    public let median: TimeInterval?
    public let p90: TimeInterval?
    public let withinOneDay: Double?
    public let withinThreeDays: Double?

    /// Nearest-rank percentiles over the durations; shares are of `total` (cases noticed, removed or not).
    public init(_ durations: [TimeInterval], total: Int? = nil) {
        let sorted = durations.sorted()
        count = sorted.count
        func rank(_ p: Double) -> TimeInterval? {
            guard !sorted.isEmpty else { return nil }
            return sorted[max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1)]
        }
        median = rank(0.5)
        p90 = rank(0.9)
        let n = total ?? sorted.count
        withinOneDay = n == 0 ? nil : Double(sorted.filter { $0 <= 86_400 }.count) / Double(n)
        withinThreeDays = n == 0 ? nil : Double(sorted.filter { $0 <= 3 * 86_400 }.count) / Double(n)
    }
}
