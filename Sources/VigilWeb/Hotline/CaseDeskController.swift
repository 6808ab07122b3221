import Vapor
import VigilApp
import VigilCore
import VigilFormats
import VigilStore

/// The analyst desk: the queue, the case page, claiming, assessment, decisions with four-eyes confirmation,
/// and law enforcement's holds and referral packages.
enum CaseDeskController {
    /// Assessments in a day after which an analyst is reminded to take a break.
    static let breakAfter = 20

    struct Row: Encodable {
        let id: Int64
        let kind: String
        let target: String
        let state: String
        let danger: Bool
        let reports: Int
        let deadline: String
        let overdue: Bool
        let claimedBy: String
        let held: Bool
        var known = false
    }

    struct QueuePage: Encodable {
        let layout: Layout
        let rows: [Row]
        let total: Int
        var kind = ""
        var state = ""
        var danger = false
        var kinds: [String] = ReportKind.allCases.map(\.rawValue)
        var states: [String] = CaseState.allCases.map(\.rawValue)
        var previous: String?
        var next: String?
        let assessedToday: Int
        let breakReminder: Bool
    }

    /// `hxxp://` and `[.]` so a reported address is never a live link.
    static func defang(_ s: String?) -> String {
        guard let s else { return "" }
        return s.replacingOccurrences(of: "http", with: "hxxp").replacingOccurrences(of: ".", with: "[.]")
    }

    static func queue(_ req: Request) async throws -> View {
        let (user, _) = try req.requireStaff()
        let now = try req.vigil.clock.now()
        let kind = req.query[String.self, at: "kind"] ?? ""
        let state = req.query[String.self, at: "state"] ?? ""
        let danger = req.query[String.self, at: "danger"] == "1"
        let page = max(1, min(req.query[Int.self, at: "page"] ?? 1, 100_000))
        let (cases, total) = try await req.hotlineStore.queue(
            kind: ReportKind(rawValue: kind) == nil ? nil : kind,
            state: CaseState(rawValue: state) == nil ? nil : state,
            dangerOnly: danger, page: page, per: 50)
        func link(_ p: Int) -> String {
            var c = URLComponents()
            c.queryItems = [
                URLQueryItem(name: "kind", value: kind), URLQueryItem(name: "state", value: state),
                URLQueryItem(name: "danger", value: danger ? "1" : ""), URLQueryItem(name: "page", value: String(p)),
            ]
            return "/cases?" + (c.percentEncodedQuery ?? "")
        }
        let known = try await req.hotlineStore.keysSeenElsewhere(cases)
        let rows = cases.map { c in
            Row(
                id: c.id, kind: c.kind, target: defang(c.key), state: c.state.rawValue, danger: c.danger,
                reports: c.reportCount,
                deadline: Format.dateTime(c.deadline), overdue: c.deadline < now, claimedBy: c.claimedBy ?? "",
                held: c.workflow.isHeld(at: now),
                known: known.contains(c.id))
        }
        let mine = try await req.hotlineStore.assessmentsPerAnalyst(on: now)[user] ?? 0
        var pageContext = QueuePage(
            layout: Layout(req, title: "Reports"), rows: rows, total: total, assessedToday: mine,
            breakReminder: mine >= breakAfter)
        pageContext.kind = kind
        pageContext.state = state
        pageContext.danger = danger
        pageContext.previous = page > 1 ? link(page - 1) : nil
        pageContext.next = page * 50 < total ? link(page + 1) : nil
        return try await req.view.render("cases", pageContext)
    }

    struct ReportRow: Encodable {
        let reference: String
        let kind: String
        let target: String
        let details: String
        let concerns: String
        let received: String
        let language: String
        let source: String
        let contact: Bool
    }

    /// A button of the case desk: offered only when the workflow would accept it; disabled with the workflow's reason
    /// when it refuses for a reason other than the case's state (another analyst's claim, four eyes).
    struct ActionButton: Encodable {
        let value: String
        let label: String
        let disabled: Bool
        let reason: String
    }

