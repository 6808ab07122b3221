import FluentKit
import SQLKit

/// The hash-chained audit log and its head row.
struct CreateAuditLog: AsyncMigration {
    var name: String { "0004_CreateAuditLog" }

    func prepare(on database: any Database) async throws {
        try await database.schema("audit_events")
            .field("seq", .int64, .identifier(auto: false))
            .field("time_ms", .int64, .required)
            .field("actor_kind", .string, .required)
            .field("actor_id", .string, .required)
            .field("action", .string, .required)
            .field("subject", .string, .required)
            .field("details", .string, .required)
            .field("prev_hash", .string, .required)
            .field("hash", .string, .required)
            .create()
        try await database.schema("audit_head")
            .field("id", .int, .identifier(auto: false))
            .field("last_seq", .int64, .required)
            .field("last_hash", .string, .required)
            .create()
        let sql = database.sql
        try await sql.raw(
            "INSERT INTO audit_head (id, last_seq, last_hash) VALUES (1, 0, \(bind: String(repeating: "0", count: 64)))"
        ).run()
        try await sql.raw("CREATE INDEX audit_events_action ON audit_events (action)").run()
        try await sql.raw("CREATE INDEX audit_events_subject ON audit_events (subject)").run()
        try await sql.raw("CREATE INDEX audit_events_time ON audit_events (time_ms)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("audit_head").delete()
        try await database.schema("audit_events").delete()
    }
}
