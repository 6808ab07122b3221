import Vapor
import VigilCore

/// The whole URL space, grouped by audience. Every route names who may call it; the access middleware
/// enforces the rule and `RouteRulesTests` walks this table so a route without one fails the suite.
func routes(_ app: Application) {
    // MARK: public: anyone, no sign-in
    app.on(.GET, [], access: .publicAccess, use: PublicController.home)
    app.on(.GET, ["report"], access: .publicAccess, use: PublicController.form)
    app.on(.GET, ["report", "button"], access: .publicAccess, use: PublicController.button)
    app.on(.POST, ["report"], access: .publicAccess, use: PublicController.submit)
    app.on(.GET, ["status"], access: .publicAccess, use: PublicController.status)
    app.on(.GET, ["healthz"], access: .publicAccess, use: OpsController.health)
    app.on(.GET, ["stop"], access: .publicAccess, use: StopController.stopPage)
    app.on(.GET, ["notices", "confirm", ":token"], access: .publicAccess, use: ChannelsController.confirm)
    app.on(.GET, ["filter-check"], access: .publicAccess, use: StopController.filterCheck)
    app.on(.GET, ["blocklist"], access: .publicAccess, use: AppealController.listPage)
    app.on(.GET, ["appeal"], access: .publicAccess, use: AppealController.form)
    app.on(.POST, ["appeal"], access: .publicAccess, use: AppealController.submit)
    app.on(.GET, ["appeal", "status"], access: .publicAccess, use: AppealController.status)
    // The one-time link in an urgent alert: the token is the credential (the recipient may not be signed in).
    app.on(.GET, ["urgent", ":token"], access: .publicAccess, use: UrgentController.ackPage)
    app.on(.POST, ["urgent", ":token"], access: .publicAccess, use: UrgentController.acknowledge)

    // MARK: sign-in and account setup (public by nature; throttled and CSRF-protected)
    app.on(.GET, ["login"], access: .publicAccess) { try await AuthController.loginPage($0) }
    app.on(.POST, ["login"], access: .publicAccess, use: AuthController.login)
    app.on(.GET, ["login", "code"], access: .publicAccess, use: AuthController.codePage)
    app.on(.POST, ["login", "code"], access: .publicAccess, use: AuthController.code)
    app.on(.GET, ["setup", ":token"], access: .publicAccess, use: AuthController.setupPage)
    app.on(.POST, ["setup", ":token"], access: .publicAccess, use: AuthController.setPassword)
    app.on(.GET, ["setup", ":token", "mfa"], access: .publicAccess) { try await AuthController.enrolPage($0) }
    app.on(.POST, ["setup", ":token", "mfa"], access: .publicAccess, use: AuthController.enrol)

    // MARK: staff: every signed-in role
    app.on(.GET, ["dashboard"], access: .anyStaff, use: HomeController.dashboard)
    app.on(.POST, ["logout"], access: .anyStaff, use: AuthController.logout)

    // MARK: staff: the analyst desk and law enforcement
    app.on(.GET, ["cases"], access: Rules.desk, use: CaseDeskController.queue)
    app.on(.GET, ["cases", ":id"], access: Rules.caseReaders) { try await CaseDeskController.casePage($0) }
    app.on(.POST, ["cases", ":id", "act"], access: Rules.caseActors, use: CaseDeskController.act)
    app.on(.POST, ["cases", ":id", "hosting"], access: Rules.desk, use: CaseDeskController.setHosting)
    app.on(.GET, ["le", "referred"], access: Rules.lawEnforcement, use: CaseDeskController.referred)
    app.on(.GET, ["rota"], access: Rules.rotaReaders) { try await UrgentController.rota($0) }
    app.on(.POST, ["rota"], access: Rules.rotaEditors, use: UrgentController.addShift)
    app.on(.POST, ["rota", ":id", "remove"], access: Rules.rotaEditors, use: UrgentController.removeShift)
    app.on(.GET, ["cases", ":id", "referral"], access: Rules.lawEnforcement, use: CaseDeskController.referral)

    // MARK: staff: the block list (auditors read, defanged)
    app.on(.GET, ["hashset", "review"], access: Rules.hashReviewers) { try await HashReviewController.page($0) }
    app.on(
        .POST, ["hashset", "review", "false-positive"], access: Rules.hashSupervisors,
        use: HashReviewController.falsePositive)
    app.on(.POST, ["hashset", "review", ":id"], access: Rules.hashReviewers, use: HashReviewController.vote)
    app.on(
        .POST, ["hashset", "review", ":id", "decide"], access: Rules.hashSupervisors, use: HashReviewController.decide)
    app.on(.GET, ["list"], access: Rules.listReaders) { try await ListDeskController.list($0) }
    app.on(.GET, ["list", "new"], access: Rules.listDesk) { try await ListDeskController.newPage($0) }
    app.on(.POST, ["list"], access: Rules.listDesk, use: ListDeskController.propose)
    app.on(.GET, ["list", "appeals"], access: Rules.listReaders) { try await ListDeskController.appeals($0) }
    app.on(.POST, ["list", "appeals", ":reference"], access: Rules.appealDeciders, use: ListDeskController.decide)
    app.on(.GET, ["list", "partners"], access: Rules.listReaders, use: ListDeskController.partners)
    app.on(.GET, ["list", ":id"], access: Rules.listReaders) { try await ListDeskController.entryPage($0) }
    app.on(.POST, ["list", ":id", "act"], access: Rules.listDesk, use: ListDeskController.act)

    // MARK: staff: notice and takedown figures (supervisors)
    app.on(.GET, ["takedown"], access: Rules.takedownReaders) { try await TakedownController.page($0) }
    app.on(.GET, ["takedown.csv"], access: Rules.takedownReaders, use: TakedownController.csv)

    // MARK: staff: administrators
    app.on(.GET, ["admin", "users"], access: Rules.admin) { try await AdminController.users($0) }
    app.on(.POST, ["admin", "users"], access: Rules.admin, use: AdminController.createUser)
    app.on(.POST, ["admin", "users", ":username"], access: Rules.admin, use: AdminController.userAction)
    app.on(.GET, ["admin", "apikeys"], access: Rules.admin) { try await AdminController.keys($0) }
    app.on(.GET, ["admin", "banks"], access: Rules.admin) { try await BankController.page($0) }
    app.on(.POST, ["admin", "banks"], access: Rules.admin, use: BankController.add)
    app.on(.POST, ["admin", "banks", ":name"], access: Rules.admin, use: BankController.change)
    app.on(.GET, ["admin", "partners"], access: Rules.admin) { try await PartnersController.page($0) }
    app.on(.POST, ["admin", "partners"], access: Rules.admin, use: PartnersController.add)
    app.on(.POST, ["admin", "partners", ":name"], access: Rules.admin, use: PartnersController.change)
    app.on(.GET, ["admin", "channels"], access: Rules.admin) { try await ChannelsController.page($0) }
    app.on(.POST, ["admin", "channels"], access: Rules.admin, use: ChannelsController.setChannel)
    app.on(.POST, ["admin", "notice-templates"], access: Rules.admin, use: ChannelsController.setTemplate)
    app.on(.POST, ["admin", "apikeys"], access: Rules.admin, use: AdminController.createKey)
    app.on(.POST, ["admin", "apikeys", ":id", "revoke"], access: Rules.admin, use: AdminController.revokeKey)

    // MARK: staff: audit
    app.on(.GET, ["audit"], access: Rules.audit, use: AuditController.list)

    // MARK: API for partners (bearer keys)
    app.on(.GET, ["api", "v1", "openapi.json"], access: .publicAccess, use: PartnerController.openAPI)
    app.on(.GET, ["api", "v1", "whoami"], access: .anyPartner, use: PartnerController.whoami)
    app.on(.POST, ["api", "v1", "reports"], access: .publicAccess, use: ReportsAPIController.submit)
    app.on(.GET, ["api", "v1", "reports", ":reference"], access: .publicAccess, use: ReportsAPIController.status)
    app.on(.GET, ["api", "v1", "feeds", "public-key"], access: .publicAccess, use: FeedsController.publicKey)
    app.on(.GET, ["api", "v1", "feeds", ":format"], access: .apiScope(.feedsRead), use: FeedsController.feed)
    app.on(.POST, ["api", "v1", "match"], access: .apiScope(.matchRead), use: MatchController.match)
    app.on(
        .POST, ["api", "v1", "match", "feedback"], access: .apiScope(.matchRead), use: MatchController.feedback)
    app.on(.POST, ["api", "v1", "bounces"], access: .apiScope(.bouncesWrite), use: BouncesController.receive)
    // Partner hotlines: the controller checks the key itself, so that every refusal is answered and audited alike.
    app.on(.POST, ["api", "v1", "federation", "inbox"], access: .publicAccess, use: FederationController.inbox)
    // MARK: monitoring (a `metrics:read` key; Prometheus sends it as a bearer token)
    app.on(.GET, ["metrics"], access: .apiScope(.metricsRead), use: OpsController.metrics)
    app.on(
        .GET, ["api", "v1", "match", ":algorithm", ":value"], access: .apiScope(.matchRead), use: MatchController.lookup
    )

    policyRoutes(app)
}

/// A partner checks its own key.
enum PartnerController {
    struct WhoAmI: Content {
        let partner: String
        let scopes: [String]
    }

    /// The checked-in OpenAPI 3.1 document.
    static func openAPI(_ req: Request) async throws -> Response {
        let path = VigilServer.resourcesDirectory + "OpenAPI/openapi.json"
        guard let data = FileManager.default.contents(atPath: path) else { throw Abort(.notFound) }
        var headers = HTTPHeaders()
        headers.contentType = .json
        headers.replaceOrAdd(name: .cacheControl, value: "public, max-age=300")
        return Response(status: .ok, headers: headers, body: .init(data: data))
    }

    static func whoami(_ req: Request) async throws -> WhoAmI {
        guard case .partner(_, let partner, let scopes) = req.caller else { throw Abort(.unauthorized) }
        return WhoAmI(partner: partner, scopes: scopes.map(\.rawValue))
    }
}
