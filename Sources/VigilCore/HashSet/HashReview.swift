import Foundation

/// Where a hash set record stands in review. Only a `confirmed` record is *known*: it matches, counts and exports.
/// A `pending` or `escalated` record can still be matched on request (`include=pending`, so a platform can hold
/// content while the hotline reviews), but never counts as known. A `rejected` record never matches.
public enum HashReviewState: String, Sendable, Codable, CaseIterable {
    /// Waiting for independent confirmations.
    case pending
    /// Reviewers disagreed on the category: a supervisor decides.
    case escalated
    /// Enough independent reviewers agreed on a category.
    case confirmed
    /// Taken out of the set: a supervisor rejected it, or it was marked a false positive.
    case rejected
}

/// One reviewer's verdict in the current round: a category code (Project VIC / VICS CAT 0–5, or a national code).
public struct HashReviewVote: Sendable, Codable, Equatable {
    public let reviewer: String
    public let category: String
    public let at: Date

    public init(reviewer: String, category: String, at: Date) {
        self.reviewer = reviewer
        self.category = category
        self.at = at
    }
}

/// Something that happens to a record in review.
public enum HashReviewEvent: Sendable, Equatable {
    /// A reviewer confirms the record under a category.
    case vote(reviewer: String, category: String)
    /// A supervisor settles an escalated record: a category, or `nil` to reject it.
    case decide(supervisor: String, category: String?)
    /// A partner disputes a match of this record; at `threshold` disputes it goes back to review, where it needs
    /// `reviewsRequired` confirmations again (the full count: partners doubted it).
    case dispute(partner: String, threshold: Int, reviewsRequired: Int = 3)
    /// A partner confirms a match of this record (a quality figure; it changes no state).
    case agree(partner: String)
    /// Staff mark the record a false positive: it leaves matching (its hash goes to the `false-positive` bank).
    case markFalsePositive(by: String)

    public var name: String {
        switch self {
        case .vote: "vote"
        case .decide: "decide"
        case .dispute: "dispute"
        case .agree: "agree"
        case .markFalsePositive: "mark-false-positive"
        }
    }
}

/// What the store does after a review event, besides saving the review.
public enum HashReviewEffect: Sendable, Equatable {
    /// The record now matches as known (every matcher must pick it up).
    case startsMatching
    /// The record no longer matches as known.
    case stopsMatching
    /// The record waits for a supervisor.
    case toSupervisor
    /// The record is back in the reviewers' queue, with a fresh round of votes.
    case backToReview
}

/// Why a review event was refused; the review is unchanged.
public enum HashReviewError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The event makes no sense in this state.
    case notAllowed(event: String, state: HashReviewState)
    /// Reviewers may not confirm what they submitted.
    case ownSubmission
    /// One vote per reviewer (or partner) per round.
    case alreadyVoted
    /// A supervisor who voted in the round may not settle it.
    case supervisorVoted
    /// A category code must be given.
    case categoryMissing

    public var description: String {
        switch self {
        case .notAllowed(let event, let state): "A \(event) is not possible while the record is \(state.rawValue)."
        case .ownSubmission: "You submitted this record; someone else must review it."
        case .alreadyVoted: "You have already given your verdict on this record."
        case .supervisorVoted: "You voted on this record; another supervisor must settle it."
        case .categoryMissing: "Choose a category."
        }
    }
}

/// The review of one hash set record, as the field's trusted sets run it: a record enters `pending` and becomes known
/// only when `required` independent reviewers (never its submitter, each once) agree on its category — three by
/// default, as the IWF and CAID do; one for a bank whose source already reviewed it. Disagreement goes to a
/// supervisor. Partners' disputes put a known record back into review at a threshold. A value type with no I/O:
/// the store saves it and performs its effects.
public struct HashReview: Sendable, Codable, Equatable {
    public private(set) var state: HashReviewState
    /// Who submitted (imported or added) the record; they cannot review it.
    public let submittedBy: String?
    /// Confirmations needed to make the record known (reset when disputes send it back).
    public private(set) var required: Int
    /// The category codes (Project VIC / VICS CAT 0–5 as the review desk offers them) that say a record is not for
    /// the set: 0 uncategorised, 5 non-pertinent. Reviewers agreeing on one reject the record; it never matches.
    public static let notForTheSet: Set<String> = ["0", "5"]
    /// CAT 4, exemplar/comparison images: known, but for internal use only; never exported to partners.
    public static let internalOnly: Set<String> = ["4"]
    /// This round's votes (a new round starts when disputes send the record back).
    public private(set) var votes: [HashReviewVote]
    /// The category agreed (or decided), once confirmed.
    public private(set) var category: String?
    /// Partners who disputed a match since the record was last confirmed.
    public private(set) var disputes: [String]
    /// Partners who confirmed a match since the record was last confirmed.
    public private(set) var agreements: [String]
    /// Rounds of review so far (1 for a new record).
    public private(set) var round: Int
    /// When the record was first confirmed (for the median review time).
    public private(set) var confirmedAt: Date?
    /// Times a confirmed record was overturned (sent back by disputes, or rejected after being known).
    public private(set) var overturned: Int

