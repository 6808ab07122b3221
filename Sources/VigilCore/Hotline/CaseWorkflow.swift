import Foundation

/// Where a case is in its life.
public enum CaseState: String, Sendable, Codable, CaseIterable {
    /// Reported, nobody working on it yet.
    case received
    /// An analyst has taken it, so that nobody else assesses it at the same time.
    case claimed
    /// Assessed; no decision taken yet (or the last proposal was declined).
    case assessed
    /// A decision waits for a second analyst's confirmation (four-eyes).
    case awaitingConfirmation = "awaiting-confirmation"
    /// At least one decision took effect (a notice, a referral, a list entry).
    case actioned
    /// Done. A new report of the same thing opens a new case; ``CaseEvent/reopen(by:)`` brings this one back.
    case closed

    /// What the reporter is shown.
    public var publicStatus: PublicCaseStatus {
        switch self {
        case .received: .received
        case .claimed, .assessed, .awaitingConfirmation: .beingAssessed
        case .actioned: .actionTaken
        case .closed: .closed
        }
    }
}

/// Something that happens to a case. `by` names the member of staff; the caller has already checked their role.
public enum CaseEvent: Sendable, Equatable {
    /// Another report of the same thing joined the case.
    case reportJoined
    case claim(by: String)
    /// Gives the case back to the queue (a claimed case) or frees an assessed one for another analyst; only the
    /// analyst who claimed it (a supervisor reassigning a case sends it in that analyst's name, audited as
    /// themselves).
    case unclaim(by: String)
    /// Records (or, before any decision, corrects) the assessment; only the analyst holding the claim.
    case assess(CaseAssessment, by: String)
    /// Decide to send a notice to the host or service.
    case requestNotice(by: String)
    /// Propose a block-list entry.
    case proposeListEntry(by: String)
    case referToLawEnforcement(by: String)
    /// Refer to the partner hotline of `country` (ISO 3166-1 alpha-2).
    case referToPartner(country: String, by: String)
    /// A second analyst confirms every decision waiting for confirmation.
    case confirm(by: String)
    /// A second analyst declines the waiting decisions; the case goes back to where it was.
    case decline(by: String)
    case placeHold(CaseHold)
    case liftHold(by: String)
    /// The hold's expiry time has passed (sent by the scheduler).
    case holdExpired
    /// The hold's notify-after time has passed: notices it kept back leave now (sent by the scheduler).
    case holdNotifyAfterReached
    case close(by: String)
    case reopen(by: String)

    /// A stable name for errors and logs.
    public var name: String {
        switch self {
        case .reportJoined: "report-joined"
        case .claim: "claim"
        case .unclaim: "unclaim"
        case .assess: "assess"
        case .requestNotice: "request-notice"
        case .proposeListEntry: "propose-list-entry"
        case .referToLawEnforcement: "refer-to-law-enforcement"
        case .referToPartner: "refer-to-partner"
        case .confirm: "confirm"
        case .decline: "decline"
        case .placeHold: "place-hold"
        case .liftHold: "lift-hold"
        case .holdExpired: "hold-expired"
        case .holdNotifyAfterReached: "hold-notify-after-reached"
        case .close: "close"
        case .reopen: "reopen"
        }
    }
}

/// What the caller must do after an event, in order, in the same transaction that saves the workflow.
public enum CaseAction: Sendable, Equatable, Codable {
    /// Queue a notice to the host or service.
    case sendNotice
    /// Queue a referral to national law enforcement.
    case referToLawEnforcement
    /// Queue a referral to the partner hotline of this country.
    case referToPartner(country: String)
    /// Record a block-list proposal from this case.
    case proposeListEntry
    /// Publish the case's list entry (after verification).
    case publishListEntry
    /// Withdraw the block-list proposal made from this case: the decision to list it was declined.
    case withdrawListEntry
    /// Write an audit event with this action name and details (the caller adds actor, time and subject).
    case audit(String, [String: String])
    /// Tell the reporter, if they left a contact, that the public status is now this.
    case notifyReporterStatus(PublicCaseStatus)

    /// Whether a law-enforcement hold keeps this action back.
    public var isDeferredByHold: Bool {
        switch self {
        case .sendNotice, .publishListEntry, .referToPartner: true
        default: false
        }
    }

