import FluentKit
import SQLKit

/// Every feed request asks whether a published entry has expired; with a million entries that was a full scan.
/// This index answers it from its first row.
struct IndexListExpiry: AsyncMigration {
    var name: String { "0013_IndexListExpiry" }

    func prepare(on database: any Database) async throws {
        try await database.sql.raw(
            "CREATE INDEX list_entries_published_expiry ON list_entries (published, expires_ms)"
        ).run()
    }

    func revert(on database: any Database) async throws {
        try await database.sql.raw("DROP INDEX list_entries_published_expiry").run()
    }
}
