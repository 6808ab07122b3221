import FluentKit
import Foundation
import SQLKit
import VigilCore

/// A case's law-enforcement hold as columns, so the hold-expiry job and list publication find held cases by index
/// instead of matching `"hold"` inside the workflow JSON of every case: when the hold ends, and when it lets notices
/// leave. Cases held before this migration are read from their workflow once, here.
struct HoldColumns: AsyncMigration {
    var name: String { "0018_HoldColumns" }

    func prepare(on database: any Database) async throws {
        // One column a statement: SQLite adds one at a time.
        try await database.schema("cases").field("hold_expires_ms", .int64).update()
        try await database.schema("cases").field("hold_notify_after_ms", .int64).update()
        let sql = database.sql
        try await sql.raw("CREATE INDEX cases_hold_expires ON cases (hold_expires_ms)").run()
        var after: Int64 = 0
        while true {
            let rows = try await sql.select().columns("id", "workflow").from("cases").where("id", .greaterThan, after)
                .orderBy("id").limit(1000).all()
            guard let last = rows.last else { break }
            for r in rows {
                let wf = try JSONDecoder().decode(
                    CaseWorkflow.self, from: Data(try r.decode(column: "workflow", as: String.self).utf8))
                guard wf.hold != nil else { continue }
                let hold = HotlineStore.holdColumns(wf)
                try await sql.update("cases").set("hold_expires_ms", to: hold.expires)
                    .set("hold_notify_after_ms", to: hold.notifyAfter)
                    .where("id", .equal, try r.decode(column: "id", as: Int64.self)).run()
            }
            after = try last.decode(column: "id", as: Int64.self)
        }
    }

    func revert(on database: any Database) async throws {
        let sql = database.sql
        try await sql.raw("DROP INDEX cases_hold_expires").run()
        // Plain SQL: Fluent's SQLite driver does not drop columns (SQLite has since 3.35).
        try await sql.raw("ALTER TABLE cases DROP COLUMN hold_expires_ms").run()
        try await sql.raw("ALTER TABLE cases DROP COLUMN hold_notify_after_ms").run()
    }
}
