import FluentKit
import Foundation
import SQLKit
import VigilCore

extension NoticeStore {
    /// A partner hotline for a country (content hosted there is referred to it) or a provider that takes notices by
    /// webhook instead of e-mail.
    public struct Channel: Sendable, Equatable {
        public enum Kind: String, Sendable, CaseIterable { case partner, provider }
        public enum Delivery: String, Sendable, CaseIterable { case email, webhook }
        /// A country code (partners) or the abuse contact the provider is known by (providers).
        public let key: String
        public let kind: Kind
        public let name: String
        public let language: String
        public let delivery: Delivery
        /// An e-mail address, or the webhook's https URL.
        public let address: String
        /// The webhook's HMAC-SHA-256 key.
        public let secret: String?

        public init(
            key: String, kind: Kind, name: String, language: String, delivery: Delivery, address: String,
            secret: String?
        ) {
            self.key = key
            self.kind = kind
            self.name = name
            self.language = language
            self.delivery = delivery
            self.address = address
            self.secret = secret
        }
    }

    static func channel(_ r: any SQLRow) throws -> Channel {
        Channel(
            key: try r.decode(Channels.key, as: String.self),
            kind: Channel.Kind(rawValue: try r.decode(Channels.kind, as: String.self)) ?? .provider,
            name: try r.decode(Channels.name, as: String.self),
            language: try r.decode(Channels.language, as: String.self),
            delivery: Channel.Delivery(rawValue: try r.decode(Channels.delivery, as: String.self)) ?? .email,
            address: try r.decode(Channels.address, as: String.self),
            secret: try r.decode(Channels.secret, as: String?.self))
    }

    public func channels() async throws -> [Channel] {
        try await sql.select().column("*").from(Channels.tableName).orderBy(Channels.kind).orderBy(Channels.key).all()
            .map(Self.channel)
    }

    public func channel(_ key: String) async throws -> Channel? {
        try await sql.select().column("*").from(Channels.tableName).where(Channels.key, .equal, key).first().map(
            Self.channel)
    }

