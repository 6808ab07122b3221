import FluentKit
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import SQLKit
import VigilCore

/// The national hash set in the database, the source of truth: imports that merge (idempotent, one transaction
/// per batch, conflicts kept), exports, and lookups by digest.
public struct HashSetStore: Sendable {
    public let db: any Database
    public let clock: any VigilClock

    public init(db: any Database, clock: any VigilClock) {
        self.db = db
        self.clock = clock
    }

    var sql: any SQLDatabase { db.sql }

    /// Where an import puts new records and how they enter review.
    public struct Intake: Sendable, Equatable {
        /// The bank new records join.
        public var bank: String
        /// The import itself is the one confirmation a reviewed bank's records need (by the importing actor).
        public var confirms: Bool
        /// Confirmations a new record needs otherwise.
        public var reviewsRequired: Int

        /// New records wait for `reviewsRequired` confirmations in `bank`.
        public static func pending(bank: String = HashBank.defaultName, reviewsRequired: Int) -> Intake {
            Intake(bank: bank, confirms: false, reviewsRequired: reviewsRequired)
        }

        /// New records are confirmed by the import: only for a bank marked reviewed (the caller checks).
        public static func confirmed(bank: String) -> Intake {
            Intake(bank: bank, confirms: true, reviewsRequired: 1)
        }

        func review(for record: HashSetRecord, submittedBy: String, at now: Date) -> HashReview {
            confirms
                ? .confirmed(category: nil, by: submittedBy, at: now)
                : HashReview(submittedBy: submittedBy, required: reviewsRequired)
        }
    }

    /// What one import did.
    public struct ImportSummary: Sendable, Equatable {
        public var added = 0
        public var updated = 0
        public var unchanged = 0
        public var rejected: [(line: Int, reason: String)] = []
        public init() {}

