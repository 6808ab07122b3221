import FluentKit
import SQLKit

/// Video records of the hash set (#16): an item's vPDQ frames, as the reference writes them (one line per hashed
/// frame), beside the item's file digests. `id` orders the rows for a match index's deltas.
struct HashVideos: AsyncMigration {
    var name: String { "0023_HashVideos" }

    func prepare(on database: any Database) async throws {
        try await database.schema("hash_videos")
            .field("id", .int64, .identifier(auto: true))
            .field("item_id", .int64, .required)
            .field("frames", .string, .required)
            .field("frame_count", .int, .required)
            .field("duration", .double)
            .field("created_ms", .int64, .required)
            .create()
        // One frame list per item: a second import of the same video keeps the first.
        try await database.sql.raw("CREATE UNIQUE INDEX hash_videos_item ON hash_videos (item_id)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("hash_videos").delete()
    }
}
