import FluentKit
import SQLKit

/// The job queue shared by every `vigil serve` process: outbox deliveries, rechecks, attribution.
struct CreateJobs: AsyncMigration {
    var name: String { "0009_CreateJobs" }

    func prepare(on database: any Database) async throws {
        try await database.schema("jobs")
            .field("id", .int64, .identifier(auto: true))
            .field("name", .string, .required)
            .field("payload", .string, .required)
            .field("state", .string, .required)
            .field("run_at_ms", .int64, .required)
            .field("attempts", .int, .required)
            .field("max_attempts", .int, .required)
            .field("lease_until_ms", .int64)
            .field("locked_by", .string)
            .field("last_error", .string)
            .field("created_ms", .int64, .required)
            .field("updated_ms", .int64, .required)
            .create()
        let sql = database.sql
        try await sql.raw("CREATE INDEX jobs_due ON jobs (state, run_at_ms)").run()
        try await sql.raw("CREATE INDEX jobs_name ON jobs (name, state)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("jobs").delete()
    }
}