        public static func == (a: Self, b: Self) -> Bool {
            a.added == b.added && a.updated == b.updated && a.unchanged == b.unchanged
                && a.rejected.map(\.line) == b.rejected.map(\.line)
        }
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        e.dateEncodingStrategy = .secondsSince1970
        return e
    }()
    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .secondsSince1970
        return d
    }()

    /// Merges one batch of records in a single transaction; records that share a digest with a known item
    /// are merged into it (categories from several sources are kept side by side). One audit event per batch
    /// that changed anything.
    ///
    /// The hot statements are written by hand (multi-row inserts on SQLite, array binds on PostgreSQL) and new
    /// records are encoded by ``HashSetRecordJSON``: at millions of records, SQLKit's query builder and
    /// `JSONEncoder` cost more than the database itself.
    ///
    /// New records go to `intake`'s bank, pending review unless the intake confirms them; records that merge into
    /// a known item keep its bank and review. Records that carry a video's frames (a VICS file's `vPDQ`) are
    /// imported as videos (``importVideos(_:source:actor:intake:into:)``) in the same transaction, the frames kept
    /// with their item.
    public func importBatch(
        _ records: [HashSetRecord], source: String, actor: AuditActor, intake: Intake = .pending(reviewsRequired: 3),
        into summary: inout ImportSummary
    ) async throws {
        // Records carrying frames are videos; all of the batch goes in one transaction.
        var plain = records
        var videos: [VideoImport] = []
        if records.contains(where: { $0.video != nil }) {
            plain = records.filter { $0.video == nil }
            videos = records.compactMap { r -> VideoImport? in
                guard let video = r.video else { return nil }
                var record = r
                record.video = nil
                return VideoImport(record: record, frames: video.frames, duration: video.duration)
            }
            try Self.check(videos)
        }
        guard !plain.isEmpty || !videos.isEmpty else { return }
        let now = clock.now()
        let ms = AuditChain.milliseconds(now)
        let clock = self.clock
        let (plainRecords, videoImports) = (plain, videos)
        let counts = try await db.withConnection { connection in
            try await ImportStatements(connection).prepareConnection()
            return try await connection.transaction { tx in
                // The merge reads before it writes: on SQLite the write lock first, so that another process's write
                // cannot make those reads stale (SQLite would refuse the late write as busy).
                if tx.sql.dialect.name == "sqlite" { try await AuditLog.lockChain(on: tx) }
                var counts = (0, 0, 0)
                if !plainRecords.isEmpty {
                    counts = try await Self.merge(
                        plainRecords, on: tx, source: source, actor: actor, intake: intake, now: now, ms: ms)
                }
                if !videoImports.isEmpty {
                    let (v, _) = try await Self.mergeVideos(
                        videoImports, on: tx, source: source, actor: actor, intake: intake, now: now, clock: clock)
                    counts = (counts.0 + v.0, counts.1 + v.1, counts.2 + v.2)
                }
                return counts
            }
        }
        summary.added += counts.0
        summary.updated += counts.1
        summary.unchanged += counts.2
    }

    /// Step 1–3 of ``importBatch(_:source:actor:into:)`` inside its transaction; returns added, updated, unchanged.
    static func merge(
        _ records: [HashSetRecord], on tx: any Database, source: String, actor: AuditActor, intake: Intake, now: Date,
        ms: Int64
    ) async throws -> (Int, Int, Int) {
        let statements = ImportStatements(tx)
        // 1. Which of these digests are known, and to which items.
        var known: [HashDigest: Int64] = [:]
        var values: [String] = []
        values.reserveCapacity(records.count)
        var seenValues = Set<String>(minimumCapacity: records.count)
        for record in records {
            for d in record.digests where seenValues.insert(d.value).inserted { values.append(d.value) }
        }
        try await statements.lookup(values: values) { alg, val, item in
            guard let a = HashAlgorithm(rawValue: alg), let d = try? HashDigest(a, val) else { return }
            known[d] = item
        }
        // 2. Load the records of the items involved.
        var items: [Int64: HashSetRecord] = [:]
        let ids = Array(Set(known.values))
        for chunk in stride(from: 0, to: ids.count, by: 400) {
            let part = Array(ids[chunk..<min(chunk + 400, ids.count)])
            let sql = tx.sql
            for r in try await sql.select().columns(HashItems.id, HashItems.record).from(HashItems.tableName).where(
                HashItems.id, .in, part
            ).all() {
                let id = try r.decode(HashItems.id, as: Int64.self)
                let json = try r.decode(HashItems.record, as: String.self)
                let record = try HashSetRecordJSON.decode(json)
                items[id] = record
                // Its other digests are stored too: a merge must not insert them again.
                for d in record.digests where known[d] == nil { known[d] = id }
            }
        }
        var nextID = try await statements.maxItemID()
        var added = 0, updated = 0, unchanged = 0
        var changed: Set<Int64> = []
        var newItems: [Int64] = []
        var newDigests: [(HashDigest, Int64)] = []
        newItems.reserveCapacity(records.count)
        newDigests.reserveCapacity(records.count)
        for record in records {
            // A record is the item its file digests name; PDQ names an item only for a record that has nothing
            // else. Different files can share a PDQ (blank pictures, re-encodings): merged by it, the second
            // file's MD5, SHA-1 and SHA-256 would be lost.
            let hasFileDigest = record.digests.contains { $0.algorithm != .pdq }
            if let id = record.digests.lazy.filter({ !hasFileDigest || $0.algorithm != .pdq }).compactMap({ known[$0] })
                .first, var existing = items[id]
            {
                if existing.merge(record) {
                    items[id] = existing
                    changed.insert(id)
                    for d in existing.digests where known[d] == nil {
                        known[d] = id
                        newDigests.append((d, id))
                    }
                    updated += 1
                } else {
                    unchanged += 1
                }
            } else {
                nextID += 1
                items[nextID] = record
                newItems.append(nextID)
                for d in record.digests where known[d] == nil {
                    known[d] = nextID
                    newDigests.append((d, nextID))
                }
                added += 1
            }
        }
        // 3. Write: new items, changed items, new digests.
        var rows: [ImportStatements.ItemRow] = []
        rows.reserveCapacity(newItems.count)
        for id in newItems {
            guard let r = items[id] else { continue }
            let review = intake.review(for: r, submittedBy: actor.display, at: now)
            rows.append(
                .init(
                    id: id, json: HashSetRecordJSON.encode(r), knownBenign: r.knownBenign,
                    baseline: r.baseline ?? false,
                    bank: intake.bank, state: review.state.rawValue,
                    review: String(decoding: try encoder.encode(review), as: UTF8.self)))
        }
        try await statements.insertItems(rows, at: ms)
        let sql = tx.sql
        for id in changed.subtracting(newItems) {
            guard let r = items[id] else { continue }
            try await sql.update(HashItems.tableName).set(HashItems.record, to: HashSetRecordJSON.encode(r)).set(
                HashItems.knownBenign, to: r.knownBenign
            )
            .set(HashItems.baseline, to: r.baseline ?? false).set(HashItems.updatedAt, to: ms)
            .set(HashItems.version, to: SQLRaw("version + 1")).where(HashItems.id, .equal, id).run()
        }
        try await statements.insertDigests(newDigests)
        if added + updated > 0 {
            try await AuditLog.append(
                on: tx, at: now, actor: actor, action: "hashset.import", subject: "hashset",
                details: [
                    "source": source, "added": String(added), "updated": String(updated),
                    "unchanged": String(unchanged), "bank": intake.bank, "confirmed": String(intake.confirms),
                ])
        }
        return (added, updated, unchanged)
    }

    /// What the stored set looks like from outside, cheaply: enough to tell whether a derived index (the match
    /// index snapshot) is still current. Digests are never removed and item ids only grow, so a change to the
    /// PDQ digests or their owners changes at least one of these numbers.
    public struct Fingerprint: Sendable, Hashable, CustomStringConvertible {
        /// PDQ digests in the set.
        public var pdqDigests: Int64
        /// Items in the set.
        public var items: Int64
        /// The largest item id.
        public var maxItemID: Int64
        /// The latest `updated_at` of any item (milliseconds since 1970).
        public var maxUpdatedAt: Int64

        /// Creates a fingerprint.
        public init(pdqDigests: Int64, items: Int64, maxItemID: Int64, maxUpdatedAt: Int64) {
            self.pdqDigests = pdqDigests
            self.items = items
            self.maxItemID = maxItemID
            self.maxUpdatedAt = maxUpdatedAt
        }

        /// `pdq N, items N, max id N, updated N`.
        public var description: String {
            "pdq \(pdqDigests), items \(items), max id \(maxItemID), updated \(maxUpdatedAt)"
        }
    }

    /// The set's current ``Fingerprint`` (one query).
    public func fingerprint() async throws -> Fingerprint {
        let row = try await sql.raw(
            """
            SELECT (SELECT count(*) FROM hash_digests WHERE algorithm = 'pdq') AS p, count(*) AS n,
            coalesce(max(id), 0) AS m, coalesce(max(updated_at), 0) AS u FROM hash_items
            """
        ).first()
        guard let row else { return Fingerprint(pdqDigests: 0, items: 0, maxItemID: 0, maxUpdatedAt: 0) }
        return Fingerprint(
            pdqDigests: try row.decode(column: "p", as: Int64.self), items: try row.decode(column: "n", as: Int64.self),
            maxItemID: try row.decode(column: "m", as: Int64.self),
            maxUpdatedAt: try row.decode(column: "u", as: Int64.self))
    }

    /// Every item in id order, `batch` at a time (for exports and index building).
    /// - Parameter states: Only items in these review states (`nil`: every item).
    ///   - banks: Only items of these banks (`nil`: every bank).
    ///   - withoutCategories: Leaves out items whose reviewers agreed on one of these categories.
    public func forEachItem(
        batch: Int = 2000, states: Set<HashReviewState>? = nil, banks: [String]? = nil,
        withoutCategories: Set<String> = [], _ body: (Int64, HashSetRecord) throws -> Void
    ) async throws {
        var after: Int64 = 0
        while true {
            var query = sql.select().columns(HashItems.id, HashItems.record, HashItems.review).from(
                HashItems.tableName
            ).where(
                HashItems.id, .greaterThan, after
            )
            if let states { query = query.where(HashItems.reviewState, .in, states.map(\.rawValue).sorted()) }
            if let banks { query = query.where(HashItems.bank, .in, banks) }
            let rows = try await query.orderBy(HashItems.id).limit(batch).all()
            guard !rows.isEmpty else { break }
            for r in rows {
                let id = try r.decode(HashItems.id, as: Int64.self)
                after = id
                if !withoutCategories.isEmpty, let json = try r.decode(HashItems.review, as: String?.self),
                    let category = try Self.decoder.decode(HashReview.self, from: Data(json.utf8)).category,
                    withoutCategories.contains(category)
                {
                    continue
                }
                try body(
                    id,
                    try HashSetRecordJSON.decode(try r.decode(HashItems.record, as: String.self)))
            }
        }
    }

    /// The newest item's id (0 for an empty set): one primary-key lookup.
    public func newestItemID() async throws -> Int64 {
        try await sql.select().column(
            SQLFunction("coalesce", args: SQLFunction("max", args: HashItems.id), SQLLiteral.numeric("0")), as: "m"
        )
        .from(HashItems.tableName).first()?.decode(column: "m", as: Int64.self) ?? 0
    }

    /// The PDQ digests of items newer than `item` (a match index's delta), by item.
    public func forEachPDQ(afterItem item: Int64, _ body: (String, Int64) -> Void) async throws {
        for r in try await sql.select().columns(HashDigests.value, HashDigests.itemID).from(HashDigests.tableName)
            .where(HashDigests.algorithm, .equal, "pdq").where(HashDigests.itemID, .greaterThan, item)
            .orderBy(HashDigests.itemID).all()
        {
            body(try r.decode(HashDigests.value, as: String.self), try r.decode(HashDigests.itemID, as: Int64.self))
        }
    }

    /// Every PDQ digest with its item, for building the match index.
    public func forEachPDQ(batch: Int = 50_000, _ body: (String, Int64) -> Void) async throws {
        var lastValue = ""
        if sql.dialect.name == "sqlite", let sqlite = db as? any SQLiteDatabase {
            // In table order (rowid), straight from the driver: walking the value index instead costs a random
            // table read per row for item_id, and SQLKit's row decoding more than the query.
            var lastRow = 0
            while true {
                let rows = try await sqlite.query(
                    """
                    SELECT rowid AS r, value, item_id FROM hash_digests WHERE rowid > ? AND algorithm = 'pdq'
                    ORDER BY rowid LIMIT ?
                    """,
                    [.integer(lastRow), .integer(batch)])
                guard !rows.isEmpty else { return }
                for row in rows {
                    guard let r = row.column("r")?.integer, case .text(let v)? = row.column("value"),
                        let item = row.column("item_id")?.integer
                    else { throw StoreError.invalid("a PDQ digest row is damaged") }
                    body(v, Int64(item))
                    lastRow = r
                }
            }
        }
        while true {
            let rows = try await sql.select().columns(HashDigests.value, HashDigests.itemID).from(HashDigests.tableName)
                .where(
                    HashDigests.algorithm, .equal, "pdq"
                )
                .where(HashDigests.value, .greaterThan, lastValue).orderBy(HashDigests.value).limit(batch).all()
            guard !rows.isEmpty else { break }
            for r in rows {
                let v = try r.decode(HashDigests.value, as: String.self)
                body(v, try r.decode(HashDigests.itemID, as: Int64.self))
                lastValue = v
            }
        }
    }

    /// The items holding exactly these digests.
    public func items(forExact digests: [HashDigest]) async throws -> [HashDigest: HashSetItem] {
        var out: [HashDigest: HashSetItem] = [:]
        guard !digests.isEmpty else { return out }
        var owner: [HashDigest: Int64] = [:]
        let values = Array(Set(digests.map(\.value)))
        for chunk in stride(from: 0, to: values.count, by: 400) {
            for r in try await sql.select().columns(HashDigests.algorithm, HashDigests.value, HashDigests.itemID).from(
                HashDigests.tableName
            )
            .where(HashDigests.value, .in, Array(values[chunk..<min(chunk + 400, values.count)])).all() {
                guard let a = HashAlgorithm(rawValue: try r.decode(HashDigests.algorithm, as: String.self)),
                    let d = try? HashDigest(a, try r.decode(HashDigests.value, as: String.self))
                else { continue }
                owner[d] = try r.decode(HashDigests.itemID, as: Int64.self)
            }
        }
        let records = try await items(ids: Array(Set(owner.values)))
        for d in digests { if let id = owner[d], let r = records[id] { out[d] = r } }
        return out
    }

    /// How many items and digests per algorithm the set holds.
    public func counts() async throws -> (items: Int, digests: [String: Int]) {
        let items =
            try await sql.select().column(SQLFunction("count", args: SQLLiteral.all), as: "n").from(HashItems.tableName)
            .first()?.decode(column: "n", as: Int.self) ?? 0
        var digests: [String: Int] = [:]
        for r in try await sql.select().column(HashDigests.algorithm).column(
            SQLFunction("count", args: SQLLiteral.all), as: "n"
        )
        .from(HashDigests.tableName).groupBy(HashDigests.algorithm).all() {
            digests[try r.decode(HashDigests.algorithm, as: String.self)] = try r.decode(column: "n", as: Int.self)
        }
        return (items, digests)
    }
}

