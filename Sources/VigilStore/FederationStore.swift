import FluentKit
import Foundation
import SQLKit
import VigilCore

/// Partner hotlines, their keys, and the messages exchanged with them (the federation protocol's state).
public struct FederationStore: Sendable {
    public let db: any Database
    public let clock: any VigilClock
    /// Seals the API keys partners issued to us (the data folder's key).
    let secrets: ContactSealer?

    public init(db: any Database, clock: any VigilClock, secrets: ContactSealer? = nil) {
        self.db = db
        self.clock = clock
        self.secrets = secrets
    }

    var sql: any SQLDatabase { db.sql }

    static func ms(_ date: Date) -> Int64 { AuditChain.milliseconds(date) }
    static func date(_ ms: Int64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }

    // MARK: partners

    /// Every partner with its keys, by name.
    public func partners() async throws -> [FederationPartner] {
        let keys = try await sql.select().columns(FederationKeys.allColumns).from(FederationKeys.tableName)
            .orderBy(FederationKeys.addedMS).all()
        var byPartner: [String: [FederationPartner.Key]] = [:]
        for r in keys {
            byPartner[try r.decode(FederationKeys.partner, as: String.self), default: []].append(
                FederationPartner.Key(
                    id: try r.decode(FederationKeys.keyID, as: String.self),
                    publicKey: try r.decode(FederationKeys.publicKey, as: String.self),
                    added: Self.date(try r.decode(FederationKeys.addedMS, as: Int64.self)),
                    retireAfter: try r.decode(FederationKeys.retireAfterMS, as: Int64?.self).map(Self.date)))
        }
        return try await sql.select().columns(FederationPartners.allColumns).from(FederationPartners.tableName)
            .orderBy(FederationPartners.name).all()
            .map { r in
                let name = try r.decode(FederationPartners.name, as: String.self)
                return FederationPartner(
                    name: name, label: try r.decode(FederationPartners.label, as: String.self),
                    countries: try r.decode(FederationPartners.countries, as: String.self).split(separator: ",").map(
                        String.init),
                    baseURL: try r.decode(FederationPartners.baseURL, as: String.self),
                    enabled: try r.decode(FederationPartners.enabled, as: Bool.self),
                    hasAPIKey: !(try r.decodeNil(FederationPartners.apiKeySealed)), keys: byPartner[name] ?? [])
            }
    }

    /// The partner named `name`.
    /// - Throws: ``StoreError/notFound(_:)``.
    public func partner(named name: String) async throws -> FederationPartner {
        guard let p = try await partners().first(where: { $0.name == name }) else {
            throw StoreError.notFound("no partner named '\(name)'; `vigil partner list` shows them")
        }
        return p
    }

    /// The enabled partner covering `country`, if any.
    public func partner(covering country: String) async throws -> FederationPartner? {
        try await partners().first { $0.enabled && $0.countries.contains(country.uppercased()) }
    }

    /// The partner holding the key `keyID`, and that key.
    public func key(id keyID: String) async throws -> (partner: FederationPartner, key: FederationPartner.Key)? {
        for p in try await partners() {
            if let k = p.keys.first(where: { $0.id == keyID }) { return (p, k) }
        }
        return nil
    }

    /// Registers a partner with its first public key and, when given, the API key it issued to us (audited; the API
    /// key is sealed at rest and never shown again).
    /// - Throws: ``StoreError/invalid(_:)`` for bad settings or key, ``StoreError/conflict(_:)`` for a name or key
    ///   already registered.
    public func addPartner(
        _ partner: FederationPartner, publicKey: String, apiKey: String?, actor: AuditActor
    ) async throws {
        if let problem = FederationPartner.problem(
            name: partner.name, countries: partner.countries, baseURL: partner.baseURL)
        {
            throw StoreError.invalid(problem)
        }
        let key = try Self.key(publicKey)
        let sealed = try apiKey.map { try seal($0, partner: partner.name) }
        let now = clock.now()
        try await AuditLog.transaction(db) { tx in
            let sql = tx.sql
            if try await sql.select().column(FederationPartners.name).from(FederationPartners.tableName)
                .where(FederationPartners.name, .equal, partner.name).first() != nil
            {
                throw StoreError.conflict("a partner named '\(partner.name)' already exists")
            }
            try await Self.insertKey(key, partner: partner.name, at: now, on: sql)
            try await sql.insert(into: FederationPartners.tableName)
                .columns(FederationPartners.allColumns)
                .values(
                    SQLBind(partner.name), SQLBind(partner.label), SQLBind(partner.countries.joined(separator: ",")),
                    SQLBind(partner.baseURL), SQLBind(sealed), SQLBind(partner.enabled), SQLBind(Self.ms(now)),
                    SQLBind(Self.ms(now))
                ).run()
            try await AuditLog.append(
                on: tx, at: now, actor: actor, action: "federation.partner-add", subject: "partner:\(partner.name)",
                details: [
                    "countries": partner.countries.joined(separator: ","), "base_url": partner.baseURL,
                    "key_id": key.id, "api_key": apiKey == nil ? "none" : "stored",
                ])
        }
    }

