import FluentKit
import SQLKit

/// The urgent path (#18): the on-call rota, alerts about reports saying a child is in immediate danger (their
/// escalation as a JSON value of `UrgentAlert`), and each recipient's delivery with its acknowledgement link (hashed).
struct UrgentAlerts: AsyncMigration {
    var name: String { "0022_UrgentAlerts" }

    func prepare(on database: any Database) async throws {
        try await database.schema("rota_shifts")
            .field("id", .int64, .identifier(auto: true))
            .field("position", .int, .required)
            .field("username", .string, .required)
            .field("email", .string, .required)
            .field("days", .string, .required)
            .field("start_min", .int, .required)
            .field("end_min", .int, .required)
            .field("created_ms", .int64, .required)
            .create()
        try await database.schema("urgent_alerts")
            .field("id", .int64, .identifier(auto: true))
            .field("case_id", .int64, .required)
            .field("state", .string, .required)
            .field("alert", .string)
            .field("notified_step", .int, .required)
            .field("step_started_ms", .int64)
            .field("raised_ms", .int64, .required)
            .field("ack_ms", .int64)
            .field("ack_by", .string)
            .create()
        try await database.schema("urgent_tokens")
            .field("token_hash", .string, .identifier(auto: false))
            .field("alert_id", .int64, .required)
            .field("step", .int, .required)
            .field("address", .string, .required)
            .field("created_ms", .int64, .required)
            .field("sent_ms", .int64)
            .field("used_ms", .int64)
            .create()
        let sql = database.sql
        try await sql.raw("CREATE INDEX urgent_alerts_case ON urgent_alerts (case_id)").run()
        try await sql.raw("CREATE INDEX urgent_alerts_state ON urgent_alerts (state)").run()
        // One delivery per recipient and step: two processes sending the same step cannot both claim it.
        try await sql.raw("CREATE UNIQUE INDEX urgent_tokens_once ON urgent_tokens (alert_id, step, address)").run()
    }

    func revert(on database: any Database) async throws {
        for t in ["urgent_tokens", "urgent_alerts", "rota_shifts"] { try await database.schema(t).delete() }
    }
}
