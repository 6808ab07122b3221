import FluentKit
import Foundation
import VigilCore

/// Staff accounts, setup links, MFA enrolment, sign-in and sessions.
/// Every change writes its audit event in the same transaction.
public struct Accounts: Sendable {
    public let db: any Database
    public let clock: any VigilClock
    public let tokens: any TokenSource
    public let passwords: any PasswordHashing
    public let configuration: VigilConfiguration
    /// Encrypts TOTP secrets at rest with the data folder's key (the one that seals reporters' contacts).
    public let secrets: ContactSealer

    public init(
        db: any Database, clock: any VigilClock, tokens: any TokenSource, passwords: any PasswordHashing,
        configuration: VigilConfiguration, secrets: ContactSealer
    ) {
        self.db = db
        self.clock = clock
        self.tokens = tokens
        self.passwords = passwords
        self.configuration = configuration
        self.secrets = secrets
    }

    /// A user's TOTP secret (base32), decrypted; `nil` when none is set.
    public func totpSecret(of account: StaffAccount) async throws -> String? {
        guard let user = try await UserModel.find(account.id, on: db) else { return nil }
        return try totpSecret(of: user)
    }

    func totpSecret(of user: UserModel) throws -> String? {
        guard let stored = user.totpSecret, let id = user.id else { return nil }
        return try TOTPSecretStorage.open(stored, userID: id, with: secrets)
    }

    // MARK: users

    /// Creates a user who completes set-up through the returned one-time link token.
    public func createUser(username: String, role: Role, actor: AuditActor) async throws -> (
        StaffAccount, setupToken: String
    ) {
        if let problem = AccountRules.validateUsername(username) { throw StoreError.invalid(problem) }
        let now = clock.now()
        let token = tokens.urlSafeToken()
        let lifetime = configuration.setupLinkLifetime
        return try await AuditLog.transaction(db) { tx in
            if try await UserModel.query(on: tx).filter(\.$username == username).first() != nil {
                throw StoreError.conflict("a user named '\(username)' already exists")
            }
            let user = UserModel(username: username, role: role.rawValue, createdAt: now)
            try await user.create(on: tx)
            try await SetupTokenModel(userID: user.id!, tokenHash: sha256Hex(token), expiresAt: now + lifetime).create(
                on: tx)
            try await AuditLog.append(
                on: tx, at: now, actor: actor, action: "user.create", subject: "user:\(username)",
                details: ["role": role.rawValue])
            return (try user.account, token)
        }
    }

    /// All users, by name.
    public func listUsers() async throws -> [StaffAccount] {
        try await UserModel.query(on: db).sort(\.$username).all().map { try $0.account }
    }

    public func user(named name: String) async throws -> StaffAccount? {
        try await UserModel.query(on: db).filter(\.$username == name).first()?.account
    }

    public func user(id: UUID) async throws -> StaffAccount? { try await UserModel.find(id, on: db)?.account }

    /// Whether any user exists (first start creates `admin`).
    public func hasUsers() async throws -> Bool { try await UserModel.query(on: db).count() > 0 }

    /// Disables or re-enables a user; disabling ends their sessions.
    public func setDisabled(_ disabled: Bool, username: String, actor: AuditActor) async throws {
        let now = clock.now()
        try await AuditLog.transaction(db) { tx in
            guard let user = try await UserModel.query(on: tx).filter(\.$username == username).first() else {
                throw StoreError.notFound("no user named '\(username)'")
            }
            if disabled, user.role == Role.admin.rawValue, !user.disabled {
                let admins = try await UserModel.query(on: tx).filter(\.$role == Role.admin.rawValue)
                    .filter(\.$disabled == false).count()
                if admins <= 1 { throw StoreError.conflict("cannot disable the last active administrator") }
            }
            user.disabled = disabled
            if !disabled {
                user.failedLogins = 0
                user.lockedUntil = nil
            }
            try await user.update(on: tx)
            if disabled { try await SessionModel.query(on: tx).filter(\.$userID == user.id!).delete() }
            try await AuditLog.append(
                on: tx, at: now, actor: actor, action: disabled ? "user.disable" : "user.enable",
                subject: "user:\(username)")
        }
    }

    /// Changes a user's role.
    public func setRole(_ role: Role, username: String, actor: AuditActor) async throws {
        let now = clock.now()
        try await AuditLog.transaction(db) { tx in
            guard let user = try await UserModel.query(on: tx).filter(\.$username == username).first() else {
                throw StoreError.notFound("no user named '\(username)'")
            }
            if user.role == Role.admin.rawValue, role != .admin {
                let admins = try await UserModel.query(on: tx).filter(\.$role == Role.admin.rawValue)
                    .filter(\.$disabled == false).count()
                if admins <= 1 { throw StoreError.conflict("cannot take the role away from the last administrator") }
            }
            let old = user.role
            user.role = role.rawValue
            try await user.update(on: tx)
            try await SessionModel.query(on: tx).filter(\.$userID == user.id!).delete()
            try await AuditLog.append(
                on: tx, at: now, actor: actor, action: "user.role", subject: "user:\(username)",
                details: ["from": old, "to": role.rawValue])
        }
    }

