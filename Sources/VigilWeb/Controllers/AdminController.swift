import Vapor
import VigilCore
import VigilStore

/// Administrators manage staff accounts and partners' API keys.
enum AdminController {
    struct UserRow: Encodable {
        let username: String
        let role: String
        let roleLabel: String
        let status: String
        let disabled: Bool
        let lastLogin: String
    }

    struct UsersPage: Encodable {
        let layout: Layout
        let users: [UserRow]
        let roles: [RoleOption]
        let link: String?
        let linkFor: String?
        let error: String?
    }

    struct RoleOption: Encodable {
        let value: String
        let label: String
    }

    static func users(
        _ req: Request, flash: String? = nil, link: String? = nil, linkFor: String? = nil, error: String? = nil,
        status: HTTPResponseStatus = .ok
    ) async throws -> Response {
        let now = try req.vigil.clock.now()
        let rows = try await req.accounts.listUsers().map { u in
            UserRow(
                username: u.username, role: u.roleName, roleLabel: u.role?.label ?? u.roleName,
                status: u.standing(at: now).rawValue,
                disabled: u.disabled, lastLogin: u.lastLoginAt.map(Format.dateTime) ?? "never")
        }
        let page = UsersPage(
            layout: Layout(req, title: "Users", flash: flash), users: rows,
            roles: Role.allCases.map { RoleOption(value: $0.rawValue, label: $0.label) }, link: link, linkFor: linkFor,
            error: error)
        return try await req.view.render("admin-users", page).encodeResponse(status: status, for: req)
    }

    struct CreateUserForm: Content {
        let username: String
        let role: String
    }

    static func createUser(_ req: Request) async throws -> Response {
        let form = try req.content.decode(CreateUserForm.self)
        guard let role = Role(rawValue: form.role) else {
            throw Abort(.badRequest, reason: "The field 'role' is not a known role.")
        }
        let name = form.username.trimmingCharacters(in: .whitespaces).lowercased()
        do {
            let (_, token) = try await req.accounts.createUser(username: name, role: role, actor: req.auditActor)
            return try await users(
                req, flash: "Created \(name). Give them this one-time setup link (valid 24 hours):",
                link: setupLink(req, token), linkFor: name)
        } catch let e as StoreError {
            return try await users(req, error: sentence(e.description), status: .badRequest)
        }
    }

    struct UserActionForm: Content {
        let action: String
        let role: String?
    }

    static func userAction(_ req: Request) async throws -> Response {
        let name = try req.parameters.require("username")
        let form = try req.content.decode(UserActionForm.self)
        let actor = req.auditActor
        do {
            switch form.action {
            case "disable":
                try await req.accounts.setDisabled(true, username: name, actor: actor)
                return try await users(req, flash: "Disabled \(name).")
            case "enable":
                try await req.accounts.setDisabled(false, username: name, actor: actor)
                return try await users(req, flash: "Re-enabled \(name).")
            case "role":
                guard let r = form.role.flatMap(Role.init(rawValue:)) else {
                    throw Abort(.badRequest, reason: "The field 'role' is not a known role.")
                }
                try await req.accounts.setRole(r, username: name, actor: actor)
                return try await users(req, flash: "\(name) is now \(r.label).")
            case "reset-mfa":
                let token = try await req.accounts.resetMFA(username: name, actor: actor)
                return try await users(
                    req, flash: "Reset two-step sign-in for \(name). Give them this one-time setup link:",
                    link: setupLink(req, token), linkFor: name)
            case "setup-link":
                let token = try await req.accounts.issueSetupLink(username: name, actor: actor)
                return try await users(
                    req, flash: "New setup link for \(name):", link: setupLink(req, token), linkFor: name)
            default:
                throw Abort(.badRequest, reason: "The field 'action' is not a known action.")
            }
        } catch let e as StoreError {
            return try await users(req, error: sentence(e.description), status: e.httpStatus)
        }
    }

    static func setupLink(_ req: Request, _ token: String) throws -> String {
        try "\(req.vigil.configuration.baseURL)/setup/\(token)"
    }

    // MARK: API keys

    struct KeyRow: Encodable {
        let id: String
        let partner: String
        let scopes: String
        let prefix: String
        let created: String
        let createdBy: String
        let lastUsed: String
        let revoked: Bool
    }

    struct KeysPage: Encodable {
        let layout: Layout
        let keys: [KeyRow]
        let scopes: [String]
        let secret: String?
        let error: String?
    }

    static func keys(
        _ req: Request, flash: String? = nil, secret: String? = nil, error: String? = nil,
        status: HTTPResponseStatus = .ok
    ) async throws -> Response {
        let rows = try await req.apiKeys.list().map {
            KeyRow(
                id: $0.id.uuidString, partner: $0.partner, scopes: $0.scopeNames, prefix: $0.prefix,
                created: Format.dateTime($0.createdAt),
                createdBy: $0.createdBy, lastUsed: $0.lastUsedAt.map(Format.dateTime) ?? "never",
                revoked: $0.revokedAt != nil)
        }
        let page = KeysPage(
            layout: Layout(req, title: "API keys", flash: flash), keys: rows, scopes: APIScope.allCases.map(\.rawValue),
            secret: secret, error: error)
        return try await req.view.render("admin-apikeys", page).encodeResponse(status: status, for: req)
    }

    static func createKey(_ req: Request) async throws -> Response {
        struct Form: Decodable {
            let partner: String
            let scopes: [String]?
        }
        let form = try req.content.decode(Form.self)
        let scopes: [APIScope]
        do { scopes = try APIScope.parseList((form.scopes ?? []).joined(separator: ",")) } catch {
            return try await keys(req, error: "Choose at least one scope.", status: .badRequest)
        }
        do {
            let (_, secret) = try await req.apiKeys.create(partner: form.partner, scopes: scopes, actor: req.auditActor)
            return try await keys(
                req, flash: "Created a key for \(form.partner). Copy it now: it will not be shown again.",
                secret: secret)
        } catch let e as StoreError {
            return try await keys(req, error: sentence(e.description), status: .badRequest)
        }
    }

    static func revokeKey(_ req: Request) async throws -> Response {
        let id = try req.parameters.require("id")
        do { try await req.apiKeys.revoke(id, actor: req.auditActor) } catch let e as StoreError {
            return try await keys(req, error: e.description, status: e.httpStatus)
        }
        return try await keys(req, flash: "Revoked the key.")
    }
}

extension StoreError {
    var httpStatus: HTTPResponseStatus {
        switch self {
        case .notFound: .notFound
        case .conflict: .conflict
        case .invalid: .badRequest
        case .corrupt, .unreachable: .internalServerError
        }
    }
}

/// A library message ("no user named 'x'") as a sentence for a page ("No user named 'x'.").
func sentence(_ message: String) -> String {
    message.prefix(1).uppercased() + message.dropFirst() + (message.hasSuffix(".") ? "" : ".")
}

/// Formatting shared by pages.
enum Format {
    static func dateTime(_ d: Date) -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd HH:mm"
        f.timeZone = TimeZone(identifier: "UTC")
        f.locale = Locale(identifier: "en_US_POSIX")
        return f.string(from: d) + " UTC"
    }
}
