import FluentKit
import SQLKit

/// Bounces of notices (read back from the bounce mailbox or the relay's refusal) and the domain registrar's abuse
/// contact beside the host's.
struct CreateBounces: AsyncMigration {
    var name: String { "0012_CreateBounces" }

    func prepare(on database: any Database) async throws {
        try await database.schema("notice_bounces")
            .field("id", .int64, .identifier(auto: true))
            .field("notice_id", .int64, .required)
            .field("received_ms", .int64, .required)
            .field("recipient", .string)
            .field("action", .string, .required)
            .field("status", .string)
            .field("diagnostic", .string)
            .field("source", .string, .required)
            .create()
        // One column per statement: SQLite adds one column at a time.
        try await database.schema("notices").field("bounce_token", .string).update()
        try await database.schema("hosting").field("registrar_contact", .string).update()
        let sql = database.sql
        try await sql.raw("CREATE INDEX notice_bounces_notice ON notice_bounces (notice_id)").run()
        try await sql.raw("CREATE UNIQUE INDEX notices_bounce_token ON notices (bounce_token)").run()
    }

    func revert(on database: any Database) async throws {
        let sql = database.sql
        try await sql.raw("DROP INDEX notices_bounce_token").run()
        // Plain SQL: Fluent's SQLite driver does not drop columns (SQLite has since 3.35).
        try await sql.raw("ALTER TABLE hosting DROP COLUMN registrar_contact").run()
        try await sql.raw("ALTER TABLE notices DROP COLUMN bounce_token").run()
        try await database.schema("notice_bounces").delete()
    }
}