    /// The desk's buttons for `user` on this workflow, from the workflow itself (not a second list of rules).
    /// - Parameter hostingCountry: where the content is hosted, when known and not here: the desk offers to refer
    ///   the case to that country's partner hotline.
    static func actionButtons(_ wf: CaseWorkflow, user: String, at now: Date, hostingCountry: String? = nil)
        -> [ActionButton]
    {
        var candidates: [(String, String, CaseEvent)] = [
            ("claim", "Claim", .claim(by: user)), ("unclaim", "Unclaim", .unclaim(by: user)),
            ("propose-list-entry", "Propose list entry", .proposeListEntry(by: user)),
            ("request-notice", "Request notice", .requestNotice(by: user)),
            ("refer-law-enforcement", "Refer to law enforcement", .referToLawEnforcement(by: user)),
            ("confirm", "Confirm pending decision", .confirm(by: user)),
            ("decline", "Decline pending decision", .decline(by: user)),
            ("close", "Close", .close(by: user)), ("reopen", "Reopen", .reopen(by: user)),
        ]
        if let country = hostingCountry {
            candidates.insert(
                (
                    "refer-partner", "Refer to the partner hotline in \(country)",
                    .referToPartner(country: country, by: user)
                ), at: 4)
        }
        return candidates.compactMap { value, label, event in
            switch wf.refusal(of: event, at: now) {
            case nil: return ActionButton(value: value, label: label, disabled: false, reason: "")
            case .notAllowed?, .alreadyDecided?, .outcomeDoesNotAllow?, .notClaimed?, .notHeld?: return nil
            case .alreadyClaimed(let who)? where who == user: return nil  // one's own claim: Unclaim is offered
            case let refusal?:
                return ActionButton(value: value, label: label, disabled: true, reason: sentence(refusal.description))
            }
        }
    }

    struct CasePage: Encodable {
        let layout: Layout
        let actions: [ActionButton]
        let id: Int64
        let state: String
        let target: String
        let rawTarget: String
        let danger: Bool
        let claimedBy: String
        let mine: Bool
        let held: Bool
        let heldUntil: String
        /// When the hold lets notices leave (empty when it keeps them back throughout).
        let notifyAfter: String
        /// Whether notices are kept back now.
        let noticesHeld: Bool
        let holdReason: String?
        let isLE: Bool
        let assessment: String
        let pending: [String]
        let decided: [String]
        let reports: [ReportRow]
        let timeline: [AuditController.Row]
        let outcomes: [String]
        let mediaTypes: [String]
        let ageGroups: [String]
        let provisions: [String]
        let categories: [String]
        let error: String?
        /// Where the content is hosted, and the notices sent for it (notice and takedown).
        var hosting: HostingView?
        var notices: [NoticeRow] = []
        var canEditHosting = false
        /// The latest attribution found the hosting different from the one before (a notice may have gone to the wrong place).
        var hostingChanged = false
        /// Why Vigil will not fetch the reported address (loopback, private, …); empty when it may.
        var notFetched = ""
        /// What passed between this case and partner hotlines (federation), oldest first.
        var partners: [PartnerRow] = []
        /// The urgent alerts about this case, in words ("acknowledged by ana at …").
        var urgent: [String] = []
        /// Whether this user may say a child is in immediate danger (analysts, when the case does not say so yet).
        var canFlagDanger = false
    }

    struct PartnerRow: Encodable {
        let time: String
        let partner: String
        let what: String
    }

