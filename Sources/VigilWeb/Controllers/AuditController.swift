import Vapor
import VigilCore
import VigilStore

/// The auditor's view of the hash-chained audit log, with filters and paging.
enum AuditController {
    struct Row: Encodable {
        let sequence: Int64
        let time: String
        let actor: String
        let action: String
        let subject: String
        let details: String
        let hash: String
    }

    struct Page: Encodable {
        let layout: Layout
        let rows: [Row]
        let actions: [String]
        let actor: String
        let action: String
        let subject: String
        let from: String
        let to: String
        let page: Int
        let pages: Int
        let total: Int
        let previous: String?
        let next: String?
    }

    struct Query: Decodable {
        var actor: String?
        var action: String?
        var subject: String?
        var from: String?
        var to: String?
        var page: Int?
    }

    static func list(_ req: Request) async throws -> View {
        let q = try req.query.decode(Query.self)
        let day = DateFormatter()
        day.dateFormat = "yyyy-MM-dd"
        day.timeZone = TimeZone(identifier: "UTC")
        func date(_ s: String?, field: String) throws -> Date? {
            guard let s, !s.isEmpty else { return nil }
            guard let d = day.date(from: s) else {
                throw Abort(.badRequest, reason: "The field '\(field)' must be a date like 2026-01-31.")
            }
            return d
        }
        let from = try date(q.from, field: "from")
        let to = try date(q.to, field: "to").map { $0 + 86400 }
        let per = 50
        let page = max(1, min(q.page ?? 1, 100_000))
        let filter = AuditLog.Filter(actor: q.actor, action: q.action, subject: q.subject, from: from, to: to)
        let (events, total) = try await AuditLog.list(on: req.db, filter: filter, page: page, per: per)
        let pages = max(1, (total + per - 1) / per)
        func link(_ p: Int) -> String {
            var c = URLComponents()
            c.queryItems =
                [("actor", q.actor), ("action", q.action), ("subject", q.subject), ("from", q.from), ("to", q.to)]
                .compactMap { k, v in v.flatMap { $0.isEmpty ? nil : URLQueryItem(name: k, value: $0) } } + [
                    URLQueryItem(name: "page", value: String(p))
                ]
            return "/audit?" + (c.percentEncodedQuery ?? "")
        }
        let rows = events.map {
            Row(
                sequence: $0.sequence, time: Format.dateTime($0.time), actor: $0.actor.display, action: $0.action,
                subject: $0.subject,
                details: $0.detailsJSON == "{}" ? "" : $0.detailsJSON, hash: String($0.hash.prefix(12)))
        }
        return try await req.view.render(
            "audit",
            Page(
                layout: Layout(req, title: "Audit log"), rows: rows, actions: try await AuditLog.actions(on: req.db),
                actor: q.actor ?? "", action: q.action ?? "", subject: q.subject ?? "", from: q.from ?? "",
                to: q.to ?? "",
                page: page, pages: pages, total: total, previous: page > 1 ? link(page - 1) : nil,
                next: page < pages ? link(page + 1) : nil))
    }
}