/// The statements of an import batch, written for the database at hand: plain SQLite statements with positional
/// binds through the driver (no query builder, no `Encodable` binds), or PostgreSQL statements with one array
/// bind per column (`unnest`, `= ANY`), so a batch of thousands of rows is a handful of round trips.
struct ImportStatements {
    struct ItemRow {
        let id: Int64
        let json: String
        let knownBenign: Bool
        let baseline: Bool
        let bank: String
        let state: String
        let review: String
    }

    private let sql: any SQLDatabase
    private let sqlite: (any SQLiteDatabase)?

    init(_ database: any Database) {
        sql = database.sql
        sqlite = sql.dialect.name == "sqlite" ? database as? any SQLiteDatabase : nil
    }

    /// SQLite, outside the transaction (these are per connection and harmless to the connection's later users):
    /// statement journals in memory (each multi-row insert keeps one, in case a constraint aborts it; in a temp
    /// file they were a sixth of an import's time), a page cache large enough that inserting into the digest index
    /// of a set of millions does not read the same pages again and again (the default is 2 MB), and checkpoints
    /// every 64 MB of WAL rather than 4 MB, so an index page changed by many batches is written back once.
    func prepareConnection() async throws {
        guard let sqlite else { return }
        _ = try await sqlite.query("PRAGMA temp_store = MEMORY", [])
        _ = try await sqlite.query("PRAGMA cache_size = -131072", [])
        _ = try await sqlite.query("PRAGMA wal_autocheckpoint = 16384", [])
    }

