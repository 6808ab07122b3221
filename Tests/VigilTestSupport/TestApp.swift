import Fluent
import Foundation
import SQLKit
import Vapor
import VaporTesting
import VigilCore
import VigilStore
import VigilWeb

/// The database a test runs on: SQLite by default, PostgreSQL when `VIGIL_TEST_DATABASE_URL` is set
/// (`make test` sets it for a second pass). Every test gets a database of its own.
public enum TestDatabase {
    public static var postgresAdminURL: String? {
        ProcessInfo.processInfo.environment["VIGIL_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Human-readable name of the backend in use, for test names and messages.
    public static var backend: String { postgresAdminURL == nil ? "sqlite" : "postgres" }

    /// Creates a fresh database and returns the configuration pointing at it, plus a cleanup.
    public static func make(dataDirectory: String) async throws -> (
        databaseURL: String?, cleanup: @Sendable () async -> Void
    ) {
        guard let admin = postgresAdminURL else { return (nil, {}) }
        let name = "vigil_t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        try await runAdmin(admin, "CREATE DATABASE \(name)")
        var c = URLComponents(string: admin)!
        c.path = "/" + name
        return (
            c.string!,
            {
                try? await runAdmin(admin, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            }
        )
    }

    static func runAdmin(_ url: String, _ statement: String) async throws {
        let app = try await Application.make(.testing)
        app.logger.logLevel = .error
        do {
            try DatabaseSetup.register(.postgres(url: url), on: app.databases)
            try await (app.db as! any SQLDatabase).raw(SQLQueryString(statement)).run()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }
}

/// A fixed starting instant for tests.
public let testEpoch = Date(timeIntervalSince1970: 1_800_000_000)

/// Runs `body` with a configured, migrated app on a fresh database, a manual clock and fast password hashing.
public func withVigilApp<T>(
    clock: ManualClock = ManualClock(testEpoch),
    configure: (inout VigilConfiguration) -> Void = { _ in },
    _ body: (Application, ManualClock) async throws -> T
) async throws -> T {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-test-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let (url, cleanup) = try await TestDatabase.make(dataDirectory: dir)
    var config = VigilConfiguration()
    config.dataDirectory = dir
    config.databaseURL = url
    // Tests never ask a real resolver: a closed port on loopback answers "refused" at once.
    config.dnsResolver = "127.0.0.1:9"
    configure(&config)
    let services = VigilServices(configuration: config, clock: clock, passwords: BcryptPasswords(cost: 4))
    let app = try await Application.make(.testing)
    app.logger.logLevel = .error
    do {
        try VigilServer.configure(app, services: services)
        _ = try await VigilServer.prepare(app)
        let result = try await body(app, clock)
        try await app.asyncShutdown()
        await cleanup()
        try? FileManager.default.removeItem(atPath: dir)
        return result
    } catch {
        try? await app.asyncShutdown()
        await cleanup()
        try? FileManager.default.removeItem(atPath: dir)
        throw error
    }
}
