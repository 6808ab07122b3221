import Fluent
import Logging
import Vapor
import VigilCore
import VigilStore

/// Running the server and giving command-line tools a database.
extension VigilServer {
    /// Builds, prepares and runs the server until SIGTERM or SIGINT, then drains in-flight requests and returns.
    /// - Parameter onStart: called after the database is ready, with what preparation did (for the console).
    public static func serve(services: VigilServices, onStart: @Sendable (StartReport) -> Void) async throws {
        let env = Environment(name: "production", arguments: ["vigil", "serve"])
        let app = try await Application.make(env)
        do {
            try secureDataFolder(services.configuration, logger: app.logger)
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

    /// Files this process creates are private to its user, and the data folder (database, keys) is 0700 with
    /// 0600 files; an installation made before is tightened, with a line in the log naming what changed.
    static func secureDataFolder(_ configuration: VigilConfiguration, logger: Logger) throws {
        DataFolder.restrictNewFiles()
        let tightened = try DataFolder.secure(configuration.dataDirectory)
        if !tightened.isEmpty {
            logger.notice(
                "data folder: took group and other permissions off \(tightened.count) paths (\(tightened.prefix(5).joined(separator: ", "))\(tightened.count > 5 ? ", …" : ""))"
            )
        }
    }

    /// Runs the scheduled jobs (see ``ScheduledJobs``) inside `vigil serve`, each on its own period, counted in
    /// `/metrics`; a failed run is logged and retried at its next turn.
    static func startScheduledJobs(_ app: Application) -> Task<Void, Never> {
        let scheduled = ScheduledJobs(
            db: app.db, clock: app.vigil.clock, tokens: app.vigil.tokens, configuration: app.vigil.configuration,
            blockList: app.blockList, triage: app.hotline.triage,
            knownImages: app.vigil.configuration.listCheckImages
                ? LinkChecker.knownImages { try await app.matchService.start(app).value } : nil,
            sealer: app.hotline.sealer, catalog: app.hotline.catalog)
        let metrics = app.vigil.metrics
        let logger = app.logger
        // The shared queue (notices) is drained every few seconds; several processes share it safely.
        Task {
            while !Task.isCancelled {
                // Small batches: a claimed job waits for this process, so claim only what is about to run.
                let ran = (try? await scheduled.worker.drain(limit: 5)) ?? 0
                if ran == 0 { try? await Task.sleep(for: .seconds(5)) }
            }
        }
        return Task {
            var minute = 0
            while !Task.isCancelled {
                for job in scheduled.jobs where minute % job.everyMinutes == 0 {
                    do {
                        let n = try await job.run(500)
                        metrics.job(job.name, outcome: "ok")
                        if n > 0 { logger.info("job \(job.name): \(job.summary)", metadata: ["count": "\(n)"]) }
                    } catch {
                        metrics.job(job.name, outcome: "failed")
                        logger.error("job \(job.name) failed", metadata: ["error": "\(error)"])
                    }
                }
                minute += 1
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
            try secureDataFolder(configuration, logger: app.logger)
            try configure(app, services: services)
            do {
                try await DatabaseSetup.prepare(app.db)
            } catch {
                throw StoreError.unreachable(
                    "cannot reach the database (\(DatabaseTarget(configuration))): \(reason(error))")
            }
            if migrate { try await app.autoMigrate() }
            let context = StoreContext(
                accounts: Accounts(
                    db: app.db, clock: services.clock, tokens: services.tokens, passwords: services.passwords,
                    configuration: configuration, secrets: app.hotline.sealer),
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
            try secureDataFolder(configuration, logger: app.logger)
            try configure(app, services: VigilServices(configuration: configuration))
            do { try await DatabaseSetup.prepare(app.db) } catch {
                throw StoreError.unreachable(
                    "cannot reach the database (\(DatabaseTarget(configuration))): \(reason(error))")
            }
            if revert { try await app.autoRevert() } else { try await app.autoMigrate() }
            try await app.asyncShutdown()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }
}