    /// Calls `body(algorithm, value, item)` for every stored digest whose value is one of `values`.
    func lookup(values: [String], _ body: (String, String, Int64) -> Void) async throws {
        if let sqlite {
            for chunk in stride(from: 0, to: values.count, by: 500) {
                let part = values[chunk..<min(chunk + 500, values.count)]
                let text =
                    "SELECT algorithm, value, item_id FROM hash_digests WHERE value IN ("
                    + Array(repeating: "?", count: part.count).joined(separator: ",") + ")"
                for row in try await sqlite.query(text, part.map { .text($0) }) {
                    guard case .text(let a)? = row.column("algorithm"),
                        case .text(let v)? = row.column("value"),
                        let item = row.column("item_id")?.integer
                    else { continue }
                    body(a, v, Int64(item))
                }
            }
        } else {
            for chunk in stride(from: 0, to: values.count, by: 10_000) {
                let part = Array(values[chunk..<min(chunk + 10_000, values.count)])
                let rows = try await sql.raw(
                    "SELECT algorithm, value, item_id FROM hash_digests WHERE value = ANY(\(bind: part))"
                ).all()
                for r in rows {
                    body(
                        try r.decode(HashDigests.algorithm, as: String.self),
                        try r.decode(HashDigests.value, as: String.self),
                        try r.decode(HashDigests.itemID, as: Int64.self))
                }
            }
        }
    }

