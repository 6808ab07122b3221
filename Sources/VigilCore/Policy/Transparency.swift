import Foundation

/// A calendar month in UTC, the unit of the transparency figures.
public struct Month: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int

    /// A month; nil unless `month` is 1…12 and `year` 1970…9999.
    public init?(year: Int, month: Int) {
        guard (1...12).contains(month), (1970...9999).contains(year) else { return nil }
        self.year = year
        self.month = month
    }

    /// Reads `2026-03`.
    public init?(parsing text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "-")
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2, let y = Int(parts[0]), let m = Int(parts[1])
        else {
            return nil
        }
        self.init(year: y, month: m)
    }

    /// The month containing `date` (UTC).
    public init(containing date: Date) {
        let c = Month.calendar.dateComponents([.year, .month], from: date)
        year = c.year!
        month = c.month!
    }

    static let calendar: Calendar = {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "UTC")!
        return c
    }()

    /// Midnight UTC on the first day.
    public var start: Date { Month.calendar.date(from: DateComponents(year: year, month: month, day: 1))! }
    public var next: Month { month == 12 ? Month(year: year + 1, month: 1)! : Month(year: year, month: month + 1)! }
    public var previous: Month { month == 1 ? Month(year: year - 1, month: 12)! : Month(year: year, month: month - 1)! }
    /// `2026-03`.
    public var description: String { String(format: "%04d-%02d", year, month) }

    public static func < (a: Month, b: Month) -> Bool { (a.year, a.month) < (b.year, b.month) }
}

/// The months a reader asked about, first and last included.
public struct ReportingPeriod: Sendable, Equatable {
    public let first: Month
    public let last: Month
    /// The longest period one page shows.
    public static let maxMonths = 60

    /// The months from `first` to `last` (swapped when given the wrong way round; shortened to the most recent
    /// ``maxMonths`` months).
    public init(first: Month, last: Month) {
        var (a, b) = first <= last ? (first, last) : (last, first)
        var n = 1
        var m = b
        while m > a && n < Self.maxMonths { m = m.previous; n += 1 }
        a = max(a, m)
        b = max(b, a)
        self.first = a
        self.last = b
    }

    /// The twelve months up to and including the month of `now`.
    public static func lastTwelveMonths(until now: Date) -> ReportingPeriod {
        let last = Month(containing: now)
        var first = last
        for _ in 0..<11 { first = first.previous }
        return ReportingPeriod(first: first, last: last)
    }

    /// The calendar quarter containing `now`, up to the end of that quarter.
    public static func quarter(containing now: Date) -> ReportingPeriod {
        let m = Month(containing: now)
        let firstMonth = ((m.month - 1) / 3) * 3 + 1
        return ReportingPeriod(
            first: Month(year: m.year, month: firstMonth)!, last: Month(year: m.year, month: firstMonth + 2)!)
    }

    public var months: [Month] {
        var out: [Month] = []
        var m = first
        while m <= last { out.append(m); m = m.next }
        return out
    }

    /// Start of the first month (inclusive).
    public var start: Date { first.start }
    /// Start of the month after the last (exclusive).
    public var end: Date { last.next.start }
    public func contains(_ date: Date) -> Bool { date >= start && date < end }
}

/// What a transparency figure's numbers are.
public enum FigureUnit: String, Sendable, Codable {
    case count
    case percent
    case days
    case hours

    /// The number as the chart, the table and the CSV show it (the same text in all three).
    public func format(_ value: Double) -> String {
        switch self {
        case .count: String(Int(value.rounded()))
        case .percent, .days, .hours: String(format: "%.1f", value)
        }
    }
}

/// A figure's numbers: labelled rows (months, kinds, countries, …) × one or more columns (series), one unit.
/// The chart, the table beside it and the CSV download are all drawn from this one value.
public struct FigureTable: Sendable, Equatable {
    public struct Row: Sendable, Equatable {
        /// A month (`2026-03`), a country code, or a key the page translates (see ``FigureTable/labelKeyPrefix``).
        public var label: String
        public var values: [Double]
        public init(label: String, values: [Double]) {
            self.label = label
            self.values = values
        }
    }