    /// Adds or replaces a channel (audited). Partners are keyed by a two-letter country code; webhooks need an
    /// http(s) URL and a secret.
    public func setChannel(_ given: Channel, by actor: AuditActor) async throws {
        var c = given
        if c.kind == .partner {
            let cc = c.key.trimmingCharacters(in: .whitespaces).uppercased()
            guard cc.count == 2, cc.allSatisfy(\.isLetter) else {
                throw StoreError.invalid("a partner hotline is keyed by its two-letter country code")
            }
            c = Channel(
                key: cc, kind: c.kind, name: c.name, language: c.language, delivery: c.delivery, address: c.address,
                secret: c.secret)
        }
        guard !c.key.isEmpty, !c.name.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw StoreError.invalid("give the key and the name")
        }
        switch c.delivery {
        case .email:
            guard EmailAddress.isPlausible(c.address) else {
                throw StoreError.invalid("the address is an e-mail address")
            }
        case .webhook:
            guard c.address.hasPrefix("https://") || c.address.hasPrefix("http://") else {
                throw StoreError.invalid("the webhook is an http(s) URL")
            }
            guard let s = c.secret, s.count >= 16 else {
                throw StoreError.invalid("a webhook needs a secret of at least 16 characters to sign with")
            }
        }
        let now = clock.now()
        let channel = c
        try await AuditLog.transaction(db) { tx in
            let c = channel
            let sql = tx.sql
            try await sql.delete(from: Channels.tableName).where(Channels.key, .equal, c.key).run()
            try await sql.insert(into: Channels.tableName).columns(
                Channels.key, Channels.kind, Channels.name, Channels.language, Channels.delivery, Channels.address,
                Channels.secret, Channels.updatedBy, Channels.updatedMS
            )
            .values(
                SQLBind(c.key), SQLBind(c.kind.rawValue), SQLBind(c.name), SQLBind(c.language),
                SQLBind(c.delivery.rawValue),
                SQLBind(c.address), SQLBind(c.secret), SQLBind(actor.identifier), SQLBind(Self.ms(now))
            ).run()
            try await AuditLog.append(
                on: tx, at: now, actor: actor, action: "channel.set", subject: "channel:\(c.key)",
                details: ["kind": c.kind.rawValue, "delivery": c.delivery.rawValue])
        }
    }

    // MARK: templates

    public func template(language: String) async throws -> String? {
        try await sql.select().column(NoticeTemplates.body).from(NoticeTemplates.tableName).where(
            NoticeTemplates.language, .equal, language
        ).first()?
        .decode(NoticeTemplates.body, as: String.self)
    }

    public func templates() async throws -> [String: String] {
        var out: [String: String] = [:]
        for r in try await sql.select().columns(NoticeTemplates.language, NoticeTemplates.body).from(
            NoticeTemplates.tableName
        ).all() {
            out[try r.decode(NoticeTemplates.language, as: String.self)] = try r.decode(
                NoticeTemplates.body, as: String.self)
        }
        return out
    }

    public func setTemplate(language: String, body: String, by actor: AuditActor) async throws {
        let lang = language.trimmingCharacters(in: .whitespaces).lowercased()
        guard !lang.isEmpty, lang.count <= 12, lang.allSatisfy({ $0.isLetter || $0 == "-" }) else {
            throw StoreError.invalid("the language is a tag such as fr")
        }
        guard body.contains("{urls}") else {
            throw StoreError.invalid("the template must contain {urls}, where the addresses go")
        }
        let now = clock.now()
        try await AuditLog.transaction(db) { tx in
            let sql = tx.sql
            try await sql.delete(from: NoticeTemplates.tableName).where(NoticeTemplates.language, .equal, lang).run()
            try await sql.insert(into: NoticeTemplates.tableName).columns(
                NoticeTemplates.language, NoticeTemplates.body, NoticeTemplates.updatedBy, NoticeTemplates.updatedMS
            )
            .values(SQLBind(lang), SQLBind(body), SQLBind(actor.identifier), SQLBind(Self.ms(now))).run()
            try await AuditLog.append(
                on: tx, at: now, actor: actor, action: "notice.template", subject: "template:\(lang)")
        }
    }

    // MARK: confirmations

    /// The notice a provider's one-time confirmation link names; the link works once.
    public func consumeConfirmation(_ token: String) async throws -> Int64? {
        guard token.count >= 20 else { return nil }
        let now = clock.now()
        return try await AuditLog.transaction(db) { tx in
            let sql = tx.sql
            guard
                let r = try await sql.select().column(Notices.id).from(Notices.tableName).where(
                    Notices.token, .equal, token
                ).first()
            else { return nil }
            let id = try r.decode(Notices.id, as: Int64.self)
            try await sql.update(Notices.tableName).set(Notices.token, to: SQLLiteral.null).where(
                Notices.id, .equal, id
            ).run()
            try await AuditLog.append(
                on: tx, at: now, actor: .publicVisitor, action: "notice.provider-confirmed", subject: "notice:\(id)")
            return id
        }
    }

    /// Sets a fresh confirmation token on a notice (each send carries its own link), and its bounce token the first
    /// time (a notice keeps one bounce token for all its sends, read in lower case). Returns the bounce token.
    @discardableResult
    public func newConfirmation(_ id: Int64, token: String, bounceToken: String? = nil) async throws -> String? {
        try await WriteGate.transaction(db) { tx in
            let sql = tx.sql
            var update = sql.update(Notices.tableName).set(Notices.token, to: token)
            if let bounceToken {
                update = update.set(
                    Notices.bounceToken,
                    to: SQLFunction("coalesce", args: Notices.bounceToken, SQLBind(bounceToken.lowercased())))
            }
            try await update.where(Notices.id, .equal, id).run()
            return try await sql.select().column(Notices.bounceToken).from(Notices.tableName).where(
                Notices.id, .equal, id
            ).first()?
            .decode(Notices.bounceToken, as: String?.self)
        }
    }

    /// Open items of one notice, for an immediate recheck.
    public func openItems(notice id: Int64) async throws -> [Item] {
        try await sql.select().columns(NoticeItems.caseID, NoticeItems.url).from(NoticeItems.tableName).where(
            NoticeItems.noticeID, .equal, id
        )
        .where(NoticeItems.removedMS, .is, SQLLiteral.null).all().map {
            Item(
                caseID: try $0.decode(NoticeItems.caseID, as: Int64.self),
                url: try $0.decode(NoticeItems.url, as: String.self), removedAt: nil)
        }
    }
}
