import Vapor
import VigilCore
import VigilStore

/// The national checklist as a living self-assessment: every item of the guidelines' key areas and national
/// checklist with a status, evidence, an owner and a review date, kept by supervisors and administrators; the
/// evidence Vigil itself provides shown live; a printable report (HTML and CSV) and the audited history.
enum ChecklistController {
    /// One piece of live evidence.
    struct Live: Encodable {
        let label: String
        let value: String
        let notInUse: Bool
        let href: String?
    }

    struct StatusOption: Encodable {
        let value: String
        let label: String
        let selected: Bool
    }

    struct Item: Encodable {
        let id: String
        let number: String
        let area: String
        let text: String
        let status: String
        let statusLabel: String
        let evidence: String
        let links: [String]
        let linksText: String
        let owner: String
        let reviewDate: String
        let reviewDue: Bool
        let ownerShown: Bool
        let reviewShown: Bool
        let evidenceShown: Bool
        let updated: String?
        let live: [Live]
        let statuses: [StatusOption]
    }

    struct Part: Encodable {
        let id: String
        let title: String
        let items: [Item]
    }

    struct Page: Encodable {
        let layout: Layout
        let parts: [Part]
        let counts: [StatusOption]
        let canEdit: Bool
        let generated: String
        let error: String?
        let site: String
    }

    /// What Vigil shows live for each kind of evidence.
    static func liveEvidence(_ req: Request) async throws -> [LiveEvidence: [Live]] {
        let now = try req.vigil.clock.now()
        let quarter = ReportingPeriod.quarter(containing: now)
        let year = ReportingPeriod.lastTwelveMonths(until: now)
        let figures = try await req.transparencyFigures(
            [.reportsPerMonth, .removalTime, .blockListSize, .appeals], period: quarter)
        let yearFigures = try await req.transparencyFigures([.blockListSize], period: year)
        var out: [LiveEvidence: [Live]] = [:]
        let notInUse = "Not in use yet"
        if case .table(let t) = figures[.reportsPerMonth] ?? .notInUse {
            let n = Int(t.rows.reduce(0) { $0 + ($1.values.first ?? 0) })
            out[.hotline] = [
                Live(
                    label: "Hotline reports received this quarter (since \(quarter.first)-01)", value: String(n),
                    notInUse: false, href: "/transparency")
            ]
        } else {
            out[.hotline] = [Live(label: "Hotline reports", value: notInUse, notInUse: true, href: nil)]
        }
        if case .table(let t) = figures[.removalTime] ?? .notInUse,
            let median = t.rows.first(where: { $0.label == "median" }) ?? t.rows.first
        {
            out[.takedown] = [
                Live(
                    label: "Median time from report to removal this quarter",
                    value: "\(t.unit.format(median.values.first ?? 0)) days", notInUse: false, href: "/transparency")
            ]
        } else {
            out[.takedown] = [
                Live(
                    label: "Notice and takedown: median time from report to removal", value: notInUse, notInUse: true,
                    href: nil)
            ]
        }
        if case .table(let t) = yearFigures[.blockListSize] ?? .notInUse, let last = t.rows.last {
            var items = [
                Live(
                    label: "Block-list entries (verified, expiring)", value: t.unit.format(last.values.first ?? 0),
                    notInUse: false, href: "/transparency")
            ]
            if case .table(let a) = figures[.appeals] ?? .notInUse {
                let n = a.rows.reduce(0) { $0 + ($1.values.first ?? 0) }
                items.append(
                    Live(label: "Appeals this quarter", value: a.unit.format(n), notInUse: false, href: "/transparency")
                )
            }
            out[.blockList] = items
        } else {
            out[.blockList] = [
                Live(
                    label: "Block list (verified, expiring, appealable): entries and appeals", value: notInUse,
                    notInUse: true, href: nil)
            ]
        }
        let hashes = try await HashSetStore(db: req.db, clock: req.vigil.clock).counts().items
        out[.hashSet] = [
            Live(label: "Items in the national hash set", value: String(hashes), notInUse: false, href: nil)
        ]
        let config = try req.vigil.configuration
        if let row = try req.policy.ownRow(config) {
            let edit = try await req.policyStore.reviewEdit(country: row.country)
            var value = "\(row.country) met \(row.score) of 5 criteria in 2009"
            if let e = edit { value += "; \(e.meets.count) of 5 as updated on \(PolicyFormat.day(e.editedAt))" }
            out[.globalReview] = [
                Live(label: "Global legislation review", value: value, notInUse: false, href: "/global-review")
            ]
        } else {
            out[.globalReview] = [
                Live(
                    label: "Global legislation review", value: "Set the country and country_name settings to compare",
                    notInUse: true, href: "/global-review")
            ]
        }
        let edited = try await req.policyStore.currentAwarenessPages()
        let pages = Set(try req.policy.defaultPages.keys).union(edited.keys)
        let languages = Set(pages.map { $0.split(separator: "/")[1] })
        out[.awareness] = [
            Live(
                label: "Public awareness pages",
                value: "\(Set(pages.map { $0.split(separator: "/")[0] }).count) pages in \(languages.count) languages",
                notInUse: false, href: "/learn")
        ]
        return out
    }

