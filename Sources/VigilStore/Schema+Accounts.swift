import SQLKit

// Staff accounts and partners' API keys (read and written through their Fluent models in `Accounts` and `APIKeys`).
// Column names as they stand after every migration.

/// `users`: staff accounts (0001).
enum Users: String, SQLTableColumns {
    static let table = "users"

    case id
    case createdAt = "created_at"
    case username
    case role
    case passwordHash = "password_hash"
    case totpSecret = "totp_secret"
    case mfaEnabled = "mfa_enabled"
    case totpLastCounter = "totp_last_counter"
    case disabled
    case failedLogins = "failed_logins"
    case lockedUntil = "locked_until"
    case lastLoginAt = "last_login_at"
}

/// `setup_tokens`: one-time setup links (0002).
enum SetupTokens: String, SQLTableColumns {
    static let table = "setup_tokens"

    case id
    case userID = "user_id"
    case tokenHash = "token_hash"
    case expiresAt = "expires_at"
    case usedAt = "used_at"
}

/// `recovery_codes`: recovery codes, hashed (0002).
enum RecoveryCodes: String, SQLTableColumns {
    static let table = "recovery_codes"

    case id
    case userID = "user_id"
    case codeHash = "code_hash"
    case usedAt = "used_at"
}

/// `sessions`: browser sessions (0002).
enum Sessions: String, SQLTableColumns {
    static let table = "sessions"

    case id
    case tokenHash = "token_hash"
    case userID = "user_id"
    case mfaPassed = "mfa_passed"
    case createdAt = "created_at"
    case lastSeenAt = "last_seen_at"
}

/// `api_keys`: partners' API keys (0003). Named `…Columns`: `APIKeys` is the store that manages them.
enum APIKeysColumns: String, SQLTableColumns {
    static let table = "api_keys"

    case id
    case partner
    case scopes
    case prefix
    case keyHash = "key_hash"
    case createdAt = "created_at"
    case createdBy = "created_by"
    case revokedAt = "revoked_at"
    case lastUsedAt = "last_used_at"
}
