import Fluent
import Logging
import Vapor
import VigilCore
import VigilStore

/// Running the server and giving command-line tools a database.
extension VigilApp {
    /// Builds, prepares and runs the server until SIGTERM or SIGINT, then drains in-flight requests and returns.
    /// - Parameter onStart: called after the database is ready, with what preparation did (for the console).
    public static func serve(services: VigilServices, onStart: @Sendable (StartReport) -> Void) async throws {
        let env = Environment(name: "production", arguments: ["vigil", "serve"])
        let app = try await Application.make(env)
        do {
            try configure(app, services: services)
            let report = try await prepare(app)
            app.matchService.start(app)  // in the background; lookups wait for it
            onStart(report)
            let jobs = startScheduledJobs(app)
            defer { jobs.cancel() }
            try await app.execute()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }

    /// The scheduled jobs that run inside `vigil serve`, each counted in `/metrics`; a failed run is logged and
    /// retried next time:
    /// - every minute: block-list expiry and publication (so that an entry whose verification ran out, or whose
    ///   case's hold ended, leaves or joins the list within a minute even when nobody touches it);
    /// - every 5 minutes: deletion of reporters' contact details past retention, the end of expired holds, and the
    ///   automated checks of listed addresses that are due (each entry every `list_check_hours`).
    static func startScheduledJobs(_ app: Application) -> Task<Void, Never> {
        let store = HotlineStore(db: app.db, clock: app.vigil.clock, tokens: app.vigil.tokens, sealer: nil, triage: app.hotline.triage)
        let list = app.blockList
        let listStore = list.store(app.db, clock: app.vigil.clock)
        let config = app.vigil.configuration
        let metrics = app.vigil.metrics
        let logger = app.logger
        let db = app.db
        let clock = app.vigil.clock
        @Sendable func run(_ name: String, _ body: () async throws -> Int, note: String) async {
            do {
                let n = try await body()
                metrics.job(name, outcome: "ok")
                if n > 0 { logger.info("\(note)", metadata: ["count": "\(n)"]) }
            } catch {
                metrics.job(name, outcome: "failed")
                logger.error("\(name) job failed", metadata: ["error": "\(error)"])
            }
        }
        return Task {
            var tick = 0
            while !Task.isCancelled {
                await run("list-expiry", { try await listStore.expireDue() }, note: "block-list entries expired (not re-verified in time)")
                await run("list-publish", { try await list.publish(db, clock: clock).map { Int($0.version) } ?? 0 }, note: "block-list version published")
                if tick % 5 == 0 {
                    await run("contact-retention", { try await store.purgeExpiredContacts() }, note: "deleted reporters' contact details past retention")
                    await run("hold-expiry", { try await store.expireHolds() }, note: "law-enforcement holds expired")
                    await run("list-check", {
                        try await LinkChecker.run(store: listStore, interval: TimeInterval(config.listCheckHours) * 3600,
                                                  proxy: config.listCheckProxy, dropGone: config.listDropGone)
                    }, note: "listed addresses checked")
                }
                tick += 1
                try? await Task.sleep(for: .seconds(60))
            }
        }
    }

    /// What command-line tools get: the repositories on a ready database.
    public struct StoreContext: Sendable {
        public let accounts: Accounts
        public let apiKeys: APIKeys
        public let database: any Database
        public let configuration: VigilConfiguration
    }

    /// Opens the configured database for a command-line tool (without serving), runs `body`, and closes it.
    /// - Parameter migrate: apply pending migrations first (the default); `vigil migrate` passes false.
    public static func withStore<T: Sendable>(
        configuration: VigilConfiguration, migrate: Bool = true, _ body: @Sendable (StoreContext) async throws -> T
    ) async throws -> T {
        let services = VigilServices(configuration: configuration)
        let app = try await Application.make(Environment(name: "production", arguments: ["vigil"]))
        app.logger.logLevel = .warning
        do {
            try configure(app, services: services)
            do {
                try await DatabaseSetup.prepare(app.db)
            } catch {
                throw StoreError.unreachable("cannot reach the database (\(DatabaseTarget(configuration))): \(reason(error))")
            }
            if migrate { try await app.autoMigrate() }
            let context = StoreContext(
                accounts: Accounts(db: app.db, clock: services.clock, tokens: services.tokens, passwords: services.passwords, configuration: configuration),
                apiKeys: APIKeys(db: app.db, clock: services.clock, tokens: services.tokens),
                database: app.db, configuration: configuration)
            let result = try await body(context)
            try await app.asyncShutdown()
            return result
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }

    /// Applies or reverts migrations for `vigil migrate`.
    public static func migrate(configuration: VigilConfiguration, revert: Bool) async throws {
        let app = try await Application.make(Environment(name: "production", arguments: ["vigil"]))
        app.logger.logLevel = .warning
        do {
            try configure(app, services: VigilServices(configuration: configuration))
            do { try await DatabaseSetup.prepare(app.db) } catch {
                throw StoreError.unreachable("cannot reach the database (\(DatabaseTarget(configuration))): \(reason(error))")
            }
            if revert { try await app.autoRevert() } else { try await app.autoMigrate() }
            try await app.asyncShutdown()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }
}
