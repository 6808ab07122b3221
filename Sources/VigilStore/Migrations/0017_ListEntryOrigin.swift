import FluentKit
import SQLKit

/// The scheme, host and port a block-list entry was listed with when they are not `http://` on port 80: the
/// canonical value drops the port, so `http://host:8080/x` used to be checked on port 80.
struct ListEntryOrigin: AsyncMigration {
    var name: String { "0017_ListEntryOrigin" }

    func prepare(on database: any Database) async throws {
        try await database.schema("list_entries").field("fetch_origin", .string).update()
    }

    func revert(on database: any Database) async throws {
        // Plain SQL: Fluent's SQLite driver does not drop columns (SQLite has since 3.35).
        try await database.sql.raw("ALTER TABLE list_entries DROP COLUMN fetch_origin").run()
    }
}
