import FluentKit
import SQLKit

/// The national hash set: one row per known item (its full record as JSON, so every field of every format
/// survives a round trip) and one row per digest of it, unique per algorithm and value, for lookups.
struct CreateHashSet: AsyncMigration {
    var name: String { "0005_CreateHashSet" }

    func prepare(on database: any Database) async throws {
        try await database.schema("hash_items")
            .field("id", .int64, .identifier(auto: false))
            .field("record", .string, .required)
            .field("known_benign", .bool, .required)
            .field("baseline", .bool, .required)
            .field("created_at", .int64, .required)
            .field("updated_at", .int64, .required)
            .create()
        try await database.schema("hash_digests")
            .field("algorithm", .string, .required)
            .field("value", .string, .required)
            .field("item_id", .int64, .required, .references("hash_items", "id", onDelete: .cascade))
            .unique(on: "value", "algorithm")
            .create()
        let sql = database.sql
        try await sql.raw("CREATE INDEX hash_digests_item ON hash_digests (item_id)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("hash_digests").delete()
        try await database.schema("hash_items").delete()
    }
}
