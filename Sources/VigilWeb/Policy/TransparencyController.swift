import Vapor
import VigilCore

/// The public transparency page: figures from the live system over a period the reader chooses, each as an SVG
/// chart with its numbers in a table beside it and a CSV download with the same numbers. A figure whose capability
/// is not in use says so and never shows zero.
enum TransparencyController {
    struct Row: Encodable {
        let label: String
        let values: [String]
    }

    struct Figure: Encodable {
        let id: String
        let title: String
        let text: String
        let notInUse: Bool
        let rowKind: String
        let svg: String
        let labelHeader: String
        let columns: [String]
        let rows: [Row]
        let caption: String?
        let csvHref: String
    }

    struct Page: Encodable {
        let layout: PublicController.PublicLayout
        let from: String
        let to: String
        let figures: [Figure]
    }

    /// The period in the query (`from`, `to` as `YYYY-MM`), else the last twelve months.
    static func period(_ req: Request) throws -> ReportingPeriod {
        let fallback = ReportingPeriod.lastTwelveMonths(until: try req.vigil.clock.now())
        let from = req.query[String.self, at: "from"].flatMap(Month.init(parsing:)) ?? fallback.first
        let to = req.query[String.self, at: "to"].flatMap(Month.init(parsing:)) ?? fallback.last
        return ReportingPeriod(first: from, last: to)
    }

    /// Every figure for the period, from the few-minute cache shared by the page and its CSVs.
    static func cachedFigures(_ req: Request, period: ReportingPeriod) async throws -> [TransparencyFigure: FigureValue]
    {
        guard let cache = req.application.storage[TransparencyCacheKey.self] else {
            return try await req.transparencyFigures(period: period)
        }
        return try await cache.figures(for: "\(period.first)/\(period.last)", now: req.vigil.clock.now()) {
            try await req.transparencyFigures(period: period)
        }
    }

    static func key(_ figure: TransparencyFigure) -> String { figure.rawValue.replacingOccurrences(of: "-", with: "_") }

    /// The translated labels of a table's rows and columns.
    static func labels(_ t: FigureTable, _ l: Localizer) -> (rows: [String], columns: [String], header: String) {
        let rows = t.rows.map { r -> String in
            if r.label == "other" { return l("transparency.other") }
            if r.label == "national" { return l("transparency.national") }
            if let p = t.labelKeyPrefix { return l(p + r.label) }
            if t.rowKind == "country", r.label.count == 2,
                let name = Locale(identifier: l.language).localizedString(forRegionCode: r.label)
            {
                return "\(name) (\(r.label))"
            }
            return r.label
        }
        let key = "transparency.label.\(t.rowKind)"
        let header = l.has(key) ? l(key) : l("transparency.label.item")
        return (rows, t.columns.map { l("transparency.column.\($0)") }, header)
    }

    static func page(_ req: Request) async throws -> Response {
        let l = try req.localizer
        let p = try period(req)
        let values = try await cachedFigures(req, period: p)
        let query = "from=\(p.first)&to=\(p.last)"
        let figures = TransparencyFigure.allCases.map { f -> Figure in
            let title = l("transparency.figure.\(key(f)).title")
            let text = l("transparency.figure.\(key(f)).text")
            let href = "/transparency/\(f.rawValue).csv?\(query)"
            guard case .table(let t) = values[f] ?? .notInUse else {
                return Figure(
                    id: f.rawValue, title: title, text: text, notInUse: true, rowKind: "", svg: "", labelHeader: "",
                    columns: [],
                    rows: [], caption: nil, csvHref: href)
            }
            let (rows, columns, header) = labels(t, l)
            return Figure(
                id: f.rawValue, title: title, text: text, notInUse: false, rowKind: t.rowKind,
                svg: SVGChart.bars(t, title: title, rowLabels: rows, columnTitles: columns), labelHeader: header,
                columns: columns,
                rows: zip(rows, t.rows).map { Row(label: $0, values: $1.values.map(t.unit.format)) },
                caption: t.total.map { l("transparency.total", ["total": String($0)]) }, csvHref: href)
        }
        return try await PublicController.render(
            req, "public-transparency",
            Page(
                layout: PublicController.layout(req, extra: ["from": p.first.description, "to": p.last.description]),
                from: p.first.description, to: p.last.description, figures: figures))
    }

    /// `GET /transparency/<figure>.csv`: the figure's numbers as the chart shows them; 404 for a figure not in use.
    static func csv(_ req: Request) async throws -> Response {
        let name = req.parameters.get("figure") ?? ""
        guard name.hasSuffix(".csv"), let f = TransparencyFigure(rawValue: String(name.dropLast(4))) else {
            throw Abort(.notFound)
        }
        let p = try period(req)
        guard case .table(let t) = try await cachedFigures(req, period: p)[f] ?? .notInUse else {
            throw Abort(.notFound, reason: "This figure is not in use yet.")
        }
        let (rows, columns, header) = labels(t, try req.localizer)
        return PolicyFormat.csv(
            t.csv(labelHeader: header, columnTitles: columns, rowLabels: rows),
            filename: "\(f.rawValue)-\(p.first)-\(p.last).csv")
    }
}
