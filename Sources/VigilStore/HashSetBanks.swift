import FluentKit
import Foundation
import SQLKit
import VigilCore

/// A hash set item with what matching and review need besides its record.
public struct HashSetItem: Sendable {
    public let id: Int64
    public let record: HashSetRecord
    public let bank: String
    public let review: HashReview
    /// Grows with every change to the item (merge, review step, bank move).
    public let version: Int64
    /// When the item entered the set.
    public let firstSeen: Date

    public init(id: Int64, record: HashSetRecord, bank: String, review: HashReview, version: Int64, firstSeen: Date) {
        self.id = id
        self.record = record
        self.bank = bank
        self.review = review
        self.version = version
        self.firstSeen = firstSeen
    }
}

/// Banks and review of the national hash set (#14).
extension HashSetStore {
    // MARK: banks

    static func insertBank(_ bank: HashBank, at ms: Int64, on sql: any SQLDatabase) async throws {
        try await sql.insert(into: HashBanksColumns.tableName)
            .columns(HashBanksColumns.allCases)
            .values(
                SQLBind(bank.name), SQLBind(bank.label), SQLBind(bank.kind.rawValue), SQLBind(bank.enabled),
                SQLBind(bank.pdqRadius), SQLBind(bank.sampling), SQLBind(bank.reviewed), SQLBind(ms)
            ).run()
    }

    /// Every bank, by name.
    public func banks() async throws -> [HashBank] {
        try await sql.select().column("*").from(HashBanksColumns.tableName).orderBy(HashBanksColumns.name).all().map {
            r in
            guard let kind = HashBank.Kind(rawValue: try r.decode(HashBanksColumns.kind, as: String.self)) else {
                throw StoreError.corrupt("a bank of an unknown kind")
            }
            return HashBank(
                name: try r.decode(HashBanksColumns.name, as: String.self),
                label: try r.decode(HashBanksColumns.label, as: String.self),
                kind: kind, enabled: try r.decode(HashBanksColumns.enabled, as: Bool.self),
                pdqRadius: try r.decode(HashBanksColumns.pdqRadius, as: Int.self),
                sampling: try r.decode(HashBanksColumns.sampling, as: Double.self),
                reviewed: try r.decode(HashBanksColumns.reviewed, as: Bool.self))
        }
    }

    /// The bank named `name`, or a clear error naming the banks there are.
    public func bank(named name: String) async throws -> HashBank {
        let all = try await banks()
        guard let bank = all.first(where: { $0.name == name }) else {
            throw StoreError.notFound(
                "there is no bank '\(name)'; banks: \(all.map(\.name).joined(separator: ", ")) (add one with vigil bank add)"
            )
        }
        return bank
    }

    /// Adds a bank (audited).
    public func addBank(_ bank: HashBank, actor: AuditActor) async throws {
        if let problem = HashBank.problem(name: bank.name, pdqRadius: bank.pdqRadius, sampling: bank.sampling) {
            throw StoreError.invalid(problem)
        }
        let now = clock.now()
        try await AuditLog.transaction(db) { tx in
            let sql = tx.sql
            if try await sql.select().column(HashBanksColumns.name).from(HashBanksColumns.tableName).where(
                HashBanksColumns.name, .equal, bank.name
            ).first() != nil {
                throw StoreError.conflict("a bank named '\(bank.name)' already exists")
            }
            try await Self.insertBank(bank, at: AuditChain.milliseconds(now), on: sql)
            try await AuditLog.append(
                on: tx, at: now, actor: actor, action: "hashset.bank-add", subject: "bank:\(bank.name)",
                details: Self.bankDetails(bank))
        }
    }

