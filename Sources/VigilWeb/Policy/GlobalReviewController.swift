import Vapor
import VigilCore
import VigilStore

/// The global legislation review: the 2009 table as printed (public), filterable and sortable without script,
/// with its summary counts and a chart per criterion; the operator's country highlighted, and its row kept up to
/// date by an administrator beside the original.
enum GlobalReviewController {
    struct Option: Encodable {
        let value: String
        let label: String
        let selected: Bool
    }

    struct Row: Encodable {
        let country: String
        let marks: [Bool]
        let score: Int
        let footnotes: String
        let own: Bool
    }

    struct OwnRow: Encodable {
        let label: String
        let original: String
        let today: String
    }

    struct Own: Encodable {
        let country: String
        let heading: String
        let rows: [OwnRow]
        let edited: Bool
        let todayHeading: String
        let note: String?
    }

    struct Page: Encodable {
        let layout: PublicController.PublicLayout
        let criteria: [String]
        let rows: [Row]
        let filters: [Option]
        let sorts: [Option]
        let search: String
        let shown: String
        let summary: [Option]
        let chart: String
        let chartRows: [Option]
        let own: Own?
        let csvHref: String
        let countrySortHref: String
        let scoreSortHref: String
    }

    struct Query {
        var filter: GlobalReview.Filter
        var search: String
        var sort: GlobalReview.Sort
        var descending: Bool
    }

    static func query(_ req: Request) -> Query {
        Query(
            filter: req.query[String.self, at: "filter"].flatMap(GlobalReview.Filter.init(rawValue:)) ?? .all,
            search: String((req.query[String.self, at: "q"] ?? "").prefix(100)),
            sort: req.query[String.self, at: "sort"].flatMap(GlobalReview.Sort.init(rawValue:)) ?? .country,
            descending: req.query[String.self, at: "order"] == "desc")
    }

    /// A column heading's link: sorts by that column keeping the filter and the search; a second click reverses.
    static func sortHref(_ sort: GlobalReview.Sort, _ q: Query) -> String {
        var items = [
            URLQueryItem(name: "filter", value: q.filter.rawValue), URLQueryItem(name: "sort", value: sort.rawValue),
        ]
        if !q.search.isEmpty { items.append(URLQueryItem(name: "q", value: q.search)) }
        if q.sort == sort && !q.descending { items.append(URLQueryItem(name: "order", value: "desc")) }
        var c = URLComponents()
        c.path = "/global-review"
        c.queryItems = items
        return c.string ?? "/global-review"
    }

    static func page(_ req: Request) async throws -> Response {
        let l = try req.localizer
        let review = try req.policy.review
        let q = query(req)
        let config = try req.vigil.configuration
        let ownName = try req.policy.ownRow(config)?.country
        let criteria = GlobalReview.Criterion.allCases
        let rows = review.rows(filter: q.filter, search: q.search, sort: q.sort, descending: q.descending).map { r in
            Row(
                country: r.country, marks: criteria.map { r.meets($0) }, score: r.score,
                footnotes: r.footnotes.map(String.init).joined(separator: ", "), own: r.country == ownName)
        }
        let s = review.summary
        // The chart: countries meeting each criterion.
        let table = FigureTable(
            columns: ["countries"],
            rows: criteria.map { .init(label: $0.rawValue, values: [Double(s.meeting[$0] ?? 0)]) })
        let criterionLabels = criteria.map { l($0.messageKey) }
        let chart = SVGChart.bars(
            table, title: l("review.chart.heading"), rowLabels: criterionLabels, columnTitles: [l("review.country")])
        var own: Own?
        if let name = ownName, let row = review.row(named: name) {
            let edit = try await req.policyStore.reviewEdit(country: name)
            let yes = l("review.yes"), no = l("review.no")
            own = Own(
                country: name, heading: l("review.own.heading", ["country": name]),
                rows: zip(criteria, criterionLabels).map { c, label in
                    OwnRow(
                        label: label, original: row.meets(c) ? yes : no,
                        today: edit.map { $0.meets.contains(c) ? yes : no } ?? "—")
                },
                edited: edit != nil,
                todayHeading: edit.map { l("review.own.today", ["date": PolicyFormat.day($0.editedAt)]) }
                    ?? l("review.own.today_none"),
                note: edit?.note.isEmpty == false ? edit?.note : nil)
        }
        let page = Page(
            layout: try PublicController.layout(req), criteria: criterionLabels, rows: rows,
            filters: GlobalReview.Filter.allCases.map {
                Option(
                    value: $0.rawValue,
                    label: l("review.filter.\($0.rawValue.replacingOccurrences(of: "-", with: "_"))"),
                    selected: $0 == q.filter)
            },
            sorts: GlobalReview.Sort.allCases.map {
                Option(value: $0.rawValue, label: l("review.sort.\($0.rawValue)"), selected: $0 == q.sort)
            },
            search: q.search,
            shown: l("review.shown", ["shown": String(rows.count), "total": String(review.rows.count)]),
            summary: [
                Option(value: String(s.countries), label: l("review.summary.countries"), selected: false),
                Option(value: String(s.allFive), label: l("review.summary.all_five"), selected: false),
                Option(value: String(s.allButISP), label: l("review.summary.all_but_isp"), selected: false),
                Option(value: String(s.none), label: l("review.summary.none"), selected: false),
            ],
            chart: chart,
            chartRows: zip(criteria, criterionLabels).map {
                Option(value: String(s.meeting[$0] ?? 0), label: $1, selected: false)
            },
            own: own, csvHref: "/global-review.csv", countrySortHref: sortHref(.country, q),
            scoreSortHref: sortHref(.score, q))
        return try await PublicController.render(req, "public-global-review", page)
    }

