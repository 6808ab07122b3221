import Fluent
import Leaf
import LeafKit
import Vapor
import VigilApp
import VigilCore
import VigilStore

/// The composition root: everything the server is made of is wired here, from one typed configuration.
public enum VigilServer {
    /// Configures `app` (database, migrations, views, middleware, routes). Does not touch the database.
    public static func configure(_ app: Application, services: VigilServices) throws {
        app.storage[ServicesKey.self] = services
        let config = services.configuration
        app.http.server.configuration.hostname = config.host
        app.http.server.configuration.port = config.port
        app.http.server.configuration.serverName = nil

        let resources = Self.resourcesDirectory
        let hotline = try HotlineServices(
            configuration: config, tokens: services.tokens)
        app.storage[HotlineServicesKey.self] = hotline
        try DatabaseSetup.register(DatabaseTarget(config), on: app.databases)
        app.migrations.add(VigilMigrations.all(secrets: hotline.sealer))

        app.routes.defaultMaxBodySize = ByteCount(value: config.maxBodyBytes)
        app.routes.caseInsensitive = false

        app.directory.viewsDirectory = resources + "Views/"
        app.directory.publicDirectory = resources + "Public/"
        app.views.use(.leaf)
        // Templates live inside the build folder (a hidden path); template names are constants in code, never input.
        app.leaf.sources = .singleSource(
            NIOLeafFiles(
                fileio: app.fileio, limits: [.requireExtensions],
                sandboxDirectory: app.directory.viewsDirectory, viewDirectory: app.directory.viewsDirectory))
        app.leaf.cache.isEnabled = app.environment.isRelease

        app.storage[BlockListServiceKey.self] = BlockListService(configuration: config)

        try configurePolicy(app)
        app.middleware = Middlewares()
        app.middleware.use(SecurityHeadersMiddleware(secure: config.cookiesAreSecure))
        app.middleware.use(StopPageMiddleware())
        app.middleware.use(ErrorPageMiddleware())
        app.middleware.use(PathGuardMiddleware())
        app.middleware.use(MetricsMiddleware(metrics: services.metrics))
        app.middleware.use(FileMiddleware(publicDirectory: app.directory.publicDirectory, advancedETagComparison: true))
        app.middleware.use(
            CSRFMiddleware(secure: config.cookiesAreSecure, key: hotline.sealer.derivedKey(purpose: "csrf")))
        app.middleware.use(AccessMiddleware())

        routes(app)
    }

    /// Where templates and static files are: `VIGIL_RESOURCES` if set by the packager, else the SwiftPM bundle.
    static var resourcesDirectory: String {
        if let override = ProcessInfo.processInfo.environment["VIGIL_RESOURCES"], !override.isEmpty {
            return override.hasSuffix("/") ? override : override + "/"
        }
        // On Linux the bundle is a plain folder; `resourcePath` may already point inside it.
        for base in [Bundle.module.bundlePath, Bundle.module.resourcePath].compactMap({ $0 }) {
            let candidate = base + "/Resources/"
            if FileManager.default.fileExists(atPath: candidate + "Views/base.leaf") { return candidate }
            if FileManager.default.fileExists(atPath: base + "/Views/base.leaf") { return base + "/" }
        }
        return Bundle.module.bundlePath + "/Resources/"
    }

    /// What `prepare` did on start.
    public struct StartReport: Sendable {
        /// A one-time link for the administrator, when their account still needs setting up.
        public var adminSetupLink: String?
        public var signingKeyCreated: Bool
        /// With demo data on first start: an API key for the demo platform partner (shown once).
        public var demoAPIKey: String?
    }

    /// Demonstration data for `make run`: a small, clearly labelled hash set of generated (meaningless) hashes and a
    /// partner key to try the match API with. Added once; never on a database that already holds hashes.
    static func addDemoData(_ app: Application) async throws -> String? {
        let s = try app.vigil
        let store = HashSetStore(db: app.db, clock: s.clock)
        guard try await store.counts().items == 0 else { return nil }
        var records: [HashSetRecord] = []
        for i in 0..<200 {
            let seed = sha256Hex("vigil-demo-\(i)")
            var digests = [try HashDigest(.md5, String(seed.prefix(32))), try HashDigest(.sha256, seed)]
            if i % 2 == 0 { digests.append(try HashDigest(.pdq, sha256Hex("vigil-demo-pdq-\(i)"))) }
            var r = HashSetRecord(
                digests: digests,
                categories: [HashCategory(scheme: .projectVIC, code: i % 5 == 0 ? "1" : "2", source: "DEMO")])
            r.provenance = HashProvenance(contributor: "DEMO data (generated, not real)", caseID: "DEMO-\(i / 20)")
            r.seriesName = i < 40 ? "DEMO series A" : nil
            records.append(r)
        }
        // Most demo records are known; the last ten wait in the reviewers' queue so the review page has work.
        var summary = HashSetStore.ImportSummary()
        try await store.importBatch(
            Array(records.prefix(190)), source: "DEMO", actor: .system, intake: .confirmed(bank: HashBank.defaultName),
            into: &summary)
        try await store.importBatch(
            Array(records.dropFirst(190)), source: "DEMO", actor: .system,
            intake: .pending(reviewsRequired: s.configuration.hashReviewsRequired), into: &summary)
        try await addHotlineDemoData(app)
        let (_, key) = try await APIKeys(db: app.db, clock: s.clock, tokens: s.tokens)
            .create(partner: "Demo platform", scopes: [.matchRead, .reportsWrite, .feedsRead], actor: .system)
        return key
    }

    /// Prepares the database (WAL, migrations), the signing key, and on first start the `admin` account.
    /// - Throws: `StoreError.unreachable` with one readable line when the database cannot be reached.
    public static func prepare(_ app: Application, migrate: Bool = true) async throws -> StartReport {
        let config = try app.vigil.configuration
        let target = DatabaseTarget(config)
        do {
            try await DatabaseSetup.prepare(app.db)
        } catch {
            throw StoreError.unreachable("cannot reach the database (\(target)): \(VigilEnvironment.reason(error))")
        }
        if migrate { try await app.autoMigrate() }
        let (signingKey, created) = try SigningKey.loadOrCreate(
            at: (config.dataDirectory as NSString).appendingPathComponent("signing-key.pem"))
        try app.blockList.setKey(signingKey.privateKey)
        try await app.blockList.publish(app.db, clock: app.vigil.clock)
        let s = try app.vigil
        let accounts = Accounts(
            db: app.db, clock: s.clock, tokens: s.tokens, passwords: s.passwords, configuration: config,
            secrets: try app.hotline.sealer)
        var link: String?
        if try await !accounts.hasUsers() {
            let (_, token) = try await accounts.createUser(username: "admin", role: .admin, actor: .system)
            link = "\(config.baseURL)/setup/\(token)"
        } else if let admin = try await accounts.user(named: "admin"), !admin.mfaEnabled, !admin.disabled {
            let token = try await accounts.issueSetupLink(username: "admin", actor: .system)
            link = "\(config.baseURL)/setup/\(token)"
        }
        var demoKey: String?
        if config.demoData {
            demoKey = try await addDemoData(app)
            try await addDemoBlockList(app)
            try await addOperationsDemoData(app)
        }
        return StartReport(adminSetupLink: link, signingKeyCreated: created, demoAPIKey: demoKey)
    }
}
