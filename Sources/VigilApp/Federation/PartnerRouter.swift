import FluentKit
import Foundation
import VigilCore
import VigilStore

/// Performs ``PartnerRouting``'s decision: refers an assessed case to the partner hotline covering the country its
/// content is hosted in. Asked when assessed content's hosting has been traced (the `case-attribute` job that every
/// illegal assessment queues) and when an analyst records or corrects the hosting country.
public struct PartnerRouter: Sendable {
    public let db: any Database
    public let clock: any VigilClock
    /// The operator's country: content hosted at home is never referred abroad.
    public let ownCountry: String?

    public init(db: any Database, clock: any VigilClock, ownCountry: String?) {
        self.db = db
        self.clock = clock
        self.ownCountry = ownCountry
    }

    /// Applies the referral when one is due (audited under the `partner-routing` job, ``PartnerRouting/proposer``); returns it, or nil when none
    /// was due or another caller decided it first.
    @discardableResult
    public func routeIfDue(caseID: Int64) async throws -> CaseEvent? {
        let hotline = HotlineStore(
            db: db, clock: clock, tokens: SystemTokenSource(), sealer: nil, triage: try TriagePolicy())
        guard let workflow = try await hotline.caseSummary(caseID)?.workflow,
            let country = try await NoticeStore(db: db, clock: clock).hosting(caseID: caseID)?.country
        else { return nil }
        let partner = try await FederationStore(db: db, clock: clock).partner(covering: country)
        guard
            let event = PartnerRouting.event(
                for: workflow, hostingCountry: country, ownCountry: ownCountry,
                partnerCountries: Set(partner?.countries ?? []), at: clock.now())
        else { return nil }
        do {
            try await hotline.apply(event, to: caseID, actor: .job(PartnerRouting.proposer))
        } catch is CaseWorkflowError {
            return nil  // decided meanwhile (an analyst's click, the other trigger): nothing more to do
        }
        return event
    }
}