    /// The table as printed, as CSV (yes/no, English column names as in the source).
    static func csv(_ req: Request) async throws -> Response {
        let criteria = GlobalReview.Criterion.allCases
        let rows = try req.policy.review.rows
        let lines =
            [["country"] + criteria.map(\.rawValue) + ["footnotes"]]
            + rows.map { r in
                [r.country] + criteria.map { r.meets($0) ? "yes" : "no" } + [
                    r.footnotes.map(String.init).joined(separator: " ")
                ]
            }
        return PolicyFormat.csv(CSVText.document(lines), filename: "global-review-2009.csv")
    }

    // MARK: - staff

    struct Criterion: Encodable {
        let value: String
        let label: String
        let original: Bool
        let today: Bool
    }

    struct EditorPage: Encodable {
        let layout: Layout
        let country: String?
        let configuredName: String?
        let criteria: [Criterion]
        let note: String
        let edited: String?
        let error: String?
    }

    static func editor(_ req: Request) async throws -> Response {
        try await editorPage(req, flash: nil, error: nil)
    }

    static func editorPage(_ req: Request, flash: String?, error: String?, status: HTTPResponseStatus = .ok)
        async throws -> Response
    {
        let config = try req.vigil.configuration
        let review = try req.policy.review
        let row = try req.policy.ownRow(config)
        var edit: PolicyStore.ReviewEdit?
        if let row { edit = try await req.policyStore.reviewEdit(country: row.country) }
        let en = try req.hotline.catalog.localizer(for: "en")
        let criteria = GlobalReview.Criterion.allCases.map { c in
            Criterion(
                value: c.rawValue, label: en(c.messageKey), original: row?.meets(c) ?? false,
                today: edit?.meets.contains(c) ?? row?.meets(c) ?? false)
        }
        let page = EditorPage(
            layout: Layout(req, title: "Global legislation review", flash: flash), country: row?.country,
            configuredName: config.countryName,
            criteria: criteria, note: edit?.note ?? "",
            edited: edit.map { "Last updated \(PolicyFormat.day($0.editedAt)) by \($0.editedBy)" }, error: error)
        return try await req.view.render("admin-global-review", page).encodeResponse(status: status, for: req)
    }

    struct EditForm: Content {
        var criteria: [String]?
        var note: String?
    }

    static func save(_ req: Request) async throws -> Response {
        let (username, _) = try req.requireStaff()
        let form = try req.content.decode(EditForm.self)
        guard let row = try req.policy.ownRow(try req.vigil.configuration) else {
            return try await editorPage(
                req, flash: nil, error: "Set the country_name setting to a country of the review first.",
                status: .badRequest)
        }
        do {
            try await req.policyStore.editReview(
                country: row.country,
                meets: Set((form.criteria ?? []).compactMap(GlobalReview.Criterion.init(rawValue:))),
                note: form.note ?? "", by: username)
        } catch let e as StoreError {
            return try await editorPage(req, flash: nil, error: e.description, status: .badRequest)
        }
        return try await editorPage(
            req, flash: "Saved. The public page now shows today's situation beside the 2009 row.", error: nil)
    }
}
