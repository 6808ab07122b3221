import FluentKit
import SQLKit

/// The policy pages' own state: the national checklist's self-assessment, the awareness pages' revisions (the
/// newest is the page), and the operator's edit of their country's row in the global legislation review; and an
/// index on the reports' time for the transparency figures.
struct CreatePolicy: AsyncMigration {
    var name: String { "0008_CreatePolicy" }

    func prepare(on database: any Database) async throws {
        try await database.schema("checklist_entries")
            .field("item_id", .string, .identifier(auto: false))
            .field("status", .string, .required)
            .field("evidence", .string, .required)
            .field("links", .string, .required)
            .field("owner", .string, .required)
            .field("review_date", .string)
            .field("updated_ms", .int64, .required)
            .field("updated_by", .string, .required)
            .create()
        try await database.schema("awareness_revisions")
            .field("id", .int64, .identifier(auto: true))
            .field("slug", .string, .required)
            .field("language", .string, .required)
            .field("body", .string, .required)
            .field("created_ms", .int64, .required)
            .field("author", .string, .required)
            .create()
        try await database.schema("global_review_edits")
            .field("country", .string, .identifier(auto: false))
            .field("meets", .string, .required)
            .field("note", .string, .required)
            .field("edited_ms", .int64, .required)
            .field("edited_by", .string, .required)
            .create()
        let sql = database.sql
        try await sql.raw("CREATE INDEX awareness_revisions_page ON awareness_revisions (slug, language, id)").run()
        // The transparency figures count reports by month.
        try await sql.raw("CREATE INDEX reports_created ON reports (created_ms)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.sql.raw("DROP INDEX IF EXISTS reports_created").run()
        try await database.schema("global_review_edits").delete()
        try await database.schema("awareness_revisions").delete()
        try await database.schema("checklist_entries").delete()
    }
}