    /// Switches a partner on or off (audited). A disabled partner's messages are refused at once and nothing is
    /// sent to it.
    public func setEnabled(_ name: String, _ enabled: Bool, actor: AuditActor) async throws {
        _ = try await partner(named: name)
        let now = clock.now()
        try await AuditLog.transaction(db) { tx in
            try await tx.sql.update(FederationPartners.tableName).set(FederationPartners.enabled, to: enabled)
                .set(FederationPartners.updatedMS, to: Self.ms(now)).where(FederationPartners.name, .equal, name).run()
            try await AuditLog.append(
                on: tx, at: now, actor: actor,
                action: enabled ? "federation.partner-enable" : "federation.partner-disable",
                subject: "partner:\(name)")
        }
    }

    /// The partner rotated its key: the new key verifies from now, and every older key until `overlap` from now.
    /// - Returns: when the older keys stop verifying.
    @discardableResult
    public func rotateKey(_ name: String, newPublicKey: String, overlap: TimeInterval, actor: AuditActor)
        async throws -> Date
    {
        let p = try await partner(named: name)
        let key = try Self.key(newPublicKey)
        guard !p.keys.contains(where: { $0.id == key.id }) else {
            throw StoreError.conflict("the partner already has the key \(key.id)")
        }
        guard overlap >= 0 else { throw StoreError.invalid("the overlap cannot be negative") }
        let now = clock.now()
        let retire = now.addingTimeInterval(overlap)
        try await AuditLog.transaction(db) { tx in
            let sql = tx.sql
            try await Self.insertKey(key, partner: name, at: now, on: sql)
            for old in p.keys where old.isCurrent(at: retire) {
                try await sql.update(FederationKeys.tableName).set(FederationKeys.retireAfterMS, to: Self.ms(retire))
                    .where(FederationKeys.keyID, .equal, old.id).run()
            }
            try await AuditLog.append(
                on: tx, at: now, actor: actor, action: "federation.partner-key-rotate", subject: "partner:\(name)",
                details: [
                    "key_id": key.id, "retired": p.keys.map(\.id).joined(separator: ","),
                    "retire_after": retire.formatted(.iso8601),
                ])
        }
        return retire
    }

    /// Stores (replacing) the API key the partner issued to us, sealed (audited without the key).
    public func setAPIKey(_ name: String, apiKey: String, actor: AuditActor) async throws {
        _ = try await partner(named: name)
        let sealed = try seal(apiKey, partner: name)
        let now = clock.now()
        try await AuditLog.transaction(db) { tx in
            try await tx.sql.update(FederationPartners.tableName).set(FederationPartners.apiKeySealed, to: sealed)
                .set(FederationPartners.updatedMS, to: Self.ms(now)).where(FederationPartners.name, .equal, name).run()
            try await AuditLog.append(
                on: tx, at: now, actor: actor, action: "federation.partner-api-key", subject: "partner:\(name)")
        }
    }

    /// The API key the partner issued to us, unsealed, for the `Authorization` header of our messages.
    public func apiKey(for name: String) async throws -> String? {
        guard
            let sealed = try await sql.select().column(FederationPartners.apiKeySealed)
                .from(FederationPartners.tableName).where(FederationPartners.name, .equal, name).first()?
                .decode(FederationPartners.apiKeySealed, as: String?.self)
        else { return nil }
        guard let secrets, let data = Data(base64Encoded: sealed) else {
            throw StoreError.invalid("the partner's API key cannot be opened without the data folder's key")
        }
        return try secrets.open(data, reportID: "federation:\(name)")
    }