    /// Clears a user's MFA and password-less state and issues a new setup link, through which
    /// the user sets a password and enrols again. Ends their sessions.
    public func resetMFA(username: String, actor: AuditActor) async throws -> String {
        let now = clock.now()
        let token = tokens.urlSafeToken()
        let lifetime = configuration.setupLinkLifetime
        try await AuditLog.transaction(db) { tx in
            guard let user = try await UserModel.query(on: tx).filter(\.$username == username).first() else {
                throw StoreError.notFound("no user named '\(username)'")
            }
            user.mfaEnabled = false
            user.totpSecret = nil
            user.totpLastCounter = nil
            user.failedLogins = 0
            user.lockedUntil = nil
            try await user.update(on: tx)
            try await SessionModel.query(on: tx).filter(\.$userID == user.id!).delete()
            try await RecoveryCodeModel.query(on: tx).filter(\.$userID == user.id!).delete()
            try await SetupTokenModel.query(on: tx).filter(\.$userID == user.id!).filter(\.$usedAt == nil).delete()
            try await SetupTokenModel(userID: user.id!, tokenHash: sha256Hex(token), expiresAt: now + lifetime).create(
                on: tx)
            try await AuditLog.append(
                on: tx, at: now, actor: actor, action: "user.mfa-reset", subject: "user:\(username)")
        }
        return token
    }

    /// Issues a fresh setup link for a user who has not finished setting up (or lost the first link).
    public func issueSetupLink(username: String, actor: AuditActor) async throws -> String {
        let now = clock.now()
        let token = tokens.urlSafeToken()
        let lifetime = configuration.setupLinkLifetime
        try await AuditLog.transaction(db) { tx in
            guard let user = try await UserModel.query(on: tx).filter(\.$username == username).first() else {
                throw StoreError.notFound("no user named '\(username)'")
            }
            if user.mfaEnabled {
                throw StoreError.conflict("'\(username)' has finished setting up; reset their MFA instead")
            }
            try await SetupTokenModel.query(on: tx).filter(\.$userID == user.id!).filter(\.$usedAt == nil).delete()
            try await SetupTokenModel(userID: user.id!, tokenHash: sha256Hex(token), expiresAt: now + lifetime).create(
                on: tx)
            try await AuditLog.append(
                on: tx, at: now, actor: actor, action: "user.setup-link", subject: "user:\(username)")
        }
        return token
    }

    // MARK: setup (password and MFA enrolment)

    /// The user a setup token belongs to, when the token is unused and unexpired.
    public func userForSetup(token: String) async throws -> StaffAccount? {
        try await userModelForSetup(token: token)?.account
    }

    func userModelForSetup(token: String) async throws -> UserModel? {
        guard let row = try await SetupTokenModel.query(on: db).filter(\.$tokenHash == sha256Hex(token)).first(),
            row.usedAt == nil, row.expiresAt > clock.now()
        else { return nil }
        return try await UserModel.find(row.userID, on: db)
    }

    /// Sets the password during setup and returns a new TOTP secret to enrol (not active until confirmed).
    public func setInitialPassword(token: String, password: String) async throws -> TOTP {
        if let problem = AccountRules.validatePassword(password) { throw StoreError.invalid(problem) }
        guard let user = try await userModelForSetup(token: token) else {
            throw StoreError.notFound("this setup link is not valid: it was used, has expired, or was mistyped")
        }
        let hash = try passwords.hash(password)
        let totp = TOTP.generate(using: tokens)
        let now = clock.now()
        try await AuditLog.transaction(db) { tx in
            user.passwordHash = hash
            user.totpSecret = try TOTPSecretStorage.seal(totp.base32Secret, userID: user.id!, with: secrets)
            user.mfaEnabled = false
            try await user.update(on: tx)
            try await AuditLog.append(
                on: tx, at: now, actor: .user(user.username), action: "user.password-set",
                subject: "user:\(user.username)")
        }
        return totp
    }

