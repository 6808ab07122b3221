import Fluent
import Logging
import ServiceLifecycle
import Vapor
import VigilApp
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
            try VigilEnvironment.secureDataFolder(services.configuration, logger: app.logger)
            try configure(app, services: services)
            let report = try await prepare(app)
            onStart(report)
            // Vapor handles SIGTERM and SIGINT itself; when the server returns, the jobs are cancelled and awaited.
            let group = ServiceGroup(
                configuration: .init(
                    services: [
                        .init(service: MatchIndexService(app: app)),  // lookups that come first wait for it
                        .init(service: try jobsService(app)),
                        .init(
                            service: HTTPServerService(app: app), successTerminationBehavior: .gracefullyShutdownGroup),
                    ], gracefulShutdownSignals: [], logger: app.logger))
            try await group.run()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }

    /// The scheduled jobs (see ``ScheduledJobs``) inside `vigil serve`, each on its own period, counted in
    /// `/metrics`, as a service of the server's service group.
    static func jobsService(_ app: Application) throws -> JobsService {
        let (services, hotline) = (try app.vigil, try app.hotline)
        let scheduled = ScheduledJobs(
            db: app.db, clock: services.clock, tokens: services.tokens, configuration: services.configuration,
            blockList: try app.blockList, triage: hotline.triage,
            knownImages: services.configuration.listCheckImages
                ? LinkChecker.knownImages { try await app.matchService.matcher(app) } : nil,
            sealer: hotline.sealer, catalog: hotline.catalog)
        let metrics = services.metrics
        return JobsService(scheduled, logger: app.logger) { job, ok in metrics.job(job, outcome: ok ? "ok" : "failed") }
    }
}

extension VigilServer {
    /// Runs the queued jobs that are due, as the server's worker does every few seconds (for tests and tools that
    /// drive a server's application without its service group); returns how many ran.
    public static func runDueJobs(_ app: Application, limit: Int = 100) async throws -> Int {
        try await jobsService(app).scheduled.worker.drain(limit: limit)
    }
}

/// The HTTP server as a service: it returns when Vapor has shut down (SIGTERM or SIGINT, requests in flight
/// finished), which shuts the rest of the group down.
struct HTTPServerService: Service {
    let app: Application
    func run() async throws { try await app.execute() }
}
