import Foundation
import Vapor
import VigilCore
import VigilStore

/// The urgent path's pages: the on-call rota (who is alerted when a report says a child is in immediate danger, in
/// what order, and what happens when no one is on duty), the alerts waiting for someone, and the one-time
/// acknowledgement link an alert carries.
enum UrgentController {
    struct ShiftRow: Encodable {
        let id: Int64
        let order: Int
        let username: String
        let email: String
        let days: String
        let hours: String
        let onDuty: Bool
    }

    struct AlertRow: Encodable {
        let caseID: Int64
        let raised: String
        let state: String
        let step: String
        let acknowledged: String
    }

    struct Page: Encodable {
        let layout: Layout
        let shifts: [ShiftRow]
        let onDutyNow: String
        let timeZone: String
        let ackMinutes: String
        let fallback: String
        let webhook: Bool
        let lawEnforcement: String
        let alerts: [AlertRow]
        let canEdit: Bool
        let days: [Day]
        let error: String?
    }

    struct Day: Encodable {
        let value: Int
        let label: String
    }

    static let dayNames = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

    static func rota(_ req: Request, flash: String? = nil, error: String? = nil, status: HTTPResponseStatus = .ok)
        async throws -> Response
    {
        let (_, role) = try req.requireStaff()
        let c = try req.vigil.configuration
        let store = UrgentStore(db: req.db, clock: try req.vigil.clock)
        let zone = TimeZone(identifier: c.timeZone) ?? TimeZone(identifier: "UTC")!
        let shifts = try await store.shifts()
        let now = store.clock.now()
        let onDuty = OnCallRota(shifts: shifts.map(\.shift), timeZone: zone).onDuty(at: now)
        let rows = shifts.enumerated().map { i, s in
            ShiftRow(
                id: s.id, order: i + 1, username: s.shift.username, email: s.shift.email,
                days: s.shift.days.sorted().map { dayNames[$0 - 1] }.joined(separator: " "),
                hours: s.shift.start == s.shift.end
                    ? "all day" : "\(RotaShift.clock(s.shift.start))–\(RotaShift.clock(s.shift.end))",
                onDuty: s.shift.covers(now, in: zone))
        }
        let alerts = try await store.recentAlerts(limit: 20).map { a in
            AlertRow(
                caseID: a.caseID, raised: Format.dateTime(a.raisedAt), state: a.state,
                step: a.alert.map { v in
                    v.steps.isEmpty
                        ? "no recipient configured"
                        : "\(v.step + 1) of \(v.steps.count): \(v.steps[max(0, min(v.step, v.steps.count - 1))].name)"
                } ?? "being sent",
                acknowledged: a.acknowledgedBy.map { by in
                    "\(by), \(a.acknowledgedAt.map(Format.dateTime) ?? "")"
                } ?? "")
        }
        let minutes = UrgentAlert.minutes(c.urgentAckMinutes)
        return try await req.view.render(
            "rota",
            Page(
                layout: Layout(req, title: "On-call rota", flash: flash), shifts: rows,
                onDutyNow: onDuty.map(\.username).joined(separator: ", "), timeZone: zone.identifier,
                ackMinutes: minutes, fallback: c.urgentAlertTo.joined(separator: ", "),
                webhook: c.urgentAlertWebhook != nil, lawEnforcement: c.urgentLEContact ?? "",
                alerts: alerts, canEdit: Rules.rotaEditors.allows(role: role),
                days: (1...7).map { Day(value: $0, label: dayNames[$0 - 1]) }, error: error)
        ).encodeResponse(status: status, for: req)
    }

    struct ShiftForm: Content {
        var username: String
        var email: String
        var days: [Int]?
        var start: String
        var end: String
    }

    static func addShift(_ req: Request) async throws -> Response {
        let f = try req.content.decode(ShiftForm.self)
        let start = RotaShift.minutes(f.start)
        let end = RotaShift.minutes(f.end)
        let days = Set(f.days ?? [])
        if let problem = RotaShift.problem(
            username: f.username, email: f.email, days: days, start: start, end: end)
        {
            return try await rota(req, error: sentence(problem), status: .unprocessableEntity)
        }
        try await UrgentStore(db: req.db, clock: try req.vigil.clock).addShift(
            RotaShift(
                username: f.username.trimmingCharacters(in: .whitespaces),
                email: f.email.trimmingCharacters(in: .whitespaces), days: days, start: start ?? 0, end: end ?? 0),
            actor: req.auditActor)
        return try await rota(req, flash: "Shift added for \(f.username).")
    }

    static func removeShift(_ req: Request) async throws -> Response {
        guard let id = req.parameters.get("id").flatMap(Int64.init) else { throw Abort(.notFound) }
        do {
            try await UrgentStore(db: req.db, clock: try req.vigil.clock).removeShift(id, actor: req.auditActor)
        } catch let error as any VigilFailure where error.kind == .notFound {
            return try await rota(req, error: sentence(error.description), status: .notFound)
        }
        return try await rota(req, flash: "Shift removed.")
    }

    // MARK: the one-time acknowledgement link

    struct AckPage: Encodable {
        let layout: Layout
        let token: String
        let caseID: Int64
        let caseURL: String
        let done: Bool
        let acknowledgedBy: String
        let acknowledgedAt: String
    }

    /// The link in an alert: says what it is about and asks for one click (a link checker that opens it does not
    /// acknowledge by accident).
    static func ackPage(_ req: Request) async throws -> Response {
        let token = req.parameters.get("token") ?? ""
        guard let (alert, _, _) = try await UrgentStore(db: req.db, clock: try req.vigil.clock).link(token) else {
            throw Abort(.notFound, reason: "This acknowledgement link is not known.")
        }
        return try await render(req, token: token, alert: alert)
    }

    static func acknowledge(_ req: Request) async throws -> Response {
        let token = req.parameters.get("token") ?? ""
        let store = UrgentStore(db: req.db, clock: try req.vigil.clock)
        do {
            let alert = try await store.acknowledge(token: token)
            return try await render(req, token: token, alert: alert)
        } catch let error as any VigilFailure where error.kind == .notFound {
            throw Abort(.notFound, reason: "This acknowledgement link is not known.")
        } catch let error as any VigilFailure where error.kind == .conflict {
            // Someone else took it first: say who, so nobody duplicates the work.
            guard let (alert, _, _) = try await store.link(token) else { throw error }
            return try await render(req, token: token, alert: alert)
        }
    }

    static func render(_ req: Request, token: String, alert: UrgentStore.Alert) async throws -> Response {
        try await req.view.render(
            "urgent-ack",
            AckPage(
                layout: Layout(req, title: "Urgent report"), token: token, caseID: alert.caseID,
                caseURL: "/cases/\(alert.caseID)", done: alert.acknowledgedBy != nil,
                acknowledgedBy: alert.acknowledgedBy ?? "",
                acknowledgedAt: alert.acknowledgedAt.map(Format.dateTime) ?? "")
        ).encodeResponse(for: req)
    }
}

extension Rules {
    /// Who sees the rota and the alerts: the desk, law enforcement's liaison and auditors.
    static let rotaReaders = AccessRule.roles([.analyst, .supervisor, .admin, .leLiaison, .auditor])
    /// Who changes it.
    static let rotaEditors = AccessRule.roles([.supervisor, .admin])
}
