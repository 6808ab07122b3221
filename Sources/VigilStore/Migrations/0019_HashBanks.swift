import FluentKit
import Foundation
import SQLKit
import VigilCore

/// Banks and review for the hash set (#14): the `hash_banks` table with the built-in banks, and on every item its
/// bank, its review state (a column, so matching and the review queue filter by index), the review itself (JSON)
/// and a version that grows with each change. Items stored before this migration were matching as known: they go
/// to the `national` bank as confirmed, with no review (`review` NULL: "confirmed before reviews existed").
struct HashBanks: AsyncMigration {
    var name: String { "0019_HashBanks" }

    func prepare(on database: any Database) async throws {
        let sql = database.sql
        try await sql.raw(
            """
            CREATE TABLE hash_banks (name TEXT PRIMARY KEY, label TEXT NOT NULL, kind TEXT NOT NULL,
            enabled BOOLEAN NOT NULL, pdq_radius INTEGER NOT NULL, sampling DOUBLE PRECISION NOT NULL,
            reviewed BOOLEAN NOT NULL, updated_ms BIGINT NOT NULL)
            """
        ).run()
        for bank in HashBank.builtIn {
            try await HashSetStore.insertBank(bank, at: 0, on: sql)
        }
        // One column a statement: SQLite adds one at a time.
        try await sql.raw("ALTER TABLE hash_items ADD COLUMN bank TEXT NOT NULL DEFAULT 'national'").run()
        try await sql.raw("ALTER TABLE hash_items ADD COLUMN review_state TEXT NOT NULL DEFAULT 'confirmed'").run()
        try await sql.raw("ALTER TABLE hash_items ADD COLUMN review TEXT").run()
        try await sql.raw("ALTER TABLE hash_items ADD COLUMN version BIGINT NOT NULL DEFAULT 1").run()
        try await sql.raw("CREATE INDEX hash_items_review ON hash_items (review_state, id)").run()
        try await sql.raw("CREATE INDEX hash_items_bank ON hash_items (bank)").run()
    }

    func revert(on database: any Database) async throws {
        let sql = database.sql
        try await sql.raw("DROP INDEX hash_items_review").run()
        try await sql.raw("DROP INDEX hash_items_bank").run()
        for column in ["bank", "review_state", "review", "version"] {
            try await sql.raw("ALTER TABLE hash_items DROP COLUMN \(unsafeRaw: column)").run()
        }
        try await sql.raw("DROP TABLE hash_banks").run()
    }
}
