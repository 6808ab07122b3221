import FluentKit
import Foundation
import VigilCore

/// Partners' API keys: created once (the key is shown once), stored hashed, revocable.
public struct APIKeys: Sendable {
    public let db: any Database
    public let clock: any VigilClock
    public let tokens: any TokenSource

    public init(db: any Database, clock: any VigilClock, tokens: any TokenSource) {
        self.db = db
        self.clock = clock
        self.tokens = tokens
    }

    /// Creates a key; returns the row and the secret to hand to the partner (never stored).
    public func create(partner: String, scopes: [APIScope], actor: AuditActor) async throws -> (
        PartnerAPIKey, secret: String
    ) {
        let name = partner.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 100 else {
            throw StoreError.invalid("partner name must be 1–100 characters")
        }
        guard !scopes.isEmpty else { throw StoreError.invalid("choose at least one scope") }
        let secret = "vgl_" + tokens.urlSafeToken(bytes: 30)
        let now = clock.now()
        let row = APIKeyModel(
            partner: name, scopes: scopes.map(\.rawValue).joined(separator: ","), prefix: String(secret.prefix(10)),
            keyHash: sha256Hex(secret), createdAt: now, createdBy: actor.display)
        try await AuditLog.transaction(db) { tx in
            try await row.create(on: tx)
            try await AuditLog.append(
                on: tx, at: now, actor: actor, action: "apikey.create", subject: "apikey:\(row.id!.uuidString)",
                details: ["partner": name, "scopes": row.scopes])
        }
        return (try row.listed, secret)
    }

    public func list() async throws -> [PartnerAPIKey] {
        try await APIKeyModel.query(on: db).sort(\.$createdAt, .descending).all().map { try $0.listed }
    }

    /// Revokes a key by id, or by its prefix as shown in lists.
    public func revoke(_ idOrPrefix: String, actor: AuditActor) async throws {
        let now = clock.now()
        try await AuditLog.transaction(db) { tx in
            var key: APIKeyModel?
            if let id = UUID(uuidString: idOrPrefix) { key = try await APIKeyModel.find(id, on: tx) }
            if key == nil { key = try await APIKeyModel.query(on: tx).filter(\.$prefix == idOrPrefix).first() }
            guard let k = key else { throw StoreError.notFound("no API key '\(idOrPrefix)'") }
            guard k.revokedAt == nil else { return }
            k.revokedAt = now
            try await k.update(on: tx)
            try await AuditLog.append(
                on: tx, at: now, actor: actor, action: "apikey.revoke", subject: "apikey:\(k.id!.uuidString)",
                details: ["partner": k.partner])
        }
    }

    /// The active key for a bearer secret, with its last use recorded (at most once a minute).
    public func authenticate(_ secret: String) async throws -> PartnerAPIKey? {
        guard secret.hasPrefix("vgl_"), secret.count < 100,
            let k = try await APIKeyModel.query(on: db).filter(\.$keyHash == sha256Hex(secret)).first(),
            k.revokedAt == nil
        else { return nil }
        let now = clock.now()
        if k.lastUsedAt.map({ now.timeIntervalSince($0) > 60 }) ?? true {
            k.lastUsedAt = now
            try await k.update(on: db)
        }
        return try k.listed
    }
}

extension APIKeyModel {
    var listed: PartnerAPIKey {
        get throws {
            guard let id else { throw StoreError.corrupt("an API key row without an id") }
            return PartnerAPIKey(
                id: id, partner: partner, scopeNames: scopes, prefix: prefix, createdAt: createdAt,
                createdBy: createdBy, revokedAt: revokedAt, lastUsedAt: lastUsedAt)
        }
    }
}
