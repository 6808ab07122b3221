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

extension SQLTableColumns {
    /// Every column, in declaration order (for `SELECT` lists that name them all).
    static var allColumns: [any SQLExpression] { allCases.map { $0 } }

    /// Every column's name, in declaration order.
    static var columnNames: [String] { allCases.map(\.rawValue) }
}

/// Every table the migrations create, by its columns enum. The schema test selects every column of each from a
/// migrated database, and checks that no table or column of the database is missing here.
enum StoreSchema {
    static let allTables: [any SQLTableColumns.Type] = [
        Users.self, SetupTokens.self, RecoveryCodes.self, Sessions.self, APIKeysColumns.self,
        AuditEvents.self, AuditHead.self,
        HashItems.self, HashDigests.self, HashBanksColumns.self, HashVideosColumns.self,
        Cases.self, Reports.self,
        ListEntries.self, ListVersions.self, ListChanges.self, FeedDownloads.self, Appeals.self,
        ChecklistEntries.self, AwarenessRevisions.self, GlobalReviewEdits.self,
        Jobs.self,
        HostingColumns.self, Notices.self, NoticeItems.self, Channels.self, NoticeTemplates.self, NoticeBounces.self,
        FederationPartners.self, FederationKeys.self, FederationInbox.self, FederationOutbox.self,
        FederationLinksColumns.self,
        RotaShifts.self, UrgentAlertsColumns.self, UrgentTokens.self,
    ]
}

// SQLKit binds a value compared with a column named by a string (`where("state", .equal, value)`), and takes a
// direction with it (`orderBy("id", .descending)`); these do the same for a typed column, with the same SQL.
extension SQLPredicateBuilder {
    /// `column op value`, the value bound: `.where(Cases.state, .equal, "closed")`.
    @discardableResult
    func `where`(_ lhs: some SQLTableColumns, _ op: SQLBinaryOperator, _ rhs: some Encodable & Sendable) -> Self {
        self.where(lhs as any SQLExpression, op, SQLBind(rhs))
    }

    /// `column op (values…)`, each value bound: `.where(Cases.id, .in, ids)`.
    @discardableResult
    func `where`(_ lhs: some SQLTableColumns, _ op: SQLBinaryOperator, _ rhs: [some Encodable & Sendable]) -> Self {
        self.where(lhs as any SQLExpression, op, SQLBind.group(rhs))
    }

    /// `OR column op value`, the value bound.
    @discardableResult
    func orWhere(_ lhs: some SQLTableColumns, _ op: SQLBinaryOperator, _ rhs: some Encodable & Sendable) -> Self {
        self.orWhere(lhs as any SQLExpression, op, SQLBind(rhs))
    }

    /// `OR column op (values…)`, each value bound.
    @discardableResult
    func orWhere(_ lhs: some SQLTableColumns, _ op: SQLBinaryOperator, _ rhs: [some Encodable & Sendable]) -> Self {
        self.orWhere(lhs as any SQLExpression, op, SQLBind.group(rhs))
    }
}

extension SQLPartialResultBuilder {
    /// `ORDER BY column direction`: `.orderBy(Cases.id, .descending)`. (`.orderBy(Cases.id)` is SQLKit's own,
    /// ascending.)
    @discardableResult
    func orderBy(_ column: some SQLTableColumns, _ direction: SQLDirection) -> Self {
        self.orderBy(column as any SQLExpression, direction as any SQLExpression)
    }
}
