import FluentKit
import SQLKit

/// The block list: entries, immutable versions as the changes each made, feed downloads, appeals.
struct CreateBlockList: AsyncMigration {
    var name: String { "0007_CreateBlockList" }

    func prepare(on database: any Database) async throws {
        try await database.schema("list_entries")
            .field("id", .int64, .identifier(auto: true))
            .field("kind", .string, .required)
            .field("value", .string, .required)
            .field("criterion", .string, .required)
            .field("case_id", .int64)
            .field("dedicated_reason", .string)
            .field("state", .string, .required)
            .field("proposed_by", .string, .required)
            .field("proposed_ms", .int64, .required)
            .field("verified_by", .string)
            .field("verified_ms", .int64)
            .field("expires_ms", .int64)
            .field("check_ms", .int64)
            .field("check_result", .string)
            .field("check_detail", .string)
            .field("gone_count", .int, .required)
            .field("canary", .bool, .required)
            .field("removal_reason", .string)
            .field("published", .bool, .required)
            .field("updated_ms", .int64, .required)
            .create()
        try await database.schema("list_versions")
            .field("version", .int64, .identifier(auto: false))
            .field("created_ms", .int64, .required)
            .field("entry_count", .int, .required)
            .field("added", .int, .required)
            .field("removed", .int, .required)
            .create()
        try await database.schema("list_changes")
            .field("version", .int64, .required)
            .field("entry_id", .int64, .required)
            .field("kind", .string, .required)
            .field("value", .string, .required)
            .field("change", .string, .required)
            .field("reason", .string, .required)
            .create()
        try await database.schema("feed_downloads")
            .field("id", .int64, .identifier(auto: true))
            .field("api_key", .string, .required)
            .field("partner", .string, .required)
            .field("format", .string, .required)
            .field("version", .int64, .required)
            .field("time_ms", .int64, .required)
            .create()
        try await database.schema("appeals")
            .field("reference", .string, .identifier(auto: false))
            .field("target", .string, .required)
            .field("entry_id", .int64)
            .field("grounds", .string, .required)
            .field("contact_sealed", .string)
            .field("language", .string, .required)
            .field("state", .string, .required)
            .field("outcome", .string)
            .field("decided_by", .string)
            .field("decided_ms", .int64)
            .field("created_ms", .int64, .required)
            .create()
        let sql = database.sql
        try await sql.raw("CREATE UNIQUE INDEX list_entries_open_target ON list_entries (kind, value, proposed_ms)")
            .run()
        try await sql.raw("CREATE INDEX list_entries_state ON list_entries (state)").run()
        try await sql.raw("CREATE INDEX list_entries_value ON list_entries (value)").run()
        try await sql.raw("CREATE INDEX list_changes_version ON list_changes (version)").run()
        try await sql.raw("CREATE INDEX feed_downloads_key ON feed_downloads (api_key, time_ms)").run()
        try await sql.raw("CREATE INDEX appeals_state ON appeals (state)").run()
    }

    func revert(on database: any Database) async throws {
        for table in ["appeals", "feed_downloads", "list_changes", "list_versions", "list_entries"] {
            try await database.schema(table).delete()
        }
    }
}
