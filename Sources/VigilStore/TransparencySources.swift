import FluentKit
import Foundation
import SQLKit
import VigilCore

/// The hotline's transparency figures: reports received and actionable per month, the share of actionable
/// reports by type, and the hosting countries of confirmed content. Counts only; no reference, address or person.
public struct HotlineTransparency: TransparencySource {
    public let db: any Database
    /// The operator's country (ISO 3166-1 alpha-2), for confirmed content acted on with a notice and referred to no
    /// partner abroad; nil labels it `national`.
    public let country: String?
    /// Countries with fewer confirmed cases than this are shown together as `other`, so a rare one cannot point at
    /// a case.
    public let smallCountThreshold: Double

    public init(db: any Database, country: String? = nil, smallCountThreshold: Double = 3) {
        self.db = db
        self.country = country
        self.smallCountThreshold = smallCountThreshold
    }

    public var figures: Set<TransparencyFigure> { [.reportsPerMonth, .actionableByType, .hostingCountries] }

    var sql: any SQLDatabase { db.sql }

    struct ReportRow {
        let caseID: Int64
        let kind: String
        let month: Month
    }

    /// The reports received in the period and the workflows of their cases.
    /// What the figures need of a case's workflow: the assessment's outcome and the decisions (decoding only these
    /// is several times faster than the whole workflow).
    struct CaseFacts: Decodable {
        struct Assessment: Decodable { let outcome: AssessmentOutcome }
        let assessment: Assessment?
        let decided: [CaseDecision]
    }

    func load(_ period: ReportingPeriod) async throws -> ([ReportRow], [Int64: CaseFacts]) {
        let rows = try await sql.select().columns(Reports.caseID, Reports.kind, Reports.createdMS).from(
            Reports.tableName
        )
        .where(Reports.createdMS, .greaterThanOrEqual, AuditChain.milliseconds(period.start))
        .where(Reports.createdMS, .lessThan, AuditChain.milliseconds(period.end)).all()
        let reports = try rows.map { r in
            ReportRow(
                caseID: try r.decode(Reports.caseID, as: Int64.self),
                kind: try r.decode(Reports.kind, as: String.self),
                month: Month(
                    containing: Date(
                        timeIntervalSince1970: Double(try r.decode(Reports.createdMS, as: Int64.self)) / 1000)))
        }
        var workflows: [Int64: CaseFacts] = [:]
        let ids = Array(Set(reports.map(\.caseID))).sorted()
        for start in stride(from: 0, to: ids.count, by: 500) {
            let chunk = Array(ids[start..<min(start + 500, ids.count)])
            for r in try await sql.select().columns(Cases.id, Cases.workflow).from(Cases.tableName).where(
                Cases.id, .in, chunk
            ).all() {
                workflows[try r.decode(Cases.id, as: Int64.self)] =
                    try JSONDecoder().decode(
                        CaseFacts.self, from: Data(try r.decode(Cases.workflow, as: String.self).utf8))
            }
        }
        return (reports, workflows)
    }

    static func isActionable(_ wf: CaseFacts?) -> Bool { wf?.assessment?.outcome.isIllegal ?? false }

    public func figure(_ figure: TransparencyFigure, in period: ReportingPeriod) async throws -> FigureTable {
        let (reports, workflows) = try await load(period)
        return try table(figure, period: period, reports: reports, workflows: workflows)
    }

    /// The figures from one read of the period's reports.
    public func figures(_ wanted: [TransparencyFigure], in period: ReportingPeriod) async throws -> [TransparencyFigure:
        FigureTable]
    {
        let (reports, workflows) = try await load(period)
        var out: [TransparencyFigure: FigureTable] = [:]
        for f in wanted { out[f] = try table(f, period: period, reports: reports, workflows: workflows) }
        return out
    }

    func table(
        _ figure: TransparencyFigure, period: ReportingPeriod, reports: [ReportRow], workflows: [Int64: CaseFacts]
    ) throws -> FigureTable {
        switch figure {
        case .reportsPerMonth:
            var received: [Month: Double] = [:]
            var actionable: [Month: Double] = [:]
            for r in reports {
                received[r.month, default: 0] += 1
                if Self.isActionable(workflows[r.caseID]) { actionable[r.month, default: 0] += 1 }
            }
            return FigureTable(
                columns: ["received", "actionable"],
                rows: period.months.map {
                    .init(label: $0.description, values: [received[$0] ?? 0, actionable[$0] ?? 0])
                })
        case .actionableByType:
            let acted = reports.filter { Self.isActionable(workflows[$0.caseID]) }
            let total = Double(acted.count)
            let rows = ReportKind.allCases.map { kind -> FigureTable.Row in
                let n = Double(acted.filter { $0.kind == kind.rawValue }.count)
                return .init(label: kind.rawValue, values: [total > 0 ? n / total * 100 : 0])
            }
            return FigureTable(
                columns: ["share"], rows: rows, unit: .percent, labelKeyPrefix: "form.kind.", total: acted.count,
                rowKind: "kind")
        case .hostingCountries:
            var counts: [String: Double] = [:]
            for id in Set(reports.map(\.caseID)) {
                guard let wf = workflows[id], Self.isActionable(wf) else { continue }
                let abroad = wf.decided.compactMap { d -> String? in
                    if case .partnerReferral(let c) = d { return c } else { return nil }
                }
                if !abroad.isEmpty {
                    for c in Set(abroad) { counts[c, default: 0] += 1 }
                } else if wf.decided.contains(.notice) {
                    counts[country ?? "national", default: 0] += 1
                }
            }
            let rows = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map {
                FigureTable.Row(label: $0.key, values: [$0.value])
            }
            return FigureTable(
                columns: ["cases"], rows: rows, total: Int(counts.values.reduce(0, +)), rowKind: "country"
            ).groupingSmall(
                below: smallCountThreshold)
        default:
            throw StoreError.invalid("the hotline does not give \(figure.rawValue)")
        }
    }
}

