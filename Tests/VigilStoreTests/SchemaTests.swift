import Foundation
import SQLKit
import Testing
import VigilTestSupport

@testable import VigilStore

/// The typed column names (`Cases.state`, …) against the database the migrations build, on SQLite and (with
/// `VIGIL_TEST_DATABASE_URL`) on PostgreSQL: a misspelt or missing name fails here rather than in a query.
@Suite("Store schema: the columns enums match the migrated database")
struct SchemaTests {
    /// Tables the enums need not declare: Fluent's own record of the migrations that ran.
    static let notDeclared: Set<String> = ["_fluent_migrations"]

    @Test("every column of every enum can be selected from its table")
    func everyColumnSelects() async throws {
        try await withVigilApp { app, _ in
            let sql = app.db.sql
            for table in StoreSchema.allTables {
                // Preparing the statement resolves every name, so LIMIT 0 is enough and reads no row.
                await #expect(throws: Never.self, "\(table.table) (\(TestDatabase.backend))") {
                    try await sql.select().columns(table.allColumns).from(table.tableName).limit(0).all()
                }
            }
        }
    }

    @Test("every table the migrations create is declared, with all of its columns and no others")
    func everyTableDeclared() async throws {
        try await withVigilApp { app, _ in
            let sql = app.db.sql
            let declared = Dictionary(
                StoreSchema.allTables.map { ($0.table, Set($0.columnNames)) }, uniquingKeysWith: { first, _ in first })
            #expect(declared.count == StoreSchema.allTables.count, "a table is declared twice")
            let tables = try await Self.tables(sql).subtracting(Self.notDeclared)
            #expect(tables.subtracting(declared.keys).sorted() == [], "tables without a columns enum")
            #expect(
                Set(declared.keys).subtracting(tables).sorted() == [], "enums for tables the migrations do not make")
            for table in tables.sorted() {
                guard let names = declared[table] else { continue }
                let columns = try await Self.columns(of: table, sql)
                #expect(columns.subtracting(names).sorted() == [], "\(table): columns missing from its enum")
                #expect(names.subtracting(columns).sorted() == [], "\(table): enum cases with no column")
            }
        }
    }

    /// The database's tables (SQLite's catalogue, or PostgreSQL's current schema).
    static func tables(_ sql: any SQLDatabase) async throws -> Set<String> {
        let query: SQLQueryString =
            sql.dialect.name == "sqlite"
            ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            : """
            SELECT CAST(table_name AS TEXT) AS name FROM information_schema.tables
            WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
            """
        return Set(try await sql.raw(query).all().map { try $0.decode(column: "name", as: String.self) })
    }

    /// A table's column names.
    static func columns(of table: String, _ sql: any SQLDatabase) async throws -> Set<String> {
        let query: SQLQueryString =
            sql.dialect.name == "sqlite"
            ? "SELECT name FROM pragma_table_info(\(bind: table))"
            : """
            SELECT CAST(column_name AS TEXT) AS name FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = \(bind: table)
            """
        return Set(try await sql.raw(query).all().map { try $0.decode(column: "name", as: String.self) })
    }
}