    /// The largest item id, 0 for an empty set.
    func maxItemID() async throws -> Int64 {
        if let sqlite {
            return Int64(
                try await sqlite.query("SELECT coalesce(max(id), 0) AS m FROM hash_items", []).first?.column("m")?
                    .integer ?? 0)
        }
        return try await sql.raw("SELECT coalesce(max(id), 0) AS m FROM hash_items").first()?.decode(
            column: "m", as: Int64.self) ?? 0
    }

    func insertItems(_ rows: [ItemRow], at ms: Int64) async throws {
        guard !rows.isEmpty else { return }
        if let sqlite {
            try await Self.insert(
                rows, on: sqlite,
                statement: "INSERT INTO hash_items (id, record, known_benign, baseline, created_at, updated_at, "
                    + "bank, review_state, review) VALUES ",
                columns: 9
            ) { r, binds in
                binds.append(.integer(Int(r.id)))
                binds.append(.text(r.json))
                binds.append(.integer(r.knownBenign ? 1 : 0))
                binds.append(.integer(r.baseline ? 1 : 0))
                binds.append(.integer(Int(ms)))
                binds.append(.integer(Int(ms)))
                binds.append(.text(r.bank))
                binds.append(.text(r.state))
                binds.append(.text(r.review))
            }
        } else {
            for chunk in stride(from: 0, to: rows.count, by: 20_000) {
                let part = rows[chunk..<min(chunk + 20_000, rows.count)]
                try await sql.raw(
                    """
                    INSERT INTO hash_items (id, record, known_benign, baseline, created_at, updated_at, bank,
                    review_state, review)
                    SELECT i, r, k, b, \(bind: ms), \(bind: ms), bk, st, rv
                    FROM unnest(\(bind: part.map(\.id)), \(bind: part.map(\.json)), \(bind: part.map(\.knownBenign)),
                                \(bind: part.map(\.baseline)), \(bind: part.map(\.bank)), \(bind: part.map(\.state)),
                                \(bind: part.map(\.review))) AS t(i, r, k, b, bk, st, rv)
                    """
                ).run()
            }
        }
    }