/// The national hash set's size at the end of each month (items held now, by the date they were added).
public struct HashSetTransparency: TransparencySource {
    public let db: any Database
    public init(db: any Database) { self.db = db }
    public var figures: Set<TransparencyFigure> { [.hashSetSize, .hashSetReview, .hashSetReviewTime] }

    public func figure(_ figure: TransparencyFigure, in period: ReportingPeriod) async throws -> FigureTable {
        switch figure {
        case .hashSetReview, .hashSetReviewTime: return try await review(figure, in: period)
        default: return try await size(in: period)
        }
    }

    /// Review figures from the audit log's review events (their details, decoded here, never matched in SQL).
    func review(_ figure: TransparencyFigure, in period: ReportingPeriod) async throws -> FigureTable {
        let sql = db.sql
        let from = AuditChain.milliseconds(period.first.start)
        let to = AuditChain.milliseconds(period.last.next.start)
        var confirmed: [Month: [String]] = [:]
        var disputed: [Month: Set<String>] = [:]
        var overturned: [Month: Int] = [:]
        let rows = try await sql.select().columns(
            AuditEvents.timeMS, AuditEvents.action, AuditEvents.subject, AuditEvents.details
        )
        .from(AuditEvents.tableName)
        .where(
            AuditEvents.action, .in,
            [
                "hashset.review.vote", "hashset.review.decide", "hashset.review.dispute",
                "hashset.review.mark-false-positive",
            ]
        )
        .where(AuditEvents.timeMS, .greaterThanOrEqual, from).where(AuditEvents.timeMS, .lessThan, to).all()
        for r in rows {
            let ms = try r.decode(AuditEvents.timeMS, as: Int64.self)
            let month = Month(containing: Date(timeIntervalSince1970: Double(ms) / 1000))
            let subject = try r.decode(AuditEvents.subject, as: String.self)
            let details =
                (try? JSONDecoder().decode(
                    [String: String].self, from: Data(try r.decode(AuditEvents.details, as: String.self).utf8))) ?? [:]
            let effects = details["effects"] ?? ""
            if effects.contains("startsMatching") { confirmed[month, default: []].append(subject) }
            if effects.contains("stopsMatching") { overturned[month, default: 0] += 1 }
            if try r.decode(AuditEvents.action, as: String.self) == "hashset.review.dispute" {
                disputed[month, default: []].insert(subject)
            }
        }
        if figure == .hashSetReview {
            return FigureTable(
                columns: ["confirmed", "disputed", "overturned"],
                rows: period.months.map { m in
                    .init(
                        label: m.description,
                        values: [
                            Double(confirmed[m]?.count ?? 0), Double(disputed[m]?.count ?? 0),
                            Double(overturned[m] ?? 0),
                        ])
                })
        }
        // Review time: from the item's entry into the set to the confirmation that made it known.
        var days: [Month: [Double]] = [:]
        let ids = Set(confirmed.values.joined().compactMap { Int64($0.dropFirst("item-".count)) })
        var created: [Int64: Int64] = [:]
        let list = Array(ids)
        for chunk in stride(from: 0, to: list.count, by: 400) {
            for r in try await sql.select().columns(HashItems.id, HashItems.createdAt).from(HashItems.tableName)
                .where(HashItems.id, .in, Array(list[chunk..<min(chunk + 400, list.count)])).all()
            {
                created[try r.decode(HashItems.id, as: Int64.self)] = try r.decode(HashItems.createdAt, as: Int64.self)
            }
        }
        for r in rows {
            let details =
                (try? JSONDecoder().decode(
                    [String: String].self, from: Data(try r.decode(AuditEvents.details, as: String.self).utf8))) ?? [:]
            guard (details["effects"] ?? "").contains("startsMatching"),
                let id = Int64(try r.decode(AuditEvents.subject, as: String.self).dropFirst("item-".count)),
                let entered = created[id]
            else { continue }
            let ms = try r.decode(AuditEvents.timeMS, as: Int64.self)
            let month = Month(containing: Date(timeIntervalSince1970: Double(ms) / 1000))
            days[month, default: []].append(Double(ms - entered) / 86_400_000)
        }
        return FigureTable(
            columns: ["median_days"],
            rows: period.months.map { m in
                .init(label: m.description, values: [Transparency.median(days[m] ?? []) ?? 0])
            },
            unit: .days)
    }

    func size(in period: ReportingPeriod) async throws -> FigureTable {
        let sql = db.sql
        var rows: [FigureTable.Row] = []
        for m in period.months {
            let n =
                try await sql.select().column(SQLFunction("count", args: SQLLiteral.all), as: "n").from(
                    HashItems.tableName
                )
                .where(HashItems.createdAt, .lessThan, AuditChain.milliseconds(m.next.start)).first()?.decode(
                    column: "n", as: Int.self) ?? 0
            rows.append(.init(label: m.description, values: [Double(n)]))
        }
        return FigureTable(columns: ["items"], rows: rows)
    }
}