    private func seal(_ apiKey: String, partner: String) throws -> String {
        let trimmed = apiKey.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 200 else {
            throw StoreError.invalid("the API key must be 1 to 200 characters")
        }
        guard let secrets else { throw StoreError.invalid("storing a partner's API key needs the data folder's key") }
        return try secrets.seal(trimmed, reportID: "federation:\(partner)").base64EncodedString()
    }

    static func key(_ base64: String) throws -> (id: String, publicKey: String) {
        guard let raw = FederationPartner.publicKeyBytes(base64) else {
            throw StoreError.invalid("a partner's public key is 32 bytes of base64 (its `vigil partner self` output)")
        }
        return (FederationKeyID.of(raw), raw.base64EncodedString())
    }

    static func insertKey(
        _ key: (id: String, publicKey: String), partner: String, at time: Date, on sql: any SQLDatabase
    )
        async throws
    {
        if try await sql.select().column(FederationKeys.keyID).from(FederationKeys.tableName)
            .where(FederationKeys.keyID, .equal, key.id).first() != nil
        {
            throw StoreError.conflict("the key \(key.id) is already registered")
        }
        try await sql.insert(into: FederationKeys.tableName).columns(FederationKeys.allColumns)
            .values(
                SQLBind(key.id), SQLBind(partner), SQLBind(key.publicKey), SQLBind(Self.ms(time)),
                SQLBind(Int64?.none)
            ).run()
    }

    // MARK: inbox

    /// Whether a message was new or already received.
    public enum Receipt: Sendable, Equatable {
        case new
        case duplicate
    }

    /// Keeps a verified message (its canonical bytes) for processing; a message id seen before is a duplicate and
    /// changes nothing. Audited either way. `referral` is the referral a status or known message answers.
    public func receive(
        messageID: String, partner: String, type: String, caseRef: String, canonical: String, referral: String? = nil,
        actor: AuditActor
    ) async throws -> Receipt {
        let now = clock.now()
        let receipt: Receipt = try await AuditLog.transaction(db) { tx in
            let sql = tx.sql
            // AuditLog.transaction takes the audit chain's lock first: receipts are serialised, arrivals unique.
            let known =
                try await sql.select().column(FederationInbox.messageID).from(FederationInbox.tableName)
                .where(FederationInbox.messageID, .equal, messageID).first() != nil
            if !known {
                let last =
                    try await sql.select().column(SQLFunction("MAX", args: FederationInbox.arrival), as: "n")
                    .from(FederationInbox.tableName).first()?.decode(column: "n", as: Int64?.self) ?? 0
                try await sql.insert(into: FederationInbox.tableName).columns(FederationInbox.allColumns)
                    .values(
                        SQLBind(messageID), SQLBind(partner), SQLBind(type), SQLBind(caseRef), SQLBind(canonical),
                        SQLBind(Self.ms(now)), SQLBind("new"), SQLBind(Int64?.none), SQLBind(referral),
                        SQLBind(last + 1)
                    ).run()
            }
            try await AuditLog.append(
                on: tx, at: now, actor: actor, action: known ? "federation.duplicate" : "federation.received",
                subject: "partner:\(partner)", details: ["message": messageID, "type": type, "case": caseRef])
            return known ? .duplicate : .new
        }
        if receipt == .new {
            try await JobQueue(db: db, clock: clock, owner: "federation").enqueue(Self.processJob)
        }
        return receipt
    }

    /// Records a refused message (the inbox's answer) in the audit log.
    public func auditRefusal(code: String, partner: String?, messageID: String?, reason: String, actor: AuditActor)
        async throws
    {
        let now = clock.now()
        var details = ["code": code, "reason": String(reason.prefix(300))]
        if let messageID { details["message"] = String(messageID.prefix(64)) }
        let audited = details
        try await AuditLog.transaction(db) { tx in
            try await AuditLog.append(
                on: tx, at: now, actor: actor, action: "federation.refused",
                subject: partner.map { "partner:\($0)" } ?? "federation", details: audited)
        }
    }