    /// A new record waiting for `required` confirmations.
    public init(submittedBy: String?, required: Int) {
        self.state = .pending
        self.submittedBy = submittedBy
        self.required = max(1, required)
        self.votes = []
        self.category = nil
        self.disputes = []
        self.agreements = []
        self.round = 1
        self.confirmedAt = nil
        self.overturned = 0
    }

    /// A record known before reviews existed, or confirmed on import into a reviewed bank.
    public static func confirmed(category: String?, by reviewer: String?, at: Date) -> HashReview {
        var r = HashReview(submittedBy: nil, required: 1)
        r.state = .confirmed
        r.category = category
        r.confirmedAt = at
        if let reviewer { r.votes = [HashReviewVote(reviewer: reviewer, category: category ?? "", at: at)] }
        return r
    }

    /// Whether a match query sees the record: confirmed always, pending and escalated only when asked.
    public func matches(includePending: Bool) -> Bool {
        switch state {
        case .confirmed: true
        case .pending, .escalated: includePending
        case .rejected: false
        }
    }

    /// Applies `event` at `now`; on refusal the review is unchanged.
    public mutating func handle(_ event: HashReviewEvent, at now: Date) throws(HashReviewError) -> [HashReviewEffect] {
        var next = self
        let effects = try next.apply(event, at: now)
        self = next
        return effects
    }

    private mutating func apply(_ event: HashReviewEvent, at now: Date) throws(HashReviewError) -> [HashReviewEffect] {
        switch (event, state) {
        case (.vote(let reviewer, let category), .pending):
            let code = category.trimmingCharacters(in: .whitespaces)
            guard !code.isEmpty else { throw .categoryMissing }
            guard reviewer != submittedBy else { throw .ownSubmission }
            guard !votes.contains(where: { $0.reviewer == reviewer }) else { throw .alreadyVoted }
            votes.append(HashReviewVote(reviewer: reviewer, category: code, at: now))
            if Set(votes.map(\.category)).count > 1 {
                state = .escalated
                return [.toSupervisor]
            }
            guard votes.count >= required else { return [] }
            if Self.notForTheSet.contains(code) {
                state = .rejected
                self.category = code
                return []
            }
            confirm(code, at: now)
            return [.startsMatching]
        case (.decide(let supervisor, let category), .escalated):
            guard !votes.contains(where: { $0.reviewer == supervisor }) else { throw .supervisorVoted }
            guard supervisor != submittedBy else { throw .ownSubmission }
            if let category {
                let code = category.trimmingCharacters(in: .whitespaces)
                guard !code.isEmpty else { throw .categoryMissing }
                if !Self.notForTheSet.contains(code) {
                    confirm(code, at: now)
                    return [.startsMatching]
                }
                self.category = code
            }
            state = .rejected
            return []
        case (.dispute(let partner, let threshold, let reviewsRequired), .confirmed):
            guard !disputes.contains(partner) else { throw .alreadyVoted }
            disputes.append(partner)
            guard disputes.count >= max(1, threshold) else { return [] }
            state = .pending
            overturned += 1
            votes = []
            category = nil
            disputes = []
            agreements = []
            round += 1
            required = max(1, reviewsRequired)
            return [.stopsMatching, .backToReview]
        case (.agree(let partner), .confirmed):
            guard !agreements.contains(partner) else { throw .alreadyVoted }
            agreements.append(partner)
            return []
        case (.markFalsePositive, .pending), (.markFalsePositive, .escalated):
            state = .rejected
            return []
        case (.markFalsePositive, .confirmed):
            state = .rejected
            overturned += 1
            return [.stopsMatching]
        case (.vote, _), (.decide, _), (.dispute, _), (.agree, _), (.markFalsePositive, _):
            throw .notAllowed(event: event.name, state: state)
        }
    }

    private mutating func confirm(_ code: String, at now: Date) {
        state = .confirmed
        category = code
        if confirmedAt == nil { confirmedAt = now }
    }
}
