import Foundation
import Vapor
import VigilCore
import VigilStore

/// The hash set's review desk: reviewers confirm pending records one at a time (keys 0–5 choose the category), and
/// supervisors settle the records reviewers disagreed on. Reviewers see the hash, its metadata, bank and provenance
/// and how many confirmations it has, never the others' verdicts before their own (independent assessment).
enum HashReviewController {
    /// Categories reviewers choose from: Project VIC / VICS CAT 0–5 (the 0–5 scheme), one key each.
    static let categories: [(code: String, label: String)] = (0...5).map {
        (String($0), CategoryScheme.legacy.label(for: String($0)) ?? String($0))
    }

    struct Category: Encodable {
        let code: String
        let label: String
    }

    struct Field: Encodable {
        let name: String
        let value: String
    }

    struct Record: Encodable {
        let id: Int64
        let reference: String
        let bank: String
        let digests: [Field]
        let details: [Field]
        let confirmations: Int
        let required: Int
        let round: Int
        let votes: [Field]
    }

    struct Page: Encodable {
        let layout: Layout
        let current: Record?
        let escalated: [Record]
        let pending: Int
        let waitingForOthers: Int
        let isSupervisor: Bool
        let categories: [Category]
        let error: String?
    }

    static func record(_ item: HashSetItem, showVotes: Bool) -> Record {
        let r = item.record
        var details: [Field] = []
        func add(_ name: String, _ value: String?) {
            if let value, !value.isEmpty { details.append(.init(name: name, value: value)) }
        }
        add(
            "Categories given by the source",
            r.categories.map { "\($0.scheme.rawValue) \($0.code)" }.joined(separator: ", "))
        add("Series", r.seriesName)
        add("File name", r.fileName)
        add("Media type", r.mediaType)
        add("File size", r.fileSize.map { "\($0) bytes" })
        add("Contributor", r.provenance.contributor)
        add("Found where", r.provenance.foundWhere)
        add("Found", r.provenance.foundAt.map(Format.dateTime))
        add("Contributor's case", r.provenance.caseID)
        add("Media ID", r.provenance.mediaID)
        add("In the set since", Format.dateTime(item.firstSeen))
        add("Submitted by", item.review.submittedBy)
        return Record(
            id: item.id, reference: "item-\(item.id)", bank: item.bank,
            digests: r.digests.map { .init(name: $0.algorithm.rawValue, value: $0.value) }, details: details,
            confirmations: item.review.votes.count, required: item.review.required, round: item.review.round,
            votes: showVotes ? item.review.votes.map { .init(name: $0.reviewer, value: $0.category) } : [])
    }

    static func page(_ req: Request, error: String? = nil, status: HTTPResponseStatus = .ok) async throws -> Response {
        let (user, role) = try req.requireStaff()
        let me = AuditActor.user(user).display
        let store = HashSetStore(db: req.db, clock: try req.vigil.clock)
        // The oldest record this reviewer may review: page through the queue until one is found.
        var mine: [HashSetItem] = []
        var after: Int64 = 0
        let matchBanks = try await store.banks().filter { $0.kind == .match }.map(\.name)
        for _ in 0..<20 {
            let page = try await store.reviewQueue(.pending, after: after, limit: 500, matchBanks: matchBanks)
            mine = page.filter { $0.review.submittedBy != me && !$0.review.votes.contains { $0.reviewer == me } }
            guard mine.isEmpty, let last = page.last else { break }
            after = last.id
        }
        let pending = try await store.reviewCounts()[.pending] ?? 0
        let isSupervisor = [.supervisor, .admin].contains(role)
        let escalated = isSupervisor ? try await store.reviewQueue(.escalated, limit: 50) : []
        let page = Page(
            layout: Layout(req, title: "Hash review"), current: mine.first.map { record($0, showVotes: false) },
            escalated: escalated.map { record($0, showVotes: true) }, pending: pending,
            waitingForOthers: mine.isEmpty ? pending : 0, isSupervisor: isSupervisor,
            categories: categories.map { Category(code: $0.code, label: $0.label) }, error: error)
        return try await req.view.render("hash-review", page).encodeResponse(status: status, for: req)
    }

    struct VoteForm: Content {
        var category: String
    }

    static func itemID(_ req: Request) throws -> Int64 {
        guard let id = req.parameters.get("id").flatMap(Int64.init) else {
            throw Abort(.notFound, reason: "There is no such hash set record.")
        }
        return id
    }

    /// A reviewer's verdict on the record shown to them.
    static func vote(_ req: Request) async throws -> Response {
        let (user, _) = try req.requireStaff()
        let id = try itemID(req)
        let f = try req.content.decode(VoteForm.self)
        guard categories.contains(where: { $0.code == f.category }) else {
            throw Abort(.badRequest, reason: "The field 'category' must be one of 0 to 5.")
        }
        return try await perform(req, id, .vote(reviewer: AuditActor.user(user).display, category: f.category))
    }

    struct DecideForm: Content {
        /// A category 0–5, `reject` (out of the set) or `false-positive` (into the negative bank).
        var decision: String
    }

    /// A supervisor settles an escalated record, or marks any record a false positive.
    static func decide(_ req: Request) async throws -> Response {
        let (user, _) = try req.requireStaff()
        let id = try itemID(req)
        let f = try req.content.decode(DecideForm.self)
        let me = AuditActor.user(user).display
        let event: HashReviewEvent
        switch f.decision {
        case "reject": event = .decide(supervisor: me, category: nil)
        case "false-positive": event = .markFalsePositive(by: me)
        case let code where categories.contains(where: { $0.code == code }):
            event = .decide(supervisor: me, category: code)
        default:
            throw Abort(.badRequest, reason: "The field 'decision' must be 0 to 5, reject or false-positive.")
        }
        return try await perform(req, id, event)
    }

    struct FalsePositiveForm: Content {
        var item: String
    }

    /// A supervisor moves any record to the false-positive bank by its reference.
    static func falsePositive(_ req: Request) async throws -> Response {
        let (user, _) = try req.requireStaff()
        let f = try req.content.decode(FalsePositiveForm.self)
        let text = f.item.trimmingCharacters(in: .whitespaces)
        guard text.hasPrefix("item-"), let id = Int64(text.dropFirst(5)) else {
            return try await page(
                req, error: "Give the record as item-N, as match answers name it.", status: .badRequest)
        }
        return try await perform(req, id, .markFalsePositive(by: AuditActor.user(user).display))
    }

    static func perform(_ req: Request, _ id: Int64, _ event: HashReviewEvent) async throws -> Response {
        do {
            try await HashSetStore(db: req.db, clock: try req.vigil.clock).review(
                item: id, event, actor: req.auditActor)
        } catch let error as any VigilFailure where error.kind != .internalFailure {
            return try await page(req, error: sentence(error.description), status: error.kind.httpStatus)
        }
        return req.redirect(to: "/hashset/review", redirectType: .normal)
    }
}
