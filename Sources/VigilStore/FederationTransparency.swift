import FluentKit
import Foundation
import VigilCore

/// The cross-border figures, as INHOPE publishes its own ("removed within 2.5 days"): referrals sent to and received
/// from partner hotlines per partner's country, how many of ours were removed there (and within three days of the
/// report), and the median hours from our assessment to the partner's receipt and from the report to removal.
/// Not in use until a partner hotline is registered.
public struct FederationTransparency: TransparencySource {
    public let db: any Database
    public init(db: any Database) { self.db = db }
    public var figures: Set<TransparencyFigure> { [.partnerReferrals, .partnerTimes] }

    public func figures(_ wanted: [TransparencyFigure], in period: ReportingPeriod) async throws -> [TransparencyFigure:
        FigureTable]
    {
        let all = try await FederationStore(db: db, clock: SystemClock()).figures(in: period)
        guard !all.isEmpty else { return [:] }
        var out: [TransparencyFigure: FigureTable] = [:]
        for f in wanted where figures.contains(f) {
            // Times only for partners with some: a partner with none is not shown as 0 hours.
            let partners =
                f == .partnerTimes ? all.filter { !$0.toReceipt.isEmpty || !$0.reportToRemoval.isEmpty } : all
            if !partners.isEmpty { out[f] = Self.table(f, partners) }
        }
        return out
    }

    public func figure(_ figure: TransparencyFigure, in period: ReportingPeriod) async throws -> FigureTable {
        try await figures([figure], in: period)[figure] ?? FigureTable(columns: [], rows: [])
    }

    static func table(_ f: TransparencyFigure, _ partners: [FederationStore.PartnerFigures]) -> FigureTable {
        // One row per partner, labelled by the country (or countries) it covers.
        let label = { (p: FederationStore.PartnerFigures) in p.countries.joined(separator: "/") }
        if f == .partnerTimes {
            return FigureTable(
                columns: ["hours_to_receipt", "hours_to_removal"],
                rows: partners.map { p in
                    .init(
                        label: label(p),
                        values: [
                            (DurationSummary(p.toReceipt).median ?? 0) / 3600,
                            (DurationSummary(p.reportToRemoval).median ?? 0) / 3600,
                        ])
                }, unit: .hours, total: partners.reduce(0) { $0 + $1.reportToRemoval.count }, rowKind: "country")
        }
        return FigureTable(
            columns: ["referred", "delivered", "removed", "removed_within_3_days", "referred_to_us"],
            rows: partners.map { p in
                .init(
                    label: label(p),
                    values: [
                        Double(p.sent), Double(p.delivered), Double(p.reportToRemoval.count),
                        Double(p.reportToRemoval.filter { $0 <= 3 * 86_400 }.count), Double(p.received),
                    ])
            }, total: partners.reduce(0) { $0 + $1.sent }, rowKind: "country")
    }
}
