import Vapor
import VigilCore
import VigilStore

/// The staff side of the block list: entries, proposals, verification by a second person, removal, appeals,
/// versions and partners' downloads. Auditors read everything with addresses defanged; they change nothing.
enum ListDeskController {
    struct Row: Encodable {
        let id: Int64
        let kind: String
        let target: String
        let criterion: String
        let state: String
        let proposedBy: String
        let verifiedBy: String
        let expires: String
        let check: String
        let published: Bool
        let canary: Bool
    }

    struct ListPage: Encodable {
        let layout: Layout
        let rows: [Row]
        let total: Int
        let states: [String]
        let state: String
        let versions: [VersionRow]
        let canPropose: Bool
    }

    struct VersionRow: Encodable {
        let version: Int64
        let time: String
        let entries: Int
        let added: Int
        let removed: Int
    }

    /// Auditors see addresses defanged; the analysts who verify need them as they are.
    static func shown(_ target: ListTarget, role: Role) -> String {
        role == .auditor ? target.defanged : target.value
    }

    static func row(_ e: ListEntry, role: Role, published: Bool = false) -> Row {
        Row(
            id: e.id, kind: e.target.kind.label, target: shown(e.target, role: role), criterion: e.criterion,
            state: e.state.label,
            proposedBy: e.proposedBy, verifiedBy: e.verifiedBy ?? "", expires: e.expiresAt.map(Format.dateTime) ?? "",
            check: e.lastCheck.map { "\($0.rawValue) \(e.lastCheckAt.map(Format.dateTime) ?? "")" } ?? "",
            published: published,
            canary: e.canary)
    }

    static func list(_ req: Request) async throws -> View {
        let (_, role) = try req.requireStaff()
        let state = req.query[String.self, at: "state"].flatMap(ListEntryState.init(rawValue:))
        let store = try req.blockListStore
        let (entries, total) = try await store.entries(state: state, page: 1, per: 200)
        let versions = try await store.versions(limit: 10).map {
            VersionRow(
                version: $0.version, time: Format.dateTime($0.createdAt), entries: $0.entryCount, added: $0.added,
                removed: $0.removed)
        }
        return try await req.view.render(
            "list",
            ListPage(
                layout: Layout(req, title: "Block list"), rows: entries.map { row($0, role: role) }, total: total,
                states: ListEntryState.allCases.map(\.rawValue), state: state?.rawValue ?? "", versions: versions,
                canPropose: Rules.listDeskRoles.contains(role)))
    }

    struct NewPage: Encodable {
        let layout: Layout
        let criteria: [String]
        let kinds: [Kind]
        let values: ProposeForm
        let error: String?
    }

    struct Kind: Encodable {
        let value: String
        let label: String
    }

    struct ProposeForm: Content {
        var kind: String?
        var target: String?
        var criterion: String?
        var case_id: String?
        var dedicated_reason: String?
    }

    static func newPage(
        _ req: Request, values: ProposeForm? = nil, error: String? = nil, status: HTTPResponseStatus = .ok
    ) async throws -> Response {
        var values = values ?? ProposeForm()
        if values.case_id == nil { values.case_id = req.query[String.self, at: "case"] }
        if values.target == nil { values.target = req.query[String.self, at: "target"] }
        return try await req.view.render(
            "list-new",
            NewPage(
                layout: Layout(req, title: "Propose a list entry"), criteria: req.vigil.configuration.listCriteria,
                kinds: ListEntryKind.allCases.map { Kind(value: $0.rawValue, label: $0.label) }, values: values,
                error: error)
        )
        .encodeResponse(status: status, for: req)
    }

