import Foundation

/// What a member of staff may do. Every staff route names the roles that may call it.
public enum Role: String, Sendable, Codable, CaseIterable, Comparable {
    case admin
    case supervisor
    case analyst
    case leLiaison = "le-liaison"
    case auditor

    /// Human-readable label for pages.
    public var label: String {
        switch self {
        case .admin: "Administrator"
        case .supervisor: "Supervisor"
        case .analyst: "Analyst"
        case .leLiaison: "Law-enforcement liaison"
        case .auditor: "Auditor"
        }
    }

    /// Need-to-know: law-enforcement liaison staff open only cases referred to law enforcement and cases they hold
    /// themselves; to them every other case does not exist. Other roles that read cases see them all.
    public func mayOpenCase(referred: Bool, holdPlacedBy: String?, user: String) -> Bool {
        self != .leLiaison || referred || holdPlacedBy == user
    }

    public static func < (a: Role, b: Role) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// What a partner's API key may do.
public enum APIScope: String, Sendable, Codable, CaseIterable {
    case feedsRead = "feeds:read"
    case matchRead = "match:read"
    case reportsWrite = "reports:write"
    /// The operator's own mail system handing bounces of notices back (`POST /api/v1/bounces`).
    case bouncesWrite = "bounces:write"
    /// The operator's monitoring reading `/metrics` (sign-in and case-view counters are not for the public).
    case metricsRead = "metrics:read"
    /// A partner hotline sending federation messages (`POST /api/v1/federation/inbox`); the key's partner name must
    /// be the partner's registered name.
    case federationSend = "federation:send"

    /// Parses a comma-separated list such as `feeds:read,match:read`.
    /// - Throws: `APIScopeError.unknown` naming the first scope that is not known.
    public static func parseList(_ text: String) throws(APIScopeError) -> [APIScope] {
        var out: [APIScope] = []
        for part in text.split(separator: ",") {
            let name = part.trimmingCharacters(in: .whitespaces)
            guard let scope = APIScope(rawValue: name) else { throw .unknown(name) }
            if !out.contains(scope) { out.append(scope) }
        }
        guard !out.isEmpty else { throw .empty }
        return out
    }
}

/// A scope list could not be read.
public enum APIScopeError: Error, Equatable, CustomStringConvertible {
    case unknown(String)
    case empty

    public var description: String {
        switch self {
        case .unknown(let s):
            "unknown scope '\(s)'; known scopes: \(APIScope.allCases.map(\.rawValue).joined(separator: ", "))"
        case .empty: "no scope given"
        }
    }
}

/// Who may call a route. Declared on every route; a route without one is refused to everybody.
public enum AccessRule: Sendable, Equatable {
    /// Anyone, signed in or not.
    case publicAccess
    /// Any signed-in member of staff (for pages every role needs, such as the dashboard and logout).
    case anyStaff
    /// Signed-in staff holding one of these roles.
    case roles(Set<Role>)
    /// A partner's API key holding this scope.
    case apiScope(APIScope)
    /// Any valid partner API key, whatever its scopes (for the key's own status).
    case anyPartner

    /// Whether a signed-in member of staff with `role` passes.
    public func allows(role: Role) -> Bool {
        switch self {
        case .publicAccess, .anyStaff: true
        case .roles(let set): set.contains(role)
        case .apiScope, .anyPartner: false
        }
    }

    /// Whether an API key with `scopes` passes.
    public func allows(scopes: [APIScope]) -> Bool {
        switch self {
        case .publicAccess: true
        case .apiScope(let s): scopes.contains(s)
        case .anyPartner: true
        case .anyStaff, .roles: false
        }
    }
}
