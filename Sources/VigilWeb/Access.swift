import Vapor
import VigilCore
import VigilStore

/// Who is calling: a member of staff (by session) or a partner (by API key).
public enum Caller: Sendable, Equatable {
    case staff(username: String, role: Role)
    case partner(keyID: String, partner: String, scopes: [APIScope])

    var auditActor: AuditActor {
        switch self {
        case .staff(let u, _): .user(u)
        case .partner(let id, _, _): .apiKey(id)
        }
    }
}

struct CallerKey: StorageKey { typealias Value = Caller }
struct AccessRuleKey: Hashable, Sendable {}

extension Request {
    /// The authenticated caller, if any.
    public var caller: Caller? {
        get { storage[CallerKey.self] }
        set { storage[CallerKey.self] = newValue }
    }

    /// The signed-in member of staff; throws 401 when there is none (never reached behind a staff rule).
    func requireStaff() throws -> (username: String, role: Role) {
        guard case .staff(let u, let r) = caller else { throw Abort(.unauthorized) }
        return (u, r)
    }

    /// The actor to record in the audit log.
    var auditActor: AuditActor { caller?.auditActor ?? .publicVisitor }
}

extension Route {
    /// The access rule declared when the route was registered.
    public var accessRule: AccessRule? {
        userInfo[AnySendableHashable(AccessRuleKey())] as? AccessRule
    }
}

extension RoutesBuilder {
    /// Registers a route together with the rule saying who may call it.
    @discardableResult
    func on<Response: AsyncResponseEncodable>(
        _ method: HTTPMethod, _ path: [PathComponent], access: AccessRule,
        body: HTTPBodyStreamStrategy = .collect,
        use handler: @escaping @Sendable (Request) async throws -> Response
    ) -> Route {
        let route = self.on(method, path, body: body, use: handler)
        route.userInfo[AnySendableHashable(AccessRuleKey())] = access
        return route
    }
}

/// Authenticates the caller (session cookie or bearer key) and enforces the route's rule.
/// A route registered without a rule is refused to everybody: forgetting one fails closed.
struct AccessMiddleware: AsyncMiddleware {
    static let sessionCookie = "vigil_session"

    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard let route = req.route else { return try await next.respond(to: req) }
        guard let rule = route.accessRule else {
            req.logger.error("route has no access rule; refusing", metadata: ["path": "\(route.path.string)"])
            throw Abort(.forbidden)
        }
        if let auth = req.headers.bearerAuthorization {
            if let key = try await req.apiKeys.authenticate(auth.token) {
                req.caller = .partner(keyID: key.id.uuidString, partner: key.partner, scopes: key.scopes)
            } else {
                throw Abort(.unauthorized, reason: "The API key is not valid or has been revoked.")
            }
        } else if let token = req.cookies[Self.sessionCookie]?.string, !token.isEmpty {
            if let user = try await req.accounts.user(forSession: token), let role = user.role {
                req.caller = .staff(username: user.username, role: role)
            }
        }
        switch (rule, req.caller) {
        case (.publicAccess, _):
            return try await next.respond(to: req)
        case (.anyStaff, .staff), (.roles, .staff):
            guard case .staff(_, let role) = req.caller, rule.allows(role: role) else { throw Abort(.forbidden) }
            return try await next.respond(to: req)
        case (.apiScope, .partner(_, _, let scopes)), (.anyPartner, .partner(_, _, let scopes)):
            guard rule.allows(scopes: scopes) else {
                throw Abort(.forbidden, reason: "This API key does not have the scope this request needs.")
            }
            return try await next.respond(to: req)
        case (.anyStaff, nil), (.roles, nil):
            if req.isAPI { throw Abort(.unauthorized) }
            // A person: show the sign-in form in place, with 401, and come back here afterwards.
            return try await AuthController.loginPage(req, next: req.url.path, status: .unauthorized)
        case (.apiScope, nil), (.anyPartner, nil):
            throw Abort(.unauthorized, reason: "This request needs an API key: Authorization: Bearer …")
        default:
            throw Abort(.forbidden)
        }
    }
}

extension Request {
    /// Whether the caller expects JSON (the API, or an Accept header asking for it).
    var isAPI: Bool {
        url.path.hasPrefix("/api/") || (headers.first(name: .accept)?.contains("application/json") ?? false)
    }
}