    static func propose(_ req: Request) async throws -> Response {
        let (user, _) = try req.requireStaff()
        let f = try req.content.decode(ProposeForm.self)
        do {
            guard let kind = f.kind.flatMap(ListEntryKind.init(rawValue:)) else {
                throw StoreError.invalid("choose what the entry covers")
            }
            let target: ListTarget
            do throws(ListEntryError) { target = try ListTarget(kind: kind, parsing: f.target ?? "") } catch {
                throw StoreError.invalid(error.description)
            }
            let code =
                (f.criterion ?? "").split(separator: ":", maxSplits: 1).first.map {
                    String($0).trimmingCharacters(in: .whitespaces)
                } ?? ""
            let caseText = (f.case_id ?? "").trimmingCharacters(in: .whitespaces)
            guard let caseID = Int64(caseText.hasPrefix("#") ? String(caseText.dropFirst()) : caseText) else {
                throw StoreError.invalid("give the number of the case the entry belongs to")
            }
            let reason = f.dedicated_reason.flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
            let entry = try await req.blockListStore.propose(
                target: target, criterion: code, caseID: caseID, dedicatedReason: reason,
                origin: ListTarget.origin(typed: f.target ?? ""), by: user)
            return req.redirect(to: "/list/\(entry.id)", redirectType: .normal)
        } catch let error as any VigilFailure where error.kind != .internalFailure {
            return try await newPage(req, values: f, error: sentence(error.description), status: .unprocessableEntity)
        }
    }

    struct EntryPage: Encodable {
        let layout: Layout
        let entry: Row
        let caseID: Int64?
        let caseHold: String?
        let dedicatedReason: String?
        let checkDetail: String
        let removalReason: String
        let canVerify: Bool
        let canReject: Bool
        let canRemove: Bool
        let isDesk: Bool
        let history: [HistoryRow]
        let error: String?
    }

    struct HistoryRow: Encodable {
        let time: String
        let actor: String
        let action: String
        let details: String
    }

    static func entryID(_ req: Request) throws -> Int64 {
        guard let id = req.parameters.get("id").flatMap(Int64.init) else { throw Abort(.notFound) }
        return id
    }

    static func entryPage(_ req: Request, error: String? = nil, status: HTTPResponseStatus = .ok) async throws
        -> Response
    {
        let (user, role) = try req.requireStaff()
        guard let detail = try await req.blockListStore.entry(try entryID(req)) else {
            throw Abort(.notFound, reason: "There is no such list entry.")
        }
        let e = detail.entry
        let isDesk = Rules.listDeskRoles.contains(role)
        let history = try await AuditLog.list(
            on: req.db, filter: .init(subject: "list-entry:\(e.id)"), page: 1, per: 100
        ).0.map {
            HistoryRow(
                time: Format.dateTime($0.time), actor: $0.actor.display, action: $0.action,
                details: $0.detailsJSON == "{}" ? "" : $0.detailsJSON)
        }
        var caseHold: String?
        if let caseID = e.caseID, let summary = try await req.hotlineStore.caseSummary(caseID),
            let hold = summary.workflow.hold, summary.workflow.isHeld(at: try req.vigil.clock.now())
        {
            caseHold = "Law-enforcement hold until \(Format.dateTime(hold.expiresAt)): not published until it ends"
        }
        let page = EntryPage(
            layout: Layout(req, title: "List entry \(e.id)"), entry: row(e, role: role, published: detail.published),
            caseID: e.caseID,
            caseHold: caseHold,
            dedicatedReason: e.dedicatedReason, checkDetail: detail.checkDetail ?? "",
            removalReason: e.removalReason ?? "",
            canVerify: isDesk && !e.canary && [.proposed, .active, .expired].contains(e.state) && e.proposedBy != user,
            canReject: isDesk && e.state == .proposed && e.proposedBy != user,
            canRemove: isDesk && !e.canary && [.proposed, .active, .expired, .suspended].contains(e.state),
            isDesk: isDesk, history: history, error: error)
        return try await req.view.render("list-entry", page).encodeResponse(status: status, for: req)
    }

    struct ActForm: Content {
        var action: String
        var reason: String?
    }

