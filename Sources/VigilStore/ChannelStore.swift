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
            key: try r.decode(column: "key", as: String.self),
            kind: Channel.Kind(rawValue: try r.decode(column: "kind", as: String.self)) ?? .provider,
            name: try r.decode(column: "name", as: String.self),
            language: try r.decode(column: "language", as: String.self),
            delivery: Channel.Delivery(rawValue: try r.decode(column: "delivery", as: String.self)) ?? .email,
            address: try r.decode(column: "address", as: String.self),
            secret: try r.decode(column: "secret", as: String?.self))
    }

    public func channels() async throws -> [Channel] {
        try await sql.select().column("*").from("channels").orderBy("kind").orderBy("key").all().map(Self.channel)
    }

    public func channel(_ key: String) async throws -> Channel? {
        try await sql.select().column("*").from("channels").where("key", .equal, key).first().map(Self.channel)
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
            try await sql.delete(from: "channels").where("key", .equal, c.key).run()
            try await sql.insert(into: "channels").columns(
                "key", "kind", "name", "language", "delivery", "address", "secret", "updated_by", "updated_ms"
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
        try await sql.select().column("body").from("notice_templates").where("language", .equal, language).first()?
            .decode(column: "body", as: String.self)
    }

    public func templates() async throws -> [String: String] {
        var out: [String: String] = [:]
        for r in try await sql.select().columns("language", "body").from("notice_templates").all() {
            out[try r.decode(column: "language", as: String.self)] = try r.decode(column: "body", as: String.self)
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
            try await sql.delete(from: "notice_templates").where("language", .equal, lang).run()
            try await sql.insert(into: "notice_templates").columns("language", "body", "updated_by", "updated_ms")
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
            guard let r = try await sql.select().column("id").from("notices").where("token", .equal, token).first()
            else { return nil }
            let id = try r.decode(column: "id", as: Int64.self)
            try await sql.update("notices").set("token", to: SQLLiteral.null).where("id", .equal, id).run()
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
            var update = sql.update("notices").set("token", to: token)
            if let bounceToken {
                update = update.set(
                    SQLIdentifier("bounce_token"),
                    to: SQLFunction("coalesce", args: SQLColumn("bounce_token"), SQLBind(bounceToken.lowercased())))
            }
            try await update.where("id", .equal, id).run()
            return try await sql.select().column("bounce_token").from("notices").where("id", .equal, id).first()?
                .decode(column: "bounce_token", as: String?.self)
        }
    }

    /// Open items of one notice, for an immediate recheck.
    public func openItems(notice id: Int64) async throws -> [Item] {
        try await sql.select().columns("case_id", "url").from("notice_items").where("notice_id", .equal, id)
            .where("removed_ms", .is, SQLLiteral.null).all().map {
                Item(
                    caseID: try $0.decode(column: "case_id", as: Int64.self),
                    url: try $0.decode(column: "url", as: String.self), removedAt: nil)
            }
    }
}
