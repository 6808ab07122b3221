import FluentKit
import Foundation
import SQLKit
import VigilCore

/// Bounces of notices: each notice is sent with its own envelope sender (`bounces+TOKEN@…`), so a bounce that comes
/// back names its notice; a relay that refuses a recipient outright counts the same. A permanent failure puts the
/// notice in the supervisors' queue (state `bounced`: the provider needs another contact); a delay is only recorded.
extension NoticeStore {
    public struct Bounce: Sendable, Equatable {
        public let noticeID: Int64
        public let receivedAt: Date
        public let recipient: String?
        /// `failed` (permanent) or `delayed` (the relay keeps trying), as RFC 3464's Action field says.
        public let action: String
        public let status: String?
        public let diagnostic: String?
        /// `bounce` (read back from the bounce mailbox) or `relay` (refused while sending).
        public let source: String

        public var isPermanent: Bool { action == "failed" }
    }

    /// The notice a bounce token belongs to.
    public func notice(bounceToken token: String) async throws -> Int64? {
        try await sql.select().column(Notices.id).from(Notices.tableName).where(
            Notices.bounceToken, .equal, token.lowercased()
        ).first()?
        .decode(Notices.id, as: Int64.self)
    }

    /// Records a bounce; a permanent one marks the notice `bounced` (unless the content is already gone) and is
    /// audited on the notice and on each of its cases, so the case timeline shows it.
    public func recordBounce(
        noticeID: Int64, recipient: String?, action: String, status: String?, diagnostic: String?, source: String
    ) async throws {
        let now = clock.now()
        let action = action.lowercased()
        try await AuditLog.transaction(db) { tx in
            let sql = tx.sql
            guard
                let row = try await sql.select().column(Notices.state).from(Notices.tableName).where(
                    Notices.id, .equal, noticeID
                ).first()
            else {
                throw StoreError.notFound("no notice \(noticeID)")
            }
            try await sql.insert(into: NoticeBounces.tableName).columns(
                NoticeBounces.noticeID, NoticeBounces.receivedMS, NoticeBounces.recipient, NoticeBounces.action,
                NoticeBounces.status, NoticeBounces.diagnostic, NoticeBounces.source
            )
            .values(
                SQLBind(noticeID), SQLBind(Self.ms(now)), SQLBind(recipient.map { String($0.prefix(300)) }),
                SQLBind(action),
                SQLBind(status.map { String($0.prefix(20)) }), SQLBind(diagnostic.map { String($0.prefix(500)) }),
                SQLBind(source)
            )
            .run()
            let details = ["notice": String(noticeID), "action": action, "status": status ?? "", "source": source]
            try await AuditLog.append(
                on: tx, at: now, actor: .job("notice-bounce"), action: "notice.bounce", subject: "notice:\(noticeID)",
                details: details)
            guard action == "failed" else { return }
            let (state, _) = try Self.transition(try row.decode(Notices.state, as: String.self), .permanentBounce)
            guard state == .bounced else { return }
            let reason = "bounced: " + (diagnostic ?? status ?? "permanent failure")
            try await sql.update(Notices.tableName).set(Notices.state, to: state.rawValue).set(
                Notices.lastError, to: String(reason.prefix(300))
            )
            .where(Notices.id, .equal, noticeID).run()
            for item in try await sql.select().column(NoticeItems.caseID).from(NoticeItems.tableName).where(
                NoticeItems.noticeID, .equal, noticeID
            ).all() {
                let caseID = try item.decode(NoticeItems.caseID, as: Int64.self)
                try await AuditLog.append(
                    on: tx, at: now, actor: .job("notice-bounce"), action: "case.notice-bounced",
                    subject: "case:\(caseID)",
                    details: details)
            }
        }
    }

    /// A notice's bounces, newest first.
    public func bounces(noticeID: Int64) async throws -> [Bounce] {
        try await sql.select().column("*").from(NoticeBounces.tableName).where(NoticeBounces.noticeID, .equal, noticeID)
            .orderBy(NoticeBounces.id, .descending).all().map {
                Bounce(
                    noticeID: noticeID, receivedAt: Self.date(try $0.decode(NoticeBounces.receivedMS, as: Int64.self))!,
                    recipient: try $0.decode(NoticeBounces.recipient, as: String?.self),
                    action: try $0.decode(NoticeBounces.action, as: String.self),
                    status: try $0.decode(NoticeBounces.status, as: String?.self),
                    diagnostic: try $0.decode(NoticeBounces.diagnostic, as: String?.self),
                    source: try $0.decode(NoticeBounces.source, as: String.self))
            }
    }

    /// Whether a notice ever bounced for good (its state then stays `bounced` whatever a recheck finds, until removal).
    static func hasPermanentBounce(_ noticeID: Int64, on sql: any SQLDatabase) async throws -> Bool {
        try await sql.select().column(NoticeBounces.id).from(NoticeBounces.tableName).where(
            NoticeBounces.noticeID, .equal, noticeID
        )
        .where(NoticeBounces.action, .equal, "failed").first() != nil
    }
}