    /// Column identifiers (`received`, `actionable`, …); pages translate them as `transparency.column.<id>`.
    public var columns: [String]
    public var rows: [Row]
    public var unit: FigureUnit
    /// When set, row labels are translated as `<prefix><label>` (for report kinds, outcomes, reasons).
    public var labelKeyPrefix: String?
    /// The number of things the figure is about, when a share is shown (for the caption).
    public var total: Int?
    /// What the rows are (`month`, `kind`, `country`, `reason`, …); pages head the label column with
    /// `transparency.label.<rowKind>`.
    public var rowKind: String

    public init(
        columns: [String], rows: [Row], unit: FigureUnit = .count, labelKeyPrefix: String? = nil, total: Int? = nil,
        rowKind: String = "month"
    ) {
        self.columns = columns
        self.rows = rows
        self.unit = unit
        self.labelKeyPrefix = labelKeyPrefix
        self.total = total
        self.rowKind = rowKind
    }

    /// The largest value, for scaling a chart.
    public var maximum: Double { rows.flatMap(\.values).max() ?? 0 }

    /// The figure as CSV (RFC 4180): a header of `labelHeader` and the column titles, then one line per row with the
    /// numbers formatted exactly as the chart shows them.
    public func csv(labelHeader: String, columnTitles: [String], rowLabels: [String]) -> String {
        CSVText.document(
            [[labelHeader] + columnTitles]
                + rows.enumerated().map { i, r in
                    [i < rowLabels.count ? rowLabels[i] : r.label] + r.values.map { unit.format($0) }
                })
    }

    /// Rows whose every value is below `threshold` merged into one row labelled `other` (added last), so that a
    /// rare label cannot point at one case. Totals are kept.
    public func groupingSmall(below threshold: Double, into other: String = "other") -> FigureTable {
        var kept: [Row] = []
        var merged = [Double](repeating: 0, count: columns.count)
        var any = false
        for r in rows {
            if r.values.allSatisfy({ $0 < threshold }) {
                for (i, v) in r.values.enumerated() where i < merged.count { merged[i] += v }
                any = true
            } else {
                kept.append(r)
            }
        }
        var t = self
        t.rows = kept + (any ? [Row(label: other, values: merged)] : [])
        return t
    }
}

/// A figure, or the fact that the capability behind it is not in use (which a page shows as such, never as zero).
public enum FigureValue: Sendable, Equatable {
    case notInUse
    case table(FigureTable)
}

/// The figures of the public transparency page.
public enum TransparencyFigure: String, Sendable, CaseIterable, Codable {
    /// Reports received and actionable, per month.
    case reportsPerMonth = "reports-per-month"
    /// Share of actionable reports by type of report.
    case actionableByType = "actionable-by-type"
    /// Hosting countries of confirmed content.
    case hostingCountries = "hosting-countries"
    /// Median and 90th-percentile time from report to removal, in days.
    case removalTime = "removal-time"
    /// Share of content removed within 1 and within 3 days of the report.
    case removedWithin = "removed-within"
    /// Block-list size at the end of each month, with additions and removals.
    case blockListSize = "block-list-size"
    /// Reasons for block-list additions and removals.
    case blockListReasons = "block-list-reasons"
    /// Appeals against block-list entries and their outcomes.
    case appeals
    /// National hash-set size at the end of each month.
    case hashSetSize = "hash-set-size"
    /// The hash set's quality: records confirmed by reviewers, disputed by partners and overturned, per month.
    case hashSetReview = "hash-set-review"
    /// Median days from a record entering the set to its confirmation, per month of confirmation.
    case hashSetReviewTime = "hash-set-review-time"
    /// Referrals to and from partner hotlines abroad, per partner's country, and how many of ours were removed there.
    case partnerReferrals = "partner-referrals"
    /// Median hours from our assessment to the partner's receipt, and from the report to removal there.
    case partnerTimes = "partner-times"
}