    /// Confirms enrolment with a first code; consumes the setup link and returns the recovery codes (shown once).
    public func confirmEnrolment(token: String, code: String) async throws -> [String] {
        guard let user = try await userModelForSetup(token: token), user.passwordHash != nil,
            let secret = try totpSecret(of: user), let bytes = Base32.decode(secret)
        else {
            throw StoreError.notFound("this setup link is not valid: it was used, has expired, or was mistyped")
        }
        let now = clock.now()
        guard let counter = TOTP(secret: bytes).matchingCounter(for: code, at: now) else {
            throw StoreError.invalid(
                "that code is not right; check the authenticator app's clock and try the current code")
        }
        let codes = AccountRules.recoveryCodes(using: tokens)
        try await AuditLog.transaction(db) { tx in
            user.mfaEnabled = true
            user.totpLastCounter = Int64(counter)
            user.failedLogins = 0
            user.lockedUntil = nil
            try await user.update(on: tx)
            try await SetupTokenModel.query(on: tx).filter(\.$userID == user.id!).filter(\.$usedAt == nil)
                .set(\.$usedAt, to: now).update()
            try await RecoveryCodeModel.query(on: tx).filter(\.$userID == user.id!).delete()
            for c in codes { try await RecoveryCodeModel(userID: user.id!, codeHash: sha256Hex(c)).create(on: tx) }
            try await AuditLog.append(
                on: tx, at: now, actor: .user(user.username), action: "user.mfa-enrol", subject: "user:\(user.username)"
            )
        }
        return codes
    }

    // MARK: sign-in

    /// The outcome of one sign-in step.
    public enum SignInResult: Sendable, Equatable {
        /// Password accepted; the session token awaits the second factor.
        case needsCode(sessionToken: String)
        /// Fully signed in.
        case signedIn(sessionToken: String)
        /// Refused; `message` is safe to show (it never says which part was wrong).
        case refused(message: String)
        /// The account is locked until this time.
        case locked(until: Date)
    }

    /// The one answer to a refused password step, whether the name is unknown, the password wrong or the account
    /// locked or disabled: the page must not tell a guesser which names exist.
    public static let refusal =
        "The user name or password is not right, or the account is not active (repeated failures lock it for a while)."

    /// First step: user name and password. Failures count towards the account's lockout.
    public func signIn(username: String, password: String) async throws -> SignInResult {
        let now = clock.now()
        guard let user = try await UserModel.query(on: db).filter(\.$username == username).first() else {
            // Spend the same time as a real check so names cannot be probed by timing.
            _ = try? passwords.verify(password, against: "$2b$12$C6UzMDM.H6dfI/f/IKcEeO5N8XR6nFfKpEaQIA1Pak5Rd5HsGXTuW")
            try await audit(action: "login.failed", subject: "user:\(username)", details: ["reason": "unknown user"])
            return .refused(message: Self.refusal)
        }
        if let until = user.lockedUntil, until > now {
            try await audit(action: "login.failed", subject: "user:\(username)", details: ["reason": "locked"])
            return .locked(until: until)
        }
        let ok = try user.passwordHash.map { try passwords.verify(password, against: $0) } ?? false
        guard ok, !user.disabled, user.mfaEnabled else {
            return try await recordFailure(
                user, reason: !ok ? "bad password" : (user.disabled ? "disabled" : "not set up"))
        }
        let token = tokens.urlSafeToken()
        try await AuditLog.transaction(db) { tx in
            try await SessionModel(tokenHash: sha256Hex(token), userID: user.id!, mfaPassed: false, now: now).create(
                on: tx)
        }
        return .needsCode(sessionToken: token)
    }

    /// Second step: a TOTP code or a recovery code for the half-open session.
    public func verifyCode(sessionToken: String, code: String) async throws -> SignInResult {
        let now = clock.now()
        guard
            let session = try await SessionModel.query(on: db).filter(\.$tokenHash == sha256Hex(sessionToken)).first(),
            !session.mfaPassed, now.timeIntervalSince(session.createdAt) < 10 * 60,
            let user = try await UserModel.find(session.userID, on: db), !user.disabled,
            let secret = try totpSecret(of: user), let bytes = Base32.decode(secret)
        else { return .refused(message: "Your sign-in has expired. Please start again.") }
        if let until = user.lockedUntil, until > now { return .locked(until: until) }

        var accepted: String?
        if let counter = TOTP(secret: bytes).matchingCounter(for: code, at: now),
            Int64(counter) > (user.totpLastCounter ?? -1)
        {
            user.totpLastCounter = Int64(counter)
            accepted = "totp"
        } else {
            let normalised = AccountRules.normaliseRecoveryCode(code)
            if normalised.count == 14,
                let rc = try await RecoveryCodeModel.query(on: db).filter(\.$userID == user.id!)
                    .filter(\.$codeHash == sha256Hex(normalised)).filter(\.$usedAt == nil).first()
            {
                rc.usedAt = now
                try await rc.update(on: db)
                accepted = "recovery code"
            }
        }
        guard let method = accepted else {
            try await session.delete(on: db)
            return try await recordFailure(user, reason: "bad code")
        }
        let token = tokens.urlSafeToken()
        try await AuditLog.transaction(db) { tx in
            try await session.delete(on: tx)
            try await SessionModel(tokenHash: sha256Hex(token), userID: user.id!, mfaPassed: true, now: now).create(
                on: tx)
            user.failedLogins = 0
            user.lockedUntil = nil
            user.lastLoginAt = now
            try await user.update(on: tx)
            try await AuditLog.append(
                on: tx, at: now, actor: .user(user.username), action: "login", subject: "user:\(user.username)",
                details: ["method": method])
        }
        return .signedIn(sessionToken: token)
    }

