import FluentKit
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

    var sql: any SQLDatabase { db as! any SQLDatabase }

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
    /// are merged into it (categories from several sources are kept side by side).
    public func importBatch(_ records: [HashSetRecord], source: String, actor: AuditActor, into summary: inout ImportSummary) async throws {
        guard !records.isEmpty else { return }
        let now = clock.now()
        let ms = AuditChain.milliseconds(now)
        let counts = try await db.transaction { tx -> (Int, Int, Int) in
            let sql = tx as! any SQLDatabase
            // 1. Which of these digests are known, and to which items.
            var known: [HashDigest: Int64] = [:]
            let all = Array(Set(records.flatMap(\.digests)))
            for chunk in stride(from: 0, to: all.count, by: 400) {
                let part = all[chunk..<min(chunk + 400, all.count)]
                let values = Array(Set(part.map(\.value)))
                let rows = try await sql.select().columns("algorithm", "value", "item_id").from("hash_digests")
                    .where("value", .in, values).all()
                for r in rows {
                    let alg = try r.decode(column: "algorithm", as: String.self)
                    let val = try r.decode(column: "value", as: String.self)
                    guard let a = HashAlgorithm(rawValue: alg), let d = try? HashDigest(a, val) else { continue }
                    known[d] = try r.decode(column: "item_id", as: Int64.self)
                }
            }
            // 2. Load the records of the items involved.
            var items: [Int64: HashSetRecord] = [:]
            let ids = Array(Set(known.values))
            for chunk in stride(from: 0, to: ids.count, by: 400) {
                let part = Array(ids[chunk..<min(chunk + 400, ids.count)])
                for r in try await sql.select().columns("id", "record").from("hash_items").where("id", .in, part).all() {
                    let id = try r.decode(column: "id", as: Int64.self)
                    let json = try r.decode(column: "record", as: String.self)
                    items[id] = try Self.decoder.decode(HashSetRecord.self, from: Data(json.utf8))
                }
            }
            var nextID = try await sql.select().column(SQLFunction("coalesce", args: SQLFunction("max", args: SQLColumn("id")), SQLLiteral.numeric("0")), as: "m")
                .from("hash_items").first()?.decode(column: "m", as: Int64.self) ?? 0
            var added = 0, updated = 0, unchanged = 0
            var changed: Set<Int64> = []
            var newItems: [Int64] = []
            var newDigests: [(HashDigest, Int64)] = []
            for record in records {
                if let id = record.digests.lazy.compactMap({ known[$0] }).first, var existing = items[id] {
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
            for chunk in stride(from: 0, to: newItems.count, by: 150) {
                var insert = sql.insert(into: "hash_items").columns("id", "record", "known_benign", "baseline", "created_at", "updated_at")
                for id in newItems[chunk..<min(chunk + 150, newItems.count)] {
                    let r = items[id]!
                    insert = insert.values(SQLBind(id), SQLBind(try Self.json(r)), SQLBind(r.knownBenign), SQLBind(r.baseline ?? false), SQLBind(ms), SQLBind(ms))
                }
                try await insert.run()
            }
            for id in changed.subtracting(newItems) {
                let r = items[id]!
                try await sql.update("hash_items").set("record", to: try Self.json(r)).set("known_benign", to: r.knownBenign)
                    .set("baseline", to: r.baseline ?? false).set("updated_at", to: ms).where("id", .equal, id).run()
            }
            for chunk in stride(from: 0, to: newDigests.count, by: 300) {
                var insert = sql.insert(into: "hash_digests").columns("algorithm", "value", "item_id")
                for (d, id) in newDigests[chunk..<min(chunk + 300, newDigests.count)] {
                    insert = insert.values(SQLBind(d.algorithm.rawValue), SQLBind(d.value), SQLBind(id))
                }
                try await insert.run()
            }
            if added + updated > 0 {
                try await AuditLog.append(
                    on: tx, at: now, actor: actor, action: "hashset.import", subject: "hashset",
                    details: ["source": source, "added": String(added), "updated": String(updated), "unchanged": String(unchanged)])
            }
            return (added, updated, unchanged)
        }
        summary.added += counts.0
        summary.updated += counts.1
        summary.unchanged += counts.2
    }

    static func json(_ r: HashSetRecord) throws -> String {
        String(decoding: try encoder.encode(r), as: UTF8.self)
    }

    /// Every item in id order, `batch` at a time (for exports and index building).
    public func forEachItem(batch: Int = 2000, _ body: (Int64, HashSetRecord) throws -> Void) async throws {
        var after: Int64 = 0
        while true {
            let rows = try await sql.select().columns("id", "record").from("hash_items").where("id", .greaterThan, after)
                .orderBy("id").limit(batch).all()
            guard !rows.isEmpty else { break }
            for r in rows {
                let id = try r.decode(column: "id", as: Int64.self)
                try body(id, try Self.decoder.decode(HashSetRecord.self, from: Data(try r.decode(column: "record", as: String.self).utf8)))
                after = id
            }
        }
    }

    /// Every PDQ digest with its item, for building the match index.
    public func forEachPDQ(batch: Int = 50_000, _ body: (String, Int64) -> Void) async throws {
        var lastValue = ""
        while true {
            let rows = try await sql.select().columns("value", "item_id").from("hash_digests").where("algorithm", .equal, "pdq")
                .where("value", .greaterThan, lastValue).orderBy("value").limit(batch).all()
            guard !rows.isEmpty else { break }
            for r in rows {
                let v = try r.decode(column: "value", as: String.self)
                body(v, try r.decode(column: "item_id", as: Int64.self))
                lastValue = v
            }
        }
    }

    /// The items holding exactly these digests.
    public func items(forExact digests: [HashDigest]) async throws -> [HashDigest: (Int64, HashSetRecord)] {
        var out: [HashDigest: (Int64, HashSetRecord)] = [:]
        guard !digests.isEmpty else { return out }
        var owner: [HashDigest: Int64] = [:]
        let values = Array(Set(digests.map(\.value)))
        for chunk in stride(from: 0, to: values.count, by: 400) {
            for r in try await sql.select().columns("algorithm", "value", "item_id").from("hash_digests")
                .where("value", .in, Array(values[chunk..<min(chunk + 400, values.count)])).all()
            {
                guard let a = HashAlgorithm(rawValue: try r.decode(column: "algorithm", as: String.self)),
                    let d = try? HashDigest(a, try r.decode(column: "value", as: String.self))
                else { continue }
                owner[d] = try r.decode(column: "item_id", as: Int64.self)
            }
        }
        let records = try await items(ids: Array(Set(owner.values)))
        for d in digests { if let id = owner[d], let r = records[id] { out[d] = (id, r) } }
        return out
    }

    /// Records by item id.
    public func items(ids: [Int64]) async throws -> [Int64: HashSetRecord] {
        var out: [Int64: HashSetRecord] = [:]
        for chunk in stride(from: 0, to: ids.count, by: 400) {
            for r in try await sql.select().columns("id", "record").from("hash_items")
                .where("id", .in, Array(ids[chunk..<min(chunk + 400, ids.count)])).all()
            {
                out[try r.decode(column: "id", as: Int64.self)] = try Self.decoder.decode(HashSetRecord.self, from: Data(try r.decode(column: "record", as: String.self).utf8))
            }
        }
        return out
    }

    /// How many items and digests per algorithm the set holds.
    public func counts() async throws -> (items: Int, digests: [String: Int]) {
        let items = try await sql.select().column(SQLFunction("count", args: SQLLiteral.all), as: "n").from("hash_items").first()?.decode(column: "n", as: Int.self) ?? 0
        var digests: [String: Int] = [:]
        for r in try await sql.select().column("algorithm").column(SQLFunction("count", args: SQLLiteral.all), as: "n").from("hash_digests").groupBy("algorithm").all() {
            digests[try r.decode(column: "algorithm", as: String.self)] = try r.decode(column: "n", as: Int.self)
        }
        return (items, digests)
    }
}
