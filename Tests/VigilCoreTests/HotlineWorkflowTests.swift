import Foundation
import Testing
import VigilCore

@Suite("Hotline: case workflow")
struct HotlineWorkflowTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static let illegal = CaseAssessment(
        outcome: .nationallyIllegal, legalProvision: "Criminal Code s. 163.1", category: "A", mediaType: .image,
        apparentAgeGroup: .prepubescent, notes: "seen")
    static let hold = CaseHold(reason: "operation SECRET-NAME", expiresAt: t0 + 7 * 86_400, placedBy: "lee")

    /// A workflow brought to `state` by the usual path (alice claims and assesses; the actioned case sent a notice).
    static func workflow(in state: CaseState, fourEyes: FourEyesPolicy = FourEyesPolicy()) throws -> CaseWorkflow {
        var w = CaseWorkflow(fourEyes: fourEyes)
        let path: [CaseEvent]
        switch state {
        case .received: path = []
        case .claimed: path = [.claim(by: "alice")]
        case .assessed: path = [.claim(by: "alice"), .assess(illegal, by: "alice")]
        case .awaitingConfirmation:
            path = [.claim(by: "alice"), .assess(illegal, by: "alice"), .proposeListEntry(by: "alice")]
        case .actioned: path = [.claim(by: "alice"), .assess(illegal, by: "alice"), .requestNotice(by: "alice")]
        case .closed: path = [.claim(by: "alice"), .assess(illegal, by: "alice"), .close(by: "alice")]
        }
        for event in path { _ = try w.handle(event, at: t0) }
        #expect(w.state == state)
        return w
    }

    enum Expect: Equatable {
        case to(CaseState)
        case fails(CaseWorkflowError)
    }

    /// Every event in every state: where it leads, or the error.
    @Test("every state × event: the allowed transitions, and a clear error for the rest")
    func exhaustive() throws {
        typealias S = CaseState
        func no(_ event: String, _ state: S) -> Expect { .fails(.notAllowed(event: event, state: state)) }
        let events: [(CaseEvent, [S: Expect])] = [
            (
                .reportJoined,
                [
                    .received: .to(.received), .claimed: .to(.claimed), .assessed: .to(.assessed),
                    .awaitingConfirmation: .to(.awaitingConfirmation), .actioned: .to(.actioned),
                    .closed: no("report-joined", .closed),
                ]
            ),
            (
                .claim(by: "bob"),
                [
                    .received: .to(.claimed), .claimed: .fails(.alreadyClaimed(by: "alice")),
                    .assessed: .fails(.alreadyClaimed(by: "alice")),
                    .awaitingConfirmation: no("claim", .awaitingConfirmation), .actioned: no("claim", .actioned),
                    .closed: no("claim", .closed),
                ]
            ),
            (
                .unclaim(by: "alice"),
                [
                    .received: no("unclaim", .received), .claimed: .to(.received), .assessed: .to(.assessed),
                    .awaitingConfirmation: no("unclaim", .awaitingConfirmation), .actioned: no("unclaim", .actioned),
                    .closed: no("unclaim", .closed),
                ]
            ),
            (
                .assess(Self.illegal, by: "alice"),
                [
                    .received: no("assess", .received), .claimed: .to(.assessed), .assessed: .to(.assessed),
                    .awaitingConfirmation: no("assess", .awaitingConfirmation), .actioned: no("assess", .actioned),
                    .closed: no("assess", .closed),
                ]
            ),
            (
                .requestNotice(by: "alice"),
                [
                    .received: no("request-notice", .received), .claimed: no("request-notice", .claimed),
                    .assessed: .to(.actioned), .awaitingConfirmation: .to(.awaitingConfirmation),
                    .actioned: .fails(.alreadyDecided(.notice)), .closed: no("request-notice", .closed),
                ]
            ),
            (
                .proposeListEntry(by: "alice"),
                [
                    .received: no("propose-list-entry", .received), .claimed: no("propose-list-entry", .claimed),
                    .assessed: .to(.awaitingConfirmation), .awaitingConfirmation: .fails(.alreadyDecided(.listEntry)),
                    .actioned: .to(.awaitingConfirmation), .closed: no("propose-list-entry", .closed),
                ]
            ),
            (
                .referToLawEnforcement(by: "alice"),
                [
                    .received: no("refer-to-law-enforcement", .received),
                    .claimed: no("refer-to-law-enforcement", .claimed), .assessed: .to(.actioned),
                    .awaitingConfirmation: .to(.awaitingConfirmation), .actioned: .to(.actioned),
                    .closed: no("refer-to-law-enforcement", .closed),
                ]
            ),
            (
                .referToPartner(country: "de", by: "alice"),
                [
                    .received: no("refer-to-partner", .received), .claimed: no("refer-to-partner", .claimed),
                    .assessed: .to(.actioned), .awaitingConfirmation: .to(.awaitingConfirmation),
                    .actioned: .to(.actioned), .closed: no("refer-to-partner", .closed),
                ]
            ),
            (
                .confirm(by: "bob"),
                [
                    .received: no("confirm", .received), .claimed: no("confirm", .claimed),
                    .assessed: no("confirm", .assessed), .awaitingConfirmation: .to(.actioned),
                    .actioned: no("confirm", .actioned), .closed: no("confirm", .closed),
                ]
            ),
            (
                .decline(by: "bob"),
                [
                    .received: no("decline", .received), .claimed: no("decline", .claimed),
                    .assessed: no("decline", .assessed), .awaitingConfirmation: .to(.assessed),
                    .actioned: no("decline", .actioned), .closed: no("decline", .closed),
                ]
            ),
            (
                .placeHold(Self.hold),
                [
                    .received: .to(.received), .claimed: .to(.claimed), .assessed: .to(.assessed),
                    .awaitingConfirmation: .to(.awaitingConfirmation), .actioned: .to(.actioned),
                    .closed: no("place-hold", .closed),
                ]
            ),
            (.liftHold(by: "lee"), Dictionary(uniqueKeysWithValues: S.allCases.map { ($0, .fails(.notHeld)) })),
            (.holdExpired, Dictionary(uniqueKeysWithValues: S.allCases.map { ($0, .fails(.notHeld)) })),
            (
                .close(by: "alice"),
                [
                    .received: no("close", .received), .claimed: no("close", .claimed), .assessed: .to(.closed),
                    .awaitingConfirmation: no("close", .awaitingConfirmation), .actioned: .to(.closed),
                    .closed: no("close", .closed),
                ]
            ),
            (
                .reopen(by: "sam"),
                [
                    .received: no("reopen", .received), .claimed: no("reopen", .claimed),
                    .assessed: no("reopen", .assessed), .awaitingConfirmation: no("reopen", .awaitingConfirmation),
                    .actioned: no("reopen", .actioned), .closed: .to(.received),
                ]
            ),
        ]
        var checked = 0
        for (event, table) in events {
            for state in S.allCases {
                // given a case in `state`
                let before = try Self.workflow(in: state)
                var w = before
                let expected = try #require(table[state], "\(event.name) in \(state) not in the table")
                // when the event arrives
                do {
                    let actions = try w.handle(event, at: Self.t0 + 60)
                    // then it leads where the table says, and is audited
                    #expect(expected == .to(w.state), "\(event.name) in \(state)")
                    #expect(
                        actions.contains { if case .audit = $0 { true } else { false } }, "\(event.name) in \(state)")
                } catch {
                    // or fails with the table's error, leaving the case as it was
                    #expect(expected == .fails(error), "\(event.name) in \(state)")
                    #expect(w == before)
                }
                checked += 1
            }
        }
        #expect(checked == 15 * 6)
    }

    @Test("the issue's path: report, join, claim, assess, propose, confirm by a second analyst, close")
    func happyPath() throws {
        // given a new case
        var w = CaseWorkflow()
        // when a second report joins and an analyst claims and assesses it
        #expect(try w.handle(.reportJoined, at: Self.t0) == [.audit("case.report-joined", ["reports": "2"])])
        #expect(w.reportCount == 2)
        let claimed = try w.handle(.claim(by: "alice"), at: Self.t0)
        #expect(claimed == [.audit("case.claimed", ["analyst": "alice"]), .notifyReporterStatus(.beingAssessed)])
        let assessed = try w.handle(.assess(Self.illegal, by: "alice"), at: Self.t0)
        #expect(
            assessed == [
                .audit(
                    "case.assessed",
                    [
                        "analyst": "alice", "outcome": "national", "provision": "Criminal Code s. 163.1",
                        "category": "A", "media": "image", "age": "prepubescent",
                    ])
            ])
        // and proposes a list entry (four-eyes by default)
        let proposed = try w.handle(.proposeListEntry(by: "alice"), at: Self.t0)
        #expect(
            proposed == [
                .audit("case.decision-proposed", ["decision": "list-entry", "proposedBy": "alice"]), .proposeListEntry,
            ])
        #expect(w.pending.map(\.decision) == [.listEntry])
        #expect(w.publicStatus == .beingAssessed)
        // then the same analyst cannot confirm, a second one can, and the entry is published
        #expect(throws: CaseWorkflowError.sameAnalyst) { try w.handle(.confirm(by: "alice"), at: Self.t0) }
        let confirmed = try w.handle(.confirm(by: "bob"), at: Self.t0)
        #expect(
            confirmed == [
                .audit(
                    "case.decision-confirmed",
                    ["decision": "list-entry", "proposedBy": "alice", "confirmedBy": "bob"]),
                .publishListEntry, .notifyReporterStatus(.actionTaken),
            ])
        #expect(w.state == .actioned)
        // and closing records the time the retention period counts from
        let closed = try w.handle(.close(by: "alice"), at: Self.t0 + 3_600)
        #expect(
            closed == [.audit("case.closed", ["by": "alice", "outcome": "national"]), .notifyReporterStatus(.closed)])
        #expect(w.closedAt == Self.t0 + 3_600)
        #expect(w.claimedBy == nil)
    }

    @Test("four-eyes: the same analyst can neither confirm nor decline their own proposal")
    func sameAnalystRefused() throws {
        var w = try Self.workflow(in: .awaitingConfirmation, fourEyes: .all)
        let before = w
        #expect(throws: CaseWorkflowError.sameAnalyst) { try w.handle(.confirm(by: "alice"), at: Self.t0) }
        #expect(throws: CaseWorkflowError.sameAnalyst) { try w.handle(.decline(by: "alice"), at: Self.t0) }
        #expect(w == before)
        // a proposal by bob waiting beside alice's cannot be confirmed by bob either
        _ = try w.handle(.referToLawEnforcement(by: "bob"), at: Self.t0)
        #expect(throws: CaseWorkflowError.sameAnalyst) { try w.handle(.confirm(by: "bob"), at: Self.t0) }
        #expect(throws: CaseWorkflowError.sameAnalyst) { try w.handle(.confirm(by: "alice"), at: Self.t0) }
        #expect(try w.handle(.confirm(by: "carol"), at: Self.t0).contains(.publishListEntry))
    }

    @Test("an operator can require four-eyes for notices and referrals: nothing is sent until confirmed")
    func fourEyesEverywhere() throws {
        // given an operator who requires a second analyst for everything
        var w = try Self.workflow(in: .assessed, fourEyes: .all)
        // when alice decides a notice, a police referral and a partner referral
        var actions = try w.handle(.requestNotice(by: "alice"), at: Self.t0)
        actions += try w.handle(.referToLawEnforcement(by: "alice"), at: Self.t0)
        actions += try w.handle(.referToPartner(country: "nl", by: "alice"), at: Self.t0)
        // then nothing leaves the hotline yet
        #expect(!actions.contains(.sendNotice))
        #expect(!actions.contains(.referToLawEnforcement))
        #expect(w.state == .awaitingConfirmation)
        #expect(w.pending.map(\.decision) == [.notice, .lawEnforcementReferral, .partnerReferral(country: "NL")])
        // and bob's confirmation sends all three, in order
        let sent = try w.handle(.confirm(by: "bob"), at: Self.t0).filter { if case .audit = $0 { false } else { true } }
        #expect(
            sent == [
                .sendNotice, .referToLawEnforcement, .referToPartner(country: "NL"),
                .notifyReporterStatus(.actionTaken),
            ])
    }

    @Test("without four-eyes a list proposal is proposed and published at once")
    func noFourEyes() throws {
        var w = try Self.workflow(in: .assessed, fourEyes: .none)
        let actions = try w.handle(.proposeListEntry(by: "alice"), at: Self.t0)
        #expect(actions.contains(.proposeListEntry) && actions.contains(.publishListEntry))
        #expect(w.state == .actioned)
        #expect(FourEyesPolicy().required == [.listEntry])
    }

    @Test(
        "a declined proposal goes back to assessed, or to actioned when something already took effect; a declined list entry is withdrawn"
    )
    func decline() throws {
        var w = try Self.workflow(in: .awaitingConfirmation)
        #expect(
            try w.handle(.decline(by: "bob"), at: Self.t0)
                == [
                    .audit("case.decision-declined", ["decision": "list-entry", "declinedBy": "bob"]),
                    .withdrawListEntry,
                ])
        #expect(w.state == .assessed && w.pending.isEmpty)
        var v = try Self.workflow(in: .actioned)
        _ = try v.handle(.proposeListEntry(by: "alice"), at: Self.t0)
        _ = try v.handle(.decline(by: "bob"), at: Self.t0)
        #expect(v.state == .actioned)
        // and it may be proposed again
        #expect(try v.handle(.proposeListEntry(by: "alice"), at: Self.t0).contains(.proposeListEntry))
    }

    @Test("only illegal outcomes lead to action; a national outcome needs a legal provision")
    func outcomes() throws {
        for outcome in [AssessmentOutcome.notIllegal, .outOfRemit, .duplicate] {
            var w = try Self.workflow(in: .claimed)
            _ = try w.handle(.assess(CaseAssessment(outcome: outcome), by: "alice"), at: Self.t0)
            for (event, decision) in [
                (CaseEvent.requestNotice(by: "alice"), CaseDecision.notice),
                (.proposeListEntry(by: "alice"), .listEntry),
                (.referToLawEnforcement(by: "alice"), .lawEnforcementReferral),
                (.referToPartner(country: "FR", by: "alice"), .partnerReferral(country: "FR")),
            ] {
                #expect(throws: CaseWorkflowError.outcomeDoesNotAllow(decision, outcome)) {
                    try w.handle(event, at: Self.t0)
                }
            }
            #expect(try w.handle(.close(by: "alice"), at: Self.t0).contains(.notifyReporterStatus(.closed)))
        }
        var w = try Self.workflow(in: .claimed)
        #expect(throws: CaseWorkflowError.assessmentIncomplete("a legal provision")) {
            try w.handle(
                .assess(CaseAssessment(outcome: .nationallyIllegal, legalProvision: " "), by: "alice"), at: Self.t0)
        }
        _ = try w.handle(.assess(CaseAssessment(outcome: .internationallyIllegal), by: "alice"), at: Self.t0)
        #expect(try w.handle(.referToLawEnforcement(by: "alice"), at: Self.t0).contains(.referToLawEnforcement))
        #expect(AssessmentOutcome.allCases.filter(\.isIllegal) == [.internationallyIllegal, .nationallyIllegal])
    }

    @Test("claims: only the claimant assesses or unclaims; an assessed case can be handed to another analyst")
    func claims() throws {
        var w = try Self.workflow(in: .claimed)
        #expect(throws: CaseWorkflowError.notClaimant(claimant: "alice")) {
            try w.handle(.assess(Self.illegal, by: "bob"), at: Self.t0)
        }
        #expect(throws: CaseWorkflowError.notClaimant(claimant: "alice")) {
            try w.handle(.unclaim(by: "bob"), at: Self.t0)
        }
        _ = try w.handle(.assess(Self.illegal, by: "alice"), at: Self.t0)
        // alice corrects her assessment, then frees the case; bob takes it over and corrects it again
        let corrected = try w.handle(
            .assess(CaseAssessment(outcome: .internationallyIllegal), by: "alice"), at: Self.t0)
        #expect(corrected == [.audit("case.reassessed", ["analyst": "alice", "outcome": "baseline"])])
        _ = try w.handle(.unclaim(by: "alice"), at: Self.t0)
        #expect(throws: CaseWorkflowError.notClaimed) { try w.handle(.assess(Self.illegal, by: "bob"), at: Self.t0) }
        _ = try w.handle(.claim(by: "bob"), at: Self.t0)
        _ = try w.handle(.assess(Self.illegal, by: "bob"), at: Self.t0)
        #expect(w.claimedBy == "bob" && w.assessment == Self.illegal && w.state == .assessed)
    }

    @Test("partner countries are two letters, stored in upper case")
    func partnerCountry() throws {
        var w = try Self.workflow(in: .assessed)
        for bad in ["", "D", "DEU", "1A", "É"] {
            #expect(throws: CaseWorkflowError.invalidCountry(bad)) {
                try w.handle(.referToPartner(country: bad, by: "alice"), at: Self.t0)
            }
        }
        #expect(
            try w.handle(.referToPartner(country: " de ", by: "alice"), at: Self.t0).contains(
                .referToPartner(country: "DE")))
        #expect(throws: CaseWorkflowError.alreadyDecided(.partnerReferral(country: "DE"))) {
            try w.handle(.referToPartner(country: "DE", by: "alice"), at: Self.t0)
        }
    }

    @Test(
        "a hold defers notices, list publication and partner referrals, not police referrals, and lifting releases them"
    )
    func holdDefersThenReleases() throws {
        // given an assessed case under a law-enforcement hold, with no four-eyes
        var w = try Self.workflow(in: .assessed, fourEyes: .none)
        let placed = try w.handle(.placeHold(Self.hold), at: Self.t0)
        #expect(placed == [.audit("case.hold-placed", ["by": "lee", "expiresAt": "2027-01-22T08:00:00Z"])])
        #expect(w.isHeld(at: Self.t0))
        // when the analyst decides everything
        var actions: [CaseAction] = []
        actions += try w.handle(.requestNotice(by: "alice"), at: Self.t0)
        actions += try w.handle(.proposeListEntry(by: "alice"), at: Self.t0)
        actions += try w.handle(.referToPartner(country: "US", by: "alice"), at: Self.t0)
        actions += try w.handle(.referToLawEnforcement(by: "alice"), at: Self.t0)
        // then only the proposal and the police referral go out; the rest wait, audited as deferred
        let outward = actions.filter { if case .audit = $0 { false } else { true } }
        #expect(outward == [.notifyReporterStatus(.actionTaken), .proposeListEntry, .referToLawEnforcement])
        #expect(w.deferredActions == [.sendNotice, .publishListEntry, .referToPartner(country: "US")])
        #expect(actions.filter { $0 == .audit("case.action-deferred", ["action": "send-notice"]) }.count == 1)
        // and the case cannot close while they wait
        #expect(throws: CaseWorkflowError.actionsDeferred(count: 3)) { try w.handle(.close(by: "alice"), at: Self.t0) }
        // when the hold is lifted the deferred actions are released in order
        let lifted = try w.handle(.liftHold(by: "lee"), at: Self.t0 + 60)
        #expect(
            lifted == [
                .audit("case.hold-lifted", ["released": "3", "by": "lee"]), .sendNotice, .publishListEntry,
                .referToPartner(country: "US"),
            ])
        #expect(w.hold == nil && w.deferredActions.isEmpty)
        #expect(try w.handle(.close(by: "alice"), at: Self.t0 + 120).contains(.notifyReporterStatus(.closed)))
    }

    @Test("a hold's notify-after date lets notices leave while list publication stays held until the hold ends")
    func holdNotifyAfter() throws {
        // given an assessed case under a hold whose notices may leave after two days
        var w = try Self.workflow(in: .assessed, fourEyes: .none)
        let day = 86_400.0
        let hold = CaseHold(
            reason: "operation X", expiresAt: Self.t0 + 7 * day, placedBy: "lee", notifyAfter: Self.t0 + 2 * day)
        let placed = try w.handle(.placeHold(hold), at: Self.t0)
        #expect(
            placed.contains(
                .audit(
                    "case.hold-placed",
                    ["by": "lee", "expiresAt": "2027-01-22T08:00:00Z", "notifyAfter": "2027-01-17T08:00:00Z"])))
        // when the analyst requests a notice and proposes a list entry before that date
        _ = try w.handle(.requestNotice(by: "alice"), at: Self.t0)
        _ = try w.handle(.proposeListEntry(by: "alice"), at: Self.t0)
        // then both wait
        #expect(w.deferredActions == [.sendNotice, .publishListEntry])
        #expect(w.holdsNotices(at: Self.t0) && !w.noticesDueForRelease(at: Self.t0))
        // when the date passes and the scheduler says so, the notice leaves and the publication still waits
        #expect(w.noticesDueForRelease(at: Self.t0 + 2 * day))
        let released = try w.handle(.holdNotifyAfterReached, at: Self.t0 + 2 * day)
        #expect(released.filter { if case .audit = $0 { false } else { true } } == [.sendNotice])
        #expect(released.contains(.audit("case.hold-notify-after-reached", ["released": "1"])))
        #expect(w.deferredActions == [.publishListEntry])
        #expect(w.isHeld(at: Self.t0 + 2 * day) && !w.holdsNotices(at: Self.t0 + 2 * day))
        // and a second delivery of the event does nothing
        #expect(try w.handle(.holdNotifyAfterReached, at: Self.t0 + 2 * day + 1).isEmpty)
        // and the publication leaves when the hold expires
        let expired = try w.handle(.holdExpired, at: Self.t0 + 7 * day)
        #expect(expired.contains(.publishListEntry) && !expired.contains(.sendNotice))
    }

    @Test("a notify-after date outside the hold is refused and changes nothing")
    func holdNotifyAfterOutside() throws {
        var w = try Self.workflow(in: .assessed, fourEyes: .none)
        let before = w
        for date in [Self.t0 - 1, Self.t0 + 7 * 86_400, Self.t0 + 8 * 86_400] {
            let hold = CaseHold(reason: "r", expiresAt: Self.t0 + 7 * 86_400, placedBy: "lee", notifyAfter: date)
            #expect(throws: CaseWorkflowError.holdNotifyAfterOutsideHold) {
                try w.handle(.placeHold(hold), at: Self.t0)
            }
        }
        #expect(w == before)
    }

    @Test("a hold defers what a confirmation releases, and the hold's reason never reaches the audit details")
    func holdWithFourEyes() throws {
        var w = try Self.workflow(in: .awaitingConfirmation)
        _ = try w.handle(.placeHold(Self.hold), at: Self.t0)
        let confirmed = try w.handle(.confirm(by: "bob"), at: Self.t0)
        #expect(!confirmed.contains(.publishListEntry))
        #expect(w.deferredActions == [.publishListEntry])
        var changed = Self.hold
        changed.expiresAt = Self.t0 + 86_400
        let audit = try w.handle(.placeHold(changed), at: Self.t0)
        #expect(audit == [.audit("case.hold-changed", ["by": "lee", "expiresAt": "2027-01-16T08:00:00Z"])])
        for case .audit(_, let details) in confirmed + audit {
            #expect(!details.values.contains { $0.contains("SECRET") })
        }
    }

    @Test("a hold ends at its expiry: the scheduler's event releases it, and so does any later event")
    func holdExpiry() throws {
        // given a held case with a deferred notice
        var w = try Self.workflow(in: .assessed, fourEyes: .none)
        _ = try w.handle(.placeHold(Self.hold), at: Self.t0)
        _ = try w.handle(.requestNotice(by: "alice"), at: Self.t0)
        var v = w
        // when the scheduler fires too early it is refused
        #expect(throws: CaseWorkflowError.holdNotExpired(expiresAt: Self.hold.expiresAt)) {
            try w.handle(.holdExpired, at: Self.hold.expiresAt - 1)
        }
        // then at the expiry the notice is released
        #expect(
            try w.handle(.holdExpired, at: Self.hold.expiresAt)
                == [.audit("case.hold-expired", ["released": "1"]), .sendNotice])
        #expect(!w.isHeld(at: Self.hold.expiresAt))
        // and a report that joins after the expiry does not release it (a joining report is stored without running
        // actions, so a release there would be lost); the scheduler's event still does
        #expect(
            try v.handle(.reportJoined, at: Self.hold.expiresAt + 1) == [.audit("case.report-joined", ["reports": "2"])]
        )
        #expect(v.deferredActions == [.sendNotice])
        #expect(
            try v.handle(.holdExpired, at: Self.hold.expiresAt + 2) == [
                .audit("case.hold-expired", ["released": "1"]), .sendNotice,
            ])
        #expect(v.hold == nil)
        // and lifting a hold that has just expired releases it rather than failing
        var u = w
        let second = CaseHold(reason: "again", expiresAt: Self.hold.expiresAt + 86_400, placedBy: "lee")
        _ = try u.handle(.placeHold(second), at: Self.hold.expiresAt)
        _ = try u.handle(.referToPartner(country: "DE", by: "alice"), at: Self.hold.expiresAt)
        #expect(
            try u.handle(.liftHold(by: "lee"), at: Self.hold.expiresAt + 8 * 86_400)
                == [.audit("case.hold-lifted", ["released": "1", "by": "lee"]), .referToPartner(country: "DE")])
    }

    @Test("a new hold placed after an expiry nobody processed yet keeps the deferred actions back")
    func holdRenewedAfterExpiry() throws {
        // given a deferred notice under a hold that has just expired, before the scheduler noticed
        var w = try Self.workflow(in: .assessed, fourEyes: .none)
        _ = try w.handle(.placeHold(Self.hold), at: Self.t0)
        _ = try w.handle(.requestNotice(by: "alice"), at: Self.t0)
        // when the liaison officer places a new hold
        let renewed = CaseHold(reason: "still running", expiresAt: Self.hold.expiresAt + 86_400, placedBy: "lee")
        let actions = try w.handle(.placeHold(renewed), at: Self.hold.expiresAt + 60)
        // then the notice stays deferred under the new hold
        #expect(actions == [.audit("case.hold-placed", ["by": "lee", "expiresAt": "2027-01-23T08:00:00Z"])])
        #expect(w.deferredActions == [.sendNotice])
        #expect(try w.handle(.holdExpired, at: renewed.expiresAt).contains(.sendNotice))
    }

    @Test("a hold needs a reason and a future expiry")
    func holdValidation() throws {
        var w = CaseWorkflow()
        #expect(throws: CaseWorkflowError.holdExpiryNotInFuture) {
            try w.handle(.placeHold(CaseHold(reason: "x", expiresAt: Self.t0, placedBy: "lee")), at: Self.t0)
        }
        #expect(throws: CaseWorkflowError.holdReasonMissing) {
            try w.handle(.placeHold(CaseHold(reason: " \n", expiresAt: Self.t0 + 1, placedBy: "lee")), at: Self.t0)
        }
        #expect(w.hold == nil)
    }

    @Test("reopening a closed case sends it back to the queue with no decisions, keeping the last assessment")
    func reopen() throws {
        var w = try Self.workflow(in: .actioned)
        _ = try w.handle(.close(by: "alice"), at: Self.t0)
        let reopened = try w.handle(.reopen(by: "sam"), at: Self.t0 + 10)
        #expect(reopened == [.audit("case.reopened", ["by": "sam"]), .notifyReporterStatus(.received)])
        #expect(w.state == .received && w.closedAt == nil && w.decided.isEmpty && w.claimedBy == nil)
        #expect(w.assessment == Self.illegal)
        _ = try w.handle(.claim(by: "bob"), at: Self.t0)
        _ = try w.handle(.assess(Self.illegal, by: "bob"), at: Self.t0)
        #expect(try w.handle(.requestNotice(by: "bob"), at: Self.t0).contains(.sendNotice))
    }

    @Test("the public status says received, being assessed, action taken or closed, and nothing more")
    func publicStatus() {
        let expected: [CaseState: PublicCaseStatus] = [
            .received: .received, .claimed: .beingAssessed, .assessed: .beingAssessed,
            .awaitingConfirmation: .beingAssessed, .actioned: .actionTaken, .closed: .closed,
        ]
        for state in CaseState.allCases { #expect(state.publicStatus == expected[state]) }
        #expect(
            PublicCaseStatus.allCases.map(\.messageKey) == [
                "status.received", "status.being_assessed", "status.action_taken", "status.closed",
            ])
    }

    @Test("random event sequences keep the invariants; nothing a hold defers ever leaves while it is in force")
    func randomSequences() throws {
        // given a deterministic stream of events from three analysts and a liaison officer
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ n: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((seed >> 33) % UInt64(n))
        }
        let analysts = ["alice", "bob"]
        let outcomes = AssessmentOutcome.allCases + [.internationallyIllegal, .nationallyIllegal]
        var visited: Set<CaseState> = []
        var deferredReleased = 0
        var succeeded = 0
        for run in 0..<200 {
            var w = CaseWorkflow(fourEyes: [FourEyesPolicy(), .all, .none][run % 3])
            var time = Self.t0
            for _ in 0..<60 {
                time += Double(next(12 * 3_600))
                let who = analysts[next(analysts.count)]
                let events: [CaseEvent] = [
                    .reportJoined, .claim(by: who), .unclaim(by: who),
                    .assess(CaseAssessment(outcome: outcomes[next(outcomes.count)], legalProvision: "s. 1"), by: who),
                    .requestNotice(by: who), .proposeListEntry(by: who), .referToLawEnforcement(by: who),
                    .referToPartner(country: ["DE", "NL"][next(2)], by: who), .confirm(by: who), .decline(by: who),
                    .placeHold(CaseHold(reason: "op", expiresAt: time + Double(next(10 * 86_400)), placedBy: "lee")),
                    .liftHold(by: "lee"), .holdExpired, .close(by: who), .reopen(by: who),
                    // decisions and holds twice as often, so that holds meet decisions
                    .requestNotice(by: who), .proposeListEntry(by: who), .confirm(by: who),
                    .placeHold(CaseHold(reason: "op", expiresAt: time + Double(next(10 * 86_400)), placedBy: "lee")),
                ]
                let event = events[next(events.count)]
                let before = w
                // when each event is handled
                do {
                    let actions = try w.handle(event, at: time)
                    succeeded += 1
                    if before.deferredActions.count > w.deferredActions.count { deferredReleased += 1 }
                    // then nothing a hold defers goes out while one is in force
                    if w.isHeld(at: time) {
                        #expect(!actions.contains { $0.isDeferredByHold }, "\(event.name) while held")
                    }
                    // and the reporter is told exactly when the public status changed
                    let told = actions.compactMap { if case .notifyReporterStatus(let s) = $0 { s } else { nil } }
                    #expect(told == (before.publicStatus == w.publicStatus ? [] : [w.publicStatus]))
                    #expect(w.reportCount >= before.reportCount)
                } catch {
                    // or a refused event changes nothing
                    #expect(w == before, "\(event.name): \(error)")
                }
                // and the invariants hold after every event
                #expect((w.state == .awaitingConfirmation) == !w.pending.isEmpty)
                #expect((w.state == .closed) == (w.closedAt != nil))
                #expect(w.state != .claimed || w.claimedBy != nil)
                #expect(w.state != .received || w.claimedBy == nil)
                #expect(w.hold != nil || w.deferredActions.isEmpty)
                #expect(w.pending.allSatisfy { !w.decided.contains($0.decision) })
                visited.insert(w.state)
            }
        }
        // and the walk went everywhere, releasing deferred actions along the way
        #expect(visited == Set(CaseState.allCases))
        #expect(succeeded > 2_000 && deferredReleased > 10, "\(succeeded) events applied, \(deferredReleased) releases")
    }

    @Test("a workflow survives a JSON round trip (the store keeps it as a value)")
    func codable() throws {
        var w = try Self.workflow(in: .awaitingConfirmation, fourEyes: .all)
        _ = try w.handle(.placeHold(Self.hold), at: Self.t0)
        let data = try JSONEncoder().encode(w)
        #expect(try JSONDecoder().decode(CaseWorkflow.self, from: data) == w)
    }
}
