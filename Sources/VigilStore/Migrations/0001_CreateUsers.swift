import FluentKit

/// Staff accounts.
struct CreateUsers: AsyncMigration {
    var name: String { "0001_CreateUsers" }

    func prepare(on database: any Database) async throws {
        try await database.schema("users")
            .id()
            .field("created_at", .datetime, .required)
            .field("username", .string, .required)
            .field("role", .string, .required)
            .field("password_hash", .string)
            .field("totp_secret", .string)
            .field("mfa_enabled", .bool, .required)
            .field("totp_last_counter", .int64)
            .field("disabled", .bool, .required)
            .field("failed_logins", .int, .required)
            .field("locked_until", .datetime)
            .field("last_login_at", .datetime)
            .unique(on: "username")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("users").delete()
    }
}