    /// A short name for audit details: `send-notice`, `refer-to-partner:DE`, …
    public var name: String {
        switch self {
        case .sendNotice: "send-notice"
        case .referToLawEnforcement: "refer-to-law-enforcement"
        case .referToPartner(let country): "refer-to-partner:\(country)"
        case .proposeListEntry: "propose-list-entry"
        case .publishListEntry: "publish-list-entry"
        case .withdrawListEntry: "withdraw-list-entry"
        case .audit(let action, _): "audit:\(action)"
        case .notifyReporterStatus(let status): "notify-reporter:\(status.rawValue)"
        }
    }
}

/// Why an event was refused. The workflow is unchanged when an error is thrown.
public enum CaseWorkflowError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The event makes no sense in this state.
    case notAllowed(event: String, state: CaseState)
    /// Someone else (or the same analyst) already holds the case.
    case alreadyClaimed(by: String)
    /// Only the analyst who claimed the case may do this.
    case notClaimant(claimant: String)
    /// Nobody has claimed the case; claim it first.
    case notClaimed
    /// Four-eyes: the confirming analyst proposed (one of) the decisions.
    case sameAnalyst
    /// The assessment's outcome does not allow this decision (only illegal content leads to action).
    case outcomeDoesNotAllow(CaseDecision, AssessmentOutcome)
    /// The same decision already waits for confirmation or already took effect.
    case alreadyDecided(CaseDecision)
    /// A required assessment field is missing; the text names it.
    case assessmentIncomplete(String)
    /// A partner country that is not two letters.
    case invalidCountry(String)
    /// A hold must end in the future.
    case holdExpiryNotInFuture
    /// A hold must say why.
    case holdReasonMissing
    /// A hold's notify-after date must lie between now and the hold's expiry.
    case holdNotifyAfterOutsideHold
    /// There is no hold to lift or expire.
    case notHeld
    /// The hold has not reached its expiry time yet.
    case holdNotExpired(expiresAt: Date)
    /// The case cannot close while actions wait for a hold to end.
    case actionsDeferred(count: Int)

    /// A short English reason for logs and staff pages.
    public var description: String {
        switch self {
        case .notAllowed(let event, let state): "\(event) is not possible while the case is \(state.rawValue)"
        case .alreadyClaimed(let who): "the case is already claimed by \(who)"
        case .notClaimant(let who): "only \(who), who claimed the case, may do this"
        case .notClaimed: "claim the case first"
        case .sameAnalyst: "a decision must be confirmed by a different analyst from the one who proposed it"
        case .outcomeDoesNotAllow(let decision, let outcome):
            "\(decision) needs an illegal outcome, the assessment is \(outcome.rawValue)"
        case .alreadyDecided(let decision): "\(decision) is already decided or waiting for confirmation"
        case .assessmentIncomplete(let field): "the assessment needs \(field)"
        case .invalidCountry(let c): "\"\(c)\" is not a two-letter country code"
        case .holdExpiryNotInFuture: "a hold must end in the future"
        case .holdReasonMissing: "a hold needs a reason"
        case .holdNotifyAfterOutsideHold:
            "the date from which notices may leave must be after now and before the hold ends"
        case .notHeld: "the case has no hold"
        case .holdNotExpired: "the hold has not expired yet"
        case .actionsDeferred(let n): "\(n) action(s) wait for the hold to end; the case cannot close before"
        }
    }
}

/// A decision waiting for a second analyst.
public struct PendingDecision: Sendable, Equatable, Codable {
    /// What was decided.
    public var decision: CaseDecision
    /// The analyst who proposed it, who may not confirm it.
    public var proposedBy: String
    /// When it was proposed.
    public var proposedAt: Date
}

