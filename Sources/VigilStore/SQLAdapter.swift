import FluentKit
import SQLKit

extension Database {
    /// This database as SQLKit sees it: the one place the store casts. Both drivers Vigil runs on (FluentSQLiteDriver
    /// and FluentPostgresDriver) hand out databases that are SQL databases, so the cast cannot fail in practice; a
    /// driver that is not SQL would stop here, at the first query, with the type named.
    var sql: any SQLDatabase {
        guard let sql = self as? any SQLDatabase else {
            preconditionFailure("Vigil's store needs an SQL database; \(type(of: self)) is not one")
        }
        return sql
    }
}
