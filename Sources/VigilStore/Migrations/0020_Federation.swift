import FluentKit
import SQLKit

/// Federation between hotlines (#15): partners and their keys, every message received (kept for good: an id is
/// acted on once), and the outbox of messages to send, in order per partner.
struct CreateFederation: AsyncMigration {
    var name: String { "0020_Federation" }

    func prepare(on database: any Database) async throws {
        let sql = database.sql
        try await sql.raw(
            """
            CREATE TABLE federation_partners (name TEXT PRIMARY KEY, label TEXT NOT NULL, countries TEXT NOT NULL,
            base_url TEXT NOT NULL, api_key_sealed TEXT, enabled BOOLEAN NOT NULL, created_ms BIGINT NOT NULL,
            updated_ms BIGINT NOT NULL)
            """
        ).run()
        try await sql.raw(
            """
            CREATE TABLE federation_keys (key_id TEXT PRIMARY KEY, partner TEXT NOT NULL, public_key TEXT NOT NULL,
            added_ms BIGINT NOT NULL, retire_after_ms BIGINT)
            """
        ).run()
        try await sql.raw("CREATE INDEX federation_keys_partner ON federation_keys (partner)").run()
        try await sql.raw(
            """
            CREATE TABLE federation_inbox (message_id TEXT PRIMARY KEY, partner TEXT NOT NULL, type TEXT NOT NULL,
            case_ref TEXT NOT NULL, message TEXT NOT NULL, received_ms BIGINT NOT NULL, state TEXT NOT NULL,
            processed_ms BIGINT)
            """
        ).run()
        try await sql.raw("CREATE INDEX federation_inbox_state ON federation_inbox (state, received_ms)").run()
        try await database.schema("federation_outbox")
            .field("seq", .int64, .identifier(auto: true))
            .field("message_id", .string, .required)
            .field("partner", .string, .required)
            .field("case_ref", .string, .required)
            .field("type", .string, .required)
            .field("message", .string, .required)
            .field("state", .string, .required)
            .field("attempts", .int, .required)
            .field("next_attempt_ms", .int64, .required)
            .field("last_error", .string)
            .field("created_ms", .int64, .required)
            .field("delivered_ms", .int64)
            .unique(on: "message_id")
            .create()
        try await sql.raw("CREATE INDEX federation_outbox_due ON federation_outbox (partner, state, seq)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("federation_outbox").delete()
        let sql = database.sql
        for table in ["federation_inbox", "federation_keys", "federation_partners"] {
            try await sql.raw("DROP TABLE \(unsafeRaw: table)").run()
        }
    }
}
