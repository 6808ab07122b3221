import FluentKit
import Foundation
import SQLKit
import VigilCore

/// Video records: an item of the set whose file is a video carries, beside its file digests, the video's vPDQ frames
/// as the reference writes them (`frameNumber,quality,pdqHex,seconds`, one line per hashed frame). The frames live
/// in `hash_videos`, not in the record's JSON: a match answer decodes records, and a long video has thousands of
/// lines.
extension HashSetStore {
    /// A video to import: its record (the file's digests, categories, provenance) and its frames.
    public struct VideoImport: Sendable, Equatable {
        public var record: HashSetRecord
        /// The reference's lines, in frame order.
        public var frames: [String]
        public var duration: Double?

        public init(record: HashSetRecord, frames: [String], duration: Double? = nil) {
            self.record = record
            self.frames = frames
            self.duration = duration
        }
    }

    /// A stored frame list.
    public struct StoredVideo: Sendable, Equatable {
        /// The row, in insertion order (a match index's deltas read rows after the last one they saw).
        public var row: Int64
        public var item: Int64
        public var frames: [String]
        public var duration: Double?
    }

    /// Imports videos as records (merged by digest, into `intake`'s bank and review, one audited batch) and stores
    /// each one's frames with its item. An item that has frames already keeps them: the first fingerprint of a file
    /// stands, since the same file always gives the same frames. Returns each video's item id.
    /// - Throws: ``StoreError/invalid(_:)`` before anything is written when a video has no file digest (a record
    ///   is known by its digests) or no frames.
    @discardableResult
    public func importVideos(
        _ videos: [VideoImport], source: String, actor: AuditActor, intake: Intake, into summary: inout ImportSummary
    ) async throws -> [Int64] {
        try Self.check(videos)
        let now = clock.now()
        let clock = self.clock
        // Records and frames in one transaction: a failure leaves neither.
        let (counts, ids) = try await db.withConnection { connection in
            try await ImportStatements(connection).prepareConnection()
            return try await connection.transaction { tx -> ((Int, Int, Int), [Int64]) in
                if tx.sql.dialect.name == "sqlite" { try await AuditLog.lockChain(on: tx) }
                return try await Self.mergeVideos(
                    videos, on: tx, source: source, actor: actor, intake: intake, now: now, clock: clock)
            }
        }
        summary.added += counts.0
        summary.updated += counts.1
        summary.unchanged += counts.2
        return ids
    }

    /// Refuses, before anything is written, a video without a file digest (a record is known by its digests) or
    /// without frames.
    static func check(_ videos: [VideoImport]) throws {
        for (n, v) in videos.enumerated() {
            guard let d = v.record.primaryDigest, [.md5, .sha1, .sha256].contains(d.algorithm) else {
                throw StoreError.invalid("video \(n + 1): a video record needs the file's MD5, SHA-1 or SHA-256")
            }
            guard !v.frames.isEmpty else { throw StoreError.invalid("video \(n + 1) has no vPDQ frames") }
        }
    }

    /// ``importVideos(_:source:actor:intake:into:)`` inside its transaction (the chain locked on SQLite); returns
    /// added, updated, unchanged and each video's item id.
    static func mergeVideos(
        _ videos: [VideoImport], on tx: any Database, source: String, actor: AuditActor, intake: Intake, now: Date,
        clock: any VigilClock
    ) async throws -> ((Int, Int, Int), [Int64]) {
        let ms = AuditChain.milliseconds(now)
        let counts = try await merge(
            videos.map(\.record), on: tx, source: source, actor: actor, intake: intake, now: now, ms: ms)
        let store = HashSetStore(db: tx, clock: clock)
        // Each video's item by any of its file digests: a record merged through its SHA-1 into an item with
        // another MD5 is that item.
        let fileDigests = { (r: HashSetRecord) in r.digests.filter { $0.algorithm != .pdq } }
        let found = try await store.items(forExact: videos.flatMap { fileDigests($0.record) })
        var ids: [Int64] = []
        for v in videos {
            guard let item = fileDigests(v.record).lazy.compactMap({ found[$0] }).first else {
                throw StoreError.invalid("an imported video's item was not found")
            }
            ids.append(item.id)
        }
        let existing = try await store.videoItems(ids)
        var added: Set<Int64> = []
        for (v, item) in zip(videos, ids) where !existing.contains(item) && added.insert(item).inserted {
            try await tx.sql.raw(
                """
                INSERT INTO hash_videos (item_id, frames, frame_count, duration, created_ms)
                VALUES (\(bind: item), \(bind: v.frames.joined(separator: "\n")), \(bind: v.frames.count),
                \(bind: v.duration), \(bind: ms)) ON CONFLICT (item_id) DO NOTHING
                """
            ).run()
        }
        // Frames given to an item that was already known (its record unchanged) are a change too.
        if !added.isEmpty {
            try await AuditLog.append(
                on: tx, at: now, actor: actor, action: "hashset.videos-added", subject: "hashset",
                details: [
                    "videos": String(added.count), "source": source,
                    "items": added.sorted().prefix(20).map { "item-\($0)" }.joined(separator: ","),
                ])
        }
        return (counts, ids)
    }