    /// How many messages the inbox holds per partner and type (for pages and tests).
    public func inboxCount(partner: String? = nil) async throws -> Int {
        var q = sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from(FederationInbox.tableName)
        if let partner { q = q.where(FederationInbox.partner, .equal, partner) }
        return try await q.first()?.decode(column: "n", as: Int.self) ?? 0
    }
}

// MARK: outbox

extension FederationStore {
    /// The queued job that delivers the outbox (also run every minute for retries).
    public static let deliverJob = "federation-deliver"
    /// The queued job that acts on received messages (also run every minute).
    public static let processJob = "federation-process"

    /// A message waiting in the outbox (or delivered, or given up).
    public struct Outgoing: Sendable, Equatable {
        public enum State: String, Sendable { case pending, delivered, failed }
        public let seq: Int64
        public let messageID: String
        public let partner: String
        public let caseRef: String
        public let type: String
        /// The message as JSON, without its key id and signing time (set at each attempt).
        public let message: String
        public let state: State
        public let attempts: Int
        public let nextAttempt: Date
        public let lastError: String?
        public let created: Date
        public let delivered: Date?
    }

    /// A message to send, as the protocol layer wrote it (JSON without key id and signing time).
    public struct QueuedMessage: Sendable, Equatable {
        public let id: String
        public let type: String
        public let caseRef: String
        public let json: String

        public init(id: String, type: String, caseRef: String, json: String) {
            self.id = id
            self.type = type
            self.caseRef = caseRef
            self.json = json
        }
    }

    /// Puts a message in the outbox for `partner`, in the caller's transaction, and asks for a delivery run.
    public func enqueue(_ message: QueuedMessage, partner: String, on tx: any Database) async throws {
        let now = clock.now()
        try await tx.sql.insert(into: FederationOutbox.tableName)
            .columns(
                FederationOutbox.messageID, FederationOutbox.partner, FederationOutbox.caseRef, FederationOutbox.type,
                FederationOutbox.message, FederationOutbox.state, FederationOutbox.attempts,
                FederationOutbox.nextAttemptMS, FederationOutbox.createdMS
            )
            .values(
                SQLBind(message.id), SQLBind(partner), SQLBind(message.caseRef), SQLBind(message.type),
                SQLBind(message.json), SQLBind(Outgoing.State.pending.rawValue), SQLBind(0), SQLBind(Self.ms(now)),
                SQLBind(Self.ms(now))
            ).run()
        try await AuditLog.append(
            on: tx, at: now, actor: .job(Self.deliverJob), action: "federation.queued", subject: "partner:\(partner)",
            details: ["message": message.id, "type": message.type, "case": message.caseRef])
        try await JobQueue(db: tx, clock: clock, owner: "federation").enqueue(Self.deliverJob, on: tx)
    }

    static func outgoing(_ r: any SQLRow) throws -> Outgoing {
        Outgoing(
            seq: try r.decode(FederationOutbox.seq, as: Int64.self),
            messageID: try r.decode(FederationOutbox.messageID, as: String.self),
            partner: try r.decode(FederationOutbox.partner, as: String.self),
            caseRef: try r.decode(FederationOutbox.caseRef, as: String.self),
            type: try r.decode(FederationOutbox.type, as: String.self),
            message: try r.decode(FederationOutbox.message, as: String.self),
            state: Outgoing.State(rawValue: try r.decode(FederationOutbox.state, as: String.self)) ?? .failed,
            attempts: try r.decode(FederationOutbox.attempts, as: Int.self),
            nextAttempt: Self.date(try r.decode(FederationOutbox.nextAttemptMS, as: Int64.self)),
            lastError: try r.decode(FederationOutbox.lastError, as: String?.self),
            created: Self.date(try r.decode(FederationOutbox.createdMS, as: Int64.self)),
            delivered: try r.decode(FederationOutbox.deliveredMS, as: Int64?.self).map(Self.date))
    }