    static func build(_ req: Request, error: String? = nil) async throws -> Page {
        let definition = try req.policy.checklist
        let entries = try await req.policyStore.checklistEntries()
        let live = try await liveEvidence(req)
        let now = try req.vigil.clock.now()
        var canEdit = false
        if case .staff(_, let role) = req.caller { canEdit = Rules.checklistEditors.allows(role: role) }
        let parts = definition.parts.map { part in
            Part(
                id: part.id, title: part.title,
                items: definition.items.filter { $0.part == part.id }.map { item in
                    let e = entries[item.id] ?? ChecklistEntry(itemID: item.id)
                    return Item(
                        id: item.id, number: item.number ?? "", area: item.area, text: item.text,
                        status: e.status.rawValue,
                        statusLabel: e.status.label, evidence: e.evidence, links: e.links,
                        linksText: e.links.joined(separator: "\n"), owner: e.owner,
                        reviewDate: e.reviewDate ?? "", reviewDue: e.reviewIsDue(at: now),
                        ownerShown: !e.owner.isEmpty, reviewShown: e.reviewDate != nil,
                        evidenceShown: !e.evidence.isEmpty,
                        updated: e.updatedAt.map { "\(PolicyFormat.minute($0)) by \(e.updatedBy ?? "")" },
                        live: (item.evidence ?? []).flatMap { live[$0] ?? [] },
                        statuses: ChecklistStatus.allCases.map {
                            StatusOption(value: $0.rawValue, label: $0.label, selected: $0 == e.status)
                        })
                })
        }
        let all = parts.flatMap(\.items)
        let counts = ChecklistStatus.allCases.map { s in
            StatusOption(value: String(all.filter { $0.status == s.rawValue }.count), label: s.label, selected: false)
        }
        return Page(
            layout: Layout(req, title: "National checklist"), parts: parts, counts: counts, canEdit: canEdit,
            generated: PolicyFormat.minute(now) + " UTC",
            error: error, site: try req.vigil.configuration.siteName)
    }

    static func page(_ req: Request) async throws -> Response {
        var page = try await build(req)
        if req.query[String.self, at: "saved"] != nil {
            page = Page(
                layout: Layout(req, title: "National checklist", flash: "Saved."), parts: page.parts,
                counts: page.counts,
                canEdit: page.canEdit, generated: page.generated, error: nil, site: page.site)
        }
        return try await req.view.render("checklist", page).encodeResponse(for: req)
    }

    struct UpdateForm: Content {
        var status: String?
        var evidence: String?
        var links: String?
        var owner: String?
        var review_date: String?
    }

    static func update(_ req: Request) async throws -> Response {
        let (username, _) = try req.requireStaff()
        guard let id = req.parameters.get("id"), try req.policy.checklist.item(id) != nil else {
            throw Abort(.notFound)
        }
        let f = try req.content.decode(UpdateForm.self)
        guard let status = ChecklistStatus(rawValue: f.status ?? "") else {
            return try await req.view.render("checklist", try await build(req, error: "Choose a status."))
                .encodeResponse(status: .badRequest, for: req)
        }
        let entry = ChecklistEntry(
            itemID: id, status: status, evidence: f.evidence ?? "",
            links: (f.links ?? "").split(whereSeparator: \.isNewline).map(String.init), owner: f.owner ?? "",
            reviewDate: f.review_date)
        do {
            try await req.policyStore.updateChecklist(entry, by: username)
        } catch let e as ChecklistError {
            return try await req.view.render("checklist", try await build(req, error: "Item \(id): \(e.description)"))
                .encodeResponse(status: .badRequest, for: req)
        }
        return req.redirect(to: "/checklist?saved=1#item-\(id)", redirectType: .normal)
    }

    /// The whole checklist as one document that prints well.
    static func report(_ req: Request) async throws -> Response {
        try await req.view.render("checklist-report", try await build(req)).encodeResponse(for: req)
    }

    static func reportCSV(_ req: Request) async throws -> Response {
        let page = try await build(req)
        var lines = [
            [
                "part", "number", "area", "item", "status", "evidence", "links", "owner", "review_date", "last_updated",
                "live_evidence",
            ]
        ]
        for part in page.parts {
            for i in part.items {
                let live = i.live.map { "\($0.label): \($0.value)" }.joined(separator: "; ")
                lines.append([
                    part.title, i.number, i.area, i.text, i.statusLabel, i.evidence, i.links.joined(separator: " "),
                    i.owner,
                    i.reviewDate, i.updated ?? "", live,
                ])
            }
        }
        return PolicyFormat.csv(CSVText.document(lines), filename: "national-checklist.csv")
    }

    struct Change: Encodable {
        let when: String
        let who: String
        let item: String
        let changes: [String]
    }

    struct HistoryPage: Encodable {
        let layout: Layout
        let changes: [Change]
    }

    static func history(_ req: Request) async throws -> Response {
        let definition = try req.policy.checklist
        let events = try await req.policyStore.checklistHistory()
        let changes = events.map { e -> Change in
            let id = e.subject.hasPrefix("checklist:") ? String(e.subject.dropFirst(10)) : e.subject
            let details = (try? JSONDecoder().decode([String: String].self, from: Data(e.detailsJSON.utf8))) ?? [:]
            let item = definition.item(id).map { "\($0.area) \($0.number ?? "") (\(id))" } ?? id
            return Change(
                when: PolicyFormat.minute(e.time),
                who: e.actor.identifier, item: item,
                changes: details.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.prefix(300))" })
        }
        return try await req.view.render(
            "checklist-history", HistoryPage(layout: Layout(req, title: "Checklist history"), changes: changes)
        ).encodeResponse(for: req)
    }
}
