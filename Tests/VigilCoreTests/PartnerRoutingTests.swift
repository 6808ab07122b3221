import Foundation
import Testing
import VigilCore

@Suite("Partner routing: assessed content hosted where a partner hotline works is referred to it")
struct PartnerRoutingTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func assessed(_ outcome: AssessmentOutcome, fourEyes: Set<CaseDecision.Kind> = []) throws -> CaseWorkflow {
        var wf = CaseWorkflow(fourEyes: FourEyesPolicy(required: fourEyes))
        _ = try wf.handle(.claim(by: "ana"), at: now)
        _ = try wf.handle(
            .assess(CaseAssessment(outcome: outcome, legalProvision: "s. 1"), by: "ana"), at: now)
        return wf
    }

    func route(_ wf: CaseWorkflow, _ host: String?, own: String? = "XA", partners: Set<String> = ["XB"])
        -> CaseEvent?
    {
        PartnerRouting.event(for: wf, hostingCountry: host, ownCountry: own, partnerCountries: partners, at: now)
    }

    @Test("illegal content hosted in a partner's country: referred, in the name of the analyst who assessed it")
    func routed() throws {
        let wf = try assessed(.internationallyIllegal)
        #expect(route(wf, "XB") == .referToPartner(country: "XB", by: "ana"))
        #expect(route(wf, " xb ") == .referToPartner(country: "XB", by: "ana"), "the country as an analyst typed it")
    }

    @Test("nothing is routed: legal content, unknown or home hosting, a country no partner covers, an unassessed case")
    func notRouted() throws {
        #expect(route(try assessed(.notIllegal), "XB") == nil)
        let wf = try assessed(.nationallyIllegal)
        #expect(route(wf, nil) == nil)
        #expect(route(wf, "XA", partners: ["XA", "XB"]) == nil, "content at home is never referred abroad")
        #expect(route(wf, "XC") == nil)
        #expect(route(wf, "XBX") == nil)
        var received = CaseWorkflow()
        _ = try received.handle(.claim(by: "ana"), at: now)
        #expect(route(received, "XB") == nil)
    }

    @Test("once referred, proposed or closed, it is not routed again; four eyes make it wait for a second analyst")
    func once() throws {
        var wf = try assessed(.internationallyIllegal, fourEyes: [.partnerReferral])
        let event = try #require(route(wf, "XB"))
        let actions = try wf.handle(event, at: now)
        #expect(wf.state == .awaitingConfirmation)
        #expect(!actions.contains(.referToPartner(country: "XB")), "nothing leaves before the second analyst")
        #expect(route(wf, "XB") == nil, "already waiting for confirmation")
        var released = try assessed(.internationallyIllegal, fourEyes: [.partnerReferral])
        _ = try released.handle(.unclaim(by: "ana"), at: now)
        #expect(route(released, "XB") == nil, "under four eyes, with no assessor holding it, an analyst refers by hand")
        #expect(throws: CaseWorkflowError.sameAnalyst) { _ = try wf.handle(.confirm(by: "ana"), at: now) }
        #expect(try wf.handle(.confirm(by: "amy"), at: now).contains(.referToPartner(country: "XB")))
        #expect(route(wf, "XB") == nil, "already referred")
        var direct = try assessed(.internationallyIllegal)
        #expect(try direct.handle(try #require(route(direct, "XB")), at: now).contains(.referToPartner(country: "XB")))
        var closed = try assessed(.internationallyIllegal)
        _ = try closed.handle(.close(by: "ana"), at: now)
        #expect(route(closed, "XB") == nil)
    }

    @Test("a hold keeps the routed referral back until it ends")
    func held() throws {
        var wf = try assessed(.internationallyIllegal)
        _ = try wf.handle(
            .placeHold(CaseHold(reason: "investigation", expiresAt: now + 86400, placedBy: "leo")), at: now)
        let actions = try wf.handle(try #require(route(wf, "XB")), at: now)
        #expect(!actions.contains(.referToPartner(country: "XB")))
        #expect(wf.deferredActions == [.referToPartner(country: "XB")])
    }
}
