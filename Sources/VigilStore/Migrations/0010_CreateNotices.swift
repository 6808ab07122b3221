import FluentKit
import SQLKit

/// Notice and takedown: where a case's content is hosted, notices grouped per abuse contact, their URLs.
struct CreateNotices: AsyncMigration {
    var name: String { "0010_CreateNotices" }

    func prepare(on database: any Database) async throws {
        try await database.schema("hosting")
            .field("case_id", .int64, .identifier(auto: false))
            .field("country", .string)
            .field("network", .string)
            .field("abuse_contact", .string)
            .field("source", .string, .required)
            .field("details", .string)
            .field("updated_by", .string, .required)
            .field("updated_ms", .int64, .required)
            .create()
        try await database.schema("notices")
            .field("id", .int64, .identifier(auto: true))
            .field("contact", .string, .required)
            .field("state", .string, .required)
            .field("created_ms", .int64, .required)
            .field("first_sent_ms", .int64)
            .field("last_sent_ms", .int64)
            .field("sends", .int, .required)
            .field("removed_ms", .int64)
            .field("last_error", .string)
            .create()
        try await database.schema("notice_items")
            .field("notice_id", .int64, .required)
            .field("case_id", .int64, .required)
            .field("url", .string, .required)
            .field("added_ms", .int64, .required)
            .field("removed_ms", .int64)
            .field("check_detail", .string)
            .create()
        let sql = database.sql
        try await sql.raw("CREATE INDEX notices_contact_state ON notices (contact, state)").run()
        try await sql.raw("CREATE INDEX notice_items_notice ON notice_items (notice_id)").run()
        try await sql.raw("CREATE INDEX notice_items_case ON notice_items (case_id)").run()
    }

    func revert(on database: any Database) async throws {
        for t in ["notice_items", "notices", "hosting"] { try await database.schema(t).delete() }
    }
}
