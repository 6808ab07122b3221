import Foundation
import Testing
import VigilCore

@Suite("Block-list entries: targets, four eyes, expiry, retesting")
struct ListEntryTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func proposed(_ target: ListTarget = ListTarget(kind: .url, value: "example.test/a.jpg")) -> ListEntry {
        ListEntry(
            id: 1, target: target, criterion: "c1", caseID: 7, dedicatedReason: nil, state: .proposed,
            proposedBy: "ana", proposedAt: t0)
    }

    @Test("targets are canonicalised per kind; a domain entry is a host alone, a prefix ends with a slash")
    func targets() throws {
        #expect(try ListTarget(kind: .url, parsing: "HTTP://Example.TEST/a/%62.jpg#x").value == "example.test/a/b.jpg")
        #expect(try ListTarget(kind: .prefix, parsing: "http://example.test/dir").value == "example.test/dir/")
        #expect(try ListTarget(kind: .domain, parsing: "WWW.Example.test").value == "www.example.test")
        #expect(try ListTarget(kind: .domain, parsing: "http://bad.test/").value == "bad.test")
        #expect(try ListTarget(kind: .newsgroup, parsing: "news:alt.Example").value == "alt.example")
        #expect(throws: ListEntryError.self) { try ListTarget(kind: .domain, parsing: "example.test/path") }
        #expect(throws: ListEntryError.self) { try ListTarget(kind: .prefix, parsing: "example.test/a?q=1") }
        #expect(throws: ListEntryError.emptyTarget) { try ListTarget(kind: .url, parsing: "  ") }
        #expect(ListTarget(kind: .url, value: "example.test/a").defanged == "example[.]test/a")
    }

    @Test("the verifier must be someone else; verification lasts the configured lifetime")
    func fourEyes() throws {
        let policy = ListPolicy(verificationLifetime: 7 * 86_400)
        var e = proposed()
        #expect(throws: ListEntryError.sameAsProposer) { try policy.verify(&e, by: "ana", at: t0) }
        try policy.verify(&e, by: "bo", at: t0)
        #expect(e.state == .active && e.verifiedBy == "bo" && e.expiresAt == t0 + 7 * 86_400)
        #expect(e.isPublishable(at: t0 + 86_400, caseHeld: false))
        #expect(!e.isPublishable(at: t0 + 86_400, caseHeld: true), "a held case's entry is not published")
        #expect(!e.isPublishable(at: t0 + 7 * 86_400, caseHeld: false), "not published once expired")
    }

    @Test("not cumulative: an entry not re-verified expires; re-verification extends it")
    func expiry() throws {
        let policy = ListPolicy()
        var e = proposed()
        try policy.verify(&e, by: "bo", at: t0)
        #expect(!policy.expireIfDue(&e, at: t0 + 86_400))
        #expect(policy.expireIfDue(&e, at: t0 + 7 * 86_400))
        #expect(e.state == .expired)
        try policy.verify(&e, by: "cy", at: t0 + 8 * 86_400)
        #expect(e.state == .active && e.expiresAt == t0 + 15 * 86_400)
    }

    @Test("proposals need a criterion from the published list, a case, and for a domain the dedicated reason")
    func proposals() throws {
        let policy = ListPolicy()
        let domain = ListTarget(kind: .domain, value: "bad.test")
        #expect(throws: ListEntryError.dedicatedReasonMissing) {
            try policy.validateProposal(
                target: domain, criterion: "c1", criteria: ["c1"], caseID: 1, dedicatedReason: " ", canary: false)
        }
        #expect(throws: ListEntryError.unknownCriterion("c9")) {
            try policy.validateProposal(
                target: domain, criterion: "c9", criteria: ["c1"], caseID: 1, dedicatedReason: "x", canary: false)
        }
        #expect(throws: ListEntryError.caseMissing) {
            try policy.validateProposal(
                target: domain, criterion: "c1", criteria: ["c1"], caseID: nil, dedicatedReason: "x", canary: false)
        }
        try policy.validateProposal(
            target: domain, criterion: "canary", criteria: ["c1"], caseID: nil, dedicatedReason: nil, canary: true)
    }

    @Test("repeated gone checks mark an entry for removal; a live check resets the count")
    func retesting() {
        let policy = ListPolicy(goneChecksForRemoval: 2)
        var e = proposed()
        #expect(!policy.recordCheck(&e, outcome: .gone, at: t0))
        #expect(!policy.recordCheck(&e, outcome: .live, at: t0))
        #expect(!policy.recordCheck(&e, outcome: .gone, at: t0))
        #expect(!policy.recordCheck(&e, outcome: .inconclusive, at: t0))
        #expect(policy.recordCheck(&e, outcome: .gone, at: t0))
    }

    @Test("an appeal suspends; a rejected appeal reinstates, expired if the verification ran out meanwhile")
    func appeals() throws {
        let policy = ListPolicy()
        var e = proposed()
        try policy.verify(&e, by: "bo", at: t0)
        try policy.suspend(&e)
        #expect(!e.isPublishable(at: t0, caseHeld: false))
        try policy.reinstate(&e, at: t0 + 8 * 86_400)
        #expect(e.state == .expired)
        #expect(throws: ListEntryError.reasonMissing) { try policy.remove(&e, reason: "") }
        try policy.remove(&e, reason: "appeal upheld")
        #expect(e.state == .removed)
        #expect(throws: ListEntryError.self) { try policy.verify(&e, by: "cy", at: t0) }
    }
}
