import FluentKit
import SQLKit

/// The receiving side of federation (#15): which of our cases a partner's referral opened or joined (and which of
/// its statuses we have sent back), the order messages arrived in, and the referral a status or known answer is
/// about.
struct FederationLinks: AsyncMigration {
    var name: String { "0021_FederationLinks" }

    func prepare(on database: any Database) async throws {
        let sql = database.sql
        try await sql.raw(
            """
            CREATE TABLE federation_links (partner TEXT NOT NULL, referral TEXT NOT NULL, case_id BIGINT NOT NULL,
            their_case TEXT NOT NULL, reported TEXT NOT NULL, created_ms BIGINT NOT NULL,
            PRIMARY KEY (partner, referral))
            """
        ).run()
        try await sql.raw("CREATE INDEX federation_links_case ON federation_links (case_id)").run()
        try await sql.raw("ALTER TABLE federation_inbox ADD COLUMN referral TEXT").run()
        try await sql.raw("ALTER TABLE federation_inbox ADD COLUMN arrival BIGINT NOT NULL DEFAULT 0").run()
        try await sql.raw("CREATE INDEX federation_inbox_referral ON federation_inbox (referral)").run()
    }

    func revert(on database: any Database) async throws {
        let sql = database.sql
        try await sql.raw("DROP INDEX federation_inbox_referral").run()
        try await sql.raw("ALTER TABLE federation_inbox DROP COLUMN arrival").run()
        try await sql.raw("ALTER TABLE federation_inbox DROP COLUMN referral").run()
        try await sql.raw("DROP TABLE federation_links").run()
    }
}
