import Foundation
import Testing
import VigilCore

@Suite("Hash set review")
struct HashReviewTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// A review in `state`, submitted by `sub`, needing three confirmations.
    func review(in state: HashReviewState) throws -> HashReview {
        var r = HashReview(submittedBy: "sub", required: 3)
        switch state {
        case .pending: break
        case .escalated:
            _ = try r.handle(.vote(reviewer: "a", category: "1"), at: t0)
            _ = try r.handle(.vote(reviewer: "b", category: "2"), at: t0)
        case .confirmed:
            for name in ["a", "b", "c"] { _ = try r.handle(.vote(reviewer: name, category: "1"), at: t0) }
        case .rejected:
            _ = try r.handle(.markFalsePositive(by: "sup"), at: t0)
        }
        #expect(r.state == state)
        return r
    }

    /// One event of each kind, by people with no earlier part in the review.
    static let events: [HashReviewEvent] = [
        .vote(reviewer: "x", category: "1"), .decide(supervisor: "sup2", category: "1"),
        .dispute(partner: "p", threshold: 2), .agree(partner: "p"), .markFalsePositive(by: "sup"),
    ]

    /// The whole table: what each event does in each state (the state after, the effects), or that it is refused.
    static let table: [HashReviewState: [String: (HashReviewState, [HashReviewEffect])?]] = [
        .pending: [
            "vote": (.pending, []), "decide": nil, "dispute": nil, "agree": nil,
            "mark-false-positive": (.rejected, []),
        ],
        .escalated: [
            "vote": nil, "decide": (.confirmed, [.startsMatching]), "dispute": nil, "agree": nil,
            "mark-false-positive": (.rejected, []),
        ],
        .confirmed: [
            "vote": nil, "decide": nil, "dispute": (.confirmed, []), "agree": (.confirmed, []),
            "mark-false-positive": (.rejected, [.stopsMatching]),
        ],
        .rejected: ["vote": nil, "decide": nil, "dispute": nil, "agree": nil, "mark-false-positive": nil],
    ]

    @Test("every state × event", arguments: HashReviewState.allCases)
    func table(_ state: HashReviewState) throws {
        for event in Self.events {
            var r = try review(in: state)
            let before = r
            let expected = try #require(Self.table[state]?[event.name])
            if let (after, effects) = expected {
                let got = try r.handle(event, at: t0)
                #expect(r.state == after, "\(state) + \(event.name)")
                #expect(got == effects, "\(state) + \(event.name)")
            } else {
                #expect(throws: HashReviewError.notAllowed(event: event.name, state: state)) {
                    try r.handle(event, at: t0)
                }
                #expect(r == before, "a refused event changes nothing")
            }
        }
    }

    @Test("known only after three independent reviewers agree; the submitter and repeat votes are refused")
    func threeConfirmations() throws {
        var r = HashReview(submittedBy: "sub", required: 3)
        #expect(!r.matches(includePending: false) && r.matches(includePending: true))
        #expect(throws: HashReviewError.ownSubmission) { try r.handle(.vote(reviewer: "sub", category: "1"), at: t0) }
        #expect(try r.handle(.vote(reviewer: "a", category: "1"), at: t0) == [])
        #expect(throws: HashReviewError.alreadyVoted) { try r.handle(.vote(reviewer: "a", category: "1"), at: t0) }
        #expect(throws: HashReviewError.categoryMissing) { try r.handle(.vote(reviewer: "b", category: " "), at: t0) }
        #expect(try r.handle(.vote(reviewer: "b", category: "1"), at: t0) == [])
        #expect(r.state == .pending)
        #expect(try r.handle(.vote(reviewer: "c", category: "1"), at: t0 + 60) == [.startsMatching])
        #expect(r.state == .confirmed && r.category == "1" && r.confirmedAt == t0 + 60)
        #expect(r.matches(includePending: false))
    }

    @Test("agreement that a record is not for the set (0 uncategorised, 5 non-pertinent) rejects it; it never matches")
    func notForTheSet() throws {
        var r = HashReview(submittedBy: "sub", required: 2)
        _ = try r.handle(.vote(reviewer: "a", category: "5"), at: t0)
        #expect(try r.handle(.vote(reviewer: "b", category: "5"), at: t0) == [])
        #expect(r.state == .rejected && !r.matches(includePending: true))
        var e = try review(in: .escalated)
        #expect(try e.handle(.decide(supervisor: "sup", category: "0"), at: t0) == [])
        #expect(e.state == .rejected)
        // a record imported as confirmed into a reviewed bank needs the full count once partners dispute it
        var known = HashReview.confirmed(category: nil, by: "importer", at: t0)
        _ = try known.handle(.dispute(partner: "p1", threshold: 1, reviewsRequired: 3), at: t0)
        #expect(known.state == .pending && known.required == 3)
    }

    @Test("a reviewed bank's record needs one confirmation")
    func oneForReviewedBanks() throws {
        var r = HashReview(submittedBy: "sub", required: 1)
        #expect(try r.handle(.vote(reviewer: "a", category: "2"), at: t0) == [.startsMatching])
        #expect(r.state == .confirmed)
    }

    @Test("disagreement goes to a supervisor who did not vote; a rejection leaves the set")
    func escalation() throws {
        var r = try review(in: .escalated)
        #expect(!r.matches(includePending: false))
        #expect(throws: HashReviewError.supervisorVoted) {
            try r.handle(.decide(supervisor: "a", category: "1"), at: t0)
        }
        var rejected = r
        #expect(try rejected.handle(.decide(supervisor: "sup", category: nil), at: t0) == [])
        #expect(rejected.state == .rejected && !rejected.matches(includePending: true))
        #expect(try r.handle(.decide(supervisor: "sup", category: "2"), at: t0) == [.startsMatching])
        #expect(r.category == "2")
    }

    @Test("disputes at the threshold send a known record back to a fresh round; each partner counts once")
    func disputes() throws {
        var r = try review(in: .confirmed)
        #expect(try r.handle(.agree(partner: "p1"), at: t0) == [])
        #expect(throws: HashReviewError.alreadyVoted) { try r.handle(.agree(partner: "p1"), at: t0) }
        #expect(try r.handle(.dispute(partner: "p2", threshold: 2), at: t0) == [])
        #expect(throws: HashReviewError.alreadyVoted) { try r.handle(.dispute(partner: "p2", threshold: 2), at: t0) }
        #expect(
            try r.handle(.dispute(partner: "p3", threshold: 2, reviewsRequired: 3), at: t0) == [
                .stopsMatching, .backToReview,
            ])
        #expect(r.state == .pending && r.round == 2 && r.votes.isEmpty && r.overturned == 1 && r.category == nil)
        #expect(r.required == 3, "a disputed record needs the full count again")
        #expect(r.confirmedAt == t0, "the first confirmation time stays, for the median review time")
        // the earlier reviewers may review again in the new round
        #expect(try r.handle(.vote(reviewer: "a", category: "1"), at: t0) == [])
    }

    @Test("banks: names, radius and sampling are checked; sampling is stable per key")
    func banks() {
        #expect(HashBank.problem(name: "partner:fr", pdqRadius: 31, sampling: 1) == nil)
        #expect(HashBank.problem(name: "Partner FR", pdqRadius: 31, sampling: 1) != nil)
        #expect(HashBank.problem(name: "x", pdqRadius: 64, sampling: 1) != nil)
        #expect(HashBank.problem(name: "x", pdqRadius: 31, sampling: 0) != nil)
        let half = HashBank(name: "platform:x", label: "x", sampling: 0.5)
        let answered = (0..<10_000).filter { half.samples(UInt64($0) &* 2_654_435_761) }.count
        #expect((4_500...5_500).contains(answered))
        #expect(half.samples(42) == half.samples(42))
        #expect(HashBank.builtIn.filter { $0.kind == .negative }.map(\.name) == ["false-positive"])
    }
}
