import FluentKit
import Foundation

/// A member of staff. Stays in VigilStore; pages and the API speak view models and DTOs.
final class UserModel: Model, @unchecked Sendable {
    static let schema = "users"

    // managed
    @ID(key: .id) var id: UUID?
    @Field(key: "created_at") var createdAt: Date

    // data
    @Field(key: "username") var username: String
    @Field(key: "role") var role: String
    @OptionalField(key: "password_hash") var passwordHash: String?
    /// Base32 TOTP secret; set while enrolling, confirmed by `mfaEnabled`.
    @OptionalField(key: "totp_secret") var totpSecret: String?
    @Field(key: "mfa_enabled") var mfaEnabled: Bool
    /// Last TOTP time step accepted, to refuse a replayed code.
    @OptionalField(key: "totp_last_counter") var totpLastCounter: Int64?
    @Field(key: "disabled") var disabled: Bool
    @Field(key: "failed_logins") var failedLogins: Int
    @OptionalField(key: "locked_until") var lockedUntil: Date?
    @OptionalField(key: "last_login_at") var lastLoginAt: Date?

    init() {}

    init(username: String, role: String, createdAt: Date) {
        self.username = username
        self.role = role
        self.createdAt = createdAt
        self.mfaEnabled = false
        self.disabled = false
        self.failedLogins = 0
    }
}

/// A one-time link to set a password and enrol MFA (first start, new users, MFA resets).
final class SetupTokenModel: Model, @unchecked Sendable {
    static let schema = "setup_tokens"
    @ID(key: .id) var id: UUID?
    @Field(key: "user_id") var userID: UUID
    @Field(key: "token_hash") var tokenHash: String
    @Field(key: "expires_at") var expiresAt: Date
    @OptionalField(key: "used_at") var usedAt: Date?
    init() {}
    init(userID: UUID, tokenHash: String, expiresAt: Date) {
        self.userID = userID
        self.tokenHash = tokenHash
        self.expiresAt = expiresAt
    }
}

/// A one-time recovery code, stored hashed.
final class RecoveryCodeModel: Model, @unchecked Sendable {
    static let schema = "recovery_codes"
    @ID(key: .id) var id: UUID?
    @Field(key: "user_id") var userID: UUID
    @Field(key: "code_hash") var codeHash: String
    @OptionalField(key: "used_at") var usedAt: Date?
    init() {}
    init(userID: UUID, codeHash: String) {
        self.userID = userID
        self.codeHash = codeHash
    }
}

/// A signed-in (or half signed-in, awaiting the code) browser session.
final class SessionModel: Model, @unchecked Sendable {
    static let schema = "sessions"
    @ID(key: .id) var id: UUID?
    @Field(key: "token_hash") var tokenHash: String
    @Field(key: "user_id") var userID: UUID
    /// False while the password was accepted but the second factor not yet.
    @Field(key: "mfa_passed") var mfaPassed: Bool
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "last_seen_at") var lastSeenAt: Date
    init() {}
    init(tokenHash: String, userID: UUID, mfaPassed: Bool, now: Date) {
        self.tokenHash = tokenHash
        self.userID = userID
        self.mfaPassed = mfaPassed
        self.createdAt = now
        self.lastSeenAt = now
    }
}

/// A partner's API key. Only its SHA-256 is kept; the key itself is shown once.
final class APIKeyModel: Model, @unchecked Sendable {
    static let schema = "api_keys"
    @ID(key: .id) var id: UUID?
    @Field(key: "partner") var partner: String
    /// Comma-separated scopes.
    @Field(key: "scopes") var scopes: String
    /// First characters of the key, to recognise it in lists.
    @Field(key: "prefix") var prefix: String
    @Field(key: "key_hash") var keyHash: String
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "created_by") var createdBy: String
    @OptionalField(key: "revoked_at") var revokedAt: Date?
    @OptionalField(key: "last_used_at") var lastUsedAt: Date?
    init() {}
    init(partner: String, scopes: String, prefix: String, keyHash: String, createdAt: Date, createdBy: String) {
        self.partner = partner
        self.scopes = scopes
        self.prefix = prefix
        self.keyHash = keyHash
        self.createdAt = createdAt
        self.createdBy = createdBy
    }
}

/// One row of the hash-chained audit log.
final class AuditEventModel: Model, @unchecked Sendable {
    static let schema = "audit_events"
    @ID(custom: "seq", generatedBy: .user) var id: Int64?
    /// Milliseconds since 1970 (stored as an integer so both databases hash the same value).
    @Field(key: "time_ms") var timeMS: Int64
    @Field(key: "actor_kind") var actorKind: String
    @Field(key: "actor_id") var actorID: String
    @Field(key: "action") var action: String
    @Field(key: "subject") var subject: String
    @Field(key: "details") var details: String
    @Field(key: "prev_hash") var previousHash: String
    @Field(key: "hash") var hash: String
    init() {}
}

/// The head of the audit chain: one row, updated in every transaction that appends,
/// which serialises appends across processes and lets verification notice deleted tail events.
final class AuditHeadModel: Model, @unchecked Sendable {
    static let schema = "audit_head"
    @ID(custom: "id", generatedBy: .user) var id: Int?
    @Field(key: "last_seq") var lastSequence: Int64
    @Field(key: "last_hash") var lastHash: String
    init() {}
}