    func insertDigests(_ digests: [(HashDigest, Int64)]) async throws {
        guard !digests.isEmpty else { return }
        if let sqlite {
            try await Self.insert(
                digests, on: sqlite, statement: "INSERT INTO hash_digests (algorithm, value, item_id) VALUES ",
                columns: 3
            ) { row, binds in
                binds.append(.text(row.0.algorithm.rawValue))
                binds.append(.text(row.0.value))
                binds.append(.integer(Int(row.1)))
            }
        } else {
            for chunk in stride(from: 0, to: digests.count, by: 20_000) {
                let part = digests[chunk..<min(chunk + 20_000, digests.count)]
                try await sql.raw(
                    """
                    INSERT INTO hash_digests (algorithm, value, item_id)
                    SELECT * FROM unnest(\(bind: part.map(\.0.algorithm.rawValue)), \(bind: part.map(\.0.value)),
                                         \(bind: part.map(\.1)))
                    """
                ).run()
            }
        }
    }

    /// Multi-row inserts on SQLite, as many rows per statement as stay under its limit of bound values.
    private static func insert<Row>(
        _ rows: [Row], on sqlite: any SQLiteDatabase, statement: String, columns: Int,
        _ bind: (Row, inout [SQLiteData]) -> Void
    ) async throws {
        let per = 3000 / columns
        for chunk in stride(from: 0, to: rows.count, by: per) {
            let part = rows[chunk..<min(chunk + per, rows.count)]
            var binds: [SQLiteData] = []
            binds.reserveCapacity(part.count * columns)
            for row in part { bind(row, &binds) }
            _ = try await sqlite.query(statement + placeholders(rows: part.count, columns: columns), binds)
        }
    }

    /// `(?,?,?),(?,?,?)…` for SQLite.
    static func placeholders(rows: Int, columns: Int) -> String {
        let one = "(" + Array(repeating: "?", count: columns).joined(separator: ",") + ")"
        return Array(repeating: one, count: rows).joined(separator: ",")
    }
}