    private func recordFailure(_ user: UserModel, reason: String) async throws -> SignInResult {
        let now = clock.now()
        let threshold = configuration.lockoutThreshold
        let duration = configuration.lockoutDuration
        return try await AuditLog.transaction(db) { tx in
            user.failedLogins += 1
            var locked = false
            if user.failedLogins >= threshold {
                user.lockedUntil = now + duration
                user.failedLogins = 0
                locked = true
            }
            try await user.update(on: tx)
            try await AuditLog.append(
                on: tx, at: now, actor: .publicVisitor, action: "login.failed", subject: "user:\(user.username)",
                details: ["reason": reason])
            if locked {
                try await AuditLog.append(
                    on: tx, at: now, actor: .system, action: "user.locked", subject: "user:\(user.username)",
                    details: ["until": ISO8601DateFormatter().string(from: now + duration)])
                return .locked(until: now + duration)
            }
            return .refused(message: Self.refusal)
        }
    }

    private func audit(action: String, subject: String, details: [String: String]) async throws {
        let now = clock.now()
        try await AuditLog.transaction(db) { tx in
            try await AuditLog.append(
                on: tx, at: now, actor: .publicVisitor, action: action, subject: subject, details: details)
        }
    }

    /// The signed-in user for a session cookie, applying idle and absolute timeouts; touches the session.
    public func user(forSession token: String) async throws -> StaffAccount? {
        let now = clock.now()
        guard let s = try await SessionModel.query(on: db).filter(\.$tokenHash == sha256Hex(token)).first(),
            s.mfaPassed
        else { return nil }
        if now.timeIntervalSince(s.lastSeenAt) > configuration.sessionIdleTimeout
            || now.timeIntervalSince(s.createdAt) > configuration.sessionAbsoluteTimeout
        {
            try await s.delete(on: db)
            return nil
        }
        guard let u = try await UserModel.find(s.userID, on: db), !u.disabled else { return nil }
        if now.timeIntervalSince(s.lastSeenAt) > 30 {
            s.lastSeenAt = now
            try await s.update(on: db)
        }
        return try u.account
    }

    /// Ends a session.
    public func signOut(sessionToken: String) async throws {
        let now = clock.now()
        guard let s = try await SessionModel.query(on: db).filter(\.$tokenHash == sha256Hex(sessionToken)).first()
        else { return }
        let user = try await UserModel.find(s.userID, on: db)
        try await AuditLog.transaction(db) { tx in
            try await s.delete(on: tx)
            if let u = user, s.mfaPassed {
                try await AuditLog.append(
                    on: tx, at: now, actor: .user(u.username), action: "logout", subject: "user:\(u.username)")
            }
        }
    }
}

/// TOTP secrets at rest: `v1:` and the base64 of an AES-256-GCM box bound to the user's identifier (a secret copied
/// onto another user's row does not open). A value without the prefix is one written before encryption, read as
/// it is until migration 0016 encrypts it.
public enum TOTPSecretStorage {
    static let prefix = "v1:"

    public static func seal(_ base32: String, userID: UUID, with sealer: ContactSealer) throws -> String {
        prefix + (try sealer.seal(base32, reportID: "totp:\(userID.uuidString)")).base64EncodedString()
    }

    public static func open(_ stored: String, userID: UUID, with sealer: ContactSealer) throws -> String {
        guard stored.hasPrefix(prefix) else { return stored }
        guard let data = Data(base64Encoded: String(stored.dropFirst(prefix.count))) else {
            throw ContactSealerError.malformed
        }
        return try sealer.open(data, reportID: "totp:\(userID.uuidString)")
    }

    public static func isSealed(_ stored: String) -> Bool { stored.hasPrefix(prefix) }
}

extension UserModel {
    /// The Core value pages and commands see.
    var account: StaffAccount {
        get throws {
            guard let id else { throw StoreError.corrupt("a user row without an id") }
            return StaffAccount(
                id: id, username: username, roleName: role, passwordSet: passwordHash != nil,
                hasTOTPSecret: totpSecret != nil, mfaEnabled: mfaEnabled, disabled: disabled, lockedUntil: lockedUntil,
                lastLoginAt: lastLoginAt, createdAt: createdAt)
        }
    }
}
