import FluentKit
import SQLKit

/// Cases and the reports in them. Reports hold no address of the reporter; a contact, when given, is sealed.
struct CreateHotline: AsyncMigration {
    var name: String { "0006_CreateHotline" }

    func prepare(on database: any Database) async throws {
        try await database.schema("cases")
            .field("id", .int64, .identifier(auto: false))
            .field("case_key", .string)
            .field("kind", .string, .required)
            .field("state", .string, .required)
            .field("workflow", .string, .required)
            .field("danger", .bool, .required)
            .field("report_count", .int, .required)
            .field("fast_track", .bool, .required)
            .field("deadline_ms", .int64, .required)
            .field("claimed_by", .string)
            .field("created_ms", .int64, .required)
            .field("updated_ms", .int64, .required)
            .field("closed_ms", .int64)
            .create()
        try await database.schema("reports")
            .field("reference", .string, .identifier(auto: false))
            .field("case_id", .int64, .required, .references("cases", "id"))
            .field("kind", .string, .required)
            .field("payload", .string, .required)
            .field("contact_sealed", .string)
            .field("language", .string, .required)
            .field("source", .string, .required)
            .field("api_key", .string)
            .field("created_ms", .int64, .required)
            .create()
        let sql = database.sql
        try await sql.raw("CREATE INDEX cases_key_state ON cases (case_key, state)").run()
        try await sql.raw("CREATE INDEX cases_state ON cases (state)").run()
        try await sql.raw("CREATE INDEX reports_case ON reports (case_id)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("reports").delete()
        try await database.schema("cases").delete()
    }
}