    /// The stored videos after `row`, in row order, `batch` at a time.
    public func forEachVideo(afterRow row: Int64 = 0, batch: Int = 500, _ body: (StoredVideo) throws -> Void)
        async throws
    {
        var after = row
        while true {
            let rows = try await sql.select().columns(HashVideosColumns.allColumns).from(HashVideosColumns.tableName)
                .where(HashVideosColumns.id, .greaterThan, after).orderBy(HashVideosColumns.id).limit(batch).all()
            guard !rows.isEmpty else { return }
            for r in rows {
                let v = try Self.storedVideo(r)
                try body(v)
                after = v.row
            }
        }
    }

    /// The frames of these items, for those that are videos.
    public func videos(items ids: [Int64]) async throws -> [Int64: StoredVideo] {
        var out: [Int64: StoredVideo] = [:]
        for chunk in stride(from: 0, to: ids.count, by: 1000) {
            for r in try await sql.select().columns(HashVideosColumns.allColumns).from(HashVideosColumns.tableName)
                .where(HashVideosColumns.itemID, .in, Array(ids[chunk..<min(chunk + 1000, ids.count)])).all()
            {
                let v = try Self.storedVideo(r)
                out[v.item] = v
            }
        }
        return out
    }

    /// Which of these items have frames (their ids only, no frames read).
    public func videoItems(_ ids: [Int64]) async throws -> Set<Int64> {
        var out: Set<Int64> = []
        for chunk in stride(from: 0, to: ids.count, by: 1000) {
            for r in try await sql.select().column(HashVideosColumns.itemID).from(HashVideosColumns.tableName)
                .where(HashVideosColumns.itemID, .in, Array(ids[chunk..<min(chunk + 1000, ids.count)])).all()
            {
                out.insert(try r.decode(HashVideosColumns.itemID, as: Int64.self))
            }
        }
        return out
    }

    /// The rows after `row` and their items, without the frames (a cheap look for a match index's delta).
    public func videoRows(afterRow row: Int64) async throws -> [(row: Int64, item: Int64)] {
        try await sql.select().columns(HashVideosColumns.id, HashVideosColumns.itemID).from(HashVideosColumns.tableName)
            .where(HashVideosColumns.id, .greaterThan, row).orderBy(HashVideosColumns.id).all().map {
                (
                    try $0.decode(HashVideosColumns.id, as: Int64.self),
                    try $0.decode(HashVideosColumns.itemID, as: Int64.self)
                )
            }
    }

    /// How many items are videos with frames, and how many frames they hold.
    public func videoCounts() async throws -> (videos: Int, frames: Int) {
        // PostgreSQL sums a bigint column as numeric: cast back, on both databases.
        let row = try await sql.raw(
            """
            SELECT count(*) AS n, CAST(coalesce(sum(frame_count), 0) AS BIGINT) AS f FROM hash_videos
            """
        ).first()
        return (
            try row?.decode(column: "n", as: Int.self) ?? 0, try row?.decode(column: "f", as: Int.self) ?? 0
        )
    }

    /// The newest video row (0 when there is none).
    public func newestVideoRow() async throws -> Int64 {
        try await sql.select().column(
            SQLFunction("coalesce", args: SQLFunction("max", args: HashVideosColumns.id), SQLLiteral.numeric("0")),
            as: "m"
        )
        .from(HashVideosColumns.tableName).first()?.decode(column: "m", as: Int64.self) ?? 0
    }

    static func storedVideo(_ r: any SQLRow) throws -> StoredVideo {
        StoredVideo(
            row: try r.decode(HashVideosColumns.id, as: Int64.self),
            item: try r.decode(HashVideosColumns.itemID, as: Int64.self),
            frames: try r.decode(HashVideosColumns.frames, as: String.self).split(separator: "\n").map(String.init),
            duration: try r.decode(HashVideosColumns.duration, as: Double?.self))
    }
}
