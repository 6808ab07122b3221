import FluentKit
import Foundation
import SQLKit
import VigilCore

/// The policy pages' state: the national checklist's self-assessment, awareness page revisions and the operator's
/// edit of their country's row in the global review. Every change is audited in its own transaction.
public struct PolicyStore: Sendable {
    public let db: any Database
    public let clock: any VigilClock

    public init(db: any Database, clock: any VigilClock) {
        self.db = db
        self.clock = clock
    }

    var sql: any SQLDatabase { db.sql }

    static func date(_ ms: Int64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }

    // MARK: - national checklist

    /// Every item's recorded self-assessment, by item id (items never touched are absent).
    public func checklistEntries() async throws -> [String: ChecklistEntry] {
        var out: [String: ChecklistEntry] = [:]
        for r in try await sql.select().column("*").from(ChecklistEntries.tableName).all() {
            let e = ChecklistEntry(
                itemID: try r.decode(ChecklistEntries.itemID, as: String.self),
                status: ChecklistStatus(rawValue: try r.decode(ChecklistEntries.status, as: String.self))
                    ?? .notStarted,
                evidence: try r.decode(ChecklistEntries.evidence, as: String.self),
                links: (try? JSONDecoder().decode(
                    [String].self, from: Data(try r.decode(ChecklistEntries.links, as: String.self).utf8))) ?? [],
                owner: try r.decode(ChecklistEntries.owner, as: String.self),
                reviewDate: try r.decode(ChecklistEntries.reviewDate, as: String?.self),
                updatedAt: Self.date(try r.decode(ChecklistEntries.updatedMS, as: Int64.self)),
                updatedBy: try r.decode(ChecklistEntries.updatedBy, as: String.self))
            out[e.itemID] = e
        }
        return out
    }

    /// Records an item's self-assessment and audits what changed (`checklist.updated`, subject `checklist:<id>`).
    /// - Returns: the stored entry, or nil when nothing changed.
    /// - Throws: ``ChecklistError/invalid(_:)`` for bad input.
    @discardableResult
    public func updateChecklist(_ entry: ChecklistEntry, by username: String) async throws -> ChecklistEntry? {
        var e = try entry.validated()
        let now = clock.now()
        e.updatedAt = now
        e.updatedBy = username
        let stored = e
        return try await AuditLog.transaction(db) { tx in
            let sql = tx.sql
            let before = try await sql.select().column("*").from(ChecklistEntries.tableName).where(
                ChecklistEntries.itemID, .equal, stored.itemID
            ).first()
            let links = String(decoding: try JSONEncoder().encode(stored.links), as: UTF8.self)
            var details: [String: String] = [:]
            func note(_ field: String, _ old: String?, _ new: String?) {
                if (old ?? "") != (new ?? "") { details[field] = new ?? "" }
            }
            note(
                "status",
                try before?.decode(ChecklistEntries.status, as: String.self) ?? ChecklistStatus.notStarted.rawValue,
                stored.status.rawValue)
            note("evidence", try before?.decode(ChecklistEntries.evidence, as: String.self), stored.evidence)
            note("links", try before?.decode(ChecklistEntries.links, as: String.self) ?? "[]", links)
            note("owner", try before?.decode(ChecklistEntries.owner, as: String.self), stored.owner)
            note("review", try before?.decode(ChecklistEntries.reviewDate, as: String?.self), stored.reviewDate)
            guard !details.isEmpty else { return nil }
            if details["status"] == nil { details["status"] = stored.status.rawValue }
            if before == nil {
                try await sql.insert(into: ChecklistEntries.tableName)
                    .columns(
                        ChecklistEntries.itemID, ChecklistEntries.status, ChecklistEntries.evidence,
                        ChecklistEntries.links, ChecklistEntries.owner, ChecklistEntries.reviewDate,
                        ChecklistEntries.updatedMS, ChecklistEntries.updatedBy
                    )
                    .values(
                        SQLBind(stored.itemID), SQLBind(stored.status.rawValue), SQLBind(stored.evidence),
                        SQLBind(links),
                        SQLBind(stored.owner), SQLBind(stored.reviewDate), SQLBind(AuditChain.milliseconds(now)),
                        SQLBind(username)
                    )
                    .run()
            } else {
                try await sql.update(ChecklistEntries.tableName).set(
                    ChecklistEntries.status, to: stored.status.rawValue
                ).set(
                    ChecklistEntries.evidence, to: stored.evidence
                )
                .set(ChecklistEntries.links, to: links).set(ChecklistEntries.owner, to: stored.owner).set(
                    ChecklistEntries.reviewDate, to: stored.reviewDate
                )
                .set(ChecklistEntries.updatedMS, to: AuditChain.milliseconds(now)).set(
                    ChecklistEntries.updatedBy, to: username
                )
                .where(ChecklistEntries.itemID, .equal, stored.itemID).run()
            }
            try await AuditLog.append(
                on: tx, at: now, actor: .user(username), action: "checklist.updated",
                subject: "checklist:\(stored.itemID)", details: details)
            return stored
        }
    }

    /// The checklist's history: its audit events, newest first.
    public func checklistHistory(limit: Int = 500) async throws -> [AuditEvent] {
        try await AuditLog.list(on: db, filter: .init(action: "checklist.updated"), page: 1, per: limit).events
    }

    // MARK: - awareness pages

    /// One saved version of an awareness page.
    public struct Revision: Sendable, Equatable {
        public let id: Int64
        public let slug: String
        public let language: String
        public let body: String
        public let createdAt: Date
        public let author: String
    }