/// The life of one case as a value: received → claimed → assessed → (awaiting confirmation) → actioned → closed,
/// with law-enforcement holds that keep notices, list publication and partner referrals back while they last.
///
/// No I/O: ``handle(_:at:)`` checks the event against the state, updates the state and returns the actions the
/// caller performs (queue a notice, write an audit event, …) in the transaction that saves the new state.
public struct CaseWorkflow: Sendable, Equatable, Codable {
    /// Where the case is.
    public private(set) var state: CaseState = .received
    /// Which decisions need a second analyst; set by the operator, kept with the case.
    public var fourEyes: FourEyesPolicy
    /// The analyst who claimed the case; kept through assessment and decisions until unclaimed, closed or reopened.
    public private(set) var claimedBy: String?
    /// The latest assessment (kept after reopening, for reference, until a new one is recorded).
    public private(set) var assessment: CaseAssessment?
    /// Decisions waiting for a second analyst.
    public private(set) var pending: [PendingDecision] = []
    /// Decisions that took effect (their actions may still be deferred by a hold).
    public private(set) var decided: [CaseDecision] = []
    /// The current hold, if any.
    public private(set) var hold: CaseHold?
    /// Actions kept back by the hold, released in order when it ends.
    public private(set) var deferredActions: [CaseAction] = []
    /// How many reports the case has.
    public private(set) var reportCount: Int
    /// When the case was last closed; the contact-retention period counts from here.
    public private(set) var closedAt: Date?

    /// A new case, made by its first report.
    public init(fourEyes: FourEyesPolicy = FourEyesPolicy(), reportCount: Int = 1) {
        self.fourEyes = fourEyes
        self.reportCount = reportCount
    }

    /// What the reporter is shown.
    public var publicStatus: PublicCaseStatus { state.publicStatus }

    /// Whether a hold is in force at `time` (analysts may see this, not the hold's reason).
    public func isHeld(at time: Date) -> Bool { hold.map { $0.expiresAt > time } ?? false }

    /// Whether a hold keeps notices to the host back at `time` (a hold past its notify-after date does not).
    public func holdsNotices(at time: Date) -> Bool { hold?.keepsBack(.sendNotice, at: time) ?? false }

    /// When a hold in force at `time` lets a notice about this case go, or nil when none keeps it back now. A notice
    /// to a partner hotline is a referral and waits for the hold's end; a notice to the host, for the notify-after date.
    public func noticeHeldUntil(at time: Date, toPartner: Bool) -> Date? {
        guard let hold, toPartner ? isHeld(at: time) : holdsNotices(at: time) else { return nil }
        return toPartner ? hold.expiresAt : min(hold.notifyAfter ?? hold.expiresAt, hold.expiresAt)
    }

    /// Whether notices wait for a notify-after date that has now passed (the scheduler then sends
    /// ``CaseEvent/holdNotifyAfterReached``).
    public func noticesDueForRelease(at time: Date) -> Bool {
        guard let hold, hold.expiresAt > time, let notifyAfter = hold.notifyAfter, notifyAfter <= time else {
            return false
        }
        return deferredActions.contains(.sendNotice)
    }

    /// Applies an event.
    /// - Parameters:
    ///   - event: what happened.
    ///   - at: when; a hold whose expiry has passed is ended first (its deferred actions lead the result), unless the
    ///     event places a new hold, which then keeps them deferred.
    /// - Returns: the actions to perform, in order.
    /// - Throws: ``CaseWorkflowError``; the workflow is then unchanged.
    /// Whether `event` would be accepted now, decided by the workflow itself on a copy: nil when it would, else the
    /// refusal. Pages offer only what this allows (the case desk hides what is not possible in the state, and shows
    /// other refusals, such as waiting for a second analyst, as the reason a button is disabled).
    public func refusal(of event: CaseEvent, at time: Date) -> CaseWorkflowError? {
        var copy = self
        do throws(CaseWorkflowError) {
            _ = try copy.handle(event, at: time)
            return nil
        } catch { return error }
    }

    public mutating func handle(_ event: CaseEvent, at time: Date) throws(CaseWorkflowError) -> [CaseAction] {
        var copy = self
        let before = copy.state.publicStatus
        var actions: [CaseAction] = []
        switch event {
        case .holdExpired, .liftHold:
            break  // these end the hold themselves (lifting an expired hold is not an error)
        case .placeHold:
            break  // a new hold takes over what an expired one still defers, so nothing slips out between the two
        case .reportJoined:
            break  // a report that joins is stored without running actions: releases wait for the scheduler's event
        default:
            if let hold = copy.hold, hold.expiresAt <= time {
                actions += copy.endHold(audit: "case.hold-expired")
            } else if copy.noticesDueForRelease(at: time) {
                actions += copy.releaseNotices()
            }
        }
        actions += try copy.apply(event, at: time)
        let after = copy.state.publicStatus
        if after != before { actions.append(.notifyReporterStatus(after)) }
        self = copy
        return actions
    }

    // MARK: - transitions

