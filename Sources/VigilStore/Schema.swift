import SQLKit

/// A table's column names, declared once as an enum whose raw values are the names in the database. A column is an
/// `SQLExpression`, so SQLKit's builders take it where they take a name (`.where(Cases.state, .equal, …)`,
/// `.set(Cases.updatedMS, to: …)`, `.columns(Cases.id, Cases.caseKey)`), and a misspelt column fails to compile
/// instead of failing a query. Rows are read with ``SQLRow/decode(_:as:)``.
protocol SQLTableColumns: RawRepresentable<String>, SQLExpression, CaseIterable, Sendable {
    /// The table's name.
    static var table: String { get }
}

extension SQLTableColumns {
    func serialize(to serializer: inout SQLSerializer) {
        SQLIdentifier(rawValue).serialize(to: &serializer)
    }

    /// The column qualified by its table, for joins: `"cases"."state"`.
    var qualified: SQLColumn { SQLColumn(SQLIdentifier(rawValue), table: SQLIdentifier(Self.table)) }

    /// The table, for `.from(Cases.tableName)`, `.update(…)`, `.insert(into: …)`.
    static var tableName: SQLIdentifier { SQLIdentifier(table) }
}

extension SQLRow {
    /// Reads a typed column.
    func decode<D: Decodable>(_ column: some SQLTableColumns, as type: D.Type) throws -> D {
        try decode(column: column.rawValue, as: type)
    }

    /// Whether the row's column is NULL.
    func decodeNil(_ column: some SQLTableColumns) throws -> Bool { try decodeNil(column: column.rawValue) }
}