    static func revision(_ r: any SQLRow) throws -> Revision {
        Revision(
            id: try r.decode(AwarenessRevisions.id, as: Int64.self),
            slug: try r.decode(AwarenessRevisions.slug, as: String.self),
            language: try r.decode(AwarenessRevisions.language, as: String.self),
            body: try r.decode(AwarenessRevisions.body, as: String.self),
            createdAt: Self.date(try r.decode(AwarenessRevisions.createdMS, as: Int64.self)),
            author: try r.decode(AwarenessRevisions.author, as: String.self))
    }

    /// Whether a page name is acceptable: 1–48 lower-case letters, digits and dashes.
    public static func isValidSlug(_ slug: String) -> Bool {
        (1...48).contains(slug.count)
            && slug.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
            && !slug.hasPrefix("-")
    }

    /// The newest revision of every page in every language that staff have edited: (slug, language) → revision.
    public func currentAwarenessPages() async throws -> [String: Revision] {
        let rows = try await sql.select().column("*").from(AwarenessRevisions.tableName).orderBy(AwarenessRevisions.id)
            .all()
        var out: [String: Revision] = [:]
        for r in rows {
            let rev = try Self.revision(r)
            out["\(rev.slug)/\(rev.language)"] = rev
        }
        return out
    }

    /// The revisions of one page in one language, newest first.
    public func awarenessHistory(slug: String, language: String) async throws -> [Revision] {
        try await sql.select().column("*").from(AwarenessRevisions.tableName).where(
            AwarenessRevisions.slug, .equal, slug
        ).where(AwarenessRevisions.language, .equal, language)
            .orderBy(AwarenessRevisions.id, .descending).limit(200).all().map(Self.revision)
    }

    /// One revision by id.
    public func awarenessRevision(_ id: Int64) async throws -> Revision? {
        try await sql.select().column("*").from(AwarenessRevisions.tableName).where(AwarenessRevisions.id, .equal, id)
            .first().map(
                Self.revision)
    }

    /// Saves a new version of a page in a language and audits it (`awareness.saved`, subject `learn:<slug>/<lang>`).
    /// - Throws: ``StoreError/invalid(_:)`` for a bad page name, language or an over-long text.
    public func saveAwarenessPage(slug: String, language: String, body: String, by username: String) async throws {
        guard Self.isValidSlug(slug) else {
            throw StoreError.invalid("A page name is 1 to 48 lower-case letters, digits and dashes.")
        }
        guard let lang = LanguageTag.normalize(language) else {
            throw StoreError.invalid("The language must be a language tag such as fr or pt-BR.")
        }
        guard body.utf8.count <= 100_000 else { throw StoreError.invalid("The text is longer than 100,000 bytes.") }
        guard !body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw StoreError.invalid("The text is empty.")
        }
        let now = clock.now()
        try await AuditLog.transaction(db) { tx in
            let sql = tx.sql
            try await sql.insert(into: AwarenessRevisions.tableName).columns(
                AwarenessRevisions.slug, AwarenessRevisions.language, AwarenessRevisions.body,
                AwarenessRevisions.createdMS, AwarenessRevisions.author
            )
            .values(
                SQLBind(slug), SQLBind(lang), SQLBind(body), SQLBind(AuditChain.milliseconds(now)), SQLBind(username)
            ).run()
            try await AuditLog.append(
                on: tx, at: now, actor: .user(username), action: "awareness.saved", subject: "learn:\(slug)/\(lang)",
                details: ["bytes": String(body.utf8.count)])
        }
    }

    // MARK: - global review

    /// The operator's edit of a country's row.
    public struct ReviewEdit: Sendable, Equatable {
        public let country: String
        public let meets: Set<GlobalReview.Criterion>
        public let note: String
        public let editedAt: Date
        public let editedBy: String
    }

    public func reviewEdit(country: String) async throws -> ReviewEdit? {
        guard
            let r = try await sql.select().column("*").from(GlobalReviewEdits.tableName).where(
                GlobalReviewEdits.country, .equal, country
            )
            .first()
        else { return nil }
        let meets = try r.decode(GlobalReviewEdits.meets, as: String.self).split(separator: ",").compactMap {
            GlobalReview.Criterion(rawValue: String($0))
        }
        return ReviewEdit(
            country: country, meets: Set(meets), note: try r.decode(GlobalReviewEdits.note, as: String.self),
            editedAt: Self.date(try r.decode(GlobalReviewEdits.editedMS, as: Int64.self)),
            editedBy: try r.decode(GlobalReviewEdits.editedBy, as: String.self))
    }

    /// Records today's situation for a country and audits it (`global-review.edited`).
    public func editReview(country: String, meets: Set<GlobalReview.Criterion>, note: String, by username: String)
        async throws
    {
        let text = note.trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.count <= 2_000 else { throw StoreError.invalid("The note is longer than 2,000 characters.") }
        let now = clock.now()
        let list = GlobalReview.Criterion.allCases.filter { meets.contains($0) }.map(\.rawValue).joined(separator: ",")
        try await AuditLog.transaction(db) { tx in
            let sql = tx.sql
            try await sql.delete(from: GlobalReviewEdits.tableName).where(GlobalReviewEdits.country, .equal, country)
                .run()
            try await sql.insert(into: GlobalReviewEdits.tableName).columns(
                GlobalReviewEdits.country, GlobalReviewEdits.meets, GlobalReviewEdits.note, GlobalReviewEdits.editedMS,
                GlobalReviewEdits.editedBy
            )
            .values(
                SQLBind(country), SQLBind(list), SQLBind(text), SQLBind(AuditChain.milliseconds(now)), SQLBind(username)
            ).run()
            try await AuditLog.append(
                on: tx, at: now, actor: .user(username), action: "global-review.edited", subject: "country:\(country)",
                details: ["meets": list, "note": String(text.prefix(200))])
        }
    }
}