    /// Pending messages, oldest first (each partner's are delivered strictly in this order); with `partners`, only
    /// theirs, and at most `limit` per partner, so one partner's backlog never hides another's messages.
    public func pending(partners: [String]? = nil, limit: Int = 500) async throws -> [Outgoing] {
        guard let partners else {
            return try await sql.select().columns(FederationOutbox.allColumns).from(FederationOutbox.tableName)
                .where(FederationOutbox.state, .equal, Outgoing.State.pending.rawValue).orderBy(FederationOutbox.seq)
                .limit(limit).all().map(Self.outgoing)
        }
        var out: [Outgoing] = []
        for partner in partners {
            out += try await sql.select().columns(FederationOutbox.allColumns).from(FederationOutbox.tableName)
                .where(FederationOutbox.state, .equal, Outgoing.State.pending.rawValue)
                .where(FederationOutbox.partner, .equal, partner).orderBy(FederationOutbox.seq)
                .limit(limit).all().map(Self.outgoing)
        }
        return out.sorted { $0.seq < $1.seq }
    }

    /// Every outbox message of a case, oldest first (the case page's timeline).
    public func outgoing(caseRef: String) async throws -> [Outgoing] {
        try await sql.select().columns(FederationOutbox.allColumns).from(FederationOutbox.tableName)
            .where(FederationOutbox.caseRef, .equal, caseRef).orderBy(FederationOutbox.seq).all().map(Self.outgoing)
    }

    /// How an attempt ended.
    public enum Attempt: Sendable, Equatable {
        /// Accepted (202), or already received (409): delivered.
        case delivered
        /// Try again at `next` (the partner down, busy or unreachable).
        case retry(next: Date, error: String)
        /// Refused for good (a 4xx other than 409 and 429): kept, shown to administrators, skipped.
        case failed(error: String)
    }

    /// Records an attempt's end (audited).
    public func record(_ attempt: Attempt, for message: Outgoing) async throws {
        let now = clock.now()
        try await AuditLog.transaction(db) { tx in
            var update = tx.sql.update(FederationOutbox.tableName)
                .set(FederationOutbox.attempts, to: message.attempts + 1)
            let action: String
            var details = ["message": message.messageID, "attempt": String(message.attempts + 1)]
            switch attempt {
            case .delivered:
                update = update.set(FederationOutbox.state, to: Outgoing.State.delivered.rawValue)
                    .set(FederationOutbox.deliveredMS, to: Self.ms(now)).set(
                        FederationOutbox.lastError, to: SQLLiteral.null)
                action = "federation.delivered"
            case .retry(let next, let error):
                update = update.set(FederationOutbox.nextAttemptMS, to: Self.ms(next))
                    .set(FederationOutbox.lastError, to: String(error.prefix(500)))
                action = "federation.retry"
                details["error"] = String(error.prefix(300))
                details["next"] = next.formatted(.iso8601)
            case .failed(let error):
                update = update.set(FederationOutbox.state, to: Outgoing.State.failed.rawValue)
                    .set(FederationOutbox.lastError, to: String(error.prefix(500)))
                action = "federation.failed"
                details["error"] = String(error.prefix(300))
            }
            try await update.where(FederationOutbox.seq, .equal, message.seq).run()
            let audited = details
            try await AuditLog.append(
                on: tx, at: now, actor: .job(Self.deliverJob), action: action, subject: "partner:\(message.partner)",
                details: audited)
        }
    }

    /// A partner's link health: what waits, what failed, and the last message each way.
    public struct Health: Sendable, Equatable {
        public var pending = 0
        public var failed = 0
        public var lastDelivered: Date?
        public var lastReceived: Date?
        public var lastError: String?

        public init() {}
    }

    /// Health per partner name.
    public func health() async throws -> [String: Health] {
        var out: [String: Health] = [:]
        for r in try await sql.raw(
            """
            SELECT partner, state, COUNT(*) AS n, MAX(delivered_ms) AS last FROM federation_outbox
            GROUP BY partner, state
            """
        ).all() {
            let partner = try r.decode(column: "partner", as: String.self)
            let n = try r.decode(column: "n", as: Int.self)
            switch try r.decode(column: "state", as: String.self) {
            case Outgoing.State.pending.rawValue: out[partner, default: Health()].pending = n
            case Outgoing.State.failed.rawValue: out[partner, default: Health()].failed = n
            default:
                out[partner, default: Health()].lastDelivered = try r.decode(column: "last", as: Int64?.self).map(
                    Self.date)
            }
        }
        for message in try await pending(limit: 1000) where message.lastError != nil {
            out[message.partner, default: Health()].lastError = message.lastError
        }
        for r in try await sql.raw(
            "SELECT partner, MAX(received_ms) AS last FROM federation_inbox GROUP BY partner"
        ).all() {
            out[try r.decode(column: "partner", as: String.self), default: Health()].lastReceived =
                try r.decode(column: "last", as: Int64?.self).map(Self.date)
        }
        return out
    }
}