    /// Changes a bank's settings (audited with the settings after the change). Takes effect at every matcher's next
    /// query: matchers read the banks per query.
    public func updateBank(_ name: String, actor: AuditActor, _ change: @Sendable (inout HashBank) -> Void)
        async throws -> HashBank
    {
        let now = clock.now()
        var bank = try await bank(named: name)
        change(&bank)
        if let problem = HashBank.problem(name: bank.name, pdqRadius: bank.pdqRadius, sampling: bank.sampling) {
            throw StoreError.invalid(problem)
        }
        let changed = bank
        try await AuditLog.transaction(db) { tx in
            try await tx.sql.update(HashBanksColumns.tableName).set(HashBanksColumns.label, to: changed.label).set(
                HashBanksColumns.kind, to: changed.kind.rawValue
            )
            .set(HashBanksColumns.enabled, to: changed.enabled).set(HashBanksColumns.pdqRadius, to: changed.pdqRadius)
            .set(HashBanksColumns.sampling, to: changed.sampling).set(HashBanksColumns.reviewed, to: changed.reviewed)
            .set(HashBanksColumns.updatedMS, to: AuditChain.milliseconds(now)).where(
                HashBanksColumns.name, .equal, name
            ).run()
            try await AuditLog.append(
                on: tx, at: now, actor: actor, action: "hashset.bank-set", subject: "bank:\(name)",
                details: Self.bankDetails(changed))
        }
        return changed
    }

    static func bankDetails(_ b: HashBank) -> [String: String] {
        [
            "label": b.label, "kind": b.kind.rawValue, "enabled": String(b.enabled), "pdq_radius": String(b.pdqRadius),
            "sampling": String(b.sampling), "reviewed": String(b.reviewed),
        ]
    }

    // MARK: items with bank and review

    static let itemColumns: [HashItems] = [.id, .record, .bank, .reviewState, .review, .version, .createdAt]

    /// Items by id, with bank, review and version.
    public func items(ids: [Int64]) async throws -> [Int64: HashSetItem] {
        var out: [Int64: HashSetItem] = [:]
        var decoder = ItemDecoder()
        // A match batch of 1,000 hashes asks for up to 1,000 items: one statement (both databases take far more binds).
        for chunk in stride(from: 0, to: ids.count, by: 1000) {
            for r in try await sql.select().columns(Self.itemColumns)
                .from(HashItems.tableName).where(HashItems.id, .in, Array(ids[chunk..<min(chunk + 1000, ids.count)]))
                .all()
            {
                let item = try decoder.item(r)
                out[item.id] = item
            }
        }
        return out
    }

    static func item(_ r: any SQLRow) throws -> HashSetItem {
        var decoder = ItemDecoder()
        return try decoder.item(r)
    }

    /// Decodes item rows. The records of one import share their review's JSON text (confirmed together), so each
    /// distinct review text is decoded once per decoder: a match batch touching thousands of items decodes a few.
    struct ItemDecoder {
        private var reviews: [String: HashReview] = [:]

        mutating func item(_ r: any SQLRow) throws -> HashSetItem {
            let id = try r.decode(HashItems.id, as: Int64.self)
            let record = try HashSetRecordJSON.decode(try r.decode(HashItems.record, as: String.self))
            let created = Date(timeIntervalSince1970: Double(try r.decode(HashItems.createdAt, as: Int64.self)) / 1000)
            let review: HashReview
            if let json = try r.decode(HashItems.review, as: String?.self) {
                if let known = reviews[json] {
                    review = known
                } else {
                    review = try HashSetStore.decoder.decode(HashReview.self, from: Data(json.utf8))
                    if reviews.count >= 256 { reviews.removeAll(keepingCapacity: true) }
                    reviews[json] = review
                }
            } else {
                // Stored before reviews existed: known, as it was.
                // The source's own categories stay on the record; the review's category is a desk code, so none here.
                review = .confirmed(category: nil, by: nil, at: created)
            }
            return HashSetItem(
                id: id, record: record, bank: try r.decode(HashItems.bank, as: String.self), review: review,
                version: try r.decode(HashItems.version, as: Int64.self), firstSeen: created)
        }
    }

    /// The reviewers' queue: pending records of match banks oldest first, or the supervisors' (escalated), after
    /// `after`. Records of negative banks are not reviewed: their hashes only ever suppress.
    /// - Parameter matchBanks: The match banks' names when the caller has them (a page asks several times).
    public func reviewQueue(
        _ state: HashReviewState = .pending, after: Int64 = 0, limit: Int = 50, matchBanks: [String]? = nil
    ) async throws -> [HashSetItem] {
        var matchBanks = matchBanks
        if matchBanks == nil { matchBanks = try await banks().filter { $0.kind == .match }.map(\.name) }
        return try await sql.select().columns(Self.itemColumns)
            .from(HashItems.tableName).where(HashItems.reviewState, .equal, state.rawValue)
            .where(HashItems.bank, .in, matchBanks ?? []).where(HashItems.id, .greaterThan, after)
            .orderBy(HashItems.id).limit(limit).all()
            .map(Self.item)
    }

