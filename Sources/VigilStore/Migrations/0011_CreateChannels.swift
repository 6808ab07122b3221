import FluentKit
import SQLKit

/// Where notices go besides plain e-mail: partner hotlines per country (content hosted abroad), and providers that
/// take notices by webhook; templates per language; one-time removal confirmations.
struct CreateChannels: AsyncMigration {
    var name: String { "0011_CreateChannels" }

    func prepare(on database: any Database) async throws {
        try await database.schema("channels")
            .field("key", .string, .identifier(auto: false))
            .field("kind", .string, .required)
            .field("name", .string, .required)
            .field("language", .string, .required)
            .field("delivery", .string, .required)
            .field("address", .string, .required)
            .field("secret", .string)
            .field("updated_by", .string, .required)
            .field("updated_ms", .int64, .required)
            .create()
        try await database.schema("notice_templates")
            .field("language", .string, .identifier(auto: false))
            .field("body", .string, .required)
            .field("updated_by", .string, .required)
            .field("updated_ms", .int64, .required)
            .create()
        // One column per statement: SQLite adds one column at a time.
        try await database.schema("notices").field("token", .string).update()
        try await database.schema("notices").field("route", .string).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("notices").deleteField("token").update()
        try await database.schema("notices").deleteField("route").update()
        try await database.schema("notice_templates").delete()
        try await database.schema("channels").delete()
    }
}