/// A compact JSON encoding of ``HashSetRecord`` that `JSONDecoder` (with `.secondsSince1970` dates) reads back
/// to an equal record, written by hand because `JSONEncoder` was a sixth of an import's time. Keys are sorted and
/// absent optionals left out, as `JSONEncoder` with `.sortedKeys` writes them.
enum HashSetRecordJSON {
    static func encode(_ r: HashSetRecord) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(160)
        var first = true
        func key(_ k: StaticString) {
            out.append(first ? UInt8(ascii: "{") : UInt8(ascii: ","))
            first = false
            out.append(UInt8(ascii: "\""))
            k.withUTF8Buffer { out.append(contentsOf: $0) }
            out.append(UInt8(ascii: "\""))
            out.append(UInt8(ascii: ":"))
        }
        func bool(_ k: StaticString, _ v: Bool?) {
            guard let v else { return }
            key(k)
            appendLiteral(v ? "true" : "false", to: &out)
        }
        func text(_ k: StaticString, _ v: String?) {
            guard let v else { return }
            key(k)
            appendString(v, to: &out)
        }
        bool("baseline", r.baseline)
        key("categories")
        out.append(UInt8(ascii: "["))
        for (i, c) in r.categories.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            appendLiteral("{\"code\":", to: &out)
            appendString(c.code, to: &out)
            if let n = c.nationalCategory {
                appendLiteral(",\"nationalCategory\":", to: &out)
                appendString(n, to: &out)
            }
            appendLiteral(",\"scheme\":", to: &out)
            appendString(c.scheme.rawValue, to: &out)
            if let s = c.source {
                appendLiteral(",\"source\":", to: &out)
                appendString(s, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
        key("digests")
        out.append(UInt8(ascii: "["))
        for (i, d) in r.digests.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            appendLiteral("{\"algorithm\":", to: &out)
            appendString(d.algorithm.rawValue, to: &out)
            appendLiteral(",\"value\":", to: &out)
            appendString(d.value, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
        bool("distributed", r.distributed)
        bool("fileAvailable", r.fileAvailable)
        text("fileName", r.fileName)
        if let size = r.fileSize {
            key("fileSize")
            appendLiteral(String(size), to: &out)
        }
        bool("knownBenign", r.knownBenign)
        text("mediaType", r.mediaType)
        bool("offenderIdentified", r.offenderIdentified)
        key("provenance")
        let p = r.provenance
        var firstInner = true
        out.append(UInt8(ascii: "{"))
        func inner(_ k: String, _ v: String?) {
            guard let v else { return }
            if !firstInner { out.append(UInt8(ascii: ",")) }
            firstInner = false
            appendString(k, to: &out)
            out.append(UInt8(ascii: ":"))
            appendString(v, to: &out)
        }
        inner("caseID", p.caseID)
        inner("contributor", p.contributor)
        if let at = p.foundAt {
            if !firstInner { out.append(UInt8(ascii: ",")) }
            firstInner = false
            appendLiteral("\"foundAt\":", to: &out)
            appendLiteral(number(at.timeIntervalSince1970), to: &out)
        }
        inner("foundWhere", p.foundWhere)
        inner("mediaID", p.mediaID)
        out.append(UInt8(ascii: "}"))
        text("seriesName", r.seriesName)
        if let n = r.submissionCount {
            key("submissionCount")
            appendLiteral(String(n), to: &out)
        }
        bool("victimIdentified", r.victimIdentified)
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    /// Seconds as JSON: whole numbers without a fraction, others in Swift's shortest round-trip form.
    static func number(_ v: Double) -> String {
        guard v.isFinite else { return "0" }
        if v == v.rounded(), abs(v) < 9_007_199_254_740_992 { return String(Int64(v)) }
        return "\(v)"
    }

    private static func appendLiteral(_ s: String, to out: inout [UInt8]) {
        out.append(contentsOf: s.utf8)
    }

    /// A JSON string literal, escaped as `JSONEncoder` escapes (quote, backslash, slash, control characters).
    static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(b)
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(b)
            case UInt8(ascii: "/"): out.append(UInt8(ascii: "\\")); out.append(b)
            case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
            case 0x08: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "b"))
            case 0x0C: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "f"))
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0xF)])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