    /// Whether any of these banks holds a record (one index probe).
    public func anyRecords(inBanks names: [String]) async throws -> Bool {
        guard !names.isEmpty else { return false }
        return try await sql.select().column(HashItems.id).from(HashItems.tableName).where(HashItems.bank, .in, names)
            .limit(1).first() != nil
    }

    /// How many records each bank holds.
    public func recordsPerBank() async throws -> [String: Int] {
        var out: [String: Int] = [:]
        for r in try await sql.select().column(HashItems.bank).column(
            SQLFunction("count", args: SQLLiteral.all), as: "n"
        ).from(HashItems.tableName).groupBy(HashItems.bank).all() {
            out[try r.decode(HashItems.bank, as: String.self)] = try r.decode(column: "n", as: Int.self)
        }
        return out
    }

    /// How many records are in each review state.
    public func reviewCounts() async throws -> [HashReviewState: Int] {
        var out: [HashReviewState: Int] = [:]
        for r in try await sql.select().column(HashItems.reviewState).column(
            SQLFunction("count", args: SQLLiteral.all), as: "n"
        )
        .from(HashItems.tableName).groupBy(HashItems.reviewState).all() {
            if let s = HashReviewState(rawValue: try r.decode(HashItems.reviewState, as: String.self)) {
                out[s] = try r.decode(column: "n", as: Int.self)
            }
        }
        return out
    }

    /// Applies a review event to an item and saves it (audited, with the item's new version). A record marked a
    /// false positive moves to the `false-positive` bank, where its hashes suppress near matches from then on.
    @discardableResult
    public func review(item id: Int64, _ event: HashReviewEvent, actor: AuditActor) async throws -> (
        HashSetItem, [HashReviewEffect]
    ) {
        let now = clock.now()
        // The item's row first, then the audit chain: the order an import takes (it updates items, then appends), so
        // a review and an import touching the same item cannot wait on each other.
        return try await WriteGate.transaction(db) { tx in
            let sql = tx.sql
            guard
                let row = try await sql.select()
                    .columns(Self.itemColumns)
                    .from(HashItems.tableName).where(HashItems.id, .equal, id).for(.update).first()
            else { throw StoreError.notFound("there is no hash set record item-\(id)") }
            try await AuditLog.lockChain(on: tx)
            let item = try Self.item(row)
            var review = item.review
            let effects = try review.handle(event, at: now)
            var bank = item.bank
            if case .markFalsePositive = event { bank = HashBank.falsePositiveName }
            let json = String(decoding: try Self.encoder.encode(review), as: UTF8.self)
            let ms = AuditChain.milliseconds(now)
            try await sql.update(HashItems.tableName).set(HashItems.review, to: json).set(
                HashItems.reviewState, to: review.state.rawValue
            )
            .set(HashItems.bank, to: bank).set(HashItems.version, to: item.version + 1).set(HashItems.updatedAt, to: ms)
            .where(HashItems.id, .equal, id).run()
            var details = ["state": review.state.rawValue, "version": String(item.version + 1)]
            switch event {
            case .vote(_, let category): details["category"] = category
            case .decide(_, let category): details["category"] = category ?? "rejected"
            case .dispute, .agree: details["partner_feedback"] = event.name
            case .markFalsePositive: details["bank"] = bank
            }
            if !effects.isEmpty { details["effects"] = effects.map { "\($0)" }.joined(separator: ",") }
            try await AuditLog.append(
                on: tx, at: now, actor: actor, action: "hashset.review.\(event.name)", subject: "item-\(id)",
                details: details)
            let saved = HashSetItem(
                id: id, record: item.record, bank: bank, review: review, version: item.version + 1,
                firstSeen: item.firstSeen)
            return (saved, effects)
        }
    }
}
