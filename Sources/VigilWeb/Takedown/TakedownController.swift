import Vapor
import VigilCore
import VigilStore

/// The supervisors' view of notice and takedown: time from report to removal (INHOPE's measure) and its parts, by
/// month, hosting country and provider, as a chart readable without JavaScript and as CSV; notices that bounced or
/// were escalated.
enum TakedownController {
    struct Group: Encodable {
        let label: String
        let cases: Int
        let removed: Int
        let median: String
        let p90: String
        let within1: String
        let within3: String
    }

    struct Page: Encodable {
        let layout: Layout
        let overall: [Group]
        let stages: [Group]
        let byMonth: [Group]
        let byCountry: [Group]
        let byProvider: [Group]
        let chart: String
        let escalated: [CaseDeskController.NoticeRow]
        let open: Int
        /// Cross-border: referrals to and from partner hotlines.
        var partners: [PartnerGroup] = []
        /// The urgent path: time to acknowledge alerts about a child in immediate danger, by month.
        var urgent: [UrgentMonth] = []
    }

    struct UrgentMonth: Encodable {
        let month: String
        let raised: Int
        let acknowledged: Int
        /// Minutes from the alert to its acknowledgement.
        let median: String
        let p90: String
    }

    struct PartnerGroup: Encodable {
        let partner: String
        let countries: String
        let sent: Int
        let delivered: Int
        /// Median hours from our first assessment to the partner's receipt.
        let toReceipt: String
        let removed: Int
        let median: String
        let within3: String
        let received: Int
    }

    static func partnerGroups(_ figures: [FederationStore.PartnerFigures]) -> [PartnerGroup] {
        figures.map { f in
            let receipt = DurationSummary(f.toReceipt, total: f.delivered)
            let removal = DurationSummary(f.reportToRemoval, total: f.sent)
            return PartnerGroup(
                partner: f.partner, countries: f.countries.joined(separator: ", "), sent: f.sent,
                delivered: f.delivered,
                toReceipt: receipt.median.map { String(format: "%.1f", $0 / 3600) } ?? "—",
                removed: f.reportToRemoval.count, median: days(removal.median), within3: share(removal.withinThreeDays),
                received: f.received)
        }
    }

    static func days(_ t: TimeInterval?) -> String { t.map { String(format: "%.2f", $0 / 86_400) } ?? "—" }
    static func share(_ s: Double?) -> String { s.map { String(format: "%.0f%%", $0 * 100) } ?? "—" }

    static func group(
        _ label: String, _ timelines: [NoticeStore.Timeline],
        _ measure: (NoticeStore.Timeline) -> TimeInterval? = { $0.reportToRemoval }
    ) -> Group {
        let values = timelines.compactMap(measure)
        let s = DurationSummary(values, total: timelines.count)
        return Group(
            label: label, cases: timelines.count, removed: timelines.filter { $0.removedAt != nil }.count,
            median: days(s.median), p90: days(s.p90), within1: share(s.withinOneDay), within3: share(s.withinThreeDays))
    }

    static func grouped(_ timelines: [NoticeStore.Timeline], by key: (NoticeStore.Timeline) -> String) -> [Group] {
        Dictionary(grouping: timelines, by: key).sorted { $0.key < $1.key }.map { group($0.key, $0.value) }
    }

    static func timelines(_ req: Request) async throws -> [NoticeStore.Timeline] {
        try await NoticeStore(db: req.db, clock: req.vigil.clock).timelines()
    }

    static func page(_ req: Request) async throws -> View {
        let t = try await timelines(req)
        let byMonth = grouped(t) { Month(containing: $0.reportedAt).description }
        let table = FigureTable(
            columns: ["median", "p90"],
            rows: byMonth.map {
                .init(label: $0.label, values: [Double($0.median) ?? 0, Double($0.p90) ?? 0])
            }, unit: .days)
        let chart = SVGChart.bars(
            table, title: "Days from report to removal, by month reported", rowLabels: byMonth.map(\.label),
            columnTitles: ["Median", "90th percentile"])
        let store = NoticeStore(db: req.db, clock: try req.vigil.clock)
        var escalated: [CaseDeskController.NoticeRow] = []
        for n in try await store.notices(state: .bounced) + store.notices(state: .escalated) {
            escalated.append(try await .of(n, store: store))
        }
        let open = try await store.openItems(limit: 100_000).count
        var page = Page(
            layout: Layout(req, title: "Notice and takedown"), overall: [group("All noticed cases", t)],
            stages: [
                group("Report to assessment", t) { $0.assessmentTime },
                group("Assessment to notice", t) { $0.assessmentToNotice },
                group("Notice to removal", t) { $0.noticeToRemoval }, group("Report to removal", t),
            ],
            byMonth: byMonth, byCountry: grouped(t) { $0.country ?? "unknown" },
            byProvider: grouped(t) { $0.contact },
            chart: chart, escalated: escalated, open: open)
        page.partners = partnerGroups(try await FederationStore(db: req.db, clock: try req.vigil.clock).figures())
        page.urgent = try await UrgentStore(db: req.db, clock: try req.vigil.clock).ackFigures().map { f in
            UrgentMonth(
                month: f.month.description, raised: f.raised, acknowledged: f.acknowledged,
                median: f.median.map { String(format: "%.1f", $0 / 60) } ?? "—",
                p90: f.p90.map { String(format: "%.1f", $0 / 60) } ?? "—")
        }
        return try await req.view.render("takedown", page)
    }

    /// One row per noticed case: its times and durations in days (no address).
    static func csv(_ req: Request) async throws -> Response {
        var rows = [
            ["case", "country", "provider", "reported", "assessed", "noticed", "removed", "report_to_removal_days"]
        ]
        for t in try await timelines(req) {
            rows.append([
                String(t.caseID), t.country ?? "", t.contact, Format.dateTime(t.reportedAt),
                t.assessedAt.map(Format.dateTime) ?? "",
                t.noticeAt.map(Format.dateTime) ?? "", t.removedAt.map(Format.dateTime) ?? "",
                t.reportToRemoval.map { String(format: "%.3f", $0 / 86_400) } ?? "",
            ])
        }
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: "text/csv; charset=utf-8")
        headers.replaceOrAdd(name: .contentDisposition, value: "attachment; filename=\"takedown-times.csv\"")
        return Response(status: .ok, headers: headers, body: .init(string: CSVText.document(rows)))
    }
}