    /// The case's federation timeline: who referred it to us, what we sent (and whether it arrived), and what the
    /// partners answered about our referrals.
    static func partnerRows(caseID: Int64, store: FederationStore) async throws -> [PartnerRow] {
        var rows: [(Date, PartnerRow)] = []
        for link in try await store.links(caseID: caseID) {
            rows.append(
                (
                    link.created,
                    PartnerRow(
                        time: Format.dateTime(link.created), partner: link.partner,
                        what: "referred this to us (their case \(link.theirCase))")
                ))
        }
        let outgoing = try await store.outgoing(caseRef: FederationService.reference(caseID))
        for m in outgoing {
            let fate: String =
                switch m.state {
                case .delivered: "delivered \(m.delivered.map(Format.dateTime) ?? "")"
                case .failed: "refused: \(m.lastError ?? "")"
                case .pending:
                    m.attempts == 0
                        ? "waiting to be sent" : "not delivered yet (\(m.attempts) tries; \(m.lastError ?? ""))"
                }
            let what = m.type == "referral" ? "referral sent" : "\(m.type) sent (\(Self.state(of: m.message)))"
            rows.append(
                (m.created, PartnerRow(time: Format.dateTime(m.created), partner: m.partner, what: "\(what): \(fate)")))
        }
        let referrals = outgoing.filter { $0.type == "referral" }.map(\.messageID)
        let answers = try await store.answers(toReferrals: referrals)
        let countries =
            answers.isEmpty
            ? [:]
            : Dictionary(try await store.partners().map { ($0.name, $0.countries.joined(separator: "/")) }) { a, _ in a
            }
        for a in answers {
            rows.append(
                (
                    a.received,
                    PartnerRow(
                        time: Format.dateTime(a.received), partner: a.partner,
                        what: Self.answer(a.message, country: countries[a.partner] ?? a.partner))
                ))
        }
        return rows.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// A partner's status or known answer in words: "removed in XB at …", "assessed there: baseline".
    /// - Parameter country: Where the partner works (its countries), named in a removal.
    static func answer(_ json: String, country: String) -> String {
        guard let m = try? JSONDecoder().decode(FederationMessage.self, from: Data(json.utf8)) else { return json }
        if let k = m.known { return "already known there: \(k.outcome) (their case \(k.reference ?? m.case))" }
        guard let s = m.status else { return m.type.rawValue }
        let at = FederationSigning.date(s.at).map(Format.dateTime) ?? s.at
        switch s.state {
        case .removed: return "removed in \(country) at \(at)"
        case .assessed: return "assessed there: \(s.outcome ?? "")"
        case .noticeSent: return "notice sent to the host at \(at)"
        case .declined: return "declined: \(s.reason ?? "")"
        case .unreachable: return "content unreachable there\(s.reason.map { ": \($0)" } ?? "")"
        case .received: return "received (their case \(s.reference ?? m.case))"
        }
    }

    static func state(of json: String) -> String {
        guard let m = try? JSONDecoder().decode(FederationMessage.self, from: Data(json.utf8)) else { return "" }
        return m.status?.state.rawValue ?? m.known?.outcome ?? ""
    }

    struct HostingView: Encodable {
        let country: String
        let network: String
        let contact: String
        let registrarContact: String
        let source: String
        let updated: String
        let details: String
    }

    struct NoticeRow: Encodable {
        let id: Int64
        let contact: String
        let route: String
        let state: String
        let sends: Int
        let firstSent: String
        let removed: String
        let urls: Int
        let lastError: String
        /// The latest bounce, in a line (empty when none came back).
        let bounce: String

        /// One notice, with its latest bounce read from the store.
        static func of(_ n: NoticeStore.Notice, store: NoticeStore) async throws -> NoticeRow {
            let bounce = try await store.bounces(noticeID: n.id).first.map { b in
                [
                    b.action, b.status ?? "", b.recipient.map { "for \($0)" } ?? "",
                    b.diagnostic.map { "— \($0)" } ?? "",
                    "(\(b.source == "relay" ? "refused by the relay" : "bounce received") \(Format.dateTime(b.receivedAt)))",
                ]
                .filter { !$0.isEmpty }.joined(separator: " ")
            }
            return NoticeRow(
                id: n.id, contact: n.contact, route: n.route, state: n.state.rawValue, sends: n.sends,
                firstSent: n.firstSentAt.map(Format.dateTime) ?? "", removed: n.removedAt.map(Format.dateTime) ?? "",
                urls: n.items.count, lastError: n.lastError ?? "", bounce: bounce ?? "")
        }
    }

    static func casePage(_ req: Request, error: String? = nil, status: HTTPResponseStatus = .ok) async throws
        -> Response
    {
        let (user, role) = try req.requireStaff()
        let id = try caseID(req)
        guard let (c, reports) = try await req.hotlineStore.caseDetail(id),
            c.isVisible(to: role, user: user)
        else {
            throw Abort(.notFound, reason: "There is no case \(id).")
        }
        // Opening the case acknowledges its urgent alerts: someone is on it, nobody else needs waking.
        let urgent = UrgentStore(db: req.db, clock: try req.vigil.clock)
        // Only the desk's own staff: a liaison reading a referred case does not stop the hotline's escalation.
        if [.analyst, .supervisor, .admin].contains(role) { try await urgent.acknowledgeOnOpen(caseID: id, by: user) }
        let now = try req.vigil.clock.now()
        let (events, _) = try await AuditLog.list(on: req.db, filter: .init(subject: "case:\(id)"), page: 1, per: 200)
        let wf = c.workflow
        let isLE = role == .leLiaison
        let notices = NoticeStore(db: req.db, clock: try req.vigil.clock)
        let hosting = try await notices.hosting(caseID: id)
        let page = CasePage(
            layout: Layout(req, title: "Case \(id)"),
            actions: Self.actionButtons(
                wf, user: user, at: now, hostingCountry: hosting?.country.flatMap { $0.count == 2 ? $0 : nil }),
            id: id,
            state: c.state.rawValue, target: defang(c.key),
            rawTarget: c.key ?? "",
            danger: c.danger, claimedBy: c.claimedBy ?? "", mine: c.claimedBy == user, held: wf.isHeld(at: now),
            heldUntil: wf.hold.map { Format.dateTime($0.expiresAt) } ?? "",
            notifyAfter: wf.hold?.notifyAfter.map(Format.dateTime) ?? "", noticesHeld: wf.holdsNotices(at: now),
            holdReason: isLE ? wf.hold?.reason : nil, isLE: isLE,
            assessment: wf.assessment.map {
                "\($0.outcome.rawValue)" + ($0.legalProvision.map { " · \($0)" } ?? "")
                    + ($0.category.map { " · \($0)" } ?? "")
            } ?? "",
            pending: wf.pending.map { "\($0.decision) proposed by \($0.proposedBy)" },
            decided: wf.decided.map(\.description),
            reports: reports.map { r in
                ReportRow(
                    reference: r.reference, kind: r.payload.kind, target: defang(r.payload.target ?? r.payload.profile),
                    details: r.payload.details ?? "",
                    concerns: r.payload.concerns.joined(separator: ", "), received: Format.dateTime(r.receivedAt),
                    language: r.language, source: r.source, contact: r.hasContact)
            },
            timeline: events.reversed().map {
                AuditController.Row(
                    sequence: $0.sequence, time: Format.dateTime($0.time), actor: $0.actor.display, action: $0.action,
                    subject: $0.subject,
                    details: $0.detailsJSON == "{}" ? "" : $0.detailsJSON, hash: String($0.hash.prefix(12)))
            },
            outcomes: AssessmentOutcome.allCases.map(\.rawValue), mediaTypes: ContentMediaType.allCases.map(\.rawValue),
            ageGroups: ApparentAgeGroup.allCases.map(\.rawValue),
            provisions: try req.vigil.configuration.legalProvisions,
            categories: try req.vigil.configuration.contentCategories, error: error)
        var full = page
        full.hosting = hosting.map {
            HostingView(
                country: $0.country ?? "", network: $0.network ?? "", contact: $0.abuseContact ?? "",
                registrarContact: $0.registrarContact ?? "", source: $0.source,
                updated: "\($0.updatedBy), \(Format.dateTime($0.updatedAt))", details: $0.details ?? "")
        }
        full.urgent = try await urgent.alerts(caseID: id).map { a in
            if let by = a.acknowledgedBy {
                return "Urgent alert raised \(Format.dateTime(a.raisedAt)), acknowledged by \(by) at "
                    + (a.acknowledgedAt.map(Format.dateTime) ?? "")
            }
            return "Urgent alert raised \(Format.dateTime(a.raisedAt)): \(a.state), nobody has acknowledged it yet"
        }
        full.canFlagDanger = !c.danger && [.analyst, .supervisor, .admin].contains(role)
        full.notices = []
        for n in try await notices.notices(forCase: id) {
            full.notices.append(try await NoticeRow.of(n, store: notices))
        }
        full.canEditHosting = [.analyst, .supervisor, .admin].contains(role)
        full.notFetched = notFetchedReason(c.key, policy: try req.vigil.configuration.fetchPolicy) ?? ""
        full.hostingChanged =
            events.first { $0.action == "case.attributed" }?.detailsJSON.contains(#""changed":"true""#) ?? false
        full.partners = try await partnerRows(
            caseID: id, store: FederationStore(db: req.db, clock: try req.vigil.clock))
        return try await req.view.render("case", full).encodeResponse(status: status, for: req)
    }

    /// Reports of private addresses are accepted (people do see them) but flagged, and never fetched: why, for a
    /// URL whose host is such an address or a localhost name. Names that resolve to one are refused when fetched.
    static func notFetchedReason(_ key: String?, policy: OutboundAddressPolicy) -> String? {
        guard let key, let host = CanonicalURL.host(of: key.contains("://") ? key : "http://" + key) else {
            return nil
        }
        if host == "localhost" || host.hasSuffix(".localhost") { return "a localhost name" }
        return IPAddress(host: host).flatMap(policy.refusal(for:)).map { "a \($0) address" }
    }

    static func caseID(_ req: Request) throws -> Int64 {
        guard let id = req.parameters.get("id", as: Int64.self) else {
            throw Abort(.notFound, reason: "There is no such case.")
        }
        return id
    }

    struct ActionForm: Content {
        let action: String
        var outcome: String?
        var legal_provision: String?
        var category: String?
        var media_type: String?
        var age_group: String?
        var notes: String?
        var country: String?
        var reason: String?
        var days: Int?
        /// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM` (UTC): from then notices may leave although the hold goes on.
        var notify_after: String?
    }

    /// Reads the hold form's optional notify-after date (UTC), or nil when it is left empty.
    static func notifyAfter(_ text: String?) throws -> Date? {
        guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        for format in ["yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd"] {
            f.dateFormat = format
            if let d = f.date(from: text) { return d }
        }
        throw Abort(
            .badRequest,
            reason:
                "The field 'notify_after' must be a date (YYYY-MM-DD) or a date and time (YYYY-MM-DDTHH:MM), in UTC.")
    }

    /// Every change to a case goes through here: the form names the event; the workflow decides.
    static func act(_ req: Request) async throws -> Response {
        let (user, role) = try req.requireStaff()
        let id = try caseID(req)
        if role == .leLiaison {
            guard let c = try await req.hotlineStore.caseSummary(id),
                c.isVisible(to: role, user: user)
            else { throw Abort(.notFound, reason: "There is no case \(id).") }
        }
        let f = try req.content.decode(ActionForm.self)
        let now = try req.vigil.clock.now()
        let analystRoles: Set<Role> = [.analyst, .supervisor, .admin]
        if f.action == "flag-danger" {
            // Not a workflow step: the case goes to the top of the queue and the on-call rota is alerted.
            guard analystRoles.contains(role) else {
                throw Abort(.forbidden, reason: "Only analysts say a child is in immediate danger.")
            }
            if try await req.hotlineStore.caseSummary(id)?.state == .closed {
                return try await casePage(
                    req, error: "The case is closed: reopen it first, then say a child is in immediate danger.",
                    status: .conflict)
            }
            try await UrgentStore(db: req.db, clock: try req.vigil.clock).flagDanger(caseID: id, actor: .user(user))
            return req.redirect(to: "/cases/\(id)", redirectType: .normal)
        }
        let event: CaseEvent
        switch f.action {
        case "claim": event = .claim(by: user)
        case "unclaim": event = .unclaim(by: user)
        case "assess":
            guard let outcome = f.outcome.flatMap(AssessmentOutcome.init(rawValue:)) else {
                throw Abort(.badRequest, reason: "The field 'outcome' is required.")
            }
            event = .assess(
                CaseAssessment(
                    outcome: outcome, legalProvision: f.legal_provision.flatMap { $0.isEmpty ? nil : $0 },
                    category: f.category.flatMap { $0.isEmpty ? nil : $0 },
                    mediaType: f.media_type.flatMap(ContentMediaType.init(rawValue:)),
                    apparentAgeGroup: f.age_group.flatMap(ApparentAgeGroup.init(rawValue:)), notes: f.notes ?? ""),
                by: user)
        case "propose-list-entry": event = .proposeListEntry(by: user)
        case "request-notice": event = .requestNotice(by: user)
        case "refer-law-enforcement": event = .referToLawEnforcement(by: user)
        case "refer-partner":
            guard let country = f.country, country.count == 2 else {
                throw Abort(.badRequest, reason: "The field 'country' must be a two-letter country code.")
            }
            event = .referToPartner(country: country.uppercased(), by: user)
        case "confirm": event = .confirm(by: user)
        case "decline": event = .decline(by: user)
        case "close": event = .close(by: user)
        case "reopen": event = .reopen(by: user)
        case "hold":
            guard role == .leLiaison else {
                throw Abort(.forbidden, reason: "Only law-enforcement liaison staff place holds.")
            }
            guard let reason = f.reason, !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw Abort(.badRequest, reason: "The field 'reason' is required.")
            }
            let days = max(1, min(f.days ?? 30, 365))
            event = .placeHold(
                CaseHold(
                    reason: reason, expiresAt: now + Double(days) * 86400, placedBy: user,
                    notifyAfter: try Self.notifyAfter(f.notify_after)))
        case "lift-hold":
            guard role == .leLiaison else {
                throw Abort(.forbidden, reason: "Only law-enforcement liaison staff lift holds.")
            }
            event = .liftHold(by: user)
        default: throw Abort(.badRequest, reason: "The field 'action' is not a known action.")
        }
        if !["hold", "lift-hold"].contains(f.action), !analystRoles.contains(role) {
            throw Abort(.forbidden, reason: "Only analysts change a case's assessment and decisions.")
        }
        do {
            try await req.hotlineStore.apply(event, to: id, actor: .user(user))
        } catch let error as any VigilFailure where error.kind == .conflict || error.kind == .invalid {
            return try await casePage(
                req, error: error.description, status: error.kind == .invalid ? .unprocessableEntity : .conflict)
        }
        return req.redirect(to: "/cases/\(id)", redirectType: .normal)
    }

    struct HostingForm: Content {
        var country: String?
        var network: String?
        var abuse_contact: String?
        var registrar_contact: String?
    }

    /// An analyst records (or corrects) where the content is hosted: the country, the network and the abuse contact
    /// notices go to. Audited on the case.
    static func setHosting(_ req: Request) async throws -> Response {
        let (user, _) = try req.requireStaff()
        let id = try caseID(req)
        let f = try req.content.decode(HostingForm.self)
        let notices = NoticeStore(db: req.db, clock: try req.vigil.clock)
        let before = try await notices.hosting(caseID: id)?.country
        do {
            try await NoticeStore(db: req.db, clock: req.vigil.clock).setHosting(
                caseID: id, country: f.country, network: f.network, abuseContact: f.abuse_contact,
                registrarContact: f.registrar_contact,
                source: "analyst", by: .user(user))
        } catch let error as any VigilFailure where error.kind != .internalFailure {
            return try await casePage(req, error: sentence(error.description), status: .unprocessableEntity)
        }
        // Assessed content hosted where a partner hotline works goes to it (after a second analyst under four eyes);
        // saving the same country again does not propose a referral a second analyst declined.
        if try await notices.hosting(caseID: id)?.country != before {
            try await PartnerRouter(
                db: req.db, clock: req.vigil.clock, ownCountry: try req.vigil.configuration.country
            ).routeIfDue(caseID: id)
        }
        return req.redirect(to: "/cases/\(id)", redirectType: .normal)
    }

    // MARK: law enforcement

    static func referred(_ req: Request) async throws -> View {
        let now = try req.vigil.clock.now()
        let page = max(1, min(req.query[Int.self, at: "page"] ?? 1, 100_000))
        let (cases, total) = try await req.hotlineStore.referredToLawEnforcement(page: page, per: 50)
        let rows = cases.map { c in
            Row(
                id: c.id, kind: c.kind, target: defang(c.key), state: c.state.rawValue, danger: c.danger,
                reports: c.reportCount,
                deadline: Format.dateTime(c.deadline), overdue: false, claimedBy: c.claimedBy ?? "",
                held: c.workflow.isHeld(at: now))
        }
        var context = QueuePage(
            layout: Layout(req, title: "Referred to law enforcement"), rows: rows, total: total, assessedToday: 0,
            breakReminder: false)
        context.previous = page > 1 ? "/le/referred?page=\(page - 1)" : nil
        context.next = page * 50 < total ? "/le/referred?page=\(page + 1)" : nil
        return try await req.view.render("cases", context)
    }

    struct Referral: Content {
        struct Report: Content {
            let reference: String
            let kind: String
            let target: String?
            let details: String?
            let concerns: [String]
            let receivedAt: Date
            let source: String
            let incidentTime: String?
            let reportedUsers: [String]?
            let fileHashes: [String]?
        }
        let caseID: Int64
        let target: String?
        let state: String
        let assessment: CaseAssessment?
        let decisions: [String]
        let reports: [Report]
        let generatedAt: Date
        let generatedBy: String
    }

    /// The referral package: JSON (`?format=json`) or a readable page; every download is audited.
    static func referral(_ req: Request) async throws -> Response {
        let (user, role) = try req.requireStaff()
        let id = try caseID(req)
        guard let (c, reports) = try await req.hotlineStore.caseDetail(id),
            c.isVisible(to: role, user: user)
        else {
            throw Abort(.notFound, reason: "There is no case \(id).")
        }
        let now = try req.vigil.clock.now()
        let package = Referral(
            caseID: id, target: c.key, state: c.state.rawValue, assessment: c.workflow.assessment,
            decisions: c.workflow.decided.map(\.description),
            reports: reports.map {
                Referral.Report(
                    reference: $0.reference, kind: $0.payload.kind, target: $0.payload.target ?? $0.payload.profile,
                    details: $0.payload.details,
                    concerns: $0.payload.concerns, receivedAt: $0.receivedAt, source: $0.source,
                    incidentTime: $0.payload.incidentTime, reportedUsers: $0.payload.reportedUsers,
                    fileHashes: $0.payload.fileHashes)
            },
            generatedAt: now, generatedBy: user)
        let json = req.query[String.self, at: "format"] == "json"
        try await req.db.transaction { tx in
            try await AuditLog.append(
                on: tx, at: now, actor: .user(user), action: "case.referral-downloaded", subject: "case:\(id)",
                details: ["format": json ? "json" : "html"])
        }
        if json {
            let res = Response(status: .ok)
            try res.content.encode(
                package,
                using: {
                    let e = JSONEncoder(); e.dateEncodingStrategy = .iso8601;
                    e.outputFormatting = [.prettyPrinted, .sortedKeys]; return e
                }())
            res.headers.replaceOrAdd(
                name: .contentDisposition, value: "attachment; filename=\"referral-case-\(id).json\"")
            return res
        }
        struct Page: Encodable { let layout: Layout; let p: Referral; let target: String; let generated: String }
        return try await req.view.render(
            "referral",
            Page(
                layout: Layout(req, title: "Referral package: case \(id)"), p: package, target: defang(c.key),
                generated: Format.dateTime(now))
        ).encodeResponse(for: req)
    }
}

extension HotlineStore.CaseSummary {
    /// Need-to-know (``Role/mayOpenCase(referred:holdPlacedBy:user:)``) for this case.
    func isVisible(to role: Role, user: String) -> Bool {
        role.mayOpenCase(referred: referredAt != nil, holdPlacedBy: workflow.hold?.placedBy, user: user)
    }
}
