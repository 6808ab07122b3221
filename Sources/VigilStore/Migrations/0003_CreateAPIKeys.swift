import FluentKit

/// Partners' API keys.
struct CreateAPIKeys: AsyncMigration {
    var name: String { "0003_CreateAPIKeys" }

    func prepare(on database: any Database) async throws {
        try await database.schema("api_keys")
            .id()
            .field("partner", .string, .required)
            .field("scopes", .string, .required)
            .field("prefix", .string, .required)
            .field("key_hash", .string, .required)
            .field("created_at", .datetime, .required)
            .field("created_by", .string, .required)
            .field("revoked_at", .datetime)
            .field("last_used_at", .datetime)
            .unique(on: "key_hash")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("api_keys").delete()
    }
}
