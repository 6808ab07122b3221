import FluentKit
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import SQLKit
import VigilCore

/// How Vigil reaches its database.
public enum DatabaseTarget: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(url: String)

    /// PostgreSQL when `configuration.databaseURL` is set, SQLite in the data directory otherwise.
    public init(_ configuration: VigilConfiguration) {
        if let url = configuration.databaseURL, !url.isEmpty {
            self = .postgres(url: url)
        } else {
            self = .sqlite(path: configuration.sqlitePath)
        }
    }

    /// For messages: never prints a password.
    public var description: String {
        switch self {
        case .sqlite(let p): return "SQLite at \(p)"
        case .postgres(let u):
            if var c = URLComponents(string: u) {
                if c.password != nil { c.password = "***" }
                return "PostgreSQL at \(c.string ?? "(url)")"
            }
            return "PostgreSQL"
        }
    }
}

/// Registers the database with Fluent.
public enum DatabaseSetup {
    /// Adds the target to `databases` as the default database.
    /// - Throws: `StoreError.invalid` for a URL that cannot be read; creates the SQLite folder if needed.
    public static func register(_ target: DatabaseTarget, on databases: Databases) throws {
        switch target {
        case .sqlite(let path):
            let dir = (path as NSString).deletingLastPathComponent
            if !dir.isEmpty {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            }
            databases.use(.sqlite(.file(path), sqlLogLevel: .trace), as: .sqlite, isDefault: true)
        case .postgres(let url):
            let config: SQLPostgresConfiguration
            do { config = try SQLPostgresConfiguration(url: url) } catch {
                throw StoreError.invalid("the database URL is not a valid postgres:// URL")
            }
            databases.use(.postgres(configuration: config, sqlLogLevel: .trace), as: .psql, isDefault: true)
        }
    }

    /// Checks that the database answers, and on SQLite turns on WAL.
    public static func prepare(_ db: any Database) async throws {
        guard let sql = db as? any SQLDatabase else { return }
        if sql.dialect.name == "sqlite" {
            try await sql.raw("PRAGMA journal_mode=WAL").run()
            try await sql.raw("PRAGMA foreign_keys=ON").run()
            // Reads through a memory map, not a pread per page: item lookups for match answers touch many pages.
            try await sql.raw("PRAGMA mmap_size=1073741824").run()
        } else {
            try await sql.raw("SELECT 1").run()
        }
    }

    /// Whether the database answers a trivial query.
    public static func ping(_ db: any Database) async -> Bool {
        guard let sql = db as? any SQLDatabase else { return false }
        do {
            try await sql.raw("SELECT 1").run()
            return true
        } catch { return false }
    }
}
