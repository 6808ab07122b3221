import Foundation
import Testing
import Vapor
import VigilCore
import VigilStore
import VigilTestSupport
import VigilWeb

/// Walks the whole route table: every route declares who may call it, and refuses everyone else.
@Suite("Route rules")
struct RouteRulesTests {
    /// Routes registered without an access rule.
    static func routesWithoutRule(_ app: Application) -> [String] {
        app.routes.all.filter { $0.accessRule == nil }.map { "\($0.method.rawValue) /\($0.path.string)" }
    }

    /// The route's path with every parameter filled in with `parameter`.
    static func concretePath(_ route: Route, parameter: String = "zz-test-param") -> String {
        "/"
            + route.path.map { c -> String in
                switch c {
                case .constant(let s): s
                case .parameter: parameter
                case .anything, .catchall: "x"
                }
            }.joined(separator: "/")
    }

    @Test("every route in the table declares an access rule")
    func everyRouteHasARule() async throws {
        try await withVigilApp { app, _ in
            #expect(Self.routesWithoutRule(app).isEmpty)
            #expect(app.routes.all.count >= 20)
        }
    }

    @Test("a route added without a rule is caught by the walk and refused to everyone")
    func ruleLessRouteIsCaught() async throws {
        try await withVigilApp { app, clock in
            // given a route registered the plain Vapor way
            app.get("forgotten") { _ in "secret" }
            // then the walk names it
            #expect(Self.routesWithoutRule(app) == ["GET /forgotten"])
            // and the middleware refuses it even to an administrator
            let (admin, _) = try await Staff.signedIn(app, clock: clock, username: "root2", role: .admin)
            #expect(try await admin.get("/forgotten").status == .forbidden)
        }
    }

    @Test("every non-public route refuses an anonymous caller")
    func anonymousRefused() async throws {
        try await withVigilApp { app, _ in
            let browser = TestBrowser(app)
            try await browser.get("/login")
            for route in app.routes.all {
                guard let rule = route.accessRule, rule != .publicAccess else { continue }
                let path = Self.concretePath(route)
                let res: TestBrowser.Page
                if route.method == .GET {
                    res = try await browser.get(path)
                } else {
                    res = try await browser.post(path, form: [])
                }
                #expect(
                    [.unauthorized, .forbidden].contains(res.status),
                    "\(route.method) \(path) gave \(res.status) to an anonymous caller")
                let api = try await browser.send(route.method, path, headers: ["Accept": "application/json"], body: nil)
                #expect(
                    [.unauthorized, .forbidden].contains(api.status),
                    "\(route.method) \(path) (JSON) gave \(api.status)")
            }
        }
    }

    @Test("every role-restricted route refuses staff with another role, and API routes refuse keys without the scope")
    func wrongRoleRefused() async throws {
        try await withVigilApp { app, clock in
            var browsers: [Role: TestBrowser] = [:]
            for role in Role.allCases {
                browsers[role] = try await Staff.signedIn(app, clock: clock, username: "u-\(role.rawValue)", role: role)
                    .0
            }
            let keys = APIKeys(db: app.db, clock: clock, tokens: SystemTokenSource())
            var checked = 0
            for route in app.routes.all {
                let path = Self.concretePath(route)
                switch route.accessRule {
                case .roles(let allowed):
                    for role in Role.allCases where !allowed.contains(role) {
                        let b = browsers[role]!
                        let res = route.method == .GET ? try await b.get(path) : try await b.post(path, form: [])
                        #expect(res.status == .forbidden, "\(route.method) \(path) gave \(res.status) to \(role)")
                        checked += 1
                    }
                    // and a partner key never opens a staff page
                    let (_, secret) = try await keys.create(partner: "p", scopes: APIScope.allCases, actor: .system)
                    let res = try await TestBrowser(app).send(
                        route.method, path, headers: ["Authorization": "Bearer \(secret)"], body: nil)
                    #expect(res.status == .forbidden, "\(route.method) \(path) gave \(res.status) to an API key")
                case .apiScope(let scope):
                    let others = APIScope.allCases.filter { $0 != scope }
                    let (_, secret) = try await keys.create(partner: "p", scopes: others, actor: .system)
                    let res = try await TestBrowser(app).send(
                        route.method, path, headers: ["Authorization": "Bearer \(secret)"], body: nil)
                    #expect(
                        res.status == .forbidden,
                        "\(route.method) \(path) gave \(res.status) to a key without \(scope.rawValue)")
                    checked += 1
                case .anyPartner:
                    let res = try await browsers[.admin]!.send(
                        route.method, path, headers: ["Accept": "application/json"], body: nil)
                    #expect(
                        [.unauthorized, .forbidden].contains(res.status),
                        "\(route.method) \(path) gave \(res.status) to staff")
                    checked += 1
                default:
                    continue
                }
            }
            #expect(checked > 10)
        }
    }
}
