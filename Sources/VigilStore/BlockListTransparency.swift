import FluentKit
import Foundation
import SQLKit
import VigilCore

/// The block list's public figures: size per month with additions and removals, their reasons, appeals and
/// outcomes. Counts only, never an address. Not in use (no figure at all) until the first real entry is proposed.
public struct BlockListTransparency: TransparencySource {
    public let db: any Database
    public init(db: any Database) { self.db = db }
    public var figures: Set<TransparencyFigure> { [.blockListSize, .blockListReasons, .appeals] }

    var sql: any SQLDatabase { db.sql }

    func inUse() async throws -> Bool {
        try await sql.select().column(ListEntries.id).from(ListEntries.tableName).where(
            ListEntries.canary, .equal, false
        ).limit(1).first() != nil
    }

    public func figures(_ wanted: [TransparencyFigure], in period: ReportingPeriod) async throws -> [TransparencyFigure:
        FigureTable]
    {
        guard try await inUse() else { return [:] }
        var out: [TransparencyFigure: FigureTable] = [:]
        for f in wanted { out[f] = try await figure(f, in: period) }
        return out
    }

    public func figure(_ figure: TransparencyFigure, in period: ReportingPeriod) async throws -> FigureTable {
        let start = AuditChain.milliseconds(period.start), end = AuditChain.milliseconds(period.end)
        switch figure {
        case .blockListSize:
            var rows: [FigureTable.Row] = []
            for m in period.months {
                let mStart = AuditChain.milliseconds(m.start), mEnd = AuditChain.milliseconds(m.next.start)
                let size =
                    try await sql.select().column(ListVersions.entryCount).from(ListVersions.tableName).where(
                        ListVersions.createdMS, .lessThan, mEnd
                    )
                    .orderBy(ListVersions.version, .descending).limit(1).first()?.decode(
                        ListVersions.entryCount, as: Int.self) ?? 0
                let moves = try await sql.raw(
                    """
                    SELECT CAST(COALESCE(SUM(\(ListVersions.added)), 0) AS BIGINT) AS a,
                    CAST(COALESCE(SUM(\(ListVersions.removed)), 0) AS BIGINT) AS r FROM \(ListVersions.tableName)
                    WHERE \(ListVersions.createdMS) >= \(bind: mStart) AND \(ListVersions.createdMS) < \(bind: mEnd)
                    """
                ).first()
                rows.append(
                    .init(
                        label: m.description,
                        values: [
                            Double(size), Double(try moves?.decode(column: "a", as: Int.self) ?? 0),
                            Double(try moves?.decode(column: "r", as: Int.self) ?? 0),
                        ]))
            }
            return FigureTable(columns: ["size", "additions", "removals"], rows: rows)
        case .blockListReasons:
            let rows = try await sql.raw(
                """
                SELECT c.change, c.reason, COUNT(*) AS n FROM list_changes c JOIN list_versions v ON v.version = c.version
                WHERE v.created_ms >= \(bind: start) AND v.created_ms < \(bind: end) GROUP BY c.change, c.reason ORDER BY c.change, c.reason
                """
            ).all()
            return FigureTable(
                columns: ["count"],
                rows: try rows.map {
                    let change = try $0.decode(ListChanges.change, as: String.self) == "add" ? "added" : "removed"
                    return .init(
                        label: "\(change): \(try $0.decode(ListChanges.reason, as: String.self))",
                        values: [Double(try $0.decode(column: "n", as: Int.self))])
                }, rowKind: "reason")
        default:
            let rows = try await sql.raw(
                """
                SELECT \(Appeals.state), COUNT(*) AS n FROM \(Appeals.tableName)
                WHERE \(Appeals.createdMS) >= \(bind: start) AND \(Appeals.createdMS) < \(bind: end) GROUP BY \(Appeals.state)
                """
            ).all()
            var counts: [String: Int] = [:]
            for r in rows {
                counts[try r.decode(Appeals.state, as: String.self)] = try r.decode(column: "n", as: Int.self)
            }
            // Every outcome, zeros included: the list is in use, so no appeal is a real zero.
            return FigureTable(
                columns: ["count"],
                rows: ["received", "suspended", "upheld", "rejected"].map {
                    .init(label: $0, values: [Double(counts[$0] ?? 0)])
                }, rowKind: "outcome")
        }
    }
}

/// Notice-and-takedown's public figures: report-to-removal time (median and 90th percentile, days) and the share
/// of noticed cases removed within 1 and 3 days, for cases reported in the period. Not in use until the first notice.
public struct TakedownTransparency: TransparencySource {
    public let db: any Database
    public init(db: any Database) { self.db = db }
    public var figures: Set<TransparencyFigure> { [.removalTime, .removedWithin] }

    public func figures(_ wanted: [TransparencyFigure], in period: ReportingPeriod) async throws -> [TransparencyFigure:
        FigureTable]
    {
        guard try await db.sql.select().column(Notices.id).from(Notices.tableName).limit(1).first() != nil else {
            return [:]
        }
        let timelines = try await NoticeStore(db: db, clock: SystemClock()).timelines(
            from: period.start, to: period.end)
        let summary = DurationSummary(timelines.compactMap(\.reportToRemoval), total: timelines.count)
        var out: [TransparencyFigure: FigureTable] = [:]
        for f in wanted { out[f] = Self.table(f, summary) }
        return out
    }

    public func figure(_ figure: TransparencyFigure, in period: ReportingPeriod) async throws -> FigureTable {
        try await figures([figure], in: period)[figure] ?? FigureTable(columns: [], rows: [])
    }

    static func table(_ f: TransparencyFigure, _ s: DurationSummary) -> FigureTable {
        if f == .removalTime {
            return FigureTable(
                columns: ["days"],
                rows: [
                    .init(label: "median", values: [(s.median ?? 0) / 86_400]),
                    .init(label: "p90", values: [(s.p90 ?? 0) / 86_400]),
                ], unit: .days, total: s.count, rowKind: "item")
        }
        return FigureTable(
            columns: ["share"],
            rows: [
                .init(label: "1 day", values: [(s.withinOneDay ?? 0) * 100]),
                .init(label: "3 days", values: [(s.withinThreeDays ?? 0) * 100]),
            ], unit: .percent, total: s.count, rowKind: "item")
    }
}