    private mutating func apply(_ event: CaseEvent, at time: Date) throws(CaseWorkflowError) -> [CaseAction] {
        func refuse() -> CaseWorkflowError { .notAllowed(event: event.name, state: state) }
        switch event {
        case .reportJoined:
            guard state != .closed else { throw refuse() }
            reportCount += 1
            return [.audit("case.report-joined", ["reports": String(reportCount)])]

        case .claim(let analyst):
            if let claimant = claimedBy, state == .claimed || state == .assessed { throw .alreadyClaimed(by: claimant) }
            guard state == .received || state == .assessed else { throw refuse() }
            claimedBy = analyst
            if state == .received { state = .claimed }
            return [.audit("case.claimed", ["analyst": analyst])]

        case .unclaim(let analyst):
            guard state == .claimed || state == .assessed, claimedBy != nil else { throw refuse() }
            try requireClaimant(analyst)
            claimedBy = nil
            if state == .claimed { state = .received }
            return [.audit("case.unclaimed", ["analyst": analyst])]

        case .assess(let assessment, let analyst):
            guard state == .claimed || state == .assessed else { throw refuse() }
            try requireClaimant(analyst)
            if assessment.outcome == .nationallyIllegal,
                (assessment.legalProvision ?? "").trimmingCharacters(in: .whitespaces).isEmpty
            {
                throw .assessmentIncomplete("a legal provision")
            }
            let corrected = state == .assessed
            self.assessment = assessment
            state = .assessed
            var details = ["analyst": analyst, "outcome": assessment.outcome.rawValue]
            if let p = assessment.legalProvision { details["provision"] = p }
            if let c = assessment.category { details["category"] = c }
            if let m = assessment.mediaType { details["media"] = m.rawValue }
            if let a = assessment.apparentAgeGroup { details["age"] = a.rawValue }
            return [.audit(corrected ? "case.reassessed" : "case.assessed", details)]

        case .requestNotice(let analyst):
            return try decide(.notice, by: analyst, at: time, event: event)
        case .proposeListEntry(let analyst):
            return try decide(.listEntry, by: analyst, at: time, event: event)
        case .referToLawEnforcement(let analyst):
            return try decide(.lawEnforcementReferral, by: analyst, at: time, event: event)
        case .referToPartner(let country, let analyst):
            let code = country.trimmingCharacters(in: .whitespaces).uppercased()
            guard code.utf8.count == 2, code.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) else {
                throw .invalidCountry(country)
            }
            return try decide(.partnerReferral(country: code), by: analyst, at: time, event: event)

        case .confirm(let analyst):
            guard state == .awaitingConfirmation else { throw refuse() }
            guard pending.allSatisfy({ $0.proposedBy != analyst }) else { throw .sameAnalyst }
            var actions: [CaseAction] = []
            for p in pending {
                actions.append(
                    .audit(
                        "case.decision-confirmed",
                        ["decision": p.decision.description, "proposedBy": p.proposedBy, "confirmedBy": analyst]))
                actions += effect(of: p.decision, proposal: false, at: time)
                decided.append(p.decision)
            }
            pending = []
            state = .actioned
            return actions

        case .decline(let analyst):
            guard state == .awaitingConfirmation else { throw refuse() }
            guard pending.allSatisfy({ $0.proposedBy != analyst }) else { throw .sameAnalyst }
            let actions: [CaseAction] = pending.flatMap { p -> [CaseAction] in
                let audit = CaseAction.audit(
                    "case.decision-declined", ["decision": p.decision.description, "declinedBy": analyst])
                return p.decision == .listEntry ? [audit, .withdrawListEntry] : [audit]
            }
            pending = []
            state = decided.isEmpty ? .assessed : .actioned
            return actions

        case .placeHold(let newHold):
            guard state != .closed else { throw refuse() }
            guard !newHold.reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw .holdReasonMissing
            }
            guard newHold.expiresAt > time else { throw .holdExpiryNotInFuture }
            if let notifyAfter = newHold.notifyAfter {
                guard notifyAfter > time, notifyAfter < newHold.expiresAt else { throw .holdNotifyAfterOutsideHold }
            }
            let changed = isHeld(at: time)
            hold = newHold
            var details = ["by": newHold.placedBy, "expiresAt": Self.timestamp(newHold.expiresAt)]
            if let notifyAfter = newHold.notifyAfter { details["notifyAfter"] = Self.timestamp(notifyAfter) }
            return [.audit(changed ? "case.hold-changed" : "case.hold-placed", details)]

