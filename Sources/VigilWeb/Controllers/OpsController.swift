import Vapor
import VigilStore

/// Health and metrics for operators and monitoring.
enum OpsController {
    struct Health: Content {
        let status: String
        let database: String
    }

    static func health(_ req: Request) async throws -> Response {
        let ok = await DatabaseSetup.ping(req.db)
        let res = Response(status: ok ? .ok : .serviceUnavailable)
        try res.content.encode(Health(status: ok ? "ok" : "unavailable", database: ok ? "reachable" : "unreachable"))
        return res
    }

    static func metrics(_ req: Request) async throws -> Response {
        // Queue depth and age, read at scrape time (every process sees the same shared queue).
        if let depths = try? await JobQueue(db: req.db, clock: req.vigil.clock, owner: "metrics").depths() {
            try req.vigil.metrics.jobQueue(depths)
        }
        let federation = FederationStore(db: req.db, clock: try req.vigil.clock)
        if let health = try? await federation.health() {
            try req.vigil.metrics.federation(health, now: federation.clock.now())
        }
        if let n = try? await UrgentStore(db: req.db, clock: try req.vigil.clock).unacknowledgedCount() {
            try req.vigil.metrics.urgent(unacknowledged: n)
        }
        let text = try req.vigil.metrics.registry.emitToString()
        var headers = HTTPHeaders()
        headers.contentType = HTTPMediaType(
            type: "text", subType: "plain", parameters: ["version": "0.0.4", "charset": "utf-8"])
        return Response(status: .ok, headers: headers, body: .init(string: text))
    }
}

/// The staff dashboard and the public home page.
enum HomeController {
    struct Dashboard: Encodable {
        struct Welfare: Encodable {
            let analyst: String
            let assessed: Int
            let breakDue: Bool
        }
        let layout: Layout
        let username: String
        let role: String
        let openCases: Int
        let welfare: [Welfare]
        let showWelfare: Bool
    }

    /// The staff dashboard; supervisors and admins also see each analyst's assessments today (welfare).
    static func dashboard(_ req: Request) async throws -> View {
        let (u, role) = try req.requireStaff()
        let store = try req.hotlineStore
        let open = try await store.queue(page: 1, per: 1).total
        let showWelfare = role == .supervisor || role == .admin
        let welfare =
            showWelfare
            ? try await store.assessmentsPerAnalyst(on: req.vigil.clock.now()).sorted { $0.key < $1.key }
                .map {
                    Dashboard.Welfare(
                        analyst: $0.key, assessed: $0.value, breakDue: $0.value >= CaseDeskController.breakAfter)
                }
            : []
        return try await req.view.render(
            "dashboard",
            Dashboard(
                layout: Layout(req, title: "Dashboard"), username: u, role: role.label,
                openCases: open, welfare: welfare, showWelfare: showWelfare))
    }

    struct Home: Encodable { let layout: Layout }

    static func home(_ req: Request) async throws -> View {
        try await req.view.render("home", Home(layout: Layout(req, title: "Report child sexual abuse material online")))
    }
}
