/// What kind of failure a domain error is. Each face maps kinds in one place: the web layer to an HTTP status
/// (`ErrorPageMiddleware`), the command line to an exit code (`runStoreCommand`).
public enum FailureKind: String, Sendable, Equatable, CaseIterable {
    /// The input is wrong: fix it and try again (HTTP 422).
    case invalid
    /// What was named does not exist (404).
    case notFound
    /// Not possible in the current state, or already done (409).
    case conflict
    /// The caller may not do this (403).
    case forbidden
    /// Something this depends on is out of reach for now: the database, the mail relay (503).
    case unavailable
    /// A fault on our side: a corrupt record, a missing key (500).
    case internalFailure
}

/// A domain error that keeps its type through the store and the application: a kind for the faces, a stable code
/// for API clients and logs (`case.not-allowed`, `list.same-as-proposer`), and a sentence for people.
public protocol VigilFailure: Error, CustomStringConvertible {
    var kind: FailureKind { get }
    /// Stable, dotted, lower case: safe to match on in a client.
    var code: String { get }
    /// The key of the sentence shown to a member of the public in their language (`failure.<code>` in the
    /// translation files); without a translation the English description is shown.
    var messageKey: String { get }
}

extension VigilFailure {
    public var messageKey: String { "failure.\(code)" }
}

extension CaseWorkflowError: VigilFailure {
    public var kind: FailureKind {
        switch self {
        case .invalidCountry, .holdReasonMissing, .holdExpiryNotInFuture, .holdNotifyAfterOutsideHold,
            .assessmentIncomplete:
            .invalid
        case .notAllowed, .alreadyClaimed, .notClaimant, .notClaimed, .sameAnalyst, .outcomeDoesNotAllow,
            .alreadyDecided, .notHeld, .holdNotExpired, .actionsDeferred:
            .conflict
        }
    }

    public var code: String {
        switch self {
        case .notAllowed: "case.not-allowed"
        case .alreadyClaimed: "case.already-claimed"
        case .notClaimant: "case.not-claimant"
        case .notClaimed: "case.not-claimed"
        case .sameAnalyst: "case.same-analyst"
        case .outcomeDoesNotAllow: "case.outcome-does-not-allow"
        case .alreadyDecided: "case.already-decided"
        case .assessmentIncomplete: "case.assessment-incomplete"
        case .invalidCountry: "case.invalid-country"
        case .holdExpiryNotInFuture: "case.hold-expiry-not-in-future"
        case .holdReasonMissing: "case.hold-reason-missing"
        case .holdNotifyAfterOutsideHold: "case.hold-notify-after-outside-hold"
        case .notHeld: "case.not-held"
        case .holdNotExpired: "case.hold-not-expired"
        case .actionsDeferred: "case.actions-deferred"
        }
    }
}

extension ListEntryError: VigilFailure {
    public var kind: FailureKind {
        switch self {
        case .emptyTarget, .invalidTarget, .criterionMissing, .unknownCriterion, .caseMissing,
            .dedicatedReasonMissing, .reasonMissing:
            .invalid
        case .sameAsProposer, .notAllowed, .appealDeciderInvolved: .conflict
        }
    }

    public var code: String {
        switch self {
        case .emptyTarget: "list.empty-target"
        case .invalidTarget: "list.invalid-target"
        case .criterionMissing: "list.criterion-missing"
        case .unknownCriterion: "list.unknown-criterion"
        case .caseMissing: "list.case-missing"
        case .dedicatedReasonMissing: "list.dedicated-reason-missing"
        case .sameAsProposer: "list.same-as-proposer"
        case .notAllowed: "list.not-allowed"
        case .reasonMissing: "list.reason-missing"
        case .appealDeciderInvolved: "list.appeal-decider-involved"
        }
    }
}

extension NoticeLifecycleError: VigilFailure {
    public var kind: FailureKind { .conflict }
    public var code: String { "notice.not-allowed" }
}

extension ContactSealerError: VigilFailure {
    public var kind: FailureKind { .internalFailure }
    public var code: String { "secrets.unusable" }
}

extension HashReviewError: VigilFailure {
    public var kind: FailureKind {
        switch self {
        case .categoryMissing: .invalid
        case .notAllowed, .ownSubmission, .alreadyVoted, .supervisorVoted: .conflict
        }
    }

    public var code: String {
        switch self {
        case .notAllowed: "hash.review.not-allowed"
        case .ownSubmission: "hash.review.own-submission"
        case .alreadyVoted: "hash.review.already-voted"
        case .supervisorVoted: "hash.review.supervisor-voted"
        case .categoryMissing: "hash.review.category-missing"
        }
    }
}
