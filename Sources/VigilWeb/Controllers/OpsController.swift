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
        let text = req.vigil.metrics.registry.emitToString()
        var headers = HTTPHeaders()
        headers.contentType = HTTPMediaType(type: "text", subType: "plain", parameters: ["version": "0.0.4", "charset": "utf-8"])
        return Response(status: .ok, headers: headers, body: .init(string: text))
    }
}

/// The staff dashboard and the public home page.
enum HomeController {
    struct Dashboard: Encodable {
        let layout: Layout
        let username: String
        let role: String
    }

    static func dashboard(_ req: Request) async throws -> View {
        let (u, role) = try req.requireStaff()
        return try await req.view.render("dashboard", Dashboard(layout: Layout(req, title: "Dashboard"), username: u, role: role.label))
    }

    struct Home: Encodable { let layout: Layout }

    static func home(_ req: Request) async throws -> View {
        try await req.view.render("home", Home(layout: Layout(req, title: "Report child sexual abuse material online")))
    }
}
