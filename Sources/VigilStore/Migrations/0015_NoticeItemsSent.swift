import FluentKit
import SQLKit

/// When each URL of a notice was first sent. A notice may leave while one of its cases is held: that case's URL is
/// not in the message, so it must not count as sent (nor be audited as sent) until it really is.
struct NoticeItemsSent: AsyncMigration {
    var name: String { "0015_NoticeItemsSent" }

    func prepare(on database: any Database) async throws {
        try await database.schema("notice_items").field("sent_ms", .int64).update()
        // Before this, a send covered every item: its notice's first send is the best time there is.
        try await database.sql.raw(
            "UPDATE notice_items SET sent_ms = (SELECT first_sent_ms FROM notices WHERE notices.id = notice_items.notice_id)"
        ).run()
    }

    func revert(on database: any Database) async throws {
        // Plain SQL: Fluent's SQLite driver does not drop columns (SQLite has since 3.35).
        try await database.sql.raw("ALTER TABLE notice_items DROP COLUMN sent_ms").run()
    }
}
