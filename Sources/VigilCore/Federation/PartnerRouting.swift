import Foundation

/// Where an assessed case goes on its own: content assessed illegal and hosted in a country a partner hotline
/// covers is referred to that partner, as the network of hotlines works (the hosting country's hotline gets it
/// removed). The decision goes through the case workflow like an analyst's, so four eyes (`four_eyes` holding
/// `partner-referral`) make it wait for a second analyst, and a law-enforcement hold keeps the referral back.
///
/// Routing is asked when the case is assessed and when its hosting country is recorded or changes, never on a
/// timer: a referral a second analyst declined is not proposed again until the case is assessed again or its
/// hosting moves.
public enum PartnerRouting {
    /// Who proposes an automatic referral when the case has no claimant (the audit names the routing job too).
    public static let proposer = "partner-routing"

    /// The event that refers the case to the partner covering `hostingCountry`, or nil when none is due: the case
    /// is not assessed illegal, its hosting is unknown or at home, no enabled partner covers the country, or the
    /// workflow would refuse it (already referred or waiting for confirmation, closed).
    ///
    /// The proposal is made in the name of the analyst who holds the case (the one who assessed it), so under four
    /// eyes it is a different analyst who confirms it.
    /// - Parameters:
    ///   - ownCountry: The operator's country, never routed abroad; nil when not configured.
    ///   - partnerCountries: The countries enabled partner hotlines cover.
    public static func event(
        for workflow: CaseWorkflow, hostingCountry: String?, ownCountry: String?, partnerCountries: Set<String>,
        at time: Date
    ) -> CaseEvent? {
        guard let host = hostingCountry?.trimmingCharacters(in: .whitespaces).uppercased(), host.utf8.count == 2,
            host != ownCountry?.uppercased(), partnerCountries.contains(host),
            workflow.assessment?.outcome.isIllegal == true
        else { return nil }
        // Under four eyes the proposal is the assessor's, so that another analyst confirms it; with nobody holding
        // the case there is no assessor to name, and an analyst refers it by hand.
        let decision = CaseDecision.partnerReferral(country: host)
        if workflow.claimedBy == nil, workflow.fourEyes.requiresConfirmation(decision) { return nil }
        let event = CaseEvent.referToPartner(country: host, by: workflow.claimedBy ?? proposer)
        return workflow.refusal(of: event, at: time) == nil ? event : nil
    }
}