        case .liftHold(let by):
            guard hold != nil else { throw .notHeld }
            return endHold(audit: "case.hold-lifted", by: by)

        case .holdExpired:
            guard let hold else { throw .notHeld }
            guard hold.expiresAt <= time else { throw .holdNotExpired(expiresAt: hold.expiresAt) }
            return endHold(audit: "case.hold-expired")

        case .holdNotifyAfterReached:
            // handle(_:at:) has already released the notices (or ended an expired hold) before this point; a second
            // delivery of the event finds nothing to do.
            return []

        case .close(let by):
            guard state == .assessed || state == .actioned else { throw refuse() }
            guard deferredActions.isEmpty else { throw .actionsDeferred(count: deferredActions.count) }
            state = .closed
            claimedBy = nil
            closedAt = time
            return [.audit("case.closed", ["by": by, "outcome": assessment?.outcome.rawValue ?? ""])]

        case .reopen(let by):
            guard state == .closed else { throw refuse() }
            state = .received
            decided = []
            closedAt = nil
            return [.audit("case.reopened", ["by": by])]
        }
    }

    private func requireClaimant(_ analyst: String) throws(CaseWorkflowError) {
        guard let claimant = claimedBy else { throw .notClaimed }
        guard claimant == analyst else { throw .notClaimant(claimant: claimant) }
    }

    /// A decision: checked against the assessment, then either waiting for a second analyst or taking effect.
    private mutating func decide(
        _ decision: CaseDecision, by analyst: String, at time: Date, event: CaseEvent
    ) throws(CaseWorkflowError) -> [CaseAction] {
        guard state == .assessed || state == .awaitingConfirmation || state == .actioned, let assessment else {
            throw .notAllowed(event: event.name, state: state)
        }
        guard assessment.outcome.isIllegal else { throw .outcomeDoesNotAllow(decision, assessment.outcome) }
        guard !decided.contains(decision), !pending.contains(where: { $0.decision == decision }) else {
            throw .alreadyDecided(decision)
        }
        if fourEyes.requiresConfirmation(decision) {
            pending.append(PendingDecision(decision: decision, proposedBy: analyst, proposedAt: time))
            state = .awaitingConfirmation
            var actions: [CaseAction] = [
                .audit("case.decision-proposed", ["decision": decision.description, "proposedBy": analyst])
            ]
            if decision == .listEntry { actions.append(.proposeListEntry) }
            return actions
        }
        decided.append(decision)
        if state != .awaitingConfirmation { state = .actioned }
        return [.audit("case.decision-taken", ["decision": decision.description, "by": analyst])]
            + effect(of: decision, proposal: true, at: time)
    }

    /// The actions a decision causes when it takes effect; those a hold keeps back are deferred.
    private mutating func effect(of decision: CaseDecision, proposal: Bool, at time: Date) -> [CaseAction] {
        let raw: [CaseAction]
        switch decision {
        case .notice: raw = [.sendNotice]
        case .lawEnforcementReferral: raw = [.referToLawEnforcement]
        case .partnerReferral(let country): raw = [.referToPartner(country: country)]
        case .listEntry: raw = proposal ? [.proposeListEntry, .publishListEntry] : [.publishListEntry]
        }
        var out: [CaseAction] = []
        for action in raw {
            if let hold, hold.keepsBack(action, at: time) {
                deferredActions.append(action)
                out.append(.audit("case.action-deferred", ["action": action.name]))
            } else {
                out.append(action)
            }
        }
        return out
    }

    /// Releases the notices a hold kept back once its notify-after date has passed; the rest stays deferred.
    private mutating func releaseNotices() -> [CaseAction] {
        let notices = deferredActions.filter { $0 == .sendNotice }
        deferredActions.removeAll { $0 == .sendNotice }
        return [.audit("case.hold-notify-after-reached", ["released": String(notices.count)])] + notices
    }

    private mutating func endHold(audit name: String, by: String? = nil) -> [CaseAction] {
        var details = ["released": String(deferredActions.count)]
        if let by { details["by"] = by }
        let released = deferredActions
        hold = nil
        deferredActions = []
        return [.audit(name, details)] + released
    }

    private static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
