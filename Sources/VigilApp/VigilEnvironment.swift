import FluentKit
import Foundation
import Logging
import NIOCore
import NIOPosix
import VigilCore
import VigilStore

/// What the command line runs on, without a web framework: the configured database (reachable, migrated), the
/// clock, the data folder's keys and the repositories. `vigil serve` builds its server around the same pieces; every
/// other command that needs the database gets one of these and nothing else.
public struct VigilEnvironment: Sendable {
    public let configuration: VigilConfiguration
    public let clock: any VigilClock
    public let tokens: any TokenSource
    public let database: any Database
    /// The data folder's key (`contact-key`): reporters' contacts, staff TOTP secrets.
    public let secrets: ContactSealer
    public let accounts: Accounts
    public let apiKeys: APIKeys

    /// Opens the configured database for a command (without serving), runs `body`, and closes it.
    /// - Parameters:
    ///   - migrate: apply pending migrations first (the default).
    ///   - passwords: how passwords are hashed; commands never set one (staff set theirs in the browser).
    public static func withDatabase<T: Sendable>(
        configuration: VigilConfiguration, migrate: Bool = true,
        passwords: any PasswordHashing = PasswordsSetInTheBrowser(),
        _ body: @Sendable (VigilEnvironment) async throws -> T
    ) async throws -> T {
        let opened = try await Opened(configuration)
        do {
            if migrate { try await opened.migrator.setupIfNeeded().flatMap { opened.migrator.prepareBatch() }.get() }
            let clock = SystemClock()
            let tokens = SystemTokenSource()
            let environment = VigilEnvironment(
                configuration: configuration, clock: clock, tokens: tokens, database: opened.database,
                secrets: opened.secrets,
                accounts: Accounts(
                    db: opened.database, clock: clock, tokens: tokens, passwords: passwords,
                    configuration: configuration, secrets: opened.secrets),
                apiKeys: APIKeys(db: opened.database, clock: clock, tokens: tokens))
            let result = try await body(environment)
            await opened.close()
            return result
        } catch {
            await opened.close()
            throw error
        }
    }

    /// Applies (or, with `revert`, reverts every batch of) the migrations, for `vigil migrate`.
    public static func migrate(configuration: VigilConfiguration, revert: Bool) async throws {
        let opened = try await Opened(configuration)
        do {
            if revert {
                try await opened.migrator.setupIfNeeded().flatMap { opened.migrator.revertAllBatches() }.get()
            } else {
                try await opened.migrator.setupIfNeeded().flatMap { opened.migrator.prepareBatch() }.get()
            }
            await opened.close()
        } catch {
            await opened.close()
            throw error
        }
    }

    /// Files this process creates are private to its user, and the data folder (database, keys) is 0700 with
    /// 0600 files; an installation made before is tightened, with a line in the log naming what changed.
    public static func secureDataFolder(_ configuration: VigilConfiguration, logger: Logger) throws {
        DataFolder.restrictNewFiles()
        let tightened = try DataFolder.secure(configuration.dataDirectory)
        if !tightened.isEmpty {
            logger.notice(
                "data folder: took group and other permissions off \(tightened.count) paths (\(tightened.prefix(5).joined(separator: ", "))\(tightened.count > 5 ? ", …" : ""))"
            )
        }
    }

    /// A database error in a line an operator can act on.
    public static func reason(_ error: any Error) -> String {
        let text = String(describing: error)
        if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
        if text.contains("authentication") || text.contains("password") { return "authentication failed" }
        return String(text.prefix(200))
    }

    /// The data folder's contact key, created on first use.
    public static func loadSecrets(_ configuration: VigilConfiguration, tokens: any TokenSource) throws
        -> ContactSealer
    {
        let (key, _) = try ContactSealer.loadOrCreateKey(
            at: (configuration.dataDirectory as NSString).appendingPathComponent("contact-key"), tokens: tokens)
        return try ContactSealer(key: key, tokens: tokens)
    }

    /// The database, reachable, with its migrator.
    private struct Opened: Sendable {
        let databases: Databases
        let database: any Database
        let migrator: Migrator
        let secrets: ContactSealer

        init(_ configuration: VigilConfiguration) async throws {
            var logger = Logger(label: "vigil")
            logger.logLevel = .warning
            try VigilEnvironment.secureDataFolder(configuration, logger: logger)
            secrets = try VigilEnvironment.loadSecrets(configuration, tokens: SystemTokenSource())
            let group = MultiThreadedEventLoopGroup.singleton
            databases = Databases(threadPool: NIOThreadPool.singleton, on: group)
            try DatabaseSetup.register(DatabaseTarget(configuration), on: databases)
            guard let db = databases.database(logger: logger, on: group.any()) else {
                throw StoreError.unreachable("no database is configured")
            }
            database = db
            do {
                try await DatabaseSetup.prepare(db)
            } catch {
                await databases.shutdownAsync()
                throw StoreError.unreachable(
                    "cannot reach the database (\(DatabaseTarget(configuration))): \(VigilEnvironment.reason(error))")
            }
            let migrations = Migrations()
            migrations.add(VigilMigrations.all(secrets: secrets))
            migrator = Migrator(databases: databases, migrations: migrations, logger: logger, on: group.any())
        }

        func close() async { await databases.shutdownAsync() }
    }
}

/// Password hashing for commands, which never set a password: staff choose theirs in the browser, on the one-time
/// setup link. Asked anyway, it refuses with that explanation.
public struct PasswordsSetInTheBrowser: PasswordHashing {
    public init() {}
    public func hash(_ password: String) throws -> String {
        throw StoreError.invalid("passwords are set in the browser, on the account's setup link")
    }
    public func verify(_ password: String, against hash: String) throws -> Bool { false }
}
