import Foundation

/// A member of staff as the store reports one: who they are, their role and where their sign-in stands. Never the
/// password hash or the TOTP secret; those stay in VigilStore.
public struct StaffAccount: Sendable, Equatable, Identifiable {
    public let id: UUID
    public let username: String
    /// The role as stored; ``role`` is `nil` for a name this version does not know.
    public let roleName: String
    public let passwordSet: Bool
    /// A TOTP secret is stored (enrolment started or finished).
    public let hasTOTPSecret: Bool
    public let mfaEnabled: Bool
    public let disabled: Bool
    public let lockedUntil: Date?
    public let lastLoginAt: Date?
    public let createdAt: Date

    public init(
        id: UUID, username: String, roleName: String, passwordSet: Bool, hasTOTPSecret: Bool, mfaEnabled: Bool,
        disabled: Bool, lockedUntil: Date?, lastLoginAt: Date?, createdAt: Date
    ) {
        self.id = id
        self.username = username
        self.roleName = roleName
        self.passwordSet = passwordSet
        self.hasTOTPSecret = hasTOTPSecret
        self.mfaEnabled = mfaEnabled
        self.disabled = disabled
        self.lockedUntil = lockedUntil
        self.lastLoginAt = lastLoginAt
        self.createdAt = createdAt
    }

    public var role: Role? { Role(rawValue: roleName) }

    /// Where the account stands, as the users page and `vigil user list` say it.
    public enum Standing: String, Sendable, Equatable {
        case disabled, locked, active
        case setupPending = "setup pending"
    }

    public func standing(at now: Date) -> Standing {
        if disabled { return .disabled }
        if let until = lockedUntil, until > now { return .locked }
        return mfaEnabled ? .active : .setupPending
    }
}

/// A partner's API key as lists show it: never the key, only its first characters.
public struct PartnerAPIKey: Sendable, Equatable, Identifiable {
    public let id: UUID
    public let partner: String
    /// The scopes as stored, comma-separated; ``scopes`` keeps those this version knows.
    public let scopeNames: String
    public let prefix: String
    public let createdAt: Date
    public let createdBy: String
    public let revokedAt: Date?
    public let lastUsedAt: Date?

    public init(
        id: UUID, partner: String, scopeNames: String, prefix: String, createdAt: Date, createdBy: String,
        revokedAt: Date?, lastUsedAt: Date?
    ) {
        self.id = id
        self.partner = partner
        self.scopeNames = scopeNames
        self.prefix = prefix
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.revokedAt = revokedAt
        self.lastUsedAt = lastUsedAt
    }

    public var scopes: [APIScope] { scopeNames.split(separator: ",").compactMap { APIScope(rawValue: String($0)) } }
    public var isActive: Bool { revokedAt == nil }
}
