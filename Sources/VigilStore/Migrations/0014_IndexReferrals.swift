import FluentKit
import Foundation
import SQLKit
import VigilCore

/// When a case was referred to law enforcement, as a column: the liaison's list used to read the 500 newest cases
/// and filter them, so older referrals fell off it once a hotline had more cases than that.
struct IndexReferrals: AsyncMigration {
    var name: String { "0014_IndexReferrals" }

    func prepare(on database: any Database) async throws {
        try await database.schema("cases").field("le_referred_ms", .int64).update()
        let sql = database.sql
        try await sql.raw("CREATE INDEX cases_le_referred ON cases (le_referred_ms)").run()
        // Cases referred before this migration: the case's last update is the best time there is.
        let rows = try await sql.select().columns("id", "workflow", "updated_ms").from("cases").where(
            "workflow", .like, "%lawEnforcementReferral%"
        ).all()
        for r in rows {
            let wf = try JSONDecoder().decode(
                CaseWorkflow.self, from: Data(try r.decode(column: "workflow", as: String.self).utf8))
            guard wf.decided.contains(where: { $0.kind == .lawEnforcementReferral }) else { continue }
            try await sql.update("cases").set("le_referred_ms", to: try r.decode(column: "updated_ms", as: Int64.self))
                .where("id", .equal, try r.decode(column: "id", as: Int64.self)).run()
        }
    }

    func revert(on database: any Database) async throws {
        let sql = database.sql
        try await sql.raw("DROP INDEX cases_le_referred").run()
        // Plain SQL: Fluent's SQLite driver does not drop columns (SQLite has since 3.35).
        try await sql.raw("ALTER TABLE cases DROP COLUMN le_referred_ms").run()
    }
}