// MARK: received messages and links to our cases

extension FederationStore {
    /// A message received from a partner.
    public struct Incoming: Sendable, Equatable {
        public let messageID: String
        public let partner: String
        public let type: String
        public let caseRef: String
        /// The canonical JSON that was signed.
        public let message: String
        public let received: Date
        public let referral: String?
    }

    static func incoming(_ r: any SQLRow) throws -> Incoming {
        Incoming(
            messageID: try r.decode(FederationInbox.messageID, as: String.self),
            partner: try r.decode(FederationInbox.partner, as: String.self),
            type: try r.decode(FederationInbox.type, as: String.self),
            caseRef: try r.decode(FederationInbox.caseRef, as: String.self),
            message: try r.decode(FederationInbox.message, as: String.self),
            received: Self.date(try r.decode(FederationInbox.receivedMS, as: Int64.self)),
            referral: try r.decode(FederationInbox.referral, as: String?.self))
    }

    /// Messages not yet acted on (or whose processing was cut short), in the order they arrived; ``claim(_:staleAfter:)``
    /// decides which may be taken.
    public func unprocessed(limit: Int = 200) async throws -> [Incoming] {
        try await sql.select().columns(FederationInbox.allColumns).from(FederationInbox.tableName)
            .where(FederationInbox.state, .in, ["new", "processing"]).orderBy(FederationInbox.arrival).limit(limit)
            .all()
            .map(Self.incoming)
    }

    /// Claims a new message for processing; false when another run has it (or had it). A claimed message that is
    /// never finished (the process died) is claimed again after `staleAfter`.
    public func claim(_ messageID: String, staleAfter: TimeInterval = 600) async throws -> Bool {
        let now = clock.now()
        return try await AuditLog.transaction(db) { tx in
            guard
                let row = try await tx.sql.select().columns(FederationInbox.state, FederationInbox.processedMS)
                    .from(FederationInbox.tableName).where(FederationInbox.messageID, .equal, messageID).first()
            else { return false }
            let state = try row.decode(FederationInbox.state, as: String.self)
            let since = try row.decode(FederationInbox.processedMS, as: Int64?.self) ?? 0
            guard state == "new" || (state == "processing" && since < Self.ms(now.addingTimeInterval(-staleAfter)))
            else { return false }
            try await tx.sql.update(FederationInbox.tableName).set(FederationInbox.state, to: "processing")
                .set(FederationInbox.processedMS, to: Self.ms(now))
                .where(FederationInbox.messageID, .equal, messageID).run()
            return true
        }
    }

    /// Marks a message acted on (`done`), or not actionable (`failed`, with the reason audited).
    public func markProcessed(_ messageID: String, failed reason: String? = nil) async throws {
        let now = clock.now()
        try await AuditLog.transaction(db) { tx in
            try await tx.sql.update(FederationInbox.tableName)
                .set(FederationInbox.state, to: reason == nil ? "done" : "failed")
                .set(FederationInbox.processedMS, to: Self.ms(now))
                .where(FederationInbox.messageID, .equal, messageID).run()
            if let reason {
                try await AuditLog.append(
                    on: tx, at: now, actor: .job(Self.processJob), action: "federation.not-processed",
                    subject: "federation", details: ["message": messageID, "reason": String(reason.prefix(300))])
            }
        }
    }