/// Something in Vigil that can give some of the transparency figures: the hotline, the hash set, and later the
/// block list and notice-and-takedown. Register a source and its figures appear; a figure no source gives is shown
/// as not in use.
///
/// A source aggregates: it returns counts, shares and durations, never an address, a reference or a person.
public protocol TransparencySource: Sendable {
    /// The figures this source gives.
    var figures: Set<TransparencyFigure> { get }
    /// One figure over `period`.
    func figure(_ figure: TransparencyFigure, in period: ReportingPeriod) async throws -> FigureTable
    /// Several of its figures over `period`; a source that reads the same rows for several figures overrides this to
    /// read them once. The default asks for each figure in turn.
    func figures(_ wanted: [TransparencyFigure], in period: ReportingPeriod) async throws -> [TransparencyFigure:
        FigureTable]
}

extension TransparencySource {
    public func figures(_ wanted: [TransparencyFigure], in period: ReportingPeriod) async throws -> [TransparencyFigure:
        FigureTable]
    {
        var out: [TransparencyFigure: FigureTable] = [:]
        for f in wanted { out[f] = try await figure(f, in: period) }
        return out
    }
}

/// Collects figures from the registered sources.
public enum Transparency {
    /// Every figure in `wanted` for `period`: from the first source that gives it, else ``FigureValue/notInUse``.
    public static func collect(
        _ wanted: [TransparencyFigure] = TransparencyFigure.allCases, from sources: [any TransparencySource],
        period: ReportingPeriod
    ) async throws -> [TransparencyFigure: FigureValue] {
        var out: [TransparencyFigure: FigureValue] = [:]
        var bySource: [Int: [TransparencyFigure]] = [:]
        for f in wanted {
            if let i = sources.firstIndex(where: { $0.figures.contains(f) }) {
                bySource[i, default: []].append(f)
            } else {
                out[f] = .notInUse
            }
        }
        for (i, figures) in bySource.sorted(by: { $0.key < $1.key }) {
            let tables = try await sources[i].figures(figures, in: period)
            for f in figures { out[f] = tables[f].map(FigureValue.table) ?? .notInUse }
        }
        return out
    }

    /// The median of `values` (nil when empty).
    public static func median(_ values: [Double]) -> Double? { percentile(50, of: values) }

    /// The `p`th percentile (nearest rank) of `values`; nil when empty.
    public static func percentile(_ p: Double, of values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}

/// CSV text (RFC 4180) for people's spreadsheets: fields quoted when needed, and a leading `=`, `+`, `-` or `@`
/// neutralised so that a spreadsheet program does not read a text as a formula.
public enum CSVText {
    /// One field of a table people open in a spreadsheet: RFC 4180 quoting, and a field starting with = + - @, a tab
    /// or a carriage return gets a leading quote so a spreadsheet never runs it as a formula.
    public static func field(_ s: String) -> String {
        var t = s
        if let f = t.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(f) { t = "'" + t }
        return quoted(t)
    }

    /// One field of a data file other programs read (hash lists, exchange formats): RFC 4180 quoting only, quoted
    /// when it holds the separator, a quote or a line break.
    /// Looked for scalar by scalar: a CR-LF pair, or a comma with a combining mark, is one `Character` equal to none
    /// of them, and a file name can hold either.
    public static func quoted(_ s: String, separator: Unicode.Scalar = ",") -> String {
        guard s.unicodeScalars.contains(where: { $0 == separator || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else {
            return s
        }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Lines of fields, each line ended by CRLF.
    public static func document(_ lines: [[String]]) -> String {
        lines.map { $0.map(field).joined(separator: ",") + "\r\n" }.joined()
    }
}