    static func act(_ req: Request) async throws -> Response {
        let (user, _) = try req.requireStaff()
        let id = try entryID(req)
        let f = try req.content.decode(ActForm.self)
        let store = try req.blockListStore
        do {
            switch f.action {
            case "verify": try await store.verify(id, by: user)
            case "reject": try await store.reject(id, by: user, reason: f.reason ?? "")
            case "remove": try await store.remove(id, actor: .user(user), reason: f.reason ?? "")
            default: throw Abort(.badRequest, reason: "The field 'action' is not a known action.")
            }
        } catch let error as any VigilFailure where error.kind != .internalFailure {
            return try await entryPage(req, error: sentence(error.description), status: .conflict)
        }
        try await req.blockList.publish(req.db, clock: req.vigil.clock, actor: .user(user))
        return req.redirect(to: "/list/\(id)", redirectType: .normal)
    }

    // MARK: appeals

    struct AppealRow: Encodable {
        let reference: String
        let target: String
        let entryID: Int64?
        let grounds: String
        let state: String
        let outcome: String
        let received: String
        let open: Bool
    }

    struct AppealsPage: Encodable {
        let layout: Layout
        let rows: [AppealRow]
        let canDecide: Bool
        let error: String?
    }

    static func appeals(_ req: Request, error: String? = nil, status: HTTPResponseStatus = .ok) async throws -> Response
    {
        let (_, role) = try req.requireStaff()
        let rows = try await req.blockListStore.appeals(openOnly: false).map {
            AppealRow(
                reference: $0.reference,
                target: role == .auditor ? $0.target.replacingOccurrences(of: ".", with: "[.]") : $0.target,
                entryID: $0.entryID, grounds: $0.grounds, state: $0.state.rawValue, outcome: $0.outcome ?? "",
                received: Format.dateTime($0.createdAt), open: $0.state.isOpen)
        }
        return try await req.view.render(
            "list-appeals",
            AppealsPage(
                layout: Layout(req, title: "Appeals"), rows: rows, canDecide: [.supervisor, .admin].contains(role),
                error: error)
        )
        .encodeResponse(status: status, for: req)
    }

    struct DecideForm: Content {
        var decision: String
        var outcome: String?
    }

    static func decide(_ req: Request) async throws -> Response {
        let (user, _) = try req.requireStaff()
        let reference = req.parameters.get("reference") ?? ""
        let f = try req.content.decode(DecideForm.self)
        guard let decision = AppealDecision(rawValue: f.decision) else {
            throw Abort(.badRequest, reason: "The field 'decision' must be suspend, uphold or reject.")
        }
        do {
            _ = try await req.blockListStore.decideAppeal(
                reference, decision: decision, outcome: f.outcome ?? "", by: user)
        } catch let error as any VigilFailure where error.kind != .internalFailure {
            return try await appeals(req, error: sentence(error.description), status: .conflict)
        }
        try await req.blockList.publish(req.db, clock: req.vigil.clock, actor: .user(user))
        return req.redirect(to: "/list/appeals", redirectType: .normal)
    }

    // MARK: partners

    struct PartnerRow: Encodable {
        let partner: String
        let format: String
        let version: Int64
        let behind: Int64
        let time: String
    }

    struct PartnersPage: Encodable {
        let layout: Layout
        let rows: [PartnerRow]
        let current: Int64
    }

    /// Each partner's last feed download and how many versions behind it is.
    static func partners(_ req: Request) async throws -> View {
        let current = try await req.blockListStore.versions(limit: 1).first?.version ?? 0
        let rows = try await req.blockListStore.partnerCompliance().map {
            PartnerRow(
                partner: $0.partner, format: $0.format, version: $0.version, behind: current - $0.version,
                time: Format.dateTime($0.at))
        }
        return try await req.view.render(
            "list-partners", PartnersPage(layout: Layout(req, title: "Partners' feeds"), rows: rows, current: current))
    }
}