    /// Statuses and known answers about our referrals, oldest first: only those sent by the partner each referral
    /// went to (another partner cannot speak for it).
    public func answers(toReferrals ids: [String]) async throws -> [Incoming] {
        guard !ids.isEmpty else { return [] }
        var sentTo: [String: String] = [:]
        var out: [Incoming] = []
        for chunk in stride(from: 0, to: ids.count, by: 400) {
            let part = Array(ids[chunk..<min(chunk + 400, ids.count)])
            for r in try await sql.select().columns(FederationOutbox.messageID, FederationOutbox.partner)
                .from(FederationOutbox.tableName).where(FederationOutbox.messageID, .in, part).all()
            {
                sentTo[try r.decode(FederationOutbox.messageID, as: String.self)] = try r.decode(
                    FederationOutbox.partner, as: String.self)
            }
            out += try await sql.select().columns(FederationInbox.allColumns).from(FederationInbox.tableName)
                .where(FederationInbox.referral, .in, part).all().map(Self.incoming)
        }
        return out.filter { a in a.referral.flatMap { sentTo[$0] } == a.partner }
            .sorted { ($0.received, $0.messageID) < ($1.received, $1.messageID) }
    }

    /// A partner's referral that opened or joined one of our cases.
    public struct Link: Sendable, Equatable {
        public let partner: String
        /// The referral's message id.
        public let referral: String
        public let caseID: Int64
        public let theirCase: String
        /// The statuses already sent back, in order.
        public let reported: [String]
        /// When the referral was linked.
        public let created: Date
    }

    /// Records that a partner's referral opened or joined `caseID` (audited on the case).
    public func link(
        partner: String, referral: String, caseID: Int64, theirCase: String, reported: [String], on tx: any Database
    ) async throws {
        let now = clock.now()
        try await tx.sql.insert(into: FederationLinksColumns.tableName).columns(FederationLinksColumns.allColumns)
            .values(
                SQLBind(partner), SQLBind(referral), SQLBind(caseID), SQLBind(theirCase),
                SQLBind(reported.joined(separator: ",")),
                SQLBind(Self.ms(now))
            ).run()
        try await AuditLog.append(
            on: tx, at: now, actor: .job(Self.processJob), action: "federation.referral-linked",
            subject: "case:\(caseID)", details: ["partner": partner, "referral": referral, "their_case": theirCase])
    }

    /// The link a partner's referral made, if it was acted on.
    public func link(partner: String, referral: String) async throws -> Link? {
        try await links(partner: partner, referral: referral).first
    }

    /// Every link (the status job walks them), or a case's.
    public func links(caseID: Int64? = nil, partner: String? = nil, referral: String? = nil) async throws -> [Link] {
        var q = sql.select().columns(FederationLinksColumns.allColumns).from(FederationLinksColumns.tableName)
        if let caseID { q = q.where(FederationLinksColumns.caseID, .equal, caseID) }
        if let partner { q = q.where(FederationLinksColumns.partner, .equal, partner) }
        if let referral { q = q.where(FederationLinksColumns.referral, .equal, referral) }
        return try await q.orderBy(FederationLinksColumns.createdMS).all().map { r in
            Link(
                partner: try r.decode(FederationLinksColumns.partner, as: String.self),
                referral: try r.decode(FederationLinksColumns.referral, as: String.self),
                caseID: try r.decode(FederationLinksColumns.caseID, as: Int64.self),
                theirCase: try r.decode(FederationLinksColumns.theirCase, as: String.self),
                reported: try r.decode(FederationLinksColumns.reported, as: String.self).split(separator: ",").map(
                    String.init),
                created: Self.date(try r.decode(FederationLinksColumns.createdMS, as: Int64.self)))
        }
    }

    /// Queues status messages for a link and records them as reported, in one transaction. States another process
    /// reported meanwhile are not queued again.
    public func report(_ messages: [(state: String, message: QueuedMessage)], for link: Link) async throws {
        try await AuditLog.transaction(db) { tx in
            let current =
                try await tx.sql.select().column(FederationLinksColumns.reported).from(FederationLinksColumns.tableName)
                .where(FederationLinksColumns.partner, .equal, link.partner)
                .where(FederationLinksColumns.referral, .equal, link.referral).first()?
                .decode(FederationLinksColumns.reported, as: String.self).split(separator: ",").map(String.init) ?? []
            var reported = current
            for (state, m) in messages where !reported.contains(state) {
                try await enqueue(m, partner: link.partner, on: tx)
                reported.append(state)
            }
            try await tx.sql.update(FederationLinksColumns.tableName)
                .set(FederationLinksColumns.reported, to: reported.joined(separator: ","))
                .where(FederationLinksColumns.partner, .equal, link.partner)
                .where(FederationLinksColumns.referral, .equal, link.referral).run()
        }
    }
}

