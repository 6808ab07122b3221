import FluentKit
import Foundation

/// A member of staff. Stays in VigilStore; pages and the API speak view models and DTOs.
public final class UserModel: Model, @unchecked Sendable {
    public static let schema = "users"

    // managed
    @ID(key: .id) public var id: UUID?
    @Field(key: "created_at") public var createdAt: Date

    // data
    @Field(key: "username") public var username: String
    @Field(key: "role") public var role: String
    @OptionalField(key: "password_hash") public var passwordHash: String?
    /// Base32 TOTP secret; set while enrolling, confirmed by `mfaEnabled`.
    @OptionalField(key: "totp_secret") public var totpSecret: String?
    @Field(key: "mfa_enabled") public var mfaEnabled: Bool
    /// Last TOTP time step accepted, to refuse a replayed code.
    @OptionalField(key: "totp_last_counter") public var totpLastCounter: Int64?
    @Field(key: "disabled") public var disabled: Bool
    @Field(key: "failed_logins") public var failedLogins: Int
    @OptionalField(key: "locked_until") public var lockedUntil: Date?
    @OptionalField(key: "last_login_at") public var lastLoginAt: Date?

    public init() {}

    public init(username: String, role: String, createdAt: Date) {
        self.username = username
        self.role = role
        self.createdAt = createdAt
        self.mfaEnabled = false
        self.disabled = false
        self.failedLogins = 0
    }
}

/// A one-time link to set a password and enrol MFA (first start, new users, MFA resets).
public final class SetupTokenModel: Model, @unchecked Sendable {
    public static let schema = "setup_tokens"
    @ID(key: .id) public var id: UUID?
    @Field(key: "user_id") public var userID: UUID
    @Field(key: "token_hash") public var tokenHash: String
    @Field(key: "expires_at") public var expiresAt: Date
    @OptionalField(key: "used_at") public var usedAt: Date?
    public init() {}
    public init(userID: UUID, tokenHash: String, expiresAt: Date) {
        self.userID = userID
        self.tokenHash = tokenHash
        self.expiresAt = expiresAt
    }
}

/// A one-time recovery code, stored hashed.
public final class RecoveryCodeModel: Model, @unchecked Sendable {
    public static let schema = "recovery_codes"
    @ID(key: .id) public var id: UUID?
    @Field(key: "user_id") public var userID: UUID
    @Field(key: "code_hash") public var codeHash: String
    @OptionalField(key: "used_at") public var usedAt: Date?
    public init() {}
    public init(userID: UUID, codeHash: String) {
        self.userID = userID
        self.codeHash = codeHash
    }
}

/// A signed-in (or half signed-in, awaiting the code) browser session.
public final class SessionModel: Model, @unchecked Sendable {
    public static let schema = "sessions"
    @ID(key: .id) public var id: UUID?
    @Field(key: "token_hash") public var tokenHash: String
    @Field(key: "user_id") public var userID: UUID
    /// False while the password was accepted but the second factor not yet.
    @Field(key: "mfa_passed") public var mfaPassed: Bool
    @Field(key: "created_at") public var createdAt: Date
    @Field(key: "last_seen_at") public var lastSeenAt: Date
    public init() {}
    public init(tokenHash: String, userID: UUID, mfaPassed: Bool, now: Date) {
        self.tokenHash = tokenHash
        self.userID = userID
        self.mfaPassed = mfaPassed
        self.createdAt = now
        self.lastSeenAt = now
    }
}

/// A partner's API key. Only its SHA-256 is kept; the key itself is shown once.
public final class APIKeyModel: Model, @unchecked Sendable {
    public static let schema = "api_keys"
    @ID(key: .id) public var id: UUID?
    @Field(key: "partner") public var partner: String
    /// Comma-separated scopes.
    @Field(key: "scopes") public var scopes: String
    /// First characters of the key, to recognise it in lists.
    @Field(key: "prefix") public var prefix: String
    @Field(key: "key_hash") public var keyHash: String
    @Field(key: "created_at") public var createdAt: Date
    @Field(key: "created_by") public var createdBy: String
    @OptionalField(key: "revoked_at") public var revokedAt: Date?
    @OptionalField(key: "last_used_at") public var lastUsedAt: Date?
    public init() {}
    public init(partner: String, scopes: String, prefix: String, keyHash: String, createdAt: Date, createdBy: String) {
        self.partner = partner
        self.scopes = scopes
        self.prefix = prefix
        self.keyHash = keyHash
        self.createdAt = createdAt
        self.createdBy = createdBy
    }
}

/// One row of the hash-chained audit log.
public final class AuditEventModel: Model, @unchecked Sendable {
    public static let schema = "audit_events"
    @ID(custom: "seq", generatedBy: .user) public var id: Int64?
    /// Milliseconds since 1970 (stored as an integer so both databases hash the same value).
    @Field(key: "time_ms") public var timeMS: Int64
    @Field(key: "actor_kind") public var actorKind: String
    @Field(key: "actor_id") public var actorID: String
    @Field(key: "action") public var action: String
    @Field(key: "subject") public var subject: String
    @Field(key: "details") public var details: String
    @Field(key: "prev_hash") public var previousHash: String
    @Field(key: "hash") public var hash: String
    public init() {}
}

/// The head of the audit chain: one row, updated in every transaction that appends,
/// which serialises appends across processes and lets verification notice deleted tail events.
public final class AuditHeadModel: Model, @unchecked Sendable {
    public static let schema = "audit_head"
    @ID(custom: "id", generatedBy: .user) public var id: Int?
    @Field(key: "last_seq") public var lastSequence: Int64
    @Field(key: "last_hash") public var lastHash: String
    public init() {}
}