// MARK: figures

extension FederationStore {
    /// Cross-border figures per partner: referrals sent and received, how long ours took from our assessment to the
    /// partner's receipt, and from report to removal for what we referred (from the partner's `removed` statuses).
    public struct PartnerFigures: Sendable, Equatable {
        public let partner: String
        public let countries: [String]
        public var sent = 0
        public var delivered = 0
        /// Seconds from the case's first assessment (else from the referral decision) to the partner's receipt, per
        /// delivered referral.
        public var toReceipt: [TimeInterval] = []
        /// Seconds from the case's first report to removal in the partner's country, per removed referral.
        public var reportToRemoval: [TimeInterval] = []
        public var received = 0
    }

    /// The figures of referrals made (and received) in `period`, or of all of them.
    public func figures(in period: ReportingPeriod? = nil) async throws -> [PartnerFigures] {
        var out: [String: PartnerFigures] = [:]
        for p in try await partners() { out[p.name] = PartnerFigures(partner: p.name, countries: p.countries) }
        let referrals = try await sql.select().columns(FederationOutbox.allColumns).from(FederationOutbox.tableName)
            .where(FederationOutbox.type, .equal, "referral").all().map(Self.outgoing)
            .filter { period?.contains($0.created) ?? true }
        var caseOf: [String: Int64] = [:]
        for r in referrals {
            if let id = Int64(r.caseRef.dropFirst("case-".count)), r.caseRef.hasPrefix("case-") {
                caseOf[r.messageID] = id
            }
        }
        let ids = Array(Set(caseOf.values))
        var reportedAt: [Int64: Date] = [:]
        var assessedAt: [Int64: Date] = [:]
        for chunk in stride(from: 0, to: ids.count, by: 400) {
            let part = Array(ids[chunk..<min(chunk + 400, ids.count)])
            for r in try await sql.select().columns(Cases.id, Cases.createdMS).from(Cases.tableName)
                .where(Cases.id, .in, part).all()
            {
                reportedAt[try r.decode(Cases.id, as: Int64.self)] = Self.date(
                    try r.decode(Cases.createdMS, as: Int64.self))
            }
            // The first assessment of each case, from its audit trail.
            for r in try await sql.select().columns(AuditEvents.subject, AuditEvents.timeMS).from(AuditEvents.table)
                .where(AuditEvents.action, .equal, "case.assessed")
                .where(AuditEvents.subject, .in, part.map { "case:\($0)" }).all()
            {
                guard let id = Int64(try r.decode(AuditEvents.subject, as: String.self).dropFirst("case:".count))
                else { continue }
                let at = Self.date(try r.decode(AuditEvents.timeMS, as: Int64.self))
                assessedAt[id] = min(assessedAt[id] ?? at, at)
            }
        }
        for r in referrals {
            guard out[r.partner] != nil else { continue }
            out[r.partner]!.sent += 1
            if let d = r.delivered {
                out[r.partner]!.delivered += 1
                let from = caseOf[r.messageID].flatMap { assessedAt[$0] } ?? r.created
                out[r.partner]!.toReceipt.append(max(0, d.timeIntervalSince(from)))
            }
        }
        // A `removed` status carries when the content went: {"status":{"at":"…","state":"removed",…}}.
        struct Removed: Decodable {
            struct S: Decodable {
                let state: String
                let at: String
            }
            let status: S?
        }
        var counted: Set<String> = []
        for a in try await answers(toReferrals: Array(caseOf.keys)) where a.type == "status" {
            guard let referral = a.referral, !counted.contains(referral), out[a.partner] != nil,
                let s = try? JSONDecoder().decode(Removed.self, from: Data(a.message.utf8)).status,
                s.state == "removed",
                let at = FederationKeyID.time(s.at), let id = caseOf[referral], let reported = reportedAt[id]
            else { continue }
            counted.insert(referral)
            out[a.partner]!.reportToRemoval.append(max(0, at.timeIntervalSince(reported)))
        }
        for link in try await links() where out[link.partner] != nil && (period?.contains(link.created) ?? true) {
            out[link.partner]!.received += 1
        }
        return out.values.sorted { $0.partner < $1.partner }
    }
}
